"""Entitlements (issue 15): approval grants them in the same committed operation, through the console,
Slack's Web API (the fake) and a signed webhook to a local receiver; failures are retried by the outbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.adapters.slack.outbound import SlackAdapter
from bot.application import Application
from bot.documents import Validator
from bot.entitlements.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from bot.events import UserRef
from bot.platform import DeliveryError
from bot.rules_loader import RulesError, parse_rules
from tests import loopback_http
from tests.conftest import RULES, Clock, make_bot
from tests.fake_slack import FakeSlack
from tests.journey import Driver, complete_package, write_documents

SECRET = "s3cret-for-tests"


class Receiver:
    """The lab's script: checks the signature, fails the first `failures` calls."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls: list[dict[str, Any]] = []
        self.refused = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                stamp = self.headers.get(TIMESTAMP_HEADER, "")
                if not verify(SECRET, stamp, body, self.headers.get(SIGNATURE_HEADER, "")):
                    receiver.refused += 1
                    self.send_response(401)
                elif receiver.failures > 0:
                    receiver.failures -= 1
                    receiver.calls.append({"failed": True, **json.loads(body)})
                    self.send_response(503)
                else:
                    receiver.calls.append(json.loads(body))
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = loopback_http.serve(Handler)

    @property
    def url(self) -> str:
        return loopback_http.url(self.server) + "/hook"

    def close(self) -> None:
        loopback_http.close(self.server)


ENTITLEMENTS = """
entitlements:
  - id: data_folder
    kind: console
    target: "read access to /data/mimic-cxr"
  - id: data_channel
    kind: slack_channel
    target: C0DATA1234
  - id: storage_acl
    kind: webhook
    url: {url}
    secret_env: ACCESSBOT_TEST_WEBHOOK_SECRET
"""


def rules_with(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def approved(tmp_path: Path, validator: Validator, clock: Clock, url: str) -> tuple[Application, Driver]:
    bot = make_bot(tmp_path / "data", validator, clock, rules_with(tmp_path, ENTITLEMENTS.format(url=url)))
    driver = Driver(bot)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    driver.as_("reviewer").say("/react ✅")
    return bot, driver


def test_approval_grants_the_console_line_and_the_signed_webhook(
    tmp_path: Path, validator: Validator, clock: Clock, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACCESSBOT_TEST_WEBHOOK_SECRET", SECRET)
    bot, driver = approved(tmp_path, validator, clock, receiver.url)
    try:
        assert driver.console.grants == [("granted", "alice", "read access to /data/mimic-cxr")]
        assert receiver.refused == 0
        [call] = receiver.calls
        assert call["action"] == "grant" and call["entitlement"] == "storage_acl"
        assert call["user"] == "console:alice" and call["id"]
        alice = bot.store.get("console:alice")
        assert alice is not None
        assert alice.access.state == "active"
        assert alice.access.granted == ["data_folder", "storage_acl"]  # no Slack channel for a console user
        assert [e.action for e in alice.access.history] == ["granted", "granted"]
        assert not list(bot.store.oplog.undelivered())
        shown = driver.as_("admin").say("show alice")[-1].text
        assert "access: active" in shown and "granted data_folder" in shown and "granted storage_acl" in shown
    finally:
        bot.close()


def test_a_failing_webhook_is_reported_once_and_retried_with_backoff_until_it_works(
    tmp_path: Path, validator: Validator, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACCESSBOT_TEST_WEBHOOK_SECRET", SECRET)
    receiver = Receiver(failures=2)
    bot, driver = approved(tmp_path, validator, clock, receiver.url)
    try:
        assert len(receiver.calls) == 1  # the first try failed
        told = [t for t in driver.dm_texts("admin") if "storage_acl" in t]
        assert len(told) == 1 and "503" in told[0] and "tried again" in told[0]
        assert len(list(bot.store.oplog.undelivered())) == 1  # kept in the outbox
        bot.redeliver()
        assert len(receiver.calls) == 1  # backing off: not yet
        clock.advance(seconds=30)
        bot.redeliver()
        assert len(receiver.calls) == 2  # failed again, not reported again
        assert len([t for t in driver.dm_texts("admin") if "Could not" in t]) == 1
        clock.advance(seconds=60)
        bot.redeliver()
        assert len(receiver.calls) == 3 and "failed" not in receiver.calls[-1]
        assert receiver.calls[0]["id"] == receiver.calls[2]["id"]  # the same delivery, for idempotency
        assert not list(bot.store.oplog.undelivered())
        alice = bot.store.get("console:alice")
        assert alice is not None and "storage_acl" in alice.access.granted and not alice.access.failing
        assert "went through" in driver.dm_texts("admin")[-1]
    finally:
        bot.close()
        receiver.close()


def test_a_missing_secret_is_told_to_the_admins_and_kept(
    tmp_path: Path, validator: Validator, clock: Clock, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ACCESSBOT_TEST_WEBHOOK_SECRET", raising=False)
    bot, driver = approved(tmp_path, validator, clock, receiver.url)
    try:
        assert not receiver.calls
        assert any("ACCESSBOT_TEST_WEBHOOK_SECRET is not set" in t for t in driver.dm_texts("admin"))
        assert len(list(bot.store.oplog.undelivered())) == 1
    finally:
        bot.close()


# -- Slack: conversations.invite / conversations.kick on the fake Web API ---------------------------


def test_slack_invites_to_and_removes_from_the_private_data_channel() -> None:
    with FakeSlack() as fake:
        fake.channels["C0DATA1234"] = {"name": "mimic-data", "is_private": True, "members": []}
        adapter = SlackAdapter(client=WebClient(token=fake.token, base_url=fake.api_url), token=fake.token)
        alice = UserRef("slack", "U0ALICE")
        adapter.grant(alice, "C0DATA1234")
        adapter.grant(alice, "C0DATA1234")  # already in: fine
        assert fake.channels["C0DATA1234"]["members"] == ["U0ALICE"]
        assert fake.calls_to_params("conversations.invite")[0] == {
            "channel": "C0DATA1234",
            "users": "U0ALICE",
        }
        adapter.revoke(alice, "C0DATA1234")
        adapter.revoke(alice, "C0DATA1234")  # already out: fine
        assert fake.channels["C0DATA1234"]["members"] == []
        assert fake.calls_to_params("conversations.kick")[0] == {"channel": "C0DATA1234", "user": "U0ALICE"}
        with pytest.raises(DeliveryError) as info:
            adapter.grant(alice, "C0GONE0000")
        assert "channel_not_found" in str(info.value)


# -- rules check -----------------------------------------------------------------------------------


def test_rules_check_names_the_line_of_a_bad_entitlement() -> None:
    text = RULES.read_text(encoding="utf-8")
    base = text.count("\n")
    bad = (
        "entitlements:\n"
        "  - id: hook\n"
        "    kind: webhook\n"
        "    url: http://example.org/hook\n"
        "    secret_env: lowercase\n"
        "  - id: chan\n"
        "    kind: slack_channel\n"
        "    target: general\n"
        "access:\n"
        "  days: -3\n"
    )
    with pytest.raises(RulesError) as info:
        parse_rules(text + bad)
    message = str(info.value)
    assert f":{base + 4}: entitlements[0].url" in message
    assert f":{base + 5}: entitlements[0].secret_env" in message
    assert f":{base + 8}: entitlements[1].target" in message
    assert f":{base + 10}: access.days" in message


# -- access with an end, and the console's clock ---------------------------------------------------


def _approved_until_training_ends(
    tmp_path: Path, validator: Validator, clock: Clock, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> Driver:
    """Alice approved on rules whose access lasts until her CITI training expires (the console line
    and the webhook granted); the caller closes the bot."""
    monkeypatch.setenv("ACCESSBOT_TEST_WEBHOOK_SECRET", SECRET)
    extra = ENTITLEMENTS.format(url=receiver.url) + "access:\n  until_training_expires: true\n"
    driver = Driver(make_bot(tmp_path / "data", validator, clock, rules_with(tmp_path, extra)))
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    driver.as_("reviewer").say("/react ✅")
    return driver


def test_access_ends_with_the_training_and_a_renewed_report_restores_it(
    tmp_path: Path, validator: Validator, clock: Clock, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    driver = _approved_until_training_ends(tmp_path, validator, clock, receiver, monkeypatch)
    bot = driver.bot
    try:
        alice = bot.store.get("console:alice")
        assert alice is not None and alice.access.until == (clock().date() + timedelta(days=1000)).isoformat()
        clock.advance(days=975)
        bot.tick()
        assert "ends on" in driver.dm_texts("alice")[-1]
        clock.advance(days=25)
        bot.tick()
        assert "suspended" in driver.dm_texts("alice")[-1]
        assert driver.console.grants[-1] == ("removed", "alice", "read access to /data/mimic-cxr")
        assert receiver.calls[-1]["action"] == "revoke"
        assert any("suspended" in t for t in driver.dm_texts("admin"))
        bot.tick()
        assert len([t for t in driver.dm_texts("alice") if "suspended" in t]) == 1  # once
        status = driver.as_("alice").say("status")[-1].text
        assert "your access is suspended" in status and "Your access is approved" not in status
        renewed, _ = write_documents(tmp_path / "new", clock().date(), record_id="40599999")
        driver.as_("alice").say(f"/upload {renewed}")
        assert "restored" in driver.dm_texts("alice")[-1]
        assert driver.console.grants[-1] == ("granted", "alice", "read access to /data/mimic-cxr")
        alice = bot.store.get("console:alice")
        assert alice is not None and alice.access.state == "active"
    finally:
        bot.close()


def test_console_tick_moves_the_runtime_clock(tmp_path: Path) -> None:
    from bot.clock import OffsetClock

    clock = OffsetClock()
    before = clock()
    clock.advance(2)
    assert (clock() - before).days == 2


def test_a_renewal_that_is_not_clean_goes_to_the_admins_and_approve_restores_it(
    tmp_path: Path, validator: Validator, clock: Clock, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    driver = _approved_until_training_ends(tmp_path, validator, clock, receiver, monkeypatch)
    bot = driver.bot
    try:
        clock.advance(days=1001)
        bot.tick()
        assert "suspended" in driver.dm_texts("alice")[-1]
        other, _ = write_documents(tmp_path / "new", clock().date(), name="Alice Park", record_id="40599999")
        driver.as_("alice").say(f"/upload {other}")
        told = driver.dm_texts("admin")[-1]
        assert "not a clean renewal" in told and "`approve alice` restores" in told, told
        alice = bot.store.get("console:alice")
        assert alice is not None and alice.access.state == "suspended", "nothing restored by itself"
        driver.as_("admin").say("approve alice")
        alice = bot.store.get("console:alice")
        assert alice is not None and alice.access.state == "active"
        assert driver.console.grants[-1] == ("granted", "alice", "read access to /data/mimic-cxr")
    finally:
        bot.close()
