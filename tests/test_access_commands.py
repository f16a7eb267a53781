"""revoke, block and unblock (issue 15, item 3) through the real bot, driven errbot-style on the
console: who may, what each answers, what the member is told in their language, what `show`, the
audit and the outbox keep, crash safety, `forget`, and `accessbot admin` with and without a live bot."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot import control
from bot.admin_cli import admin_command
from bot.app import assemble
from bot.application import Application
from bot.documents import Validator
from bot.rules_loader import RulesHolder
from bot.settings import Settings
from bot.store import Store
from tests.conftest import RULES, Clock, _SharedValidator, make_bot
from tests.journey import Driver, complete_package, write_documents

ENTITLEMENT = """
entitlements:
  - id: data_folder
    kind: console
    target: "read access to /data/mimic-cxr"
"""
GRANTED = ("granted", "alice", "read access to /data/mimic-cxr")
REMOVED = ("removed", "alice", "read access to /data/mimic-cxr")


def rules_file(tmp_path: Path, extra: str = "") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "rules.yaml"
    path.write_text(RULES.read_text(encoding="utf-8") + ENTITLEMENT + extra, encoding="utf-8")
    return path


def approved_alice(tmp_path: Path, validator: Validator, clock: Clock, extra: str = "") -> Driver:
    bot = make_bot(tmp_path / "data", validator, clock, rules_file(tmp_path, extra))
    driver = Driver(bot)
    report, proof = write_documents(tmp_path / "docs", clock().date())
    complete_package(driver, report, proof)
    driver.as_("reviewer").say("/react ✅")
    assert driver.console.grants == [GRANTED]
    return driver


def last(driver: Driver, name: str) -> str:
    return driver.dm_texts(name)[-1]


def audit_of(bot: Application, action: str) -> list[dict[str, Any]]:
    return [e for e in bot.store.audit_entries() if e["action"] == action]


@pytest.fixture
def alice(tmp_path: Path, validator: Validator, clock: Clock) -> Any:
    driver = approved_alice(tmp_path, validator, clock)
    yield driver
    driver.bot.close()


# -- revoke ------------------------------------------------------------------------------------------


def test_revoke_removes_the_access_tells_the_member_why_and_records_who_and_when(alice: Driver) -> None:
    bot = alice.bot
    answer = alice.as_("admin").say("revoke alice left the lab")
    assert [s.where for s in answer] == ["DM → alice", "DM → admin"]
    assert "revoked by the lab: left the lab" in last(alice, "alice")
    assert "is revoked" in last(alice, "admin")
    assert alice.console.grants == [GRANTED, REMOVED]
    record = bot.store.get("console:alice")
    assert record is not None and record.access.state == "revoked" and record.access.granted == []
    revoked = [e for e in record.access.history if e.action == "revoked"]
    assert len(revoked) == 1 and revoked[0].by == "console:admin" and revoked[0].reason == "left the lab"
    assert not list(bot.store.oplog.undelivered()), "the removal and the DM went through the outbox"
    [entry] = audit_of(bot, "access.revoked")
    assert entry["actor"] == bot.store.pseudonym("console:admin")
    assert entry["subject"] == bot.store.pseudonym("console:alice")
    assert entry["reason"] == "left the lab" and entry["at"]
    shown = alice.as_("admin").say("show alice")[-1].text
    assert "access: revoked" in shown
    assert "revoked (by console:admin; left the lab)" in shown
    assert "removed data_folder (left the lab)" in shown
    status = alice.as_("alice").say("status")[-1].text  # never "approved" once access is taken away
    assert "the lab revoked your access" in status and "Your access is approved" not in status
    home = alice.say("/home")[-1].text
    assert "the lab revoked your access" in home and "Your access is approved" not in home


def test_revoke_answers_plainly_when_it_cannot(alice: Driver) -> None:
    admin = alice.as_("admin")
    assert "Say why: `revoke alice REASON`" in admin.say("revoke alice")[-1].text
    assert "Usage: `revoke USER REASON`" in admin.say("revoke")[-1].text
    assert "I do not know console:nobody" in admin.say("revoke nobody rude")[-1].text
    alice.as_("bob").say("hi")
    assert "has no access to revoke (access: none)" in alice.as_("admin").say("revoke bob no")[-1].text
    alice.say("revoke alice left")
    assert "has no access to revoke (access: revoked)" in alice.say("revoke alice again")[-1].text
    assert alice.console.grants == [GRANTED, REMOVED], "removed once"


def test_a_korean_member_is_told_in_korean_with_the_reason_as_written(alice: Driver) -> None:
    alice.as_("alice").say("한국어로 해 주세요")
    alice.as_("admin").say("revoke <@alice> 연구실을 떠남")  # a mention resolves like a name
    told = last(alice, "alice")
    assert "접근 권한을 회수했습니다: 연구실을 떠남" in told and "revoked" not in told
    assert alice.console.grants[-1] == REMOVED


def test_a_revoked_member_is_not_restored_by_a_renewal_only_by_approve(
    alice: Driver, tmp_path: Path, clock: Clock
) -> None:
    alice.as_("admin").say("revoke alice misuse")
    renewed, _ = write_documents(tmp_path / "new", clock().date(), record_id="40599999")
    alice.as_("alice").say(f"/upload {renewed}")
    record = alice.bot.store.get("console:alice")
    assert record is not None and record.access.state == "revoked"
    assert alice.console.grants == [GRANTED, REMOVED]
    alice.as_("admin").say("approve alice")
    assert alice.console.grants == [GRANTED, REMOVED, GRANTED]


# -- permissions: by the stable id of rules.yaml, never by name ---------------------------------------


def test_only_admins_revoke_unless_rules_yaml_lets_reviewers(
    tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    driver = approved_alice(tmp_path, validator, clock)
    try:
        refused = driver.as_("reviewer").say("revoke alice shared data")[-1].text
        assert "you are not an admin" in refused
        driver.adapter.names["mallory"] = "admin"  # a display name proves nothing
        assert "you are not an admin" in driver.as_("mallory").say("block alice x")[-1].text
        assert "you are not an admin" in driver.as_("alice").say("unblock alice")[-1].text
        assert driver.console.grants == [GRANTED]
        refusals = audit_of(driver.bot, "admin.refused")
        assert [e["command"] for e in refusals] == ["revoke", "block", "unblock"]
    finally:
        driver.bot.close()

    allowed = approved_alice(tmp_path / "2", validator, clock, "access:\n  reviewers_may_revoke: true\n")
    try:
        allowed.as_("reviewer").say("revoke alice shared data")
        assert allowed.console.grants == [GRANTED, REMOVED]
        to_admin = last(allowed, "admin")
        assert "@reviewer revoked the access of @alice: shared data" in to_admin
        for command in ("block alice x", "unblock alice", "closeout alice"):
            assert "you are not an admin" in allowed.as_("reviewer").say(command)[-1].text
    finally:
        allowed.bot.close()


# -- block and unblock ---------------------------------------------------------------------------------


def test_block_refuses_every_way_of_continuing_and_unblock_lets_them_go_on(
    tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    bot = make_bot(tmp_path / "data", validator, clock, rules_file(tmp_path))
    driver = Driver(bot)
    try:
        report, _proof = write_documents(tmp_path / "docs", clock().date(), name="Bob Lee")
        driver.as_("bob").say("hi")
        before = bot.store.get("console:bob")
        assert "cannot apply" not in last(driver, "bob")
        driver.as_("admin").say("block bob sent someone else's report")
        assert "no longer apply" in last(driver, "bob") and "someone else's report" in last(driver, "bob")
        for line in ("bob_lee", "yes", "done", "I want to apply", f"/upload {report}", "/press done"):
            sent = driver.as_("bob").say(line)
            assert [s.where for s in sent] == ["DM → bob"], line
            assert "you are blocked from applying" in sent[0].text, line
        driver.as_("bob").say("안녕하세요")
        driver.as_("bob").say("계속 진행하고 싶어요")
        assert "신청이 차단되어" in last(driver, "bob")
        after = bot.store.get("console:bob")
        assert after is not None and before is not None
        assert after.steps == before.steps and after.documents == [] and after.pending is None

        assert "is unblocked" in driver.as_("admin").say("unblock bob")[-1].text
        assert "다시 신청할 수 있습니다" in last(driver, "bob"), "told in the language they last wrote"
        driver.as_("bob").say("bob_lee")
        assert "bob_lee" in last(driver, "bob") and "blocked" not in last(driver, "bob")
        shown = driver.as_("admin").say("show bob")[-1].text
        assert "blocked (by console:admin; sent someone else's report)" in shown
        assert "unblocked (by console:admin)" in shown and "  blocked:" not in shown
    finally:
        bot.close()


def test_block_withdraws_a_pending_review_and_nobody_can_approve_meanwhile(
    tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    bot = make_bot(tmp_path / "data", validator, clock, rules_file(tmp_path))
    driver = Driver(bot)
    try:
        report, proof = write_documents(tmp_path / "docs", clock().date())
        complete_package(driver, report, proof)
        record = bot.store.get("console:alice")
        assert record is not None and record.review_id
        review_id = record.review_id
        driver.as_("admin").say("block alice fake documents")
        review = bot.store.review(review_id)
        assert review is not None and review.state == "withdrawn"
        post = driver.console.last_post("reviewers")
        assert post is not None and "@admin blocked the applicant" in post.text
        driver.as_("reviewer").say("/react ✅")  # on the withdrawn post: nothing
        assert "is blocked: nobody approves" in driver.as_("admin").say("approve alice")[-1].text
        assert "is blocked: nobody approves" in driver.as_("admin").say("approve alice force")[-1].text
        record = bot.store.get("console:alice")
        assert record is not None and not record.approved_at and record.access.state == "none"
        assert driver.console.grants == []
    finally:
        bot.close()


def test_blocking_an_approved_member_revokes_their_access(alice: Driver) -> None:
    alice.as_("admin").say("block alice shared the data")
    assert alice.console.grants == [GRANTED, REMOVED]
    record = alice.bot.store.get("console:alice")
    assert record is not None and record.access.state == "revoked" and record.access.blocked
    shown = alice.as_("admin").say("show alice")[-1].text
    assert "  blocked: shared the data" in shown and "removed data_folder (shared the data)" in shown


def test_block_and_unblock_answer_plainly_when_they_cannot(alice: Driver) -> None:
    admin = alice.as_("admin")
    assert "Say why: `block alice REASON`" in admin.say("block alice")[-1].text
    assert "I do not know console:ghost" in admin.say("block ghost spam")[-1].text
    assert "reviewer or admin in rules.yaml" in admin.say("block reviewer lazy")[-1].text
    assert "cannot block yourself" in admin.say("block admin oops")[-1].text
    assert "is not blocked" in admin.say("unblock alice")[-1].text
    admin.say("block alice x")
    assert "is already blocked" in admin.say("block alice y")[-1].text
    assert "Usage: `unblock USER`" in admin.say("unblock")[-1].text
    help_text = admin.say("admin")[-1].text
    assert "revoke USER REASON" in help_text and "closeout USER" in help_text


# -- crash safety, forget ------------------------------------------------------------------------------


class Crash(BaseException):
    """The process dying (not an Exception: nothing in the bot catches it)."""


def _crash_on(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> None:
    def dying(*args: Any, **kwargs: Any) -> Any:
        raise Crash(name)

    monkeypatch.setattr(owner, name, dying)


def test_a_revoke_cut_short_before_anything_was_sent_is_carried_out_after_a_restart(
    tmp_path: Path, validator: Validator, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    driver = approved_alice(tmp_path, validator, clock)
    bot = driver.bot
    _crash_on(monkeypatch, bot.services.messenger, "_carry_out")  # dies right after the commit
    with pytest.raises(Crash):
        driver.as_("admin").say("revoke alice left the lab")
    bot.services.store.close()
    monkeypatch.undo()
    assert driver.console.grants == [GRANTED], "nothing was removed before the crash"

    again = assemble(
        rules=RulesHolder(rules_file(tmp_path)),
        store=Store(tmp_path / "data", clock=clock),
        validator=_SharedValidator(validator),  # type: ignore[arg-type]
        clock=clock,
    )
    try:
        record = again.store.get("console:alice")
        assert record is not None and record.access.state == "revoked", "the decision was committed"
        fresh = Driver(again)
        assert again.redeliver() >= 2
        assert fresh.console.grants == [REMOVED]
        assert "left the lab" in last(fresh, "alice")
        assert again.redeliver() == 0, "each once"
        record = again.store.get("console:alice")
        assert record is not None and record.access.granted == []
    finally:
        again.close()


def test_forget_still_removes_everything_and_the_audit_never_names_them(
    tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    driver = approved_alice(tmp_path, validator, clock)
    bot = driver.bot
    data = tmp_path / "data"
    try:
        driver.as_("admin").say("closeout alice project ended")
        driver.as_("alice").say("not yet")
        driver.as_("admin").say("block alice Alice Kim (alice_kim) shared her data")
        assert "  blocked:" in driver.as_("admin").say("show alice")[-1].text
        [entry] = audit_of(bot, "access.blocked")
        assert entry["reason"] == "[member] ([member]) shared her data"
        assert "is deleted" in driver.as_("admin").say("forget alice")[-1].text
        assert bot.store.get("console:alice") is None
        assert not list(bot.store.oplog.undelivered())
    finally:
        bot.close()
    for path in (p for p in data.rglob("*") if p.is_file()):
        raw = path.read_bytes().lower()
        for value in (b"alice kim", b"alice_kim", b"console:alice", b"40512345"):
            assert value not in raw, (path.name, value)


# -- accessbot admin: offline, and beside a live bot ---------------------------------------------------


def _cli(tmp_path: Path, action: str, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    settings = Settings(data_dir=tmp_path / "data", rules_path=tmp_path / "rules.yaml")
    code = admin_command(settings, action, list(args), out, err)
    return code, out.getvalue(), err.getvalue()


def test_the_cli_revokes_offline_and_the_next_start_sends_it(
    tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    driver = approved_alice(tmp_path, validator, clock)
    driver.bot.close()
    code, out, err = _cli(tmp_path, "revoke", "console:alice", "left", "the", "lab")
    assert code == 0 and "console:alice: revoked" in out and "outbox" in out, err
    code, _out, err = _cli(tmp_path, "revoke", "console:alice", "again")
    assert code == 1 and "has no access to revoke (access: revoked)" in err
    code, _out, err = _cli(tmp_path, "block", "console:alice")
    assert code == 2 and "usage: accessbot admin block USER REASON" in err
    code, _out, err = _cli(tmp_path, "unblock", "console:nobody")
    assert code == 1 and "no applicant console:nobody" in err

    again = make_bot(tmp_path / "data", validator, clock, tmp_path / "rules.yaml")
    try:
        fresh = Driver(again)
        again.redeliver()
        assert fresh.console.grants == [REMOVED]
        assert "left the lab" in last(fresh, "alice")
        record = again.store.get("console:alice")
        assert record is not None and record.access.history[-2].by == "cli"
    finally:
        again.close()


def test_the_cli_beside_a_live_bot_blocks_through_the_control_socket_and_it_is_sent_at_once(
    tmp_path: Path, validator: Validator, clock: Clock
) -> None:
    driver = approved_alice(tmp_path, validator, clock)
    bot = driver.bot
    handler: Callable[[str, list[str]], str] = bot.control
    try:
        with control.ControlServer(bot.store.dir, handler):
            code, out, err = _cli(tmp_path, "block", "console:alice", "shared", "the", "data")
            assert code == 0 and "console:alice: blocked" in out, err
            assert driver.console.grants == [GRANTED, REMOVED], "sent by the live bot, not later"
            assert "shared the data" in last(driver, "alice")
            code, _out, err = _cli(tmp_path, "block", "console:alice", "again")
            assert code == 1 and "already blocked" in err
            code, out, err = _cli(tmp_path, "unblock", "console:alice")
            assert code == 0 and "unblocked" in out, err
    finally:
        bot.close()


def test_a_block_during_an_approval_waits_for_it_and_then_revokes(
    tmp_path: Path, validator: Validator, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The desk's read-decide-write holds the store (Store.exclusive): a block arriving in the middle
    of an approval cannot be overwritten by it; it lands after, and takes the new access away."""
    import threading

    from bot.entitlements import actions

    bot = make_bot(tmp_path / "data", validator, clock, rules_file(tmp_path))
    driver = Driver(bot)
    try:
        report, proof = write_documents(tmp_path / "docs", clock().date())
        complete_package(driver, report, proof)
        record = bot.store.get("console:alice")
        assert record is not None and record.review_id
        review = bot.store.review(record.review_id)
        assert review is not None
        blocker = threading.Thread(
            target=actions.block, args=(bot.store, bot.rules, "console:alice", "console:admin", "race")
        )
        real_get = bot.store.get

        def get_then_block(key: str) -> Any:
            if key == "console:alice" and not blocker.is_alive() and blocker.ident is None:
                blocker.start()  # the block arrives while the desk is deciding
                blocker.join(timeout=0.3)
            return real_get(key)

        monkeypatch.setattr(bot.store, "get", get_then_block)
        decision = bot.services.desk.approve(review, ["console:reviewer"])
        monkeypatch.setattr(bot.store, "get", real_get)
        blocker.join(timeout=10)
        assert not blocker.is_alive()
        assert decision.status == "decided"
        record = bot.store.get("console:alice")
        assert record is not None and record.access.blocked == "race"
        assert record.approved_at, "the approval was decided first"
        assert record.access.state == "revoked", "then the block took the new access away"
        decided = bot.store.review(review.id)
        assert decided is not None and decided.state == "approved"
    finally:
        bot.close()
