"""Reasons offered, not typed: rules.yaml `reasons`, chosen by number in text or from a menu in forms.

A chosen reason reaches the applicant as a LocalText (resolved in the applicant's language); the
reviewer's own words go beside it as typed. Pure functions over the rules: nothing is stored here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.events import Choice, FormField
from bot.i18n import Bound
from bot.rules import Reason, ReasonUse, Rules
from bot.schema import LocalText

REASON_CHOICE = "reason_choice"
"""The form field holding the chosen reason's id."""
NOTE = "reason"
"""The form field holding the reviewer's own words (the reject form's reason field, kept)."""

_NUMBERED = re.compile(r"^\s*(\d{1,2})(?:\s*[:.)\-]\s*|\s+|$)(.*)$", re.DOTALL)


@dataclass(frozen=True)
class Chosen:
    """A reason as decided: a canned one, the reviewer's own words, or both."""

    reason: Reason | None
    note: str = ""

    @property
    def id(self) -> str:
        return self.reason.id if self.reason is not None else ""

    def for_applicant(self) -> str | LocalText:
        """What the applicant reads: resolved in their language by the translator when canned."""
        if self.reason is None or (self.reason.needs_text and self.note):
            return self.note
        if not self.note:
            return self.reason.text
        return LocalText({lang: f"{text}\n{self.note}" for lang, text in self.reason.text.texts.items()})

    def text_in(self, lang: str) -> str:
        said = self.for_applicant()
        return said.get(lang) if isinstance(said, LocalText) else said


def offered(rules: Rules, use: ReasonUse) -> tuple[Reason, ...]:
    return rules.reasons_for(use)


def menu(rules: Rules, use: ReasonUse, t: Bound) -> str:
    """`1. …` per offered reason, in the reader's language ("" when rules.yaml offers none)."""
    return "\n".join(f"{n}. {r.text.get(t.lang)}" for n, r in enumerate(offered(rules, use), start=1))


def from_text(rules: Rules, use: ReasonUse, text: str) -> Chosen | None:
    """'2' or '2 see the name on page 1' -> reason 2 (and a note); anything else is the note itself.

    None when nothing usable was said: empty, or a reason that needs the reviewer's own words alone."""
    reasons = offered(rules, use)
    match = _NUMBERED.match(text)
    if match and reasons and 1 <= int(match.group(1)) <= len(reasons):
        return _checked(Chosen(reasons[int(match.group(1)) - 1], match.group(2).strip()))
    return _checked(Chosen(None, text.strip()))


def from_form(rules: Rules, use: ReasonUse, choice: str, note: str) -> Chosen | None:
    """A form's answers: the chosen reason's id (or its number, typed) and the optional own words."""
    reasons = offered(rules, use)
    key = choice.strip().rstrip(".)").casefold()
    picked = next((r for r in reasons if r.id == key), None)
    if picked is None and key.isdigit() and 1 <= int(key) <= len(reasons):
        picked = reasons[int(key) - 1]
    if picked is None and key:
        note = f"{choice.strip()} {note}".strip()  # typed words, not a reason: keep them
    return _checked(Chosen(picked, note.strip()))


def _checked(chosen: Chosen) -> Chosen | None:
    if chosen.reason is None and not chosen.note:
        return None
    if chosen.reason is not None and chosen.reason.needs_text and not chosen.note:
        return None
    return chosen


def form_fields(rules: Rules, use: ReasonUse, t: Bound) -> tuple[FormField, ...]:
    """The reason menu (when rules.yaml offers reasons) and the reviewer's own words."""
    reasons = offered(rules, use)
    fields: list[FormField] = []
    if reasons:
        choices = tuple(Choice(r.id, f"{n}. {r.text.get(t.lang)}") for n, r in enumerate(reasons, start=1))
        fields.append(
            FormField(REASON_CHOICE, t("returns.form_reason_choice"), "choice", choices, required=False)
        )
    fields.append(
        FormField(
            NOTE,
            t("returns.form_note") if reasons else t("review.form_reason"),
            "paragraph",
            required=not reasons,
            max_length=1000,
        )
    )
    return tuple(fields)
