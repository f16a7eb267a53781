"""A modal's answers checked by the core before the modal closes (form steps, bot/handlers/form.py).

Slack lets a `view_submission` be answered with `response_action: errors`: the modal stays open and
each message shows under its input block (block_id = the field id, bot/adapters/slack/blocks.py).
The core decides what is wrong (bot/platform.py ChecksForms); this module only asks and shapes the
answer Slack expects.
"""

from __future__ import annotations

import logging

from bot.events import FormSubmitted
from bot.platform import ChecksForms, Host

log = logging.getLogger(__name__)

ERROR_LIMIT = 150
"""Slack shows at most this many characters of a block's error."""


def submission_errors(host: Host, submitted: FormSubmitted, block_ids: list[str]) -> dict[str, str]:
    """block_id -> the error to show under it; {} lets the modal close and the answers through.

    Only blocks of the view are named (Slack refuses errors for a block it does not have)."""
    if not isinstance(host, ChecksForms):
        return {}
    try:
        found = host.form_problems(submitted)
    except Exception:  # the core's dispatch still checks the answers: never lose a submission here
        log.exception("checking the answers of form %s failed", submitted.form)
        return {}
    out = {}
    for block_id, message in found.items():
        if block_id in block_ids:
            out[block_id] = message if len(message) <= ERROR_LIMIT else message[: ERROR_LIMIT - 1] + "…"
    return out
