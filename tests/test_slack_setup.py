"""Slack set-up: the one token checker, the offline checks, the live preflight, and serving."""

from __future__ import annotations

import io
import json
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier

from bot.adapters import slack
from bot.adapters.slack.descriptor import SlackPlatform
from bot.adapters.slack.outbound import SlackAdapter
from bot.adapters.slack.serve import create_app, serve
from bot.adapters.slack.setup import OPTIONAL_SCOPES, REQUIRED_SCOPES, SETUP_SCOPES, preflight, token_checks
from bot.application import Application
from bot.documents import Validator
from bot.platform import Check, Environment, ServeOptions, Stopper
from bot.rules_loader import load_rules
from tests.conftest import RULES, Clock, make_bot
from tests.fake_slack import BOT_USER, FakeSlack

ROOT = Path(__file__).resolve().parent.parent
BOT_TOKEN = "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
APP_TOKEN = "xapp-1-A0123456789-1234567890123-0123456789abcdef0123456789abcdef"
SECRET = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(token=BOT_TOKEN) as slack_api:
        yield slack_api


@pytest.fixture
def host(tmp_path: Path, validator: Validator, clock: Clock) -> Iterator[Application]:
    bot = make_bot(tmp_path / "data", validator, clock)
    yield bot
    bot.close()


def client_for(fake: FakeSlack, token: str | None = None) -> WebClient:
    return WebClient(token=token or fake.token, base_url=fake.api_url)


def failed(checks: list[Check]) -> dict[str, str]:
    return {c.what: c.fix for c in checks if c.status == "fail"}


# -- the one token checker ----------------------------------------------------------------------


def test_the_package_imports_no_slack_library_and_exposes_its_platform() -> None:
    import subprocess
    import sys

    code = (
        "import sys, bot.adapters.slack as s;"
        "print(s.PLATFORM.name, any(m.startswith('slack') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["slack", "False"]
    assert isinstance(slack.PLATFORM, SlackPlatform)
    assert [s.env for s in slack.PLATFORM.settings] == [
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
    ]
    assert all(s.secret for s in slack.PLATFORM.settings)


def test_missing_tokens_are_named() -> None:
    problems = failed(list(token_checks(Environment(), "socket")))
    assert "SLACK_BOT_TOKEN is not set" in problems
    assert "connections:write" in problems["SLACK_APP_TOKEN is not set"]
    http = failed(list(token_checks(Environment({"SLACK_BOT_TOKEN": BOT_TOKEN}), "http")))
    assert list(http) == ["SLACK_SIGNING_SECRET is not set"]


def test_ill_formed_tokens_are_explained() -> None:
    env = Environment({"SLACK_BOT_TOKEN": "xoxp-" + BOT_TOKEN[5:], "SLACK_APP_TOKEN": BOT_TOKEN})
    problems = failed(list(token_checks(env, "socket")))
    assert "SLACK_BOT_TOKEN is malformed: it is a user token (xoxp-…), not the xoxb-… token" in problems
    assert "SLACK_APP_TOKEN is malformed: it is a bot token (xoxb-…), not the xapp-… token" in problems
    good = Environment({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN})
    assert [c.status for c in token_checks(good, "socket")] == ["ok", "ok"]


@pytest.mark.parametrize(
    ("value", "what"),
    [
        (f'"{BOT_TOKEN}"', "SLACK_BOT_TOKEN is wrapped in quotes"),
        (f"Bot {BOT_TOKEN}", "SLACK_BOT_TOKEN is malformed: it starts with `Bot `"),
        (BOT_TOKEN[:30] + " " + BOT_TOKEN[30:], "SLACK_BOT_TOKEN contains a space or line break"),
        ("xoxb-12345", "SLACK_BOT_TOKEN is malformed: 10 characters, expected about 50 (cut off?)"),
        (APP_TOKEN, "SLACK_BOT_TOKEN is malformed: it is an app-level token (xapp-…), not the xoxb-… token"),
    ],
)
def test_every_shape_mistake_has_its_own_message(value: str, what: str) -> None:
    problems = failed(
        list(token_checks(Environment({"SLACK_BOT_TOKEN": value, "SLACK_APP_TOKEN": APP_TOKEN})))
    )
    assert list(problems) == [what]
    assert "OAuth & Permissions" in problems[what]


def test_signing_secret_must_be_32_hex_and_http_only_is_a_warning() -> None:
    env = Environment({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "xoxb-123"})
    assert "SLACK_SIGNING_SECRET is malformed: it holds a token" in failed(list(token_checks(env)))
    env = Environment({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "abc"})
    assert "SLACK_SIGNING_SECRET is malformed: not 32 hex characters" in failed(list(token_checks(env)))
    http_only = Environment({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET})
    checks = list(token_checks(http_only))
    assert [c.status for c in checks] == ["ok", "ok", "warn"]
    assert "--http" in checks[2].fix
    assert [c.status for c in token_checks(http_only, "http")] == ["ok", "ok"]  # no warning when asked for
    [(what, fix)] = failed(list(token_checks(http_only, "socket"))).items()
    assert what.startswith("SLACK_APP_TOKEN is not set: Socket Mode needs it")
    assert "accessbot run slack --http" in fix  # the signing secret is set: HTTP mode was meant


def test_configured_and_partly_configured() -> None:
    platform = SlackPlatform()
    assert not platform.configured(Environment({"SLACK_BOT_TOKEN": BOT_TOKEN}))
    assert platform.partly_configured(Environment({"SLACK_BOT_TOKEN": BOT_TOKEN}))
    assert platform.partly_configured(Environment({"SLACK_SIGNING_SECRET": SECRET}))
    assert platform.configured(Environment({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET}))
    assert platform.configured(Environment({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN}))
    assert not platform.partly_configured(Environment({"DISCORD_TOKEN": "x", "SLACK_BOT_TOKEN": "  "}))


def test_checks_name_a_channel_name_the_placeholder_and_missing_people(tmp_path: Path) -> None:
    env = Environment({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN})
    options = ServeOptions(rules_path=tmp_path / "rules.yaml")
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES.read_text(encoding="utf-8").replace("slack: C0REVIEWERS", "slack: reviewers"))
    problems = failed(SlackPlatform().checks(env, load_rules(rules), options))
    fix = problems["reviewers channel for slack: 'reviewers' is not a channel id"]
    assert "reviewers.channel.slack" in fix and "/invite @accessbot" in fix
    assert "0 admin(s) on slack" in problems
    shipped = failed(SlackPlatform().checks(env, load_rules(RULES), options))
    assert "reviewers channel for slack: C0REVIEWERS is the example from rules.yaml" in shipped
    assert list(failed(SlackPlatform().checks(env, None, options))) == []


# -- the live preflight -------------------------------------------------------------------------


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
    manifest = yaml.safe_load((ROOT / "slack-manifest.yaml").read_text())
    fake.scopes = ",".join(manifest["oauth_config"]["scopes"]["bot"])
    checked = preflight(client_for(fake))
    assert checked.errors == [] and checked.warnings == []
    assert checked.bot_user_id == BOT_USER


def test_manifest_lists_exactly_what_the_code_uses() -> None:
    manifest = yaml.safe_load((ROOT / "slack-manifest.yaml").read_text())
    expected = [*REQUIRED_SCOPES, *OPTIONAL_SCOPES, *SETUP_SCOPES]
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(expected)
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert sorted(events) == [
        "app_home_opened",
        "message.channels",
        "message.groups",
        "message.im",
        "reaction_added",
        "reaction_removed",
    ]
    home = manifest["features"]["app_home"]
    assert home["messages_tab_enabled"] and not home["messages_tab_read_only_enabled"]
    assert manifest["settings"]["socket_mode_enabled"] and manifest["settings"]["interactivity"]["is_enabled"]


# -- serving ------------------------------------------------------------------------------------


class FakeConnection:
    def __init__(self, token: str) -> None:
        self.token = token
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_serve_returns_exit_codes_and_never_exits(fake: FakeSlack, host: Application) -> None:
    err = io.StringIO()
    env = Environment({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN})
    assert serve(host, env, ServeOptions(), Stopper(), err=err, client=client_for(fake, "xoxb-nope")) == 1
    assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in err.getvalue()

    err = io.StringIO()
    assert serve(host, Environment(), ServeOptions(), Stopper(), err=err) == 1
    assert err.getvalue().startswith("accessbot cannot start on Slack:\n")
    assert "- SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token" in err.getvalue()
    assert "- SLACK_APP_TOKEN is not set: " in err.getvalue() and "connections:write" in err.getvalue()
    assert "slack" not in host.adapters  # nothing attached before the checks pass


def test_socket_mode_connects_waits_for_the_stopper_and_closes(fake: FakeSlack, host: Application) -> None:
    env = Environment({"SLACK_BOT_TOKEN": fake.token, "SLACK_APP_TOKEN": APP_TOKEN})
    connections: list[FakeConnection] = []

    def connect(app: App, token: str) -> FakeConnection:
        assert isinstance(app, App)
        connections.append(FakeConnection(token))
        return connections[-1]

    stopper = Stopper()
    threading.Timer(0.2, stopper.request).start()
    code = serve(
        host, env, ServeOptions(), stopper, err=io.StringIO(), client=client_for(fake), connect_socket=connect
    )
    assert code == 0
    [connection] = connections
    assert connection.token == APP_TOKEN and connection.closed
    adapter = host.adapters["slack"]
    assert isinstance(adapter, SlackAdapter) and adapter.bot_user_id == BOT_USER


def test_refused_app_token_is_explained(fake: FakeSlack, host: Application) -> None:
    env = Environment({"SLACK_BOT_TOKEN": fake.token, "SLACK_APP_TOKEN": APP_TOKEN})

    def connect(app: App, token: str) -> FakeConnection:
        raise SlackApiError("refused", {"ok": False, "error": "invalid_auth"})  # type: ignore[no-untyped-call]

    err = io.StringIO()
    assert (
        serve(host, env, ServeOptions(), Stopper(), err=err, client=client_for(fake), connect_socket=connect)
        == 1
    )
    assert "SLACK_APP_TOKEN was refused" in err.getvalue() and "(invalid_auth)" in err.getvalue()


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_http_mode_serves_events_and_health_until_the_stopper_fires(
    fake: FakeSlack, host: Application, monkeypatch: pytest.MonkeyPatch
) -> None:
    # cheroot wakes its accept loop on stop by connecting to the bound address: loopback in tests
    monkeypatch.setattr("bot.adapters.slack.serve.HTTP_HOST", "127.0.0.1")
    env = Environment({"SLACK_BOT_TOKEN": fake.token, "SLACK_SIGNING_SECRET": SECRET})
    ports: queue.Queue[int] = queue.Queue()
    stopper = Stopper()
    codes: list[int] = []
    thread = threading.Thread(
        target=lambda: codes.append(
            serve(
                host,
                env,
                ServeOptions(http=True, port=0),
                stopper,
                err=io.StringIO(),
                client=client_for(fake),
                listening=ports.put,
            )
        )
    )
    thread.start()
    try:
        base = f"http://127.0.0.1:{ports.get(timeout=10)}"
        assert _get(base + "/health") == (200, b"ok\n")
        assert _get(base + "/nothing")[0] == 404

        event = {
            "type": "event_callback",
            "team_id": "T0LAB",
            "api_app_id": "A0ACCESS",
            "event_id": "Ev0HTTP",
            "event_time": int(time.time()),
            "event": {
                "type": "message",
                "channel": "DALICE",
                "channel_type": "im",
                "user": "UALICE",
                "text": "status",
                "ts": "1772440000.000001",
            },
        }
        body = json.dumps(event)
        timestamp = str(int(time.time()))
        signature = SignatureVerifier(SECRET).generate_signature(timestamp=timestamp, body=body)
        headers = {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": str(signature),
        }
        request = urllib.request.Request(base + "/slack/events", body.encode(), headers)
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
        bad = urllib.request.Request(
            base + "/slack/events", body.encode(), {**headers, "X-Slack-Signature": "v0=0"}
        )
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(bad, timeout=5)
        assert info.value.code == 401
        deadline = time.monotonic() + 10
        while not fake.texts_to("DALICE") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fake.texts_to("DALICE"), "the DM sent over HTTP was answered"
    finally:
        stopper.request()
        thread.join(timeout=10)
    assert not thread.is_alive() and codes == [0]


def test_http_mode_on_a_busy_port_says_so(fake: FakeSlack, host: Application) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))  # noqa: S104 (where serve listens)
        busy.listen()
        port = busy.getsockname()[1]
        env = Environment({"SLACK_BOT_TOKEN": fake.token, "SLACK_SIGNING_SECRET": SECRET})
        err = io.StringIO()
        code = serve(
            host, env, ServeOptions(http=True, port=port), Stopper(), err=err, client=client_for(fake)
        )
    assert code == 1 and f"is port {port} free?" in err.getvalue()


def test_injected_client_gets_rate_limit_retries(host: Application) -> None:
    client = WebClient(token="xoxb-test", base_url="http://127.0.0.1:9/api/")
    create_app(host, Environment({"SLACK_SIGNING_SECRET": "s"}), client=client)
    assert any(isinstance(h, RateLimitErrorRetryHandler) for h in client.retry_handlers)
