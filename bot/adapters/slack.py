"""The Slack adapter (slack-bolt): Slack events in, neutral events out; Outgoing messages to Block Kit.

    app = create_app(bot, settings)              # attaches a SlackAdapter to `bot`
    run(bot, settings, http=False, port=3000)    # Socket Mode by default; returns an exit code

Nothing here decides anything: the core de-duplicates (Slack's `event_id`), checks reviewers, counts
votes and refuses files posted in channels. Set-up: docs/slack.md and slack-manifest.yaml.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.adapters.slack_files import download
from bot.core import Bot
from bot.emoji import short_name
from bot.events import (
    Attachment,
    AttachmentUnavailable,
    ButtonPress,
    ButtonStyle,
    ChannelMessage,
    Destination,
    DirectMessage,
    Event,
    MessageRef,
    Outgoing,
    ReactionAdded,
    ReactionRemoved,
    UserRef,
)
from bot.platform import Capabilities, DeliveryError, Profile
from bot.settings import Settings

log = logging.getLogger(__name__)

PLATFORM = "slack"
ACTION_PREFIX = "accessbot_"
REJECT_VIEW = "accessbot_reject_reason"
REASON_BLOCK, REASON_INPUT = "reason", "reason_input"
STEP_BLOCK, STEP_INPUT = "reopen_step", "reopen_step_input"

# What the code calls, and the scopes those calls need (kept in step with slack-manifest.yaml).
REQUIRED_SCOPES: tuple[str, ...] = (
    "chat:write",  # chat.postMessage
    "im:history",  # message.im events (DMs)
    "im:write",  # conversations.open (to DM a person first)
    "files:read",  # files.info and downloading url_private_download
    "reactions:read",  # reaction_added / reaction_removed events
    "reactions:write",  # reactions.add (seeding approve/reject on review posts)
    "users:read",  # users.info (names to match on documents)
)
OPTIONAL_SCOPES: dict[str, str] = {
    "users:read.email": "e-mail addresses cannot be matched against documents",
    "groups:history": "reject reasons replied in the private reviewers channel's threads are not seen",
    "channels:history": "files posted in public channels go unnoticed (nobody is told to send privately)",
    "files:write": "files applicants sent (the approval proof) cannot be attached to review posts",
}

PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "cannot_dm_bot",
        "user_not_found",
        "user_not_visible",
        "user_disabled",
        "account_inactive",
        "messages_tab_disabled",
        "restricted_action",
        "msg_too_long",
        "no_text",
        "invalid_blocks",
        "missing_scope",
        "not_authed",
        "invalid_auth",
        "token_revoked",
        "ekm_access_denied",
    }
)

_HINTS = {
    "not_in_channel": "invite the bot to the channel (/invite @accessbot)",
    "channel_not_found": "check the channel id in rules.yaml and that the bot was invited to it",
    "missing_scope": "add the scope in the app settings (see slack-manifest.yaml) and reinstall the app",
    "invalid_auth": "SLACK_BOT_TOKEN is wrong or revoked",
    "is_archived": "the channel is archived",
    "cannot_dm_bot": "that user is a bot",
}

_EVENT_SUBTYPES = (None, "", "file_share", "thread_broadcast")
_SLACK_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_KEEP_ESCAPED = re.compile(r"<(?:[@#!][^<>\s]+|(?:https?|mailto):[^<>\s]+)>")
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000


# -- text ---------------------------------------------------------------------------------------


def plain_text(text: str) -> str:
    """Slack message markup to what the person typed: links unwrapped, entities decoded."""

    def unwrap(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith(("@", "#", "!")):
            return match.group(0)
        if label:
            return label
        return target.removeprefix("mailto:")

    text = _SLACK_LINK.sub(unwrap, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def escape(text: str) -> str:
    """Escape &, < and > for Slack, keeping mentions (<@U…>, <#C…>, <!here>) and explicit links."""
    out: list[str] = []
    pos = 0
    for match in _KEEP_ESCAPED.finditer(text):
        out.append(_escape_plain(text[pos : match.start()]))
        out.append(match.group(0))
        pos = match.end()
    out.append(_escape_plain(text[pos:]))
    return "".join(out)


def _escape_plain(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _chunks(text: str, limit: int) -> list[str]:
    """Split at line breaks into pieces Slack accepts in one section."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines() or [""]:
        line = _clip(line, limit)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    pieces.append(current)
    return [p for p in pieces if p.strip()] or [" "]


def render_blocks(message: Outgoing) -> list[dict[str, Any]]:
    """Block Kit for an Outgoing: title, then the fields (or the text), then the buttons."""
    blocks: list[dict[str, Any]] = []
    if message.title:
        blocks.append(_section(f"*{escape(message.title)}*"))
    if message.fields:
        items = [
            {"type": "mrkdwn", "text": _clip(f"*{escape(label)}*\n{escape(value)}", FIELD_LIMIT)}
            for label, value in message.fields
        ]
        for start in range(0, len(items), 10):  # Slack allows ten fields per section
            blocks.append({"type": "section", "fields": items[start : start + 10]})
    else:
        blocks.extend(_section(piece) for piece in _chunks(escape(message.text), SECTION_LIMIT))
    if message.buttons:
        elements: list[dict[str, Any]] = []
        for button in message.buttons[:25]:
            element: dict[str, Any] = {
                "type": "button",
                "action_id": ACTION_PREFIX + button.action,
                "text": {"type": "plain_text", "text": _clip(button.label, 75), "emoji": True},
                "value": button.value[:2000],
            }
            if button.style is not ButtonStyle.DEFAULT:
                element["style"] = button.style.value
            elements.append(element)
        blocks.append({"type": "actions", "block_id": "accessbot_actions", "elements": elements})
    return blocks


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, SECTION_LIMIT)}}


# -- errors -------------------------------------------------------------------------------------


def slack_error(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
    return f"{type(exc).__name__}: {exc}"


def delivery_error(doing: str, exc: Exception) -> DeliveryError:
    code = slack_error(exc)
    hint = _HINTS.get(code)
    text = f"Slack {doing} failed: {code}" + (f" ({hint})" if hint else "")
    return DeliveryError(text, permanent=code in PERMANENT_ERRORS)


def header(headers: Mapping[str, Any], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return ", ".join(value) if isinstance(value, list) else str(value)
    return ""


# -- the adapter --------------------------------------------------------------------------------


@dataclass
class SlackAdapter:
    """The contract in bot/platform.py, over a slack_sdk WebClient."""

    client: WebClient
    token: str
    platform: str = PLATFORM
    capabilities: Capabilities = field(
        default_factory=lambda: Capabilities(
            buttons=True, reactions=True, threads=True, forms=True, files=True
        )
    )
    bot_user_id: str = ""
    _dm_channels: dict[str, str] = field(default_factory=dict, repr=False)
    _profiles: dict[str, Profile] = field(default_factory=dict, repr=False)

    # -- outgoing ---------------------------------------------------------------------------

    def send(self, destination: Destination, message: Outgoing) -> MessageRef:
        if destination.user is not None:
            channel = self.dm_channel(destination.user.id)
        else:
            assert destination.channel is not None
            channel = destination.channel
        kwargs: dict[str, Any] = {
            "channel": channel,
            "text": escape(message.text) or " ",
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if message.files:
            return self._upload(channel, destination, message)
        if message.title or message.fields or message.buttons:
            kwargs["blocks"] = render_blocks(message)
        if destination.thread is not None:
            kwargs["thread_ts"] = destination.thread.message_id
        try:
            response = self.client.chat_postMessage(**kwargs)
        except (SlackApiError, SlackClientError, OSError) as exc:
            raise delivery_error(f"chat.postMessage to {channel}", exc) from exc
        ts = str(response.get("ts") or "")
        ref = MessageRef(PLATFORM, str(response.get("channel") or channel), ts)
        self._seed_reactions(ref, message.reactions)
        return ref

    def _upload(self, channel: str, destination: Destination, message: Outgoing) -> MessageRef:
        """Files go up with files_upload_v2 (files:write), the text as their comment."""
        uploads = [{"content": f.data, "filename": f.filename, "title": f.filename} for f in message.files]
        kwargs: dict[str, Any] = {
            "channel": channel,
            "file_uploads": uploads,
            "initial_comment": escape(message.text),
        }
        if destination.thread is not None:
            kwargs["thread_ts"] = destination.thread.message_id
        try:
            self.client.files_upload_v2(**kwargs)
        except (SlackApiError, SlackClientError, OSError) as exc:
            raise delivery_error(f"files_upload_v2 to {channel}", exc) from exc
        return MessageRef(PLATFORM, channel, destination.thread.message_id if destination.thread else "")

    def edit(self, ref: MessageRef, message: Outgoing) -> None:
        kwargs: dict[str, Any] = {
            "channel": ref.channel,
            "ts": ref.message_id,
            "text": escape(message.text) or " ",
        }
        kwargs["blocks"] = (
            render_blocks(message) if (message.title or message.fields or message.buttons) else []
        )
        try:
            self.client.chat_update(**kwargs)
        except (SlackApiError, SlackClientError, OSError) as exc:
            raise delivery_error(f"chat.update of {ref.message_id} in {ref.channel}", exc) from exc

    def _seed_reactions(self, ref: MessageRef, reactions: Iterable[str]) -> None:
        # The message is out: failing here would make the core post it again. Say so loudly instead.
        for emoji in reactions:
            name = short_name(emoji)
            try:
                self.client.reactions_add(channel=ref.channel, timestamp=ref.message_id, name=name)
            except (SlackApiError, SlackClientError, OSError) as exc:
                if slack_error(exc) == "already_reacted":
                    continue
                log.error(
                    "%s (reviewers can still react by hand)", delivery_error(f"reactions.add :{name}:", exc)
                )

    def dm_channel(self, user_id: str) -> str:
        cached = self._dm_channels.get(user_id)
        if cached:
            return cached
        try:
            response = self.client.conversations_open(users=user_id)
        except (SlackApiError, SlackClientError, OSError) as exc:
            raise delivery_error("conversations.open (opening a DM)", exc) from exc
        channel = str((response.get("channel") or {}).get("id") or "")
        if not channel:
            raise DeliveryError("Slack conversations.open returned no channel")
        self._dm_channels[user_id] = channel
        return channel

    def mention(self, user: UserRef) -> str:
        return f"<@{user.id}>"

    def profile(self, user: UserRef) -> Profile:
        cached = self._profiles.get(user.id)
        if cached is not None:
            return cached
        try:
            response = self.client.users_info(user=user.id)
        except (SlackApiError, SlackClientError, OSError) as exc:
            raise delivery_error("users.info", exc) from exc
        data = response.get("user") or {}
        details = data.get("profile") or {}
        profile = Profile(
            display_name=str(details.get("display_name") or data.get("name") or ""),
            real_name=str(details.get("real_name") or data.get("real_name") or ""),
            email=str(details.get("email") or ""),
        )
        self._profiles[user.id] = profile
        return profile

    def user(self, user_id: str) -> UserRef:
        """A UserRef with the person's name when Slack tells it (never fails)."""
        try:
            profile = self.profile(UserRef(PLATFORM, user_id))
        except DeliveryError as exc:
            log.warning("%s", exc)
            self._profiles[user_id] = profile = Profile()
        return UserRef(PLATFORM, user_id, profile.display_name or profile.real_name)

    # -- files ------------------------------------------------------------------------------

    def attachment(self, file: Mapping[str, Any]) -> Attachment:
        """A Slack file object as a lazy Attachment (stubs resolved with files.info first)."""
        file_id = str(file.get("id") or "")
        if file.get("file_access") == "check_file_info" or (
            file_id and not file.get("url_private_download") and file.get("mode") != "hidden_by_limit"
        ):
            try:
                file = self.client.files_info(file=file_id).get("file") or {}
            except (SlackApiError, SlackClientError, OSError) as exc:
                problem = delivery_error(f"files.info for {file_id}", exc)
                return _unavailable(file_id, str(problem))
        if file.get("mode") == "hidden_by_limit":
            return _unavailable(file_id, "Slack hides this file (the workspace's plan limits file history)")
        url = str(file.get("url_private_download") or file.get("url_private") or "")
        mimetype = str(file.get("mimetype") or "") or None
        token = self.token

        def fetch(max_bytes: int) -> bytes:
            return download(url, token, max_bytes, declared_type=mimetype)

        return Attachment(
            id=file_id,
            filename=str(file.get("name") or file.get("title") or file_id or "file"),
            size=int(file.get("size") or 0),
            content_type=mimetype,
            fetch=fetch,
        )


def _unavailable(file_id: str, reason: str) -> Attachment:
    def fetch(max_bytes: int) -> bytes:
        raise AttachmentUnavailable(reason, ours=True)

    return Attachment(id=file_id, filename="file", size=0, content_type=None, fetch=fetch)


# -- events in ----------------------------------------------------------------------------------


class _Events:
    """Turns bolt payloads into neutral events and hands them to the Bot.

    Bolt runs listeners in parallel threads; the core is thread-safe (one person's events in order,
    decisions one at a time), so a slow PDF never holds up anyone else."""

    def __init__(self, bot: Bot, adapter: SlackAdapter) -> None:
        self.bot = bot
        self.adapter = adapter

    def dispatch(self, event: Event) -> None:
        self.bot.dispatch(event)

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
            self.dispatch(
                DirectMessage(
                    event_id=event_id, user=self.adapter.user(user_id), text=text, attachments=attachments
                )
            )
            return
        thread_ts = str(event.get("thread_ts") or "")
        in_thread = bool(thread_ts) and thread_ts != ts
        reviewers = self.bot.reviewers_channel(PLATFORM)
        if not attachments and not (in_thread and channel == reviewers):
            return  # ordinary channel chatter: nothing for the bot
        self.dispatch(
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
        self.dispatch(
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
        name = str(action.get("action_id") or "").removeprefix(ACTION_PREFIX)
        user_id = str((body.get("user") or {}).get("id") or "")
        container = body.get("container") or {}
        channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
        ts = str(container.get("message_ts") or (body.get("message") or {}).get("ts") or "")
        value = str(action.get("value") or "")
        press = ButtonPress(
            event_id=f"slack:action:{user_id}:{action.get('action_ts') or body.get('trigger_id')}",
            user=self.adapter.user(user_id),
            message=MessageRef(PLATFORM, channel, ts),
            action=name,
            value=value,
        )
        # Only reviewers get the form; anyone else's press goes to the core, which tells them why not.
        reviewer = self.bot.rules.is_reviewer(press.user.key)
        if name == "reject" and reviewer and self._open_reject_form(body, press):
            return  # the decision comes with the form
        self.dispatch(press)

    def _open_reject_form(self, body: dict[str, Any], press: ButtonPress) -> bool:
        trigger = body.get("trigger_id")
        if not trigger:
            return False
        view = reject_view(self.bot, press)
        try:
            self.adapter.client.views_open(trigger_id=trigger, view=view)
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("%s: asking the reviewer by DM instead", delivery_error("views.open", exc))
            return False
        return True

    def on_reject_submitted(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = (view.get("state") or {}).get("values") or {}
        reason = str(((values.get(REASON_BLOCK) or {}).get(REASON_INPUT) or {}).get("value") or "").strip()
        selected = ((values.get(STEP_BLOCK) or {}).get(STEP_INPUT) or {}).get("selected_option") or {}
        step = str(selected.get("value") or "")
        if not reason:
            ack(response_action="errors", errors={REASON_BLOCK: "Please say what is wrong."})
            return
        ack()
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            meta = {}
        user_id = str((body.get("user") or {}).get("id") or "")
        self.dispatch(
            ButtonPress(
                event_id=f"slack:view:{view.get('id') or body.get('trigger_id')}",
                user=self.adapter.user(user_id),
                message=MessageRef(PLATFORM, str(meta.get("channel", "")), str(meta.get("ts", ""))),
                action="reject",
                value=str(meta.get("value", "")),
                reason=reason,
                reopen_step=step or None,
            )
        )


def reject_view(bot: Bot, press: ButtonPress) -> dict[str, Any]:
    """The modal asking a rejecting reviewer why, and which step the applicant must redo."""
    rules = bot.rules
    lang = rules.language
    options = [
        {
            "text": {"type": "plain_text", "text": _clip(f"{n}. {s.title.get(lang)}", 75)},
            "value": s.id,
        }
        for n, s in enumerate(rules.steps, start=1)
        if s.complete_by != "review"
    ][:100]
    meta = {"channel": press.message.channel, "ts": press.message.message_id, "value": press.value}

    def t(key: str) -> str:
        return bot.translator.t(lang, f"review.form_{key}")

    return {
        "type": "modal",
        "callback_id": REJECT_VIEW,
        "private_metadata": json.dumps(meta),
        "title": {"type": "plain_text", "text": _clip(t("title"), 24)},
        "submit": {"type": "plain_text", "text": _clip(t("submit"), 24)},
        "close": {"type": "plain_text", "text": _clip(t("cancel"), 24)},
        "blocks": [
            {
                "type": "input",
                "block_id": STEP_BLOCK,
                "label": {"type": "plain_text", "text": t("step")},
                "element": {"type": "static_select", "action_id": STEP_INPUT, "options": options},
            },
            {
                "type": "input",
                "block_id": REASON_BLOCK,
                "label": {"type": "plain_text", "text": t("reason")},
                "element": {
                    "type": "plain_text_input",
                    "action_id": REASON_INPUT,
                    "multiline": True,
                    "max_length": 1000,
                },
            },
        ],
    }


# -- the app ------------------------------------------------------------------------------------


def make_client(token: str, **kwargs: Any) -> WebClient:
    client = WebClient(token=token, timeout=30, **kwargs)
    return with_rate_limit_retries(client)


def with_rate_limit_retries(client: WebClient) -> WebClient:
    """Slack answers bursts with 429 + Retry-After: wait and retry (slack-sdk's handler, off by default)."""
    if not any(isinstance(h, RateLimitErrorRetryHandler) for h in client.retry_handlers):
        client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client


def create_app(
    bot: Bot,
    settings: Settings,
    *,
    client: WebClient | None = None,
    process_before_response: bool | None = None,
) -> App:
    """A bolt App wired to `bot` (a SlackAdapter is attached to it).

    `process_before_response` defaults to True when a client is injected (tests: dispatch returns after
    the listener ran) and False otherwise (Slack gets its acknowledgement at once).
    """
    injected = client is not None
    client = with_rate_limit_retries(client if client is not None else make_client(settings.slack_bot_token))
    adapter = SlackAdapter(client=client, token=client.token or settings.slack_bot_token)
    bot.attach(adapter)
    events = _Events(bot, adapter)
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret,
        token_verification_enabled=False,  # run() checks the token itself, with plain messages
        process_before_response=injected if process_before_response is None else process_before_response,
    )
    app.event("message")(events.on_message)
    app.event("reaction_added")(events.on_reaction)
    app.event("reaction_removed")(events.on_reaction)
    app.action(re.compile("^" + ACTION_PREFIX))(events.on_action)
    app.view(REJECT_VIEW)(events.on_reject_submitted)
    return app


# -- start-up -----------------------------------------------------------------------------------


@dataclass
class Preflight:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    bot_user_id: str = ""


def check_settings(settings: Settings, *, http: bool) -> list[str]:
    """Token shapes, before any network call."""
    errors = []
    bot_token = settings.slack_bot_token
    if not bot_token:
        errors.append(
            "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…) from your app's "
            "OAuth & Permissions page (see docs/slack.md)."
        )
    elif not bot_token.startswith("xoxb-"):
        errors.append(
            f"SLACK_BOT_TOKEN must start with xoxb- (it starts with {bot_token[:5]!r}): use the Bot User "
            "OAuth Token, not a user token (xoxp-) or the app-level token (xapp-)."
        )
    if http:
        if not settings.slack_signing_secret:
            errors.append(
                "SLACK_SIGNING_SECRET is not set (needed for --http): copy it from Basic Information → "
                "App Credentials → Signing Secret."
            )
        elif settings.slack_signing_secret.startswith(("xox", "xapp-")):
            errors.append(
                "SLACK_SIGNING_SECRET holds a token: use the Signing Secret from Basic Information."
            )
    else:
        app_token = settings.slack_app_token
        if not app_token:
            errors.append(
                "SLACK_APP_TOKEN is not set (needed for Socket Mode): under Basic Information → App-Level "
                "Tokens, generate a token with the connections:write scope (xapp-…). Or run with --http."
            )
        elif not app_token.startswith("xapp-"):
            errors.append(
                f"SLACK_APP_TOKEN must start with xapp- (it starts with {app_token[:5]!r}): use the "
                "App-Level Token with connections:write, not the bot token."
            )
    return errors


def preflight(client: WebClient, bot: Bot | None = None) -> Preflight:
    """auth.test and the granted scopes (the x-oauth-scopes header) against what the code uses."""
    result = Preflight()
    try:
        response = client.auth_test()
    except SlackApiError as exc:
        code = slack_error(exc)
        if code in ("invalid_auth", "not_authed", "token_revoked", "account_inactive"):
            result.errors.append(
                f"Slack refused SLACK_BOT_TOKEN ({code}): copy the Bot User OAuth Token again from "
                "OAuth & Permissions (reinstalling the app issues a new one)."
            )
        else:
            result.errors.append(f"Slack auth.test failed: {code}")
        return result
    except (SlackClientError, OSError) as exc:
        result.errors.append(
            f"cannot reach Slack to check the token ({slack_error(exc)}): check the network."
        )
        return result
    result.bot_user_id = str(response.get("user_id") or "")
    scopes_header = header(response.headers, "x-oauth-scopes")
    if not scopes_header:
        result.warnings.append("Slack did not say which scopes the token has; not checked.")
    else:
        granted = {s.strip() for s in scopes_header.split(",") if s.strip()}
        missing = [s for s in REQUIRED_SCOPES if s not in granted]
        if missing:
            result.errors.append(
                f"the bot token lacks the scope(s) {', '.join(missing)}: add them under OAuth & Permissions "
                "→ Bot Token Scopes (or re-create the app from slack-manifest.yaml), reinstall the app, and "
                "copy the new SLACK_BOT_TOKEN."
            )
        for scope, effect in OPTIONAL_SCOPES.items():
            if scope not in granted:
                result.warnings.append(f"the bot token lacks {scope}: {effect}.")
    channel = bot.reviewers_channel(PLATFORM) if bot is not None else None
    if bot is not None and not channel:
        result.warnings.append(
            "rules.yaml has no reviewers.channel.slack: complete packages cannot be posted for review."
        )
    elif channel and not re.fullmatch(r"[CG][A-Z0-9]{6,}", channel):
        result.warnings.append(
            f"reviewers.channel.slack in rules.yaml is {channel!r}, which is not a channel id: use the id "
            "(C…) from the channel's About tab, not its name."
        )
    return result


def run(
    bot: Bot,
    settings: Settings,
    *,
    http: bool = False,
    port: int = 3000,
    err: TextIO | None = None,
    client: WebClient | None = None,
    serve: Callable[[App], None] | None = None,
) -> int:
    """Check the set-up, then serve Slack until interrupted. Returns an exit code, never exits."""
    from bot.app import ReminderLoop

    err = err if err is not None else sys.stderr
    problems = check_settings(settings, http=http)
    if problems:
        err.write("accessbot cannot start on Slack:\n" + "".join(f"- {p}\n" for p in problems))
        return 1
    client = client if client is not None else make_client(settings.slack_bot_token)
    checked = preflight(client, bot)
    for warning in checked.warnings:
        log.warning("%s", warning)
        err.write(f"warning: {warning}\n")
    if checked.errors:
        err.write("accessbot cannot start on Slack:\n" + "".join(f"- {p}\n" for p in checked.errors))
        return 1
    app = create_app(bot, settings, client=client, process_before_response=False)
    adapter = bot.adapters[PLATFORM]
    assert isinstance(adapter, SlackAdapter)
    adapter.bot_user_id = checked.bot_user_id
    bot.validator.warm_up()
    previous = _stop_on_sigterm()
    reminders = ReminderLoop(bot)
    reminders.start()
    try:
        if serve is not None:
            serve(app)
        elif http:
            log.info("Slack HTTP mode on port %d (request URL path /slack/events)", port)
            app.start(port=port)
        else:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            log.info("Slack Socket Mode: connecting")
            SocketModeHandler(app, settings.slack_app_token).start()  # type: ignore[no-untyped-call]
    except KeyboardInterrupt:
        return 0
    except SlackApiError as exc:
        code = slack_error(exc)
        hint = (
            "SLACK_APP_TOKEN was refused: generate an App-Level Token with connections:write and turn "
            "Socket Mode on (see docs/slack.md)"
            if code in ("invalid_auth", "not_authed", "not_allowed_token_type")
            else "Slack refused the connection"
        )
        err.write(f"accessbot stopped: {hint} ({code}).\n")
        return 1
    except OSError as exc:
        err.write(f"accessbot stopped: {exc} (is port {port} free? is the network up?)\n")
        return 1
    finally:
        reminders.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


def _stop_on_sigterm() -> Any:
    """`docker stop` sends SIGTERM: stop like Ctrl-C so the caller closes the store cleanly."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, interrupt)
