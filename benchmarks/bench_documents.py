"""Document validation speed and isolation: `run()` returns a Markdown section for docs/benchmarks.md.

Compares Validator.validate (a pre-started worker process, one pipe round trip) with pypdf reading the
same file in-process, and times each hostile file while watching the bot process's peak RSS.
"""

from __future__ import annotations

import io
import resource
import statistics
import time
from datetime import date
from pathlib import Path

from pypdf import PdfReader

from benchmarks.timing import measure, p
from bot.documents import Validator
from bot.rules_loader import load_rules
from tests.citi_pdfs import make_report
from tests.hostile_pdfs import CORPUS

ROOT = Path(__file__).resolve().parent.parent
RUNS = 200


def _in_process(data: bytes) -> None:
    reader = PdfReader(io.BytesIO(data))
    for page in reader.pages[:8]:
        page.extract_text()
        page.get("/Annots")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run() -> str:
    profile = load_rules(ROOT / "rules.yaml").documents["citi_report"]
    report = make_report()
    hostile = {name: build() for name, (build, _) in CORPUS.items()}
    lines = ["## Document validation", ""]
    with Validator() as validator:
        validator.warm_up()

        def validate(data: bytes) -> list[str]:
            verdict = validator.validate(
                data,
                filename="r.pdf",
                content_type=None,
                profile=profile,
                applicant_names=["Alice Kim"],
                today=date.today(),
            )
            return [p.code for p in verdict.problems]

        for _ in range(5):
            validate(report)
            _in_process(report)
        sandboxed = measure(lambda: validate(report), RUNS)
        direct = measure(lambda: _in_process(report), RUNS)
        ratio = statistics.median(sandboxed) / statistics.median(direct)
        lines += [
            f"A typical 2-page CITI completion report ({len(report) // 1024} KB), {RUNS} runs each:",
            "",
            "| | median | p99 |",
            "|---|---|---|",
            f"| `Validator.validate` (worker process, limits, checks) | {statistics.median(sandboxed):.1f} ms"
            f" | {p(sandboxed, 0.99):.1f} ms |",
            f"| pypdf text extraction in-process | {statistics.median(direct):.1f} ms"
            f" | {p(direct, 0.99):.1f} ms |",
            "",
            f"Sandboxed / in-process: {ratio:.2f}x (aim: within 3x, about 20 ms).",
            "",
            "Hostile files (timeout 5 s, worker capped at 512 MB address space), answered one after another;"
            " peak RSS is the bot process's own (`ru_maxrss`), before and after:",
            "",
            "| file | size | answer | time | bot peak RSS before → after |",
            "|---|---|---|---|---|",
        ]
        for name, data in hostile.items():
            before = _peak_rss_mb()
            started = time.perf_counter()
            found = validate(data)
            elapsed = time.perf_counter() - started
            after = _peak_rss_mb()
            lines.append(
                f"| {name} | {len(data):,} B | `{', '.join(found)}` | {elapsed:.2f} s"
                f" | {before:.0f} → {after:.0f} MB |"
            )
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
