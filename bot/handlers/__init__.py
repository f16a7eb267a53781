"""Handlers, in the order the bot tries them. The first whose `match` finds something handles the event.

Reviewers' and admins' own events come first (votes, reasons, commands), then files, then the
conversation: staff who are not applicants are answered by their role (StaffHandler) and never
recorded as applicants; someone new gets the welcome and their checklist (FirstContactHandler);
then language requests, what the applicant says about their current step (ConversationHandler:
done, not yet, applied, yes / no to the bot's question, undo, change an answer), questions for the
FAQ, answers to the current step, status and help, and a "did you mean" for anything else.
"""

from __future__ import annotations

from typing import Any

from bot.context import Handler
from bot.handlers.access import BlockedHandler, CloseoutHandler
from bot.handlers.admin import AdminCommandHandler
from bot.handlers.channel import ChannelFileHandler, ChannelIgnoreHandler
from bot.handlers.conversation import ConversationHandler, FirstContactHandler, StepButtonHandler
from bot.handlers.faq import FaqHandler
from bot.handlers.form import FormButtonHandler, FormConversationHandler
from bot.handlers.home import HomeCommandHandler
from bot.handlers.returns import ReturnCommandHandler, ReturnFormHandler, ReturnPromptHandler
from bot.handlers.review import (
    ButtonVoteHandler,
    ClaimHandler,
    ReactionVoteHandler,
    RejectFormHandler,
    RejectReasonHandler,
    TextVoteHandler,
)
from bot.handlers.roles import StaffHandler
from bot.handlers.status import FallbackHandler, LanguageHandler, SlashCommandHandler, StatusHandler
from bot.handlers.steps import AnswerHandler
from bot.handlers.upload import UploadHandler


def default_handlers() -> list[Handler[Any]]:
    return [
        ChannelFileHandler(),  # a document posted in a channel: never processed, the sender is told privately
        ReactionVoteHandler(),  # reviewers' emoji on review posts
        ButtonVoteHandler(),  # Approve / Reject buttons
        ClaimHandler(),  # "I'll take this": the Claim button, 👀 on a review post
        BlockedHandler(),  # a blocked person: refused, before anything that continues an application
        FormButtonHandler(),  # a form step's modal answers, its buttons where no modal can be shown
        ReturnPromptHandler(),  # Return for changes without a form, ↩️ on a review post: asks how
        StepButtonHandler(),  # "I've done this" / "Not yet" / "Help" on a step's instructions
        RejectFormHandler(),  # the reject form, filled in
        ReturnFormHandler(),  # the return-for-changes form, filled in
        ReturnCommandHandler(),  # reviewers: "return ID STEP REASON"
        TextVoteHandler(),  # reviewers: "approve ID" / "reject ID" (platforms without buttons or reactions)
        RejectReasonHandler(),  # a reviewer who rejected answers with the reason (DM or thread)
        ChannelIgnoreHandler(),  # any other channel chatter is not for the bot
        AdminCommandHandler(),  # admins: pending, show, reset, approve, ...; reviewers: pending; usage
        CloseoutHandler(),  # "did you delete the files?": yes / not yet; "closeout", "I'm leaving the lab"
        UploadHandler(),  # a file in DM (for staff: starts their own application)
        HomeCommandHandler(),  # /queue (reviewers), /stats (admins)
        SlashCommandHandler(),  # /status, /help
        StaffHandler(),  # reviewers and admins who are not applicants: their help, FAQ, "I want to apply"
        FirstContactHandler(),  # someone new: the welcome and their checklist, whatever they wrote
        LanguageHandler(),  # "한국어로", "in English please", "I don't speak Korean"
        FormConversationHandler(),  # a form step answered one question at a time, resumed, changed
        ConversationHandler(),  # done, maybe done, not yet, applied, yes / no, undo, change answer, cancel
        FaqHandler(),  # "how long does the review take?", "추천인은 누구로 해야 하나요?"
        AnswerHandler(),  # an answer to the current step's question, confirmed before it is recorded
        StatusHandler(),  # "what step am I on?", "next", "help", "hi", "thanks"
        FallbackHandler(),  # anything else: "did you mean ...?", never silence
    ]
