"""Slack payloads in, neutral events out (bot/events.py), handed to the Host.

Nothing here decides anything: the core de-duplicates (Slack's `event_id`), checks reviewers, counts
votes, picks the forms and refuses files posted in channels. Bolt runs listeners in parallel threads;
Host.dispatch is thread-safe, so a slow PDF never holds up anyone else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltResponse

from bot.adapters.slack.blocks import ACTION_PREFIX, plain_text, read_submission
from bot.adapters.slack.home import publish as publish_home
from bot.adapters.slack.outbound import PLATFORM, Interaction, SlackAdapter
from bot.events import (
    ButtonPress,
    ChannelMessage,
    DirectMessage,
    FormSubmitted,
    MessageRef,
    ReactionAdded,
    ReactionRemoved,
    UserRef,
)
from bot.platform import DeliveryError, Host

log = logging.getLogger(__name__)

_EVENT_SUBTYPES = (None, "", "file_share", "thread_broadcast")

RATE_LIMITED = (
    "Slack dropped accessbot's events for a minute (app_rate_limited, minute %s): the workspace sent the "
    "app more than Slack's 30,000 events an hour. Messages, reactions and button presses of that minute "
    "are lost: ask the applicants and reviewers who wrote then to write again, and look for an "
    "integration or a busy channel the bot was invited to that floods it (remove the bot from channels "
    "other than the reviewers channel)."
)


class Inbound:
    """Bolt listeners: each turns one kind of Slack payload into a neutral event for the host."""

    def __init__(self, host: Host, adapter: SlackAdapter) -> None:
        self.host = host
        self.adapter = adapter

    def on_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("subtype") not in _EVENT_SUBTYPES or event.get("bot_id") or event.get("hidden"):
            return  # edits, deletions, joins, other bots
        user_id = str(event.get("user") or "")
        if not user_id or user_id == self.adapter.bot_user_id:
            return
        event_id = f"slack:{body.get('event_id') or event.get('client_msg_id') or event.get('ts')}"
        channel = str(event.get("channel") or "")
        ts = str(event.get("ts") or "")
        text = plain_text(str(event.get("text") or ""))
        attachments = tuple(self.adapter.attachment(f) for f in event.get("files") or ())
        if event.get("channel_type") == "im":
            self.adapter.remember_dm(user_id, channel)
            self.host.dispatch(
                DirectMessage(
                    event_id=event_id, user=self.adapter.user(user_id), text=text, attachments=attachments
                )
            )
            return
        thread_ts = str(event.get("thread_ts") or "")
        in_thread = bool(thread_ts) and thread_ts != ts
        if not attachments and not (in_thread and channel == self.host.reviewers_channel(PLATFORM)):
            return  # ordinary channel chatter: nothing for the bot
        self.host.dispatch(
            ChannelMessage(
                event_id=event_id,
                user=self.adapter.user(user_id),
                channel=channel,
                text=text,
                message=MessageRef(PLATFORM, channel, ts),
                thread=MessageRef(PLATFORM, channel, thread_ts) if in_thread else None,
                attachments=attachments,
            )
        )

    def on_reaction(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        item = event.get("item") or {}
        user_id = str(event.get("user") or "")
        if item.get("type") != "message" or not user_id or user_id == self.adapter.bot_user_id:
            return
        ref = MessageRef(PLATFORM, str(item.get("channel") or ""), str(item.get("ts") or ""))
        kind = ReactionAdded if event.get("type") == "reaction_added" else ReactionRemoved
        self.host.dispatch(
            kind(
                event_id=f"slack:{body.get('event_id') or ''}",
                user=UserRef(PLATFORM, user_id),
                message=ref,
                emoji=str(event.get("reaction") or ""),
            )
        )

    def on_action(self, ack: Ack, body: dict[str, Any]) -> None:
        ack()
        actions = body.get("actions") or []
        if not actions:
            return
        action = actions[0]
        user_id = str((body.get("user") or {}).get("id") or "")
        container = body.get("container") or {}
        channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
        ts = str(container.get("message_ts") or (body.get("message") or {}).get("ts") or "")
        press = ButtonPress(
            event_id=f"slack:action:{user_id}:{action.get('action_ts') or body.get('trigger_id')}",
            user=self.adapter.user(user_id),
            message=MessageRef(PLATFORM, channel, ts),
            action=str(action.get("action_id") or "").removeprefix(ACTION_PREFIX),
            value=str(action.get("value") or ""),
        )
        # The core says whether this press opens a form; if it cannot be shown, the core gets the press
        # itself and asks by DM.
        form = self.host.form_for(press)
        trigger = str(body.get("trigger_id") or "")
        if form is not None and trigger:
            try:
                self.adapter.open_form(trigger, form, press.message)
                return  # the decision comes with the form
            except (DeliveryError, ValueError) as exc:
                log.warning("%s: the press goes to the core instead (it asks by DM)", exc)
                self.host.dispatch(press)  # the question that replaces the form is a conversation: DM
                return
        answer_to = Interaction(user_id, channel, str(body.get("response_url") or ""))
        with self.adapter.replying_to(answer_to):
            self.host.dispatch(press)
        if container.get("type") == "view" and (body.get("view") or {}).get("type") == "home":
            self._publish_home(user_id)  # pressed on the App Home tab: it shows the new state

    def on_app_home_opened(self, event: dict[str, Any]) -> None:
        """The person opened the bot's Home tab: draw their home (read-only on the core's side)."""
        user_id = str(event.get("user") or "")
        if event.get("tab", "home") != "home" or not user_id or user_id == self.adapter.bot_user_id:
            return
        self._publish_home(user_id)

    def _publish_home(self, user_id: str) -> None:
        if self.adapter.homes is not None:  # remembered: kept up to date when their state changes
            self.adapter.homes.show(user_id)
            return
        try:
            view = self.host.home_for(UserRef(PLATFORM, user_id))
        except Exception:
            log.exception("could not draw the App Home")
            return
        publish_home(self.adapter.client, user_id, view)

    def on_view_submission(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        ack()  # an empty ack closes the modal
        submission = read_submission(view)
        user_id = str((body.get("user") or {}).get("id") or "")
        message = (
            MessageRef(PLATFORM, submission.channel, submission.ts)
            if submission.channel and submission.ts
            else None
        )
        submitted = FormSubmitted(
            event_id=f"slack:view:{view.get('id') or body.get('trigger_id')}",
            user=self.adapter.user(user_id),
            form=submission.form,
            context=submission.context,
            message=message,
            answers=submission.answers,
        )
        # A modal has no response_url (none is asked for): the answer is chat.postEphemeral in the
        # channel of the post whose button opened it.
        with self.adapter.replying_to(Interaction(user_id, submission.channel)):
            self.host.dispatch(submitted)

    @staticmethod
    def on_rate_limited(body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:
        """Global middleware: Slack's `app_rate_limited` notice is not an event; log it for the admins."""
        if isinstance(body, dict) and body.get("type") == "app_rate_limited":
            log.error(RATE_LIMITED, body.get("minute_rate_limited") or "?")
            return BoltResponse(status=200, body="")
        next()
        return None
