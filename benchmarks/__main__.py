"""Run every benchmark module's `run() -> str` and write the Markdown sections to docs/benchmarks.md."""

from __future__ import annotations

import importlib
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    if "--quick" in argv:  # the smoke test's mode: the store at 1,000 applicants, nothing written
        os.environ["ACCESSBOT_BENCH_QUICK"] = "1"
        argv = [a for a in argv if a != "--quick"] or ["bench_store"]
    names = argv or sorted(p.stem for p in (ROOT / "benchmarks").glob("bench_*.py"))
    sections = []
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"running {name}…", flush=True)
        section: str = module.run()
        print(section, flush=True)
        sections.append(section)
    header = (
        "# Benchmarks\n\n"
        f"Written by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC:"
        f" Python {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}."
        " Targets are in each section; numbers are wall-clock.\n"
    )
    if not argv:
        (ROOT / "docs").mkdir(exist_ok=True)
        (ROOT / "docs" / "benchmarks.md").write_text(header + "\n" + "\n".join(sections), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
