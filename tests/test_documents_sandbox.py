"""Hostile input: each bad file gets its code within the limits, the parent survives, workers are replaced."""

from __future__ import annotations

import os
import resource
import signal
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from bot.documents import Validator
from bot.documents.sandbox import precheck, sniff
from bot.rules_loader import load_rules
from tests import citi_pdfs as pdfs
from tests.hostile_pdfs import CORPUS, many_pages

ROOT = Path(__file__).resolve().parent.parent
CITI = load_rules(ROOT / "rules.yaml").documents["citi_report"]


@pytest.fixture(scope="module")
def corpus() -> dict[str, bytes]:
    return {name: build() for name, (build, _) in CORPUS.items()}


@pytest.fixture(scope="module")
def validator() -> Iterator[Validator]:
    with Validator() as v:
        v.warm_up()
        yield v


def _validate(v: Validator, data: bytes) -> tuple[list[str], float]:
    started = time.monotonic()
    verdict = v.validate(
        data,
        filename="x.pdf",
        content_type=None,
        profile=CITI,
        applicant_names=["Alice Kim"],
        today=date(2026, 6, 1),
    )
    assert not verdict.accepted
    return [p.code for p in verdict.problems], time.monotonic() - started


@pytest.mark.parametrize("name", list(CORPUS))
def test_hostile_file_gets_its_code(validator: Validator, corpus: dict[str, bytes], name: str) -> None:
    found, elapsed = _validate(validator, corpus[name])
    assert found and found[0] in CORPUS[name][1], found
    assert elapsed < 5.5
    # The validator still works afterwards (a replaced worker if need be).
    assert validator.validate(
        pdfs.make_report(),
        filename="r.pdf",
        content_type=None,
        profile=CITI,
        applicant_names=["Alice Kim"],
        today=date.today(),
    ).accepted


def test_parent_memory_unchanged_by_bomb(validator: Validator, corpus: dict[str, bytes]) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for name in ("compression_bomb", "nested_arrays", "many_pages"):
        _validate(validator, corpus[name])
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert after - before < 20_000  # KiB: the 2 GiB bomb never inflates in the parent


def test_timeout_kills_and_replaces_worker() -> None:
    slow = many_pages()  # about a second of page-tree work
    with Validator(timeout_s=0.2, workers=1) as v:
        v.warm_up()
        before = v.worker_pids
        found, elapsed = _validate(v, slow)
        assert found == ["too_complex"]
        assert elapsed < 2
        after = v.worker_pids
        assert after != before and len(after) == 1
        with pytest.raises(ProcessLookupError):
            os.kill(before[0], 0)


def test_worker_killed_from_outside_is_replaced() -> None:
    with Validator() as v:
        v.warm_up()
        old = v.worker_pids[0]
        os.kill(old, signal.SIGKILL)
        time.sleep(0.1)
        verdict = v.validate(
            pdfs.make_report(),
            filename="r.pdf",
            content_type=None,
            profile=CITI,
            applicant_names=[],
            today=date.today(),
        )
        assert verdict.accepted, verdict.problems
        assert v.worker_pids != [old]


@pytest.mark.skipif(not Path("/proc/self/limits").exists(), reason="needs /proc")
def test_worker_sets_its_own_limits() -> None:
    with Validator(memory_mb=300, timeout_s=2) as v:
        v.warm_up()
        _validate(v, pdfs.make_generic_pdf(["hello"]))  # one job sets the CPU cap
        limits = Path(f"/proc/{v.worker_pids[0]}/limits").read_text()
        address = next(line for line in limits.splitlines() if line.startswith("Max address space"))
        assert address.split()[3:5] == [str(300 << 20)] * 2
        cpu = next(line for line in limits.splitlines() if line.startswith("Max cpu time"))
        assert cpu.split()[3] != "unlimited" and int(cpu.split()[3]) <= 10
        own = Path("/proc/self/limits").read_text()
        assert next(line for line in own.splitlines() if line.startswith("Max address space")) != address


def test_closed_validator_refuses() -> None:
    v = Validator()
    pids = v.worker_pids
    v.close()
    v.close()  # idempotent
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    with pytest.raises(RuntimeError):
        _validate(v, pdfs.make_report())


def test_sniff_and_precheck() -> None:
    assert sniff(b"junk" * 10 + b"%PDF-1.7") == "pdf"
    assert sniff(b" " * 1100 + b"%PDF-1.7") is None
    assert sniff(pdfs.make_png()) == "png"
    assert sniff(pdfs.make_jpeg()) == "jpeg"
    assert precheck(b"%PDF-1.4", max_bytes=3, accept=("pdf",)) == (None, "too_large")
    assert precheck(b"  \n", max_bytes=10, accept=("pdf",)) == (None, "empty_file")
    assert precheck(pdfs.make_png(), max_bytes=10**6, accept=("pdf",)) == ("png", "not_pdf")
    assert precheck(pdfs.make_png(), max_bytes=10**6, accept=("pdf", "png")) == ("png", None)
    assert precheck(b"GIF89a", max_bytes=10**6, accept=("pdf", "png")) == (None, "wrong_file_type")
