"""Reading one person from a shard that is not in memory (storage.peek_record): the same record a
full load gives, or None (load the file) whenever the bytes do not say so for certain, and the same
refusal of a file changed outside accessbot."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson
import pytest

from bot import integrity
from bot.storage import CorruptDatabase, peek_record, read_generation
from bot.store import Store

KEYS = [
    "console:u0",
    'console:quote"and\\slash',
    "slack:U0123ABCD",
    "console:김민지",
    "discord:123456789012345678",
]


@pytest.fixture(autouse=True)
def _small(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.store.SHARD_CAPACITY", 5)
    monkeypatch.setattr("bot.store.CACHED_FILES", 1)


def _expected(path: Path) -> tuple[int, str]:
    raw = path.read_bytes()
    return read_generation(path) or 0, hashlib.sha256(raw).hexdigest()


def _first_field(key: str) -> bytes:
    return b'{"key":' + orjson.dumps(key) + b","


def _shard(tmp_path: Path) -> Path:
    with Store(tmp_path / "data") as store:
        for n, key in enumerate(KEYS):
            store.ensure(key, lang="ko" if n % 2 else "en", display_name=f"Person {n}")
            store.update(key, lambda a, n=n: a.applied.update({"project": f"p{n}", "note": '{"key":"x",'}))  # type: ignore[misc]
    return tmp_path / "data" / integrity.shard_name(0)


def test_each_record_is_the_one_a_full_load_gives(tmp_path: Path) -> None:
    path = _shard(tmp_path)
    table = orjson.loads(path.read_bytes())["applicants"]
    assert len(table) == len(KEYS)
    for record in table.values():
        assert peek_record(path, _first_field(record["key"]), _expected(path)) == record


def test_a_person_not_in_the_file_is_none(tmp_path: Path) -> None:
    path = _shard(tmp_path)
    assert peek_record(path, _first_field("console:nobody"), _expected(path)) is None


def _rewrite(path: Path, change: Any) -> None:
    data = orjson.loads(path.read_bytes())
    change(data["applicants"])
    path.write_bytes(orjson.dumps(data))


def test_bytes_that_appear_twice_are_left_to_a_full_load(tmp_path: Path) -> None:
    path = _shard(tmp_path)
    key = KEYS[2]
    _rewrite(path, lambda t: t["1"]["applied"].update({"9": {"key": key, "x": 1}}))
    assert peek_record(path, _first_field(key), _expected(path)) is None


def test_a_record_holding_what_looks_like_the_next_record_is_left_to_a_full_load(tmp_path: Path) -> None:
    path = _shard(tmp_path)
    key = KEYS[0]
    table = orjson.loads(path.read_bytes())["applicants"]
    first = next(i for i, r in table.items() if r["key"] == key)
    _rewrite(path, lambda t: t[first]["steps"].update({"7": {"key": "console:other"}}))
    found = peek_record(path, _first_field(key), _expected(path))
    assert found is None or found == orjson.loads(path.read_bytes())["applicants"][first]


def test_a_file_changed_outside_accessbot_is_refused_as_a_full_load_refuses_it(tmp_path: Path) -> None:
    path = _shard(tmp_path)
    generation, _sha = _expected(path)
    with pytest.raises(CorruptDatabase, match="differs from the manifest"):
        peek_record(path, _first_field(KEYS[0]), (generation, "0" * 64))
    with pytest.raises(CorruptDatabase, match="differs from the manifest"):
        peek_record(path, _first_field(KEYS[0]), (generation + 1, ""))  # an older copy


def test_the_store_reads_people_from_shards_not_in_memory_and_sees_every_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    peeked: list[str] = []

    def counting(path: Path, first_field: bytes, expected: tuple[int, str]) -> dict[str, Any] | None:
        found = peek_record(path, first_field, expected)
        if found is not None:
            peeked.append(found["key"])
        return found

    monkeypatch.setattr("bot.store.peek_record", counting)
    with Store(tmp_path / "data") as store:
        for n in range(12):
            store.ensure(f"console:p{n}", lang="en")
            store.update(f"console:p{n}", lambda a, n=n: a.applied.update({"n": str(n)}))  # type: ignore[misc]
        reads = {}
        for n in range(12):
            got = store.get(f"console:p{n}")
            assert got is not None and got.applied == {"n": str(n)}
            reads[n] = got
        assert set(peeked) == {f"console:p{n}" for n in range(10)}, "the last shard is in memory"
        store.update("console:p3", lambda a: a.applied.update({"n": "changed"}))
        store.update("console:p11", lambda a: a.applied.update({"n": "11"}))  # p3's shard leaves memory
        again = store.get("console:p3")
        assert again is not None and again.applied == {"n": "changed"}
        assert peeked[-1] == "console:p3"
    with Store(tmp_path / "data") as reopened:
        assert [reopened.get(f"console:p{n}") for n in range(12)] == [
            reads[n] if n != 3 else again for n in range(12)
        ]
