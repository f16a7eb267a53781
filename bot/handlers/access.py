"""Blocked people, and the member's side of the close-out (issue 15, item 3).

BlockedHandler is the one place a block is enforced: it comes before every handler through which a
person starts or continues an application (step buttons, files, answers, "done", slash commands), and
answers a blocked person with the refusal, whatever they send. Reviewers and admins of rules.yaml are
never blocked (rules.yaml decides their role); a blocked person asked to close out can still answer.

CloseoutHandler reads the answer to "please confirm you deleted the MIMIC-CXR files from ...":
yes, or not yet, in any language the lexicon knows (bot/intents.py: "아직 안 했어요" is not yet,
never yes). Deletion verbs ("I deleted them", "다 지웠어요") are read as the lexicon's completion
words before it is asked, so negation, hedges and tense work as everywhere else. Anything else (a
question, a hedge, "maybe") gets the question back: the bot never guesses. A member can also start the
close-out themselves: "closeout", "I'm leaving the lab", "연구실을 떠나요".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.context import Context
from bot.entitlements import actions
from bot.events import ButtonPress, Command, DirectMessage
from bot.handlers.admin import parse_command
from bot.intents import Intent, has_hangul, understand
from bot.language.text import normalise
from bot.presenter import STEP_ACTIONS


class BlockedHandler:
    def match(self, ctx: Context) -> str | None:
        event = ctx.event
        if not isinstance(event, DirectMessage | Command | ButtonPress):
            return None
        if isinstance(event, ButtonPress) and event.action not in STEP_ACTIONS:
            return None
        if ctx.is_staff:
            return None
        applicant = ctx.existing_applicant()
        if applicant is None or not applicant.access.blocked:
            return None
        if applicant.access.closeout and isinstance(event, DirectMessage) and not event.attachments:
            return None  # the close-out's answer (CloseoutHandler)
        return applicant.access.blocked

    def handle(self, ctx: Context, found: str) -> None:
        key = "lifecycle.blocked_refusal" if ctx.rules.program.contact else "lifecycle.blocked_refusal_plain"
        ctx.reply(ctx.t(key, program=ctx.rules.program.name, reason=found, contact=ctx.rules.program.contact))


# "closeout", "close out", "close-out my access", "I'm leaving the lab", "leaving the lab";
# "연구실을 떠나요", "랩을 떠납니다", "접근 종료", "클로즈아웃".
_START_EN = re.compile(r"^(?:please )?close ?out(?: my access)?$|\b(?:i ?m|i am) leaving the (?:lab|group)\b")
_START_KO = re.compile(r"(?:연구실|랩|실험실)\s*(?:을|를)?\s*떠나|접근\s*종료|클로즈\s*아웃")

# Deletion verbs, read as the lexicon's completion words: "I deleted them" -> "I finished them",
# "아직 안 지웠어요" -> "아직 안 끝냈어요" (then not yet), "지운 것 같아요" -> "끝낸 것 같아요" (a hedge).
_DELETED_EN = re.compile(
    r"\b(?:deleted|removed|erased|wiped|destroyed|purged|got rid of|trashed|cleared)\b", re.IGNORECASE
)
_DELETE_EN = re.compile(r"\b(?:delete|remove|erase|wipe|destroy|purge)\b", re.IGNORECASE)
_DELETED_KO = (
    (re.compile(r"(?:삭제\s*했|삭제\s*하였|지웠|없앴|제거\s*했)"), "끝냈"),
    (re.compile(r"(?:삭제\s*한|지운|없앤|제거\s*한)"), "끝낸"),
    (re.compile(r"(?:삭제\s*함|지움|제거\s*함)"), "끝남"),
)


def as_completion(text: str) -> str:
    """The answer with its deletion verbs replaced by completion words the lexicon knows."""
    text = _DELETED_EN.sub("finished", text)
    text = _DELETE_EN.sub("finish", text)
    for pattern, word in _DELETED_KO:
        text = pattern.sub(word, text)
    return text


Answer = Literal["deleted", "not_yet", "unclear"]


def read_answer(ctx: Context) -> Answer:
    understood = understand(as_completion(ctx.text), ctx.services.lexicon)
    if understood.question:
        return "unclear"
    if understood.intent in (Intent.YES, Intent.DONE):
        return "deleted"
    if understood.intent in (Intent.NO, Intent.NOT_YET):
        return "not_yet"
    return "unclear"


def wants_to_close_out(text: str) -> bool:
    return bool(_START_EN.search(normalise(text)) or _START_KO.search(text))


def _asks(ctx: Context) -> bool:
    """A question about leaving is not asking to close out. In Korean only a question mark says so:
    "떠나요" (I'm leaving) ends like a question ending."""
    if "?" in ctx.text or "？" in ctx.text:
        return True
    return not has_hangul(ctx.text) and ctx.understood.question


@dataclass(frozen=True)
class CloseoutMessage:
    answer: Answer | Literal["start"]


class CloseoutHandler:
    def match(self, ctx: Context) -> CloseoutMessage | None:
        event = ctx.event
        if not isinstance(event, DirectMessage) or event.attachments or not ctx.text:
            return None
        applicant = ctx.existing_applicant()
        if applicant is None:
            return None
        if applicant.access.closeout:
            if ctx.understood.intent is Intent.LANGUAGE:
                return None  # "한국어로": LanguageHandler; the question still waits
            if ctx.rules.is_admin(ctx.user.key) and parse_command(ctx.text) is not None:
                return None
            return CloseoutMessage(read_answer(ctx))
        if wants_to_close_out(ctx.text) and not _asks(ctx):
            return CloseoutMessage("start")
        return None

    def handle(self, ctx: Context, found: CloseoutMessage) -> None:
        key = ctx.user.key
        ctx.remember_language()  # what is sent below goes in the language of this answer
        if found.answer == "start":
            outcome = actions.ask_closeout(ctx.store, ctx.rules, key, key)
            if outcome.status == "no_access":
                ctx.reply(ctx.t("lifecycle.closeout_nothing"))
                return
            ctx.deliver(outcome.deliveries, outcome.op_id)
            return
        if found.answer == "unclear":
            ctx.reply(ctx.t("lifecycle.closeout_unclear", where=ctx.rules.access.closeout_where))
            return
        outcome = actions.answer_closeout(ctx.store, ctx.rules, key, found.answer == "deleted", ctx.text)
        ctx.deliver(outcome.deliveries, outcome.op_id)
