"""A platform the core has never heard of, added by one package and one registry line, runs a whole
journey through the real runtime: start-up checks, serving, the text fallbacks, a clean stop."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from pathlib import Path

import pytest

from bot import adapters, control, runtime
from bot.platform import ServeOptions
from bot.settings import Settings
from bot.store import Store

RULES = """
version: 1
program: {name: {en: "Loop access"}}
admins: ["loopback:adm"]
reviewers:
  channel: {loopback: reviewers}
  users: ["loopback:rev"]
steps:
  - id: account
    title: {en: "Make an account"}
    help: {en: "Make one."}
    complete_by: answer
    ask: {en: "What is your username?"}
    answer_pattern: "^[a-z_]{3,20}$"
  - id: course
    title: {en: "Take the course"}
    help: {en: "Take it."}
    complete_by: confirm
  - id: review
    title: {en: "Lab review"}
    help: {en: "Wait for the lab."}
    complete_by: review
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Client:
    def __init__(self, port: int) -> None:
        deadline = time.monotonic() + 10
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except ConnectionRefusedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.stream = self.sock.makefile("rw", encoding="utf-8")
        self.transcript: list[str] = []

    def say(self, user: str, text: str) -> list[dict[str, str]]:
        self.stream.write(json.dumps({"user": user, "text": text}) + "\n")
        self.stream.flush()
        self.transcript.append(f"{user}> {text}")
        replies: list[dict[str, str]] = []
        while True:
            message = json.loads(self.stream.readline())
            if message.get("done"):
                return replies
            replies.append(message)
            self.transcript.append(f"[{message['to']}] {message['text']}")

    def quit(self) -> None:
        self.stream.write(json.dumps({"quit": True}) + "\n")
        self.stream.flush()
        self.sock.close()


@pytest.fixture
def loopback_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(adapters.REGISTRY, "loopback", "tests.loopback")  # the one registry line


def test_a_new_platform_runs_a_whole_journey_through_the_runtime(
    loopback_registered: None, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    port = _free_port()
    settings = Settings.from_env(
        {
            "ACCESSBOT_DATA_DIR": str(tmp_path / "data"),
            "ACCESSBOT_RULES": str(rules),
            "ACCESSBOT_LOOPBACK_PORT": str(port),
        }
    )
    assert adapters.chosen(settings.env) == "loopback"
    err = io.StringIO()
    result: list[int] = []
    server = threading.Thread(
        target=lambda: result.append(
            runtime.run(settings, "loopback", ServeOptions(rules_path=rules), err=err)
        )
    )
    server.start()
    client = Client(port)
    try:
        client.say("ann", "hello")
        client.say("ann", "ann_kim")
        client.say("ann", "yes")  # the username is confirmed before it is recorded
        replies = client.say("ann", "done")
        post = next(r for r in replies if r["to"] == "#reviewers")
        # No buttons and no reactions on this platform: the post says which words decide.
        assert "Reply `approve " in post["text"], client.transcript
        review_id = post["text"].split("Reply `approve ", 1)[1].split("`", 1)[0]
        decided = client.say("rev", f"approve {review_id}")
        assert any(r["to"] == "dm:ann" and "🎉" in r["text"] for r in decided), "\n".join(client.transcript)
        assert any(r.get("edited") for r in decided), "the post is closed with the decision"
        # `accessbot admin forget` beside the live bot reaches it over its control socket.
        answer = control.send(tmp_path / "data", "forget", ["loopback:ann"])
        assert answer is not None and answer.startswith("forgot loopback:ann"), answer
        after = client.say("adm", "help")
        assert any(r.get("edited") and "withdrawn" in r["text"] for r in after), "her post says withdrawn"
    finally:
        client.quit()
        server.join(20)
    assert result == [0], err.getvalue()
    with Store(tmp_path / "data") as store:  # the runtime closed the store: the folder lock is free
        assert store.get("loopback:ann") is None


def test_the_runtime_refuses_to_start_when_the_platforms_checks_fail(
    loopback_registered: None, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES.replace("channel: {loopback: reviewers}", "channel: {}"), encoding="utf-8")
    settings = Settings.from_env(
        {
            "ACCESSBOT_DATA_DIR": str(tmp_path / "data"),
            "ACCESSBOT_RULES": str(rules),
            "ACCESSBOT_LOOPBACK_PORT": "x",
        }
    )
    err = io.StringIO()
    assert runtime.run(settings, "loopback", ServeOptions(rules_path=rules), err=err) == 1
    text = err.getvalue()
    assert "ACCESSBOT_LOOPBACK_PORT is not a port number" in text
    assert "reviewers channel for loopback: not set" in text and "fix:" in text
    assert not (tmp_path / "data").exists(), "nothing is created before the checks pass"
