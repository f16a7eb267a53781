"""A person's home, as a pure function: what Slack's App Home tab, Discord's /status, /queue and
/stats and the console's /home show, in neutral blocks (`Outgoing`: a title, text, buttons).

- an applicant: their checklist and the current step's buttons;
- a reviewer: the queue, each package's wait, its warnings in words, and the REVIEW_ACTIONS
  (approve / reject / return for changes / claim: one list, extend it there to offer another
  action on every home);
- an admin: the figures and the latest problems (counts and codes only, bot/charts.py's data).

`Home` itself is in bot/events.py, beside the other neutral blocks. Nothing here writes or
sends; the caller gathers the records (Application.home_for) and draws. `HomeWatch` tells the
Application whose home an event changed (homes that stay on screen, Slack's tab, are redrawn), and
`typed_commands` is what the console prints instead of buttons.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.charts import ChartData, chart_data
from bot.context import Services
from bot.events import (
    Button,
    ButtonPress,
    ButtonStyle,
    ChannelMessage,
    Event,
    FormSubmitted,
    Home,
    Outgoing,
    ReactionAdded,
    ReactionRemoved,
    UserRef,
)
from bot.i18n import Bound
from bot.models import Applicant, Review, from_iso
from bot.presenter import STEP_DONE, STEP_HELP, STEP_NOT_YET, finished_line
from bot.review import stages
from bot.review.render import APPROVE, CLAIM, REJECT
from bot.review.returns import RETURN
from bot.rules import Rules
from bot.step_kinds import kind_of
from bot.store import Store
from bot.workflow import checklist, current_step, done_count, is_applicant

_MARKS = {"done": "✅", "current": "👉", "todo": "⬜"}
MAX_QUEUE = 20
"""Packages listed on a reviewer's home (Slack allows 100 blocks a view)."""


@dataclass(frozen=True)
class ReviewAction:
    """A button offered on each package of a reviewer's home. Its press is a ButtonPress with the
    review id as value, handled exactly like the same button on the review post (bot/handlers/review.py).
    `typed` is the text command that does the same where nothing can be pressed ("" when none)."""

    action: str
    label: str
    """The locale key of the button's label."""
    style: ButtonStyle = ButtonStyle.DEFAULT
    typed: str = ""
    """e.g. `approve {id}` ({id}: the review id)."""


REVIEW_ACTIONS: tuple[ReviewAction, ...] = (
    ReviewAction(APPROVE, "review.button_approve", ButtonStyle.PRIMARY, "approve {id}"),
    ReviewAction(REJECT, "review.button_reject", ButtonStyle.DANGER, "reject {id}"),
    ReviewAction(RETURN, "returns.button"),
    ReviewAction(CLAIM, "review.button_claim"),
)
"""The one list of what a reviewer can do to a package from a home (Slack's tab, Discord's /queue,
the console's /home). A new review action (e.g. return for changes) is one entry here, with its
handler matching the ButtonPress (bot/handlers/review.py, bot/handlers/returns.py)."""


@dataclass(frozen=True)
class Waiting:
    """One package in the queue, with its applicant's record (None when it is gone)."""

    review: Review
    applicant: Applicant | None


def applicant_section(rules: Rules, applicant: Applicant, t: Bound, *, buttons: bool) -> Outgoing:
    lines = []
    for item in checklist(rules, applicant):
        mark = t("status.you_are_here") if item.state == "current" else ""
        lines.append(f"{_MARKS[item.state]} {item.number}. {item.step.title.get(t.lang)}{mark}")
    step = current_step(rules, applicant)
    if step is None:
        lines += ["", finished_line(t, applicant)]
    else:
        lines += ["", t("status.now", number=rules.step_index(step.id) + 1, title=step.title)]
    shown = buttons and step is not None and not kind_of(step).decided_by_reviewers
    return Outgoing(
        "\n".join(lines),
        title=t(
            "status.header",
            program=rules.program.name,
            done=done_count(rules, applicant),
            total=len(rules.steps),
        ),
        buttons=(
            (
                Button(STEP_DONE, t(kind_of(step).done_button), step.id, ButtonStyle.PRIMARY),
                Button(STEP_NOT_YET, t("buttons.not_yet"), step.id),
                Button(STEP_HELP, t("buttons.help"), step.id),
            )
            if shown and step is not None
            else ()
        ),
    )


def warnings(rules: Rules, applicant: Applicant, t: Bound) -> list[str]:
    """What the bot could not settle on its own, in words (the ⚠ lines of the review post)."""
    out = []
    for number, step in enumerate(rules.steps, start=1):
        kind = kind_of(step)
        state = applicant.steps.get(step.id)
        if kind.decided_by_reviewers or state is None or state.status != "done":
            continue
        shown = kind.for_reviewers(step, state, rules, t)
        out += [f"{number}. ⚠{w.split(';')[0]}" for w in shown.split("⚠")[1:]]
    return out


def package_section(
    rules: Rules, item: Waiting, t: Bound, *, mention: Callable[[str], str], now: datetime, buttons: bool
) -> Outgoing:
    review = item.review
    hours = max(0, int((now - from_iso(review.created)).total_seconds() // 3600))
    approvals = sum(1 for v in review.votes.values() if v == "approve")
    lines = [
        t(
            "home.waiting",
            hours=hours,
            days=hours // 24,
            have=approvals,
            needed=rules.reviewers.approvals_required,
        )
    ]
    if review.claimed_by:
        lines.append(t("review.post_claimed", reviewer=mention(review.claimed_by)))
    found = warnings(rules, item.applicant, t) if item.applicant is not None else []
    lines += found or [t("home.no_warnings")]
    return Outgoing(
        "\n".join(lines),
        title=mention(review.applicant),
        buttons=(
            tuple(Button(a.action, t(a.label), review.id, a.style) for a in REVIEW_ACTIONS) if buttons else ()
        ),
    )


def figures_section(data: ChartData, t: Bound) -> Outgoing:
    lines = [t("home.figures", people=data.people, approved=data.approved)]
    lines += [f"{label}: {here}" for label, here in zip(data.steps, data.here_now, strict=True) if here]
    return Outgoing("\n".join(lines), title=t("home.figures_title"))


def problems_section(data: ChartData, t: Bound) -> Outgoing:
    lines = [f"{label}: {sum(counts)}" for label, counts in data.problems] or [t("home.no_problems")]
    return Outgoing("\n".join(lines), title=t("home.problems_title"))


def home(
    rules: Rules,
    t: Bound,
    *,
    user_key: str,
    applicant: Applicant | None,
    queue: Sequence[Waiting] = (),
    figures: ChartData | None = None,
    mention: Callable[[str], str],
    now: datetime,
    buttons: bool = True,
    only: str = "",
    typed: bool = False,
) -> Home:
    """The home of `user_key`: their checklist when they apply, the queue for reviewers, the
    figures for admins (a person may be all three). `only`: "queue" or "figures" alone."""
    sections: list[Outgoing] = []
    if only:
        applicant = None
        queue = queue if only == "queue" else ()
        figures = figures if only == "figures" else None
    if applicant is not None:
        sections.append(applicant_section(rules, applicant, t, buttons=buttons))
    if rules.is_reviewer(user_key) and only in ("", "queue"):
        listed = [w for w in queue if w.review.applicant != user_key][:MAX_QUEUE]
        sections.append(Outgoing(t("home.queue", count=len(listed)), title=t("home.queue_title")))
        sections += [package_section(rules, w, t, mention=mention, now=now, buttons=buttons) for w in listed]
    if rules.is_admin(user_key) and figures is not None:
        sections += [figures_section(figures, t), problems_section(figures, t)]
    if not sections:
        key = {"queue": "home.queue_not_reviewer", "figures": "home.stats_not_admin"}.get(
            only, "home.nothing_yet"
        )
        sections.append(Outgoing(t(key, program=rules.program.name)))
    view = Home(t("home.title", program=rules.program.name), tuple(sections))
    return with_typed_commands(view, t) if typed else view


def gather(services: Services, user: UserRef, *, buttons: bool, only: str = "", typed: bool = False) -> Home:
    """The person's home from the records as they are now (Host.home_for, the /queue and /stats
    commands); reads only."""
    rules, key = services.rules, user.key
    applicant = services.store.get(key)
    if applicant is not None and not is_applicant(rules, applicant):
        applicant = None  # staff who only talked to the bot have no checklist
    lang = services.messenger.language_of(key)
    t = services.translator.bound(lang)
    queue: list[Waiting] = []
    if rules.is_reviewer(key) and only in ("", "queue"):
        reviews = sorted(services.store.pending_reviews(), key=lambda r: r.created)
        queue = [Waiting(r, services.store.get(r.applicant)) for r in reviews]
        if stages.enabled(rules) and not rules.is_admin(key):  # what waits on this reviewer's stage
            queue = [w for w in queue if not stages.refusal(rules, w.review, w.applicant, key)]
    wants_figures = rules.is_admin(key) and only in ("", "figures")
    figures = chart_data(rules, services.store, t, lang, services.clock()) if wants_figures else None
    return home(
        rules,
        t,
        user_key=key,
        applicant=applicant,
        queue=queue,
        figures=figures,
        mention=services.messenger.mention,
        now=services.clock(),
        buttons=buttons,
        only=only,
        typed=typed,
    )


# -- where nothing can be pressed: the console's numbered commands -------------------------------


def typed_commands(view: Home) -> list[tuple[str, Button]]:
    """Each button of the home as (what to type, the button), in order: a package's approve / reject
    as its REVIEW_ACTIONS text command, any other as `/home N` (the console presses the Nth button
    of the home it drew last)."""
    typed = {a.action: a.typed for a in REVIEW_ACTIONS}
    out: list[tuple[str, Button]] = []
    for section in view.sections:
        for button in section.buttons:
            command = typed.get(button.action, "").format(id=button.value)
            out.append((command or f"/home {len(out) + 1}", button))
    return out


def with_typed_commands(view: Home, t: Bound) -> Home:
    """The home with a last section numbering every button as what to type (the console). The
    buttons stay on their sections: `/home N` presses the Nth."""
    commands = typed_commands(view)
    if not commands:
        return view
    lines = [
        t("home.typed_line", number=number, label=button.label, command=command)
        for number, (command, button) in enumerate(commands, start=1)
    ]
    return Home(view.title, (*view.sections, Outgoing("\n".join(lines), title=t("home.typed_header"))))


# -- whose home an event changed ------------------------------------------------------------------


@dataclass(frozen=True)
class HomeChanges:
    """Whose home an event changed: people whose own record changed, and whether the reviewers'
    queue changed (then every reviewer's home did)."""

    users: tuple[str, ...]
    queue: bool

    def __bool__(self) -> bool:
        return bool(self.users) or self.queue


class HomeWatch:
    """Taken before an event is handled, compared after: the event's person's record and the review
    round the event is about (a post's button, reaction, form or thread reply; a home's button
    carries the review id). Reads only, two records at most each time."""

    def __init__(self, store: Store, event: Event) -> None:
        self.store = store
        self.user = event.user.key
        self.review_id = _review_of(store, event)
        self._before = self._snapshot()

    def _snapshot(self) -> tuple[tuple[object, ...], tuple[object, ...], str]:
        """What a home shows of the two records (not their timestamps: "hi" alone changes nothing)."""
        applicant = self.store.get(self.user)
        mine: tuple[object, ...] = ()
        if applicant is not None:
            steps = tuple(sorted((k, v.status) for k, v in applicant.steps.items()))
            mine = (steps, applicant.review_id, applicant.approved_at, applicant.lang, applicant.applying)
        review = self.store.review(self.review_id) if self.review_id else None
        theirs: tuple[object, ...] = ()
        if review is not None:
            theirs = (review.state, tuple(sorted(review.votes.items())), review.claimed_by)
        return mine, theirs, review.applicant if review is not None else ""

    def changes(self) -> HomeChanges:
        before_user, before_review, _ = self._before
        after_user, after_review, applicant = self._snapshot()
        users: list[str] = []
        queue = False
        if before_user != after_user:
            users.append(self.user)
            was = before_user[1] if before_user else ""
            now = after_user[1] if after_user else ""
            queue = was != now  # a package went to the reviewers (or came back)
        if before_review != after_review and applicant:
            queue = True
            if applicant not in users:
                users.append(applicant)  # their checklist shows the decision
        return HomeChanges(tuple(users), queue)


def _review_of(store: Store, event: Event) -> str:
    if isinstance(event, ButtonPress | ReactionAdded | ReactionRemoved | FormSubmitted | ChannelMessage):
        ref = event.thread if isinstance(event, ChannelMessage) else event.message
        if ref is not None:
            review = store.review_for_post(ref.platform, ref.channel, ref.message_id)
            if review is not None:
                return review.id
    value = event.value if isinstance(event, ButtonPress) else ""
    value = value or (event.context if isinstance(event, FormSubmitted) else "")
    if value and store.review(value) is not None:
        return value
    return ""
