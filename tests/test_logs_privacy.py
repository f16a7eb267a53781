"""No personal data in logs at any level: the whole journey, rejections and failures included."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from bot.application import Application
from bot.events import Destination, MessageRef, Outgoing
from bot.logs import JsonFormatter, setup_logging
from bot.platform import DeliveryError
from tests.citi_pdfs import make_certificate, make_report
from tests.conftest import Clock
from tests.journey import Driver, complete_package, write_documents

PERSONAL = ("Alice", "Kim", "alice@example.edu", "40512345", "alice_kim", "console:alice")


def test_whole_journey_logs_no_personal_data(
    bot: Application, clock: Clock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    driver = Driver(bot)
    today = clock().date()
    cert = tmp_path / "cert.pdf"
    cert.write_bytes(
        make_certificate(name="Alice Kim", record_id="40512345", completion=today - timedelta(days=9))
    )
    expired = tmp_path / "expired.pdf"
    expired.write_bytes(
        make_report(
            name="Alice Kim",
            record_id="40512345",
            completion=today - timedelta(days=1200),
            expiration=today - timedelta(days=100),
        )
    )
    driver.say("alice_kim")
    driver.say("yes")
    driver.say(f"/upload {cert}")
    driver.say(f"/upload {expired}")
    report, proof = write_documents(tmp_path / "docs", today)
    complete_package(driver, report, proof)

    # A failing platform and a crashing handler are logged too: still without personal data.
    real_send = driver.console.send

    def failing(destination: Destination, message: Outgoing) -> MessageRef:
        if destination.user is not None and destination.user.id == "alice":
            raise DeliveryError("the platform refused the message", permanent=True)
        return real_send(destination, message)

    driver.console.send = failing  # type: ignore[method-assign]
    driver.as_("reviewer").say("/react ❌")
    driver.say("2 Alice Kim's report (record 40512345) looks edited")
    driver.console.send = real_send  # type: ignore[method-assign]
    bot.handlers.insert(0, _Exploding())
    driver.as_("alice").say("status")

    text = "\n".join(r.getMessage() + (str(r.exc_info[1]) if r.exc_info else "") for r in caplog.records)
    assert caplog.records, "the journey should log something"
    assert any(r.levelno >= logging.ERROR for r in caplog.records)
    for secret in PERSONAL:
        assert secret not in text, secret


class _Exploding:
    def match(self, ctx: object) -> bool:
        return True

    def handle(self, ctx: object, found: bool) -> None:
        raise RuntimeError("boom")


def test_json_log_format() -> None:
    record = logging.LogRecord("bot.core", logging.WARNING, __file__, 1, "sent %d reminders", (3,), None)
    entry = json.loads(JsonFormatter().format(record))
    assert (
        entry["level"] == "warning"
        and entry["message"] == "sent 3 reminders"
        and entry["logger"] == "bot.core"
    )
    setup_logging("json", "INFO")
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler.formatter, JsonFormatter)
    stream = io.StringIO()
    handler.setStream(stream)  # type: ignore[attr-defined]
    logging.getLogger("bot.test").info("hello")
    assert json.loads(stream.getvalue())["message"] == "hello"
    setup_logging("text", "WARNING")
