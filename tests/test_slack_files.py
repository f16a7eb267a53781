"""Slack file downloads: the bearer token goes to Slack's own hosts only, capped, HTML pages refused."""

from __future__ import annotations

import io
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest

from bot.adapters.slack import files
from bot.adapters.slack.files import download, slack_file_host
from bot.events import AttachmentUnavailable
from tests.fake_slack import LOGIN_PAGE, TEAM, FakeSlack

PDF = b"%PDF-1.7\n" + b"x" * 100


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack


def loopback(url: str, token: str, max_bytes: int, **kwargs: Any) -> bytes:
    return download(url, token, max_bytes, allow_loopback=True, **kwargs)


def test_download_is_capped_at_max_bytes_plus_one(fake: FakeSlack) -> None:
    fake.add_file("F1", PDF)
    assert loopback(fake.file_url("F1"), fake.token, 10) == PDF[:11]
    assert loopback(fake.file_url("F1"), fake.token, 1000) == PDF


def test_token_follows_redirects_on_the_same_host_only(fake: FakeSlack) -> None:
    fake.add_file("F1", PDF)
    same = "/files-pri/T0LAB-FSAME/download"
    fake.redirects[same] = fake.file_url("F1")
    assert loopback(fake.base + same, fake.token, 1000) == PDF

    other = "/files-pri/T0LAB-FOTHER/download"
    port = fake.base.rsplit(":", 1)[1]
    fake.redirects[other] = f"http://localhost:{port}/files-pri/{TEAM}-F1/download"
    fake.reset()
    with pytest.raises(AttachmentUnavailable) as info:
        loopback(fake.base + other, fake.token, 1000, declared_type="application/pdf")
    assert info.value.ours and "files:read" in str(info.value)
    first, second = fake.downloads
    assert first.headers["authorization"] == f"Bearer {fake.token}"
    assert "authorization" not in second.headers  # another host never sees the token


def test_html_login_page_and_plain_http_are_refused(fake: FakeSlack) -> None:
    fake.add_file("F1", PDF)
    with pytest.raises(AttachmentUnavailable, match="HTML page"):
        loopback(fake.file_url("F1"), "xoxb-wrong", 1000)
    with pytest.raises(AttachmentUnavailable, match="refusing"):
        download("http://files.slack.com/files-pri/T-F/x.pdf", fake.token, 1000)
    fake.add_file("FHTML", LOGIN_PAGE, name="page.html", mimetype="text/html")
    assert loopback(fake.file_url("FHTML"), fake.token, 1000, declared_type="text/html") == LOGIN_PAGE


def test_loopback_is_refused_unless_asked_for(fake: FakeSlack) -> None:
    """Without the tests' option, a URL on any host but Slack's gets no request, let alone the token."""
    fake.add_file("F1", PDF)
    with pytest.raises(AttachmentUnavailable, match="refusing"):
        download(fake.file_url("F1"), fake.token, 1000)
    with pytest.raises(AttachmentUnavailable, match="not a Slack file host"):
        download(fake.file_url("F1").replace("http://", "https://"), fake.token, 1000)
    assert fake.downloads == []


@pytest.mark.parametrize(
    ("host", "slack"),
    [
        ("files.slack.com", True),
        ("FILES.SLACK.COM", True),
        ("lab.enterprise.slack.com", True),
        ("slack-files.com", True),
        ("files-edu.slack-files.com", True),
        ("files.slack-gov.com", True),
        ("files.slack.com.evil.example", False),
        ("evilslack.com", False),
        ("slack.com-files.example", False),
        ("127.0.0.1", False),
        ("", False),
    ],
)
def test_slack_file_hosts(host: str, slack: bool) -> None:
    assert slack_file_host(host) is slack


class _Response(io.BytesIO):
    def __init__(self, data: bytes, content_type: str) -> None:
        super().__init__(data)
        self.headers = Message()
        self.headers["Content-Type"] = content_type

    def __enter__(self) -> _Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RecordingOpener:
    """Stands in for the network: records every request and answers with a PDF."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []

    def open(self, request: Any, timeout: float) -> _Response:
        self.requests.append((request.full_url, dict(request.header_items())))
        return _Response(PDF, "application/pdf")


@pytest.fixture
def opener(monkeypatch: pytest.MonkeyPatch) -> RecordingOpener:
    recording = RecordingOpener()
    monkeypatch.setattr(files, "_opener", recording)
    return recording


def test_the_token_goes_to_files_slack_com_over_https(opener: RecordingOpener) -> None:
    url = "https://files.slack.com/files-pri/T0LAB-F1/download/report.pdf"
    assert download(url, "xoxb-test", 1000) == PDF
    [(sent_to, headers)] = opener.requests
    assert sent_to == url and headers["Authorization"] == "Bearer xoxb-test"


@pytest.mark.parametrize(
    "url",
    [
        "https://files.slack.com.evil.example/files-pri/T0LAB-F1/download",
        "https://evil.example/files-pri/T0LAB-F1/download",
        "https://files.slack.com@evil.example/files-pri/T0LAB-F1/download",
        "https://127.0.0.1/files-pri/T0LAB-F1/download",
    ],
)
def test_a_url_on_another_host_is_never_sent_the_token(opener: RecordingOpener, url: str) -> None:
    with pytest.raises(AttachmentUnavailable, match="not a Slack file host") as info:
        download(url, "xoxb-test", 1000)
    assert info.value.ours
    assert opener.requests == []
