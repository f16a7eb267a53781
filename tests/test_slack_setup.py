"""Slack start-up checks, downloads and Block Kit rendering, without the whole journey."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.platform import DeliveryError
from bot.adapters.slack import (
    REQUIRED_SCOPES,
    SlackAdapter,
    check_settings,
    create_app,
    escape,
    plain_text,
    preflight,
    render_blocks,
    run,
)
from bot.adapters.slack_files import download
from bot.core import Bot
from bot.documents import Validator
from bot.events import AttachmentUnavailable, Button, ButtonStyle, Destination, Outgoing, UserRef
from bot.settings import Settings
from tests.conftest import RULES, Clock, make_bot
from tests.fake_slack import BOT_USER, LOGIN_PAGE, TEAM, FakeSlack

PDF = b"%PDF-1.7\n" + b"x" * 100


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack


def client_for(fake: FakeSlack, token: str | None = None) -> WebClient:
    return WebClient(token=token or fake.token, base_url=fake.api_url)


# -- settings and start-up ----------------------------------------------------------------------


def test_missing_tokens_are_named() -> None:
    problems = check_settings(Settings(), http=False)
    assert any("SLACK_BOT_TOKEN is not set" in p for p in problems)
    assert any("SLACK_APP_TOKEN is not set" in p and "connections:write" in p for p in problems)
    http = check_settings(Settings(slack_bot_token="xoxb-1"), http=True)
    assert len(http) == 1 and "SLACK_SIGNING_SECRET is not set" in http[0]


def test_ill_formed_tokens_are_explained() -> None:
    problems = check_settings(Settings(slack_bot_token="xoxp-123", slack_app_token="xoxb-456"), http=False)
    assert any("SLACK_BOT_TOKEN must start with xoxb-" in p and "user token" in p for p in problems)
    assert any("SLACK_APP_TOKEN must start with xapp-" in p for p in problems)
    assert check_settings(Settings(slack_bot_token="xoxb-1", slack_app_token="xapp-1"), http=False) == []


def test_preflight_reports_refused_token(fake: FakeSlack) -> None:
    checked = preflight(client_for(fake, "xoxb-wrong"))
    assert len(checked.errors) == 1 and "invalid_auth" in checked.errors[0]
    assert "SLACK_BOT_TOKEN" in checked.errors[0]


def test_preflight_names_missing_scopes(fake: FakeSlack) -> None:
    fake.scopes = ",".join(s for s in REQUIRED_SCOPES if s != "files:read")
    checked = preflight(client_for(fake))
    assert len(checked.errors) == 1
    assert "files:read" in checked.errors[0] and "reinstall" in checked.errors[0]
    assert any("users:read.email" in w for w in checked.warnings)


def test_preflight_passes_with_manifest_scopes(fake: FakeSlack) -> None:
    import yaml

    manifest = yaml.safe_load(
        Path(__file__).resolve().parent.parent.joinpath("slack-manifest.yaml").read_text()
    )
    fake.scopes = ",".join(manifest["oauth_config"]["scopes"]["bot"])
    checked = preflight(client_for(fake))
    assert checked.errors == [] and checked.warnings == []
    assert checked.bot_user_id == BOT_USER


def test_preflight_warns_about_a_channel_name_in_rules(
    fake: FakeSlack, tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES.read_text(encoding="utf-8").replace("slack: C0REVIEWERS", "slack: reviewers"))
    bot = make_bot(tmp_path / "data", validator, clock, rules)
    try:
        checked = preflight(client_for(fake), bot)
        assert checked.errors == []
        assert any("'reviewers'" in w and "not a channel id" in w for w in checked.warnings)
    finally:
        bot.close()


def test_run_returns_exit_codes_and_never_exits(
    fake: FakeSlack, tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    bot: Bot = make_bot(tmp_path / "data", validator, clock)
    try:
        err = io.StringIO()
        settings = Settings(slack_bot_token="xoxb-nope", slack_app_token="xapp-1")
        assert run(bot, settings, err=err, client=client_for(fake, "xoxb-nope")) == 1
        assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in err.getvalue()

        assert run(bot, Settings(), err=err) == 1
        assert "SLACK_BOT_TOKEN is not set" in err.getvalue()

        served: list[App] = []
        settings = Settings(slack_bot_token=fake.token, slack_app_token="xapp-1")
        code = run(bot, settings, err=io.StringIO(), client=client_for(fake), serve=served.append)
        assert code == 0 and len(served) == 1
        adapter = bot.adapters["slack"]
        assert isinstance(adapter, SlackAdapter) and adapter.bot_user_id == BOT_USER
    finally:
        bot.close()


def test_injected_client_gets_rate_limit_retries(tmp_path: Path, validator: Validator, clock: Clock) -> None:
    bot = make_bot(tmp_path / "data", validator, clock)
    try:
        client = WebClient(token="xoxb-test", base_url="http://127.0.0.1:9/api/")
        create_app(bot, Settings(slack_signing_secret="s"), client=client)
        assert any(isinstance(h, RateLimitErrorRetryHandler) for h in client.retry_handlers)
    finally:
        bot.close()


# -- sending ------------------------------------------------------------------------------------


def test_failed_sends_raise_delivery_errors(fake: FakeSlack) -> None:
    adapter = SlackAdapter(client=client_for(fake), token=fake.token)
    fake.errors["chat.postMessage"] = "not_in_channel"
    with pytest.raises(DeliveryError) as info:
        adapter.send(Destination.to_channel("C0REVIEWERS"), Outgoing("hello"))
    assert info.value.permanent and "not_in_channel" in str(info.value) and "/invite" in str(info.value)
    fake.errors["conversations.open"] = "cannot_dm_bot"
    with pytest.raises(DeliveryError) as info:
        adapter.send(Destination.dm(UserRef("slack", "UBOT2")), Outgoing("hello"))
    assert info.value.permanent and "conversations.open" in str(info.value)
    fake.errors["chat.postMessage"] = "fatal_error"
    with pytest.raises(DeliveryError) as info:
        adapter.send(Destination.to_channel("C1"), Outgoing("hello"))
    assert not info.value.permanent


def test_profile_comes_from_users_info_once(fake: FakeSlack) -> None:
    from tests.fake_slack import slack_user

    fake.users["UALICE"] = slack_user("UALICE", "Alice Kim", "alice@example.edu")
    adapter = SlackAdapter(client=client_for(fake), token=fake.token)
    user = UserRef("slack", "UALICE")
    first = adapter.profile(user)
    assert (first.real_name, first.display_name, first.email) == ("Alice Kim", "Alice", "alice@example.edu")
    assert adapter.profile(user) == first
    assert len(fake.calls_to("users.info")) == 1
    assert adapter.mention(user) == "<@UALICE>"
    with pytest.raises(DeliveryError):
        adapter.profile(UserRef("slack", "UNOBODY"))


# -- downloads ----------------------------------------------------------------------------------


def test_download_is_capped_at_max_bytes_plus_one(fake: FakeSlack) -> None:
    fake.add_file("F1", PDF)
    assert download(fake.file_url("F1"), fake.token, 10) == PDF[:11]
    assert download(fake.file_url("F1"), fake.token, 1000) == PDF


def test_token_follows_redirects_on_the_same_host_only(fake: FakeSlack) -> None:
    fake.add_file("F1", PDF)
    same = "/files-pri/T0LAB-FSAME/download"
    fake.redirects[same] = fake.file_url("F1")
    assert download(fake.base + same, fake.token, 1000) == PDF

    other = "/files-pri/T0LAB-FOTHER/download"
    port = fake.base.rsplit(":", 1)[1]
    fake.redirects[other] = f"http://localhost:{port}/files-pri/{TEAM}-F1/download"
    fake.reset()
    with pytest.raises(AttachmentUnavailable) as info:
        download(fake.base + other, fake.token, 1000, declared_type="application/pdf")
    assert info.value.ours and "files:read" in str(info.value)
    first, second = fake.downloads
    assert first.headers["authorization"] == f"Bearer {fake.token}"
    assert "authorization" not in second.headers  # another host never sees the token


def test_html_login_page_and_plain_http_are_refused(fake: FakeSlack) -> None:
    fake.add_file("F1", PDF)
    with pytest.raises(AttachmentUnavailable, match="HTML page"):
        download(fake.file_url("F1"), "xoxb-wrong", 1000)
    with pytest.raises(AttachmentUnavailable, match="refusing"):
        download("http://files.slack.com/files-pri/T-F/x.pdf", fake.token, 1000)
    fake.add_file("FHTML", LOGIN_PAGE, name="page.html", mimetype="text/html")
    assert download(fake.file_url("FHTML"), fake.token, 1000, declared_type="text/html") == LOGIN_PAGE


# -- text and blocks ----------------------------------------------------------------------------


def test_slack_markup_becomes_plain_text_and_back() -> None:
    assert (
        plain_text("<mailto:a@b.org|a@b.org> &lt;3 &amp; <https://x.org/y>") == "a@b.org <3 & https://x.org/y"
    )
    assert plain_text("hi <@U123>") == "hi <@U123>"
    assert escape("a < b & <@U1> <!here> <https://x.org> > c") == (
        "a &lt; b &amp; <@U1> <!here> <https://x.org> &gt; c"
    )


def test_blocks_split_long_text_and_render_buttons() -> None:
    long = "\n".join(f"line {i} " + "x" * 200 for i in range(40))
    blocks = render_blocks(Outgoing(long, buttons=(Button("approve", "Approve", "r1", ButtonStyle.PRIMARY),)))
    sections = [b for b in blocks if b["type"] == "section"]
    assert len(sections) > 1 and all(len(b["text"]["text"]) <= 3000 for b in sections)
    [button] = blocks[-1]["elements"]
    assert button == {
        "type": "button",
        "action_id": "accessbot_approve",
        "text": {"type": "plain_text", "text": "Approve", "emoji": True},
        "value": "r1",
        "style": "primary",
    }


def test_manifest_lists_exactly_what_the_code_uses() -> None:
    import yaml

    from bot.adapters.slack import OPTIONAL_SCOPES

    manifest = yaml.safe_load(
        Path(__file__).resolve().parent.parent.joinpath("slack-manifest.yaml").read_text()
    )
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted([*REQUIRED_SCOPES, *OPTIONAL_SCOPES])
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert sorted(events) == [
        "message.channels",
        "message.groups",
        "message.im",
        "reaction_added",
        "reaction_removed",
    ]
    home = manifest["features"]["app_home"]
    assert home["messages_tab_enabled"] and not home["messages_tab_read_only_enabled"]
    assert manifest["settings"]["socket_mode_enabled"] and manifest["settings"]["interactivity"]["is_enabled"]
