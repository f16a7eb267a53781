"""`python -m benchmarks --quick`: the store benchmark at 1,000 applicants runs end to end (a smoke
test: nothing about time is asserted, nothing is written to docs/ or benchmarks/results.json)."""

from __future__ import annotations

from pathlib import Path

from benchmarks import bench_store


def test_the_quick_store_benchmark_measures_every_row(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    section = bench_store.run(quick=True, results_path=results)
    assert not results.exists()  # quick mode records nothing
    assert "1,000 applicants" in section
    for _key, label, _unit, _floor, _aim in bench_store.ROWS:
        assert label in section
    assert "| tick with nothing due: bytes written (B) | 0 |" in section
