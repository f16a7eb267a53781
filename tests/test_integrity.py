"""Start-up integrity: every damaged-file case stops the bot with the file's name and what to do.

Each case damages a healthy data folder one way and must be refused, with a message and never a
traceback, by the store, by `accessbot doctor` and by `accessbot run console` (a real process).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import pytest

from bot import integrity
from bot.doctor import doctor
from bot.integrity import ExtraFile
from bot.models import Applicant, Review
from bot.settings import Settings
from bot.storage import CorruptDatabase
from bot.store import Store
from tests.conftest import RULES

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = ("console:alice", "console:bob", "console:carol", "slack:U0123ABCD")


@pytest.fixture(autouse=True)
def _small_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two people a shard, so that four people span several files."""
    monkeypatch.setattr("bot.store.SHARD_CAPACITY", 2)


def healthy(data: Path) -> dict[str, str]:
    """A folder with people in several shards, a review round, events, audit; name -> a person's shard."""
    with Store(data) as store:
        for key in PEOPLE:
            store.ensure(key, lang="en")
            store.update(key, lambda a: a.reminders_sent.append("x"))
        store.create_review(
            Review(
                id="r1", applicant="console:alice", state="pending", created="2026-01-01", platform="console"
            )
        )
        store.first_time("console-1-1")
        store.first_time("console-1-2")
        store.audit("console:alice", "test")
        return {key: integrity.shard_name(store._index.applicants[key]["s"]) for key in PEOPLE}


def _shard_of(data: Path, key: str) -> Path:
    for path in sorted(data.glob("applicants-*.json")):
        if key.encode() in path.read_bytes():
            return path
    raise AssertionError(key)


def _other_shard(data: Path, than: Path) -> Path:
    for path in sorted(data.glob("applicants-*.json")):
        if path != than:
            return path
    raise AssertionError("one shard only")


def _edit(path: Path, change: Callable[[dict], None]) -> None:  # type: ignore[type-arg]
    raw = orjson.loads(path.read_bytes())
    change(raw)
    path.write_bytes(orjson.dumps(raw))


def _first_doc(raw: dict, table: str = "applicants") -> dict:  # type: ignore[type-arg]
    first: dict = next(iter(raw[table].values()))  # type: ignore[type-arg]
    return first


def _alice(data: Path) -> Path:
    return _shard_of(data, "console:alice")


def _duplicate(data: Path) -> None:
    source = _alice(data)
    doc = _first_doc(orjson.loads(source.read_bytes()))
    _edit(_other_shard(data, source), lambda raw: raw["applicants"].update({"999": doc}))


def _older_copy(data: Path, tmp: Path) -> None:
    path = _alice(data)
    old = path.read_bytes()
    with Store(data) as store:
        store.update("console:alice", lambda a: a.reminders_sent.append("newer"))
    path.write_bytes(old)


def _symlink_outside(data: Path) -> None:
    outside = data.parent / "elsewhere.json"
    outside.write_bytes(_alice(data).read_bytes())
    path = _alice(data)
    path.unlink()
    path.symlink_to(outside)


def _huge(data: Path) -> None:
    with _alice(data).open("r+b") as handle:
        handle.truncate(300 * 1024 * 1024)  # sparse: costs no disk


def _directory(data: Path) -> None:
    _directory_at(_alice(data))


def _directory_at(path: Path) -> None:
    path.unlink()
    path.mkdir()


def _remove_manifest(data: Path) -> None:
    (data / integrity.MANIFEST).unlink()


def _shorter_audit(data: Path) -> None:
    with Store(data) as store:  # the manifest notes the audit's size at each write
        store.audit("console:bob", "more")
        store.update("console:bob", lambda a: a.reminders_sent.append("y"))
    (data / integrity.AUDIT).write_bytes(b"")


# Each case: (id, the damage, the file its message must name).
CASES: list[tuple[str, Callable[[Path], object], str]] = [
    ("removed shard", lambda d: _alice(d).unlink(), "applicants-"),
    ("removed reviews.json", lambda d: (d / "reviews-00.json").unlink(), "reviews-00.json"),
    ("empty shard", lambda d: _alice(d).write_bytes(b""), "applicants-"),
    ("truncated shard", lambda d: _alice(d).write_bytes(_alice(d).read_bytes()[:40]), "applicants-"),
    (
        "binary garbage",
        lambda d: (d / "reviews-00.json").write_bytes(os.urandom(300) + b"\xff"),
        "reviews-00.json",
    ),
    ("JSON of the wrong shape", lambda d: _alice(d).write_bytes(b"[1, 2, 3]"), "applicants-"),
    ("records not mappings", lambda d: _alice(d).write_bytes(b'{"applicants": {"1": 5}}'), "applicants-"),
    ("a record without key", lambda d: _edit(_alice(d), lambda r: _first_doc(r).pop("key")), "applicants-"),
    (
        "wrong types inside",
        lambda d: _edit(_alice(d), lambda r: _first_doc(r).update(steps=[])),
        "applicants-",
    ),
    (
        "a review of the wrong state",
        lambda d: _edit(d / "reviews-00.json", lambda r: _first_doc(r, "reviews").update(state="maybe")),
        "reviews-00.json",
    ),
    (
        "an unknown field",
        lambda d: _edit(_alice(d), lambda r: _first_doc(r).update(favourite="x")),
        "applicants-",
    ),
    (
        "record number not a number",
        lambda d: _edit(_alice(d), lambda r: r.update(applicants={"x": {}})),
        "applicants-",
    ),
    ("duplicate keys across shards", _duplicate, "applicants-"),
    ("removed audit.salt", lambda d: (d / "audit.salt").unlink(), "audit.salt"),
    ("changed audit.salt", lambda d: (d / "audit.salt").write_bytes(os.urandom(16)), "audit.salt"),
    ("cut audit.salt", lambda d: (d / "audit.salt").write_bytes(b"abc"), "audit.salt"),
    ("a directory where a shard should be", _directory, "applicants-"),
    ("a symlink pointing outside", _symlink_outside, "applicants-"),
    (
        "events.log garbage lines",
        lambda d: (d / "events.log").write_bytes(b'"ok"\n\x00\x01garbage\n"ok2"\n'),
        "events.log",
    ),
    (
        "events.log a directory",
        lambda d: _directory_at(d / "events.log"),
        "events.log",
    ),
    ("huge file", _huge, "applicants-"),
    ("shard replaced by an older copy", lambda d: _older_copy(d, d), "applicants-"),
    (
        "shard edited by hand",
        lambda d: _edit(_alice(d), lambda r: _first_doc(r).update(lang="ko")),
        "applicants-",
    ),
    ("manifest removed", _remove_manifest, "manifest.json"),
    ("manifest garbage", lambda d: (d / "manifest.json").write_bytes(b"{nope"), "manifest.json"),
    ("audit.jsonl shortened", _shorter_audit, "audit.jsonl"),
    ("files/ is a file", lambda d: (d / "files").write_bytes(b"x"), "files"),
]


def _fingerprint(path: Path) -> tuple[int, bytes]:
    with path.open("rb") as handle:
        return path.stat().st_size, handle.read(1 << 20)


@pytest.fixture
def damaged(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[Path, str]:
    _name, damage, file = request.param
    data = tmp_path / "data"
    healthy(data)
    damage(data)
    return data, file


def _ids() -> list[str]:
    return [c[0] for c in CASES]


def test_there_are_at_least_21_cases() -> None:
    assert len(CASES) >= 21


@pytest.mark.parametrize("damaged", CASES, ids=_ids(), indirect=True)
def test_the_store_refuses_naming_the_file(damaged: tuple[Path, str]) -> None:
    data, file = damaged
    before = {p.name: _fingerprint(p) for p in data.iterdir() if p.is_file() and not p.is_symlink()}
    with pytest.raises(CorruptDatabase) as caught:
        Store(data)
    message = str(caught.value)
    assert file in message and "what to do:" in message, message
    assert "backup" in message or "move" in message or "repair" in message
    for name, content in before.items():  # nothing was replaced or emptied (modes aside)
        assert _fingerprint(data / name) == content, name
    # the folder is released: a second attempt gets the same answer, not "already in use"
    with pytest.raises(CorruptDatabase):
        Store(data)


@pytest.mark.parametrize("damaged", CASES, ids=_ids(), indirect=True)
def test_doctor_names_the_damaged_file(damaged: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    import io

    data, file = damaged
    out = io.StringIO()
    code = doctor(Settings(data_dir=data, rules_path=RULES), out)
    report = out.getvalue()
    assert code == 1
    assert any(line.startswith("✗ data file ") and file in line for line in report.splitlines()), report


def test_every_case_stops_the_real_bot_with_a_message_not_a_traceback(tmp_path: Path) -> None:
    """`accessbot run console` as a process, for every case at once (the processes run side by side)."""
    procs = []
    for i, (name, damage, file) in enumerate(CASES):
        data = tmp_path / f"case{i}" / "data"
        healthy(data)
        damage(data)
        env = {**os.environ, "ACCESSBOT_DATA_DIR": str(data), "ACCESSBOT_RULES": str(RULES)}
        env.pop("SLACK_BOT_TOKEN", None)
        env.pop("DISCORD_TOKEN", None)
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "console"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        procs.append((name, file, proc))
    clear = []
    for name, file, proc in procs:
        _out, err = proc.communicate(timeout=120)
        if proc.returncode == 1 and "Traceback" not in err and file in err and "what to do:" in err:
            clear.append(name)
        else:
            print(f"--- {name}: exit {proc.returncode}\n{err[-2000:]}")
    assert clear == [c[0] for c in CASES]


def test_an_unreadable_file_is_named_with_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """chmod 000 means nothing to root (the suite's user), so the refusal of `open` is simulated."""
    data = tmp_path / "data"
    healthy(data)
    victim = _alice(data)
    real_open = os.open

    def refusing(path: object, *args: Any, **kwargs: Any) -> int:
        if Path(str(path)) == victim:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refusing)
    with pytest.raises(CorruptDatabase) as caught:
        Store(data)
    assert victim.name in str(caught.value) and "permission denied" in str(caught.value)
    assert "chown" in str(caught.value)


# -- a healthy folder never looks damaged --------------------------------------------------------------


def test_a_crash_between_the_data_write_and_the_manifest_write_is_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    healthy(data)
    with Store(data) as store:

        def crash(folder: Path, manifest: object) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(integrity, "write_manifest", crash)
        for n in ("0", "1", "2"):  # the data writes succeed; the manifest falls three generations behind
            store.update("console:alice", partial(_remind, n))
        monkeypatch.undo()
    with Store(data) as store:
        alice = store.get("console:alice")
        assert alice is not None and alice.reminders_sent[-3:] == ["0", "1", "2"]


def _remind(n: str, a: Applicant) -> None:
    a.reminders_sent.append(n)


def test_an_old_folder_without_a_manifest_is_adopted(tmp_path: Path) -> None:
    """A folder written before manifests existed: files without generations, no manifest."""
    data = tmp_path / "data"
    healthy(data)
    for path in sorted(data.glob("applicants-*.json")):
        if path.exists():
            _edit(path, lambda raw: raw.pop("_accessbot"))
    _edit(data / "reviews-00.json", lambda raw: raw.pop("_accessbot"))
    (data / "manifest.json").unlink()
    with Store(data) as store:
        assert sorted(store.keys()) == sorted(PEOPLE)
    assert (data / "manifest.json").exists()


def test_a_new_folder_gets_a_manifest_and_a_salt(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Store(data):
        pass
    manifest = integrity.Manifest.from_bytes((data / "manifest.json").read_bytes())
    assert manifest.salt_sha256 and len((data / "audit.salt").read_bytes()) == 16


def test_repair_accepts_a_restore_after_an_admin_says_so(tmp_path: Path) -> None:
    data = tmp_path / "data"
    healthy(data)
    _older_copy(data, data)
    env = {"ACCESSBOT_DATA_DIR": str(data), "ACCESSBOT_RULES": str(RULES)}
    started = _accessbot(["run", "console"], env)
    assert (
        started.returncode == 1 and "older" in started.stderr and "accessbot admin repair" in started.stderr
    )
    repaired = _accessbot(["admin", "repair"], env)
    assert repaired.returncode == 0, repaired.stderr
    assert "accepted: applicants-" in repaired.stdout
    with Store(data) as store:
        alice = store.get("console:alice")
        assert alice is not None and "newer" not in alice.reminders_sent


def test_repair_does_not_accept_a_damaged_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    healthy(data)
    _alice(data).write_bytes(b"{truncated")
    done = _accessbot(["admin", "repair"], {"ACCESSBOT_DATA_DIR": str(data), "ACCESSBOT_RULES": str(RULES)})
    assert done.returncode == 1 and "not valid JSON" in done.stderr and "Traceback" not in done.stderr


def test_a_lost_salt_is_replaced_only_when_an_admin_asks(tmp_path: Path) -> None:
    data = tmp_path / "data"
    healthy(data)
    (data / "audit.salt").unlink()
    env = {"ACCESSBOT_DATA_DIR": str(data), "ACCESSBOT_RULES": str(RULES)}
    assert _accessbot(["admin", "repair"], env).returncode == 1
    assert not (data / "audit.salt").exists()
    done = _accessbot(["admin", "repair", "--new-salt"], env)
    assert done.returncode == 0 and "new audit.salt" in done.stdout
    with Store(data) as store:
        assert any(e["action"] == "admin.new_salt" for e in store.audit_entries())


def _accessbot(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=ROOT,
        timeout=60,
        check=False,
    )


# -- permissions ---------------------------------------------------------------------------------------


def test_permissions_are_enforced_on_files_made_before(tmp_path: Path) -> None:
    data = tmp_path / "data"
    healthy(data)
    (data / "files").mkdir()
    (data / "files" / "kept.pdf").write_bytes(b"%PDF")
    os.chmod(data, 0o755)  # noqa: S103 - the loose mode the store must fix
    os.chmod(data / "files", 0o755)  # noqa: S103
    for path in [*data.iterdir(), data / "files" / "kept.pdf"]:
        if path.is_file():
            os.chmod(path, 0o644)
    with Store(data):
        pass
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "files").stat().st_mode) == 0o700
    for path in [*data.iterdir(), data / "files" / "kept.pdf"]:
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


# -- registered extra files (a journal, an outbox) -----------------------------------------------------


def test_registered_extra_files_are_accepted_checked_and_kept_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    healthy(data)
    outbox = data / "outbox.jsonl"
    outbox.write_bytes(b'{"to": "console:alice"}\n')
    os.chmod(outbox, 0o644)

    def validate(raw: bytes) -> str | None:
        return None if raw.endswith(b"\n") else "its last entry is cut short"

    integrity.register_file(ExtraFile("outbox.jsonl", required=True, validate=validate))
    try:
        with Store(data):
            pass
        assert stat.S_IMODE(outbox.stat().st_mode) == 0o600
        assert "outbox.jsonl" in integrity.Manifest.from_bytes((data / "manifest.json").read_bytes()).extras
        outbox.write_bytes(b'{"to": ')
        with pytest.raises(CorruptDatabase, match=r"outbox\.jsonl is damaged: its last entry is cut short"):
            Store(data)
        outbox.unlink()
        with pytest.raises(CorruptDatabase, match=r"outbox\.jsonl is missing"):
            Store(data)
    finally:
        integrity.unregister_file("outbox.jsonl")
    with Store(data):  # an unregistered file is none of the store's business
        pass


def test_read_only_store_creates_and_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Store(data, exclusive=False) as store:
        assert store.all() == []
    assert not data.exists()
    healthy(data)
    (data / "audit.salt").unlink()
    shutil.copytree(data, tmp_path / "copy", symlinks=True)
    with pytest.raises(CorruptDatabase, match=r"audit\.salt is missing"):
        Store(data, exclusive=False)
    assert not (data / "audit.salt").exists()


def test_a_folder_that_cannot_be_used_is_named_not_a_traceback(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.write_bytes(b"a file where the folder should be")
    with pytest.raises(CorruptDatabase, match="is not a folder"):
        Store(data)
    with pytest.raises(CorruptDatabase, match="cannot use"):
        Store(tmp_path / "data" / "below")  # mkdir fails: its parent is a file
