"""The stats chart: one PNG with four pictures, drawn with matplotlib's Agg backend (no display).

    funnel          applicants who reached each step, and how many are there now
    time on step    a box plot of the days each step took (bot/estimates.py's measure)
    approvals       approvals per week, the last 12 weeks
    problems        the most frequent document problem codes and review returns, by applicant language

Only counts, durations, dates, step titles (rules.yaml) and problem codes reach the picture: never
a name, a user id, an answer, a reviewer's free-text reason or anything read from a document; the
PNG carries no text metadata either. `chart_data` (pure, no matplotlib) gathers the figures and
`render_png` draws them; matplotlib is imported only there, so start-up does not pay for it.
"""

from __future__ import annotations

import io
import logging
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.estimates import Records, durations
from bot.i18n import Bound, Translator
from bot.models import from_iso
from bot.rules import Rules
from bot.workflow import current_step, is_applicant

if TYPE_CHECKING:
    from matplotlib.axes import Axes

log = logging.getLogger(__name__)

WIDTH, HEIGHT, DPI = 12, 9, 100
"""The PNG is WIDTH*DPI x HEIGHT*DPI pixels (1200 x 900)."""
WEEKS = 12
TOP_PROBLEMS = 8
_HANGUL_FONTS = ("NanumGothic", "Noto Sans CJK KR", "Noto Sans KR", "Malgun Gothic", "AppleGothic", "UnDotum")


@dataclass(frozen=True)
class ChartData:
    """What the chart shows: figures and labels, nothing personal."""

    program: str
    people: int
    approved: int
    steps: tuple[str, ...]
    """`number. title` of each step, in the chart's language."""
    reached: tuple[int, ...]
    here_now: tuple[int, ...]
    days_on_step: tuple[tuple[float, ...], ...]
    weeks: tuple[tuple[str, int], ...]
    """(Monday's date, approvals that week), oldest first."""
    languages: tuple[str, ...]
    problems: tuple[tuple[str, tuple[int, ...]], ...] = field(default=())
    """(label, count per language of `languages`), most frequent first."""

    def labels(self) -> list[str]:
        """Every text the chart draws from the data (the tests look for personal data here)."""
        return [self.program, *self.steps, *(w for w, _ in self.weeks), *self.languages] + [
            label for label, _ in self.problems
        ]


def chart_data(rules: Rules, records: Records, t: Bound, lang: str, now: datetime) -> ChartData:
    people = [a for a in records.all() if is_applicant(rules, a)]
    index = {s.id: i for i, s in enumerate(rules.steps)}
    reached = [0] * len(rules.steps)
    here = [0] * len(rules.steps)
    for applicant in people:
        step = current_step(rules, applicant)
        position = len(rules.steps) if step is None else index[step.id]
        for i in range(min(position + 1, len(rules.steps))):
            reached[i] += 1
        if step is not None:
            here[position] += 1
    times = durations(rules, people)
    days = tuple(tuple(f.hours / 24 for f in times[s.id]) for s in rules.steps)
    this_monday = (now - timedelta(days=now.weekday())).date()
    mondays = [this_monday - timedelta(weeks=n) for n in range(WEEKS - 1, -1, -1)]
    per_week: Counter[str] = Counter()
    for applicant in people:
        if applicant.approved_at:
            approved = from_iso(applicant.approved_at).date()
            per_week[(approved - timedelta(days=approved.weekday())).isoformat()] += 1
    languages = tuple(sorted({a.lang for a in people})) or (rules.language,)
    counts: dict[str, Counter[str]] = {}
    for applicant in people:
        for doc in applicant.documents:
            for code in doc.problems:
                counts.setdefault(t("chart.problem", code=code), Counter())[applicant.lang] += 1
    langs_of = {a.key: a.lang for a in people}
    for review in records.reviews():
        step = rules.step(review.reopen_step) if review.state == "rejected" else None
        if step is not None and review.applicant in langs_of:
            label = t("chart.rejected_at", step=step.title.get(lang))
            counts.setdefault(label, Counter())[langs_of[review.applicant]] += 1
    ranked = sorted(counts.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))[:TOP_PROBLEMS]
    return ChartData(
        program=rules.program.name.get(lang),
        people=len(people),
        approved=sum(1 for a in people if a.approved_at),
        steps=tuple(f"{n}. {s.title.get(lang)}" for n, s in enumerate(rules.steps, start=1)),
        reached=tuple(reached),
        here_now=tuple(here),
        days_on_step=days,
        weeks=tuple((m.isoformat(), per_week.get(m.isoformat(), 0)) for m in mondays),
        languages=languages,
        problems=tuple((label, tuple(c.get(lang_, 0) for lang_ in languages)) for label, c in ranked),
    )


def stats_png(rules: Rules, records: Records, translator: Translator, lang: str, now: datetime) -> bytes:
    """The chart in `lang` (English when this machine has no font for its script)."""
    if lang == "ko" and _hangul_font() is None:
        log.info("no Korean font installed (e.g. fonts-nanum): the chart is drawn in English")
        lang = "en"
    t = translator.bound(lang)
    return render_png(chart_data(rules, records, t, lang, now), t)


def _hangul_font() -> str | None:
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in _HANGUL_FONTS if name in installed), None)


def render_png(data: ChartData, t: Bound) -> bytes:
    """The four pictures as one PNG of WIDTH*DPI x HEIGHT*DPI pixels, without metadata."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    korean = _hangul_font()
    families = ["DejaVu Sans", *([korean] if korean else [])]  # Latin first, Hangul as the fallback
    fig = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    fig.suptitle(
        t("chart.title", program=data.program, people=data.people, approved=data.approved),
        fontsize=15,
        fontfamily=families,
    )
    (funnel, boxes), (weeks, problems) = fig.subplots(2, 2)
    _funnel(funnel, data, t, families)
    _boxes(boxes, data, t, families)
    _weeks(weeks, data, t, families)
    _problems(problems, data, t, families)
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def _style(ax: Axes, title: str, families: list[str]) -> None:
    ax.set_title(title, fontsize=12, loc="left", fontfamily=families)
    for label in (*ax.get_xticklabels(), *ax.get_yticklabels()):
        label.set_fontfamily(families)
    ax.spines[["top", "right"]].set_visible(False)


def _short(label: str, width: int = 38) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


def _funnel(ax: Axes, data: ChartData, t: Bound, families: list[str]) -> None:
    positions = list(range(len(data.steps)))
    ax.barh(positions, data.reached, color="#4C78A8")
    ax.set_yticks(positions, [_short(s) for s in data.steps])
    ax.invert_yaxis()
    ax.set_xlabel(t("chart.funnel_axis"), fontfamily=families)
    for y, (count, now) in enumerate(zip(data.reached, data.here_now, strict=True)):
        note = f"{count}" + (f"  ({t('chart.here_now', count=now)})" if now else "")
        ax.text(count, y, f" {note}", va="center", fontsize=9, fontfamily=families)
    ax.set_xlim(0, max([*data.reached, 1]) * 1.35)
    _style(ax, t("chart.funnel"), families)


def _boxes(ax: Axes, data: ChartData, t: Bound, families: list[str]) -> None:
    filled = [(i, d) for i, d in enumerate(data.days_on_step) if d]
    if filled:
        ax.boxplot(
            [list(d) for _, d in filled],
            positions=[i for i, _ in filled],
            orientation="horizontal",
            widths=0.6,
        )
        for i, d in filled:
            ax.text(statistics.median(d), i - 0.38, f"{statistics.median(d):.1f}", fontsize=8, ha="center")
    ax.set_yticks(range(len(data.steps)), [s.split(".", 1)[0] for s in data.steps])  # the funnel's numbers
    ax.set_ylim(len(data.steps) - 0.5, -0.5)
    ax.set_xlabel(t("chart.days_axis"), fontfamily=families)
    if not filled:
        ax.text(0.5, 0.5, t("chart.no_data"), transform=ax.transAxes, ha="center", fontfamily=families)
    _style(ax, t("chart.time_on_step"), families)


def _weeks(ax: Axes, data: ChartData, t: Bound, families: list[str]) -> None:
    from matplotlib.ticker import MaxNLocator

    counts = [c for _, c in data.weeks]
    ax.bar(range(len(data.weeks)), counts, color="#54A24B")
    ax.set_xticks(range(len(data.weeks)), [w[5:] for w, _ in data.weeks], rotation=45, fontsize=8)
    ax.set_xlabel(f"{t('chart.week_of')} ({data.weeks[0][0][:4] if data.weeks else ''})", fontfamily=families)
    ax.set_ylabel(t("chart.approvals_axis"), fontfamily=families)
    ax.set_ylim(0, max([*counts, 1]) * 1.2)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _style(ax, t("chart.approvals"), families)


def _problems(ax: Axes, data: ChartData, t: Bound, families: list[str]) -> None:
    from matplotlib.ticker import MaxNLocator

    if not data.problems:
        ax.text(0.5, 0.5, t("chart.no_data"), transform=ax.transAxes, ha="center", fontfamily=families)
        ax.set_xticks([])
        ax.set_yticks([])
        _style(ax, t("chart.problems"), families)
        return
    height = 0.8 / len(data.languages)
    colours = ("#E45756", "#F58518", "#72B7B2", "#B279A2")
    for n, lang in enumerate(data.languages):
        ys = [i + n * height for i in range(len(data.problems))]
        ax.barh(ys, [c[n] for _, c in data.problems], height, label=lang, color=colours[n % len(colours)])
    ax.set_yticks(
        [i + height * (len(data.languages) - 1) / 2 for i in range(len(data.problems))],
        [_short(label, 30) for label, _ in data.problems],
    )
    ax.invert_yaxis()
    ax.set_xlabel(t("chart.problems_axis"), fontfamily=families)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="lower right", fontsize=9)
    _style(ax, t("chart.problems"), families)
