"""Handlers, in the order the bot tries them. The first whose `match` finds something handles the event."""

from __future__ import annotations

from typing import Any

from bot.context import Handler
from bot.handlers.admin import AdminCommandHandler
from bot.handlers.channel import ChannelFileHandler, ChannelIgnoreHandler
from bot.handlers.review import (
    ButtonVoteHandler,
    ReactionVoteHandler,
    RejectFormHandler,
    RejectReasonHandler,
    TextVoteHandler,
)
from bot.handlers.status import FallbackHandler, LanguageHandler, SlashCommandHandler, StatusHandler
from bot.handlers.steps import AnswerHandler, DoneHandler
from bot.handlers.upload import UploadHandler


def default_handlers() -> list[Handler[Any]]:
    return [
        ChannelFileHandler(),  # a document posted in a channel: never processed, the sender is told privately
        ReactionVoteHandler(),  # reviewers' emoji on review posts
        ButtonVoteHandler(),  # Approve / Reject buttons
        RejectFormHandler(),  # the reject form, filled in
        TextVoteHandler(),  # reviewers: "approve ID" / "reject ID" (platforms without buttons or reactions)
        RejectReasonHandler(),  # a reviewer who rejected answers with the reason (DM or thread)
        ChannelIgnoreHandler(),  # any other channel chatter is not for the bot
        AdminCommandHandler(),  # pending, show, reset, approve, reject, reload, export, forget, stats
        UploadHandler(),  # a file in DM
        SlashCommandHandler(),  # /status, /help
        LanguageHandler(),  # "한국어", "english"
        DoneHandler(),  # "done", "완료"
        StatusHandler(),  # "what step am I on?", "next", "help", "hi"
        AnswerHandler(),  # an answer to the current step's question
        FallbackHandler(),  # anything else gets a pointer to help, never silence
    ]
