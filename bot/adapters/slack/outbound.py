"""SlackAdapter: the core's Adapter contract (bot/platform.py) over a slack_sdk WebClient.

Sends raise DeliveryError naming the Slack call and, for the common mistakes, the fix.

Slack's conventions: a DM goes to the DM channel the person's own message came from (no extra
conversations.open); an answer to a button press or a form, made while the press is handled in this
thread (`replying_to`), is ephemeral in the channel where it happened: through the interaction's
`response_url` (`respond`), else `chat.postEphemeral`. Only the person sees it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from bot.adapters.slack.blocks import escape, has_blocks, render_blocks, render_modal
from bot.adapters.slack.errors import delivery_error, slack_error
from bot.adapters.slack.files import attachment
from bot.adapters.slack.home import HomeTabs
from bot.emoji import short_name
from bot.events import Attachment, Destination, Form, MessageRef, Outgoing, UserRef
from bot.platform import Capabilities, DeliveryError, Profile

log = logging.getLogger(__name__)
METADATA_EVENT = "accessbot_post"
"""The Slack message metadata type under which a post's idempotency key is kept."""

PLATFORM = "slack"
PROFILE_RETRY_S = 60.0
"""After a failed users.info, how long to go without asking again (a later event retries)."""

_SLACK_ERRORS = (SlackApiError, SlackClientError, OSError)
RESPONSE_URL_HOSTS = ("hooks.slack.com",)
"""Where an interaction's response_url may point: the bot never posts to another host."""


@dataclass
class Interaction:
    """The button press or form submission handled in this thread: answers to its person go back to it."""

    user_id: str
    channel: str
    response_url: str = ""


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
    allow_loopback_files: bool = False
    """Let file downloads (and the token) and response_url answers go to 127.0.0.1: only the tests'
    fake Slack sets this."""
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    homes: HomeTabs | None = field(default=None, repr=False)
    """The App Home tabs people opened, kept up to date (bot/adapters/slack/home.py)."""
    _dm_channels: dict[str, str] = field(default_factory=dict, repr=False)
    _profiles: dict[str, Profile] = field(default_factory=dict, repr=False)
    _profile_failed: dict[str, float] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)

    # -- interactions -----------------------------------------------------------------------

    @contextlib.contextmanager
    def replying_to(self, interaction: Interaction | None) -> Iterator[None]:
        """While the block runs (the core handling the press, in this thread), answers to its person
        are ephemeral where the press happened."""
        previous = getattr(self._local, "interaction", None)
        self._local.interaction = interaction
        try:
            yield
        finally:
            self._local.interaction = previous

    def remember_dm(self, user_id: str, channel: str) -> None:
        """The DM channel a person's message came from: replies go there, no conversations.open."""
        if user_id and channel.startswith("D"):
            with self._lock:
                self._dm_channels[user_id] = channel

    def _ephemeral(self, destination: Destination, message: Outgoing) -> MessageRef | None:
        """Answer the person of the interaction in hand only to them, or None (then: a DM)."""
        interaction: Interaction | None = getattr(self._local, "interaction", None)
        user = destination.user
        if interaction is None or user is None or user.id != interaction.user_id:
            return None
        if message.buttons or message.reactions or message.files or not interaction.channel:
            return None
        if interaction.channel.startswith("D"):  # pressed in the DM: the answer stays in the DM
            self.remember_dm(user.id, interaction.channel)
            return None
        text = escape(message.text) or " "
        try:
            if self._response_url_allowed(interaction.response_url):
                answer = WebhookClient(interaction.response_url, timeout=30).send(
                    text=text, response_type="ephemeral", replace_original=False
                )
                if answer.status_code != 200:
                    raise DeliveryError(f"response_url answered HTTP {answer.status_code}: {answer.body}")
            else:
                self.client.chat_postEphemeral(channel=interaction.channel, user=user.id, text=text)
        except (*_SLACK_ERRORS, DeliveryError) as exc:
            log.warning("ephemeral answer failed (%s): answering by DM instead", exc)
            return None
        return MessageRef(PLATFORM, interaction.channel, "")

    def _response_url_allowed(self, url: str) -> bool:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme == "https" and parts.hostname in RESPONSE_URL_HOSTS:
            return True
        return self.allow_loopback_files and parts.hostname == "127.0.0.1"

    # -- outgoing ---------------------------------------------------------------------------

    def send(self, destination: Destination, message: Outgoing) -> MessageRef:
        answered = self._ephemeral(destination, message)
        if answered is not None:
            return answered
        if destination.user is not None:
            channel = self.dm_channel(destination.user.id)
        else:
            assert destination.channel is not None
            channel = destination.channel
        if message.files:
            return self._upload(channel, destination, message)
        kwargs: dict[str, Any] = {
            "channel": channel,
            "text": escape(message.text) or " ",
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if has_blocks(message):
            kwargs["blocks"] = render_blocks(message)
        if destination.thread is not None:
            kwargs["thread_ts"] = destination.thread.message_id
        if message.key:  # kept with the message, so find_sent can tell it went out before a crash
            kwargs["metadata"] = {"event_type": METADATA_EVENT, "event_payload": {"key": message.key}}
        try:
            response = self.client.chat_postMessage(**kwargs)
        except _SLACK_ERRORS as exc:
            raise delivery_error(f"chat.postMessage to {channel}", exc) from exc
        ts = str(response.get("ts") or "")
        ref = MessageRef(PLATFORM, str(response.get("channel") or channel), ts)
        self._seed_reactions(ref, message.reactions)
        return ref

    def find_sent(self, channel: str, key: str) -> MessageRef | None:
        """A message this bot posted with `key` among the channel's recent ones (message metadata)."""
        try:
            response = self.client.conversations_history(
                channel=channel, limit=100, include_all_metadata=True
            )
        except _SLACK_ERRORS as exc:
            raise delivery_error(f"conversations.history of {channel}", exc) from exc
        for item in response.get("messages") or []:
            metadata = item.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == METADATA_EVENT and payload.get("key") == key:
                return MessageRef(PLATFORM, channel, str(item.get("ts") or ""))
        return None

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
        except _SLACK_ERRORS as exc:
            raise delivery_error(f"files_upload_v2 to {channel}", exc) from exc
        return MessageRef(PLATFORM, channel, destination.thread.message_id if destination.thread else "")

    def edit(self, ref: MessageRef, message: Outgoing) -> None:
        kwargs: dict[str, Any] = {
            "channel": ref.channel,
            "ts": ref.message_id,
            "text": escape(message.text) or " ",
            "blocks": render_blocks(message) if has_blocks(message) else [],
        }
        try:
            self.client.chat_update(**kwargs)
        except _SLACK_ERRORS as exc:
            raise delivery_error(f"chat.update of {ref.message_id} in {ref.channel}", exc) from exc

    def grant(self, user: UserRef, target: str) -> None:
        """Membership of a private data channel (an entitlement, bot/entitlements/): groups:write."""
        try:
            self.client.conversations_invite(channel=target, users=user.id)
        except _SLACK_ERRORS as exc:
            if slack_error(exc) != "already_in_channel":
                raise delivery_error(f"conversations.invite of {user.id} to {target}", exc) from exc

    def revoke(self, user: UserRef, target: str) -> None:
        try:
            self.client.conversations_kick(channel=target, user=user.id)
        except _SLACK_ERRORS as exc:
            if slack_error(exc) != "not_in_channel":
                raise delivery_error(f"conversations.kick of {user.id} from {target}", exc) from exc

    def _seed_reactions(self, ref: MessageRef, reactions: Iterable[str]) -> None:
        # The message is out: failing here would make the core post it again. Say so loudly instead.
        for emoji in reactions:
            name = short_name(emoji)
            try:
                self.client.reactions_add(channel=ref.channel, timestamp=ref.message_id, name=name)
            except _SLACK_ERRORS as exc:
                if slack_error(exc) == "already_reacted":
                    continue
                log.error(
                    "%s (reviewers can still react by hand)", delivery_error(f"reactions.add :{name}:", exc)
                )

    def open_form(self, trigger_id: str, form: Form, ref: MessageRef) -> None:
        """Show a neutral Form as a modal (raises DeliveryError: the caller falls back on a DM)."""
        view = render_modal(form, ref.channel, ref.message_id)
        try:
            self.client.views_open(trigger_id=trigger_id, view=view)
        except _SLACK_ERRORS as exc:
            raise delivery_error("views.open", exc) from exc

    def dm_channel(self, user_id: str) -> str:
        with self._lock:
            cached = self._dm_channels.get(user_id)
        if cached:
            return cached
        try:
            response = self.client.conversations_open(users=user_id)
        except _SLACK_ERRORS as exc:
            raise delivery_error("conversations.open (opening a DM)", exc) from exc
        channel = str((response.get("channel") or {}).get("id") or "")
        if not channel:
            raise DeliveryError("Slack conversations.open returned no channel")
        with self._lock:
            self._dm_channels[user_id] = channel
        return channel

    # -- people -----------------------------------------------------------------------------

    def refresh_home(self, users: Sequence[str], *, queue: bool) -> None:
        """RefreshesHome: redraw the opened App Home tabs whose state changed (in the background)."""
        if self.homes is not None:
            self.homes.refresh(users, queue=queue)

    def mention(self, user: UserRef) -> str:
        return f"<@{user.id}>"

    def profile(self, user: UserRef) -> Profile:
        """users.info, remembered once it worked. A failure is retried after PROFILE_RETRY_S."""
        cached = self._profiles.get(user.id)
        if cached is not None:
            return cached
        with self._lock:
            failed_at = self._profile_failed.get(user.id)
        if failed_at is not None and self.clock() - failed_at < PROFILE_RETRY_S:
            raise DeliveryError("Slack users.info failed for this person moments ago; asked again later")
        try:
            response = self.client.users_info(user=user.id)
        except _SLACK_ERRORS as exc:
            with self._lock:
                self._profile_failed[user.id] = self.clock()
            raise delivery_error("users.info", exc) from exc
        data = response.get("user") or {}
        details = data.get("profile") or {}
        profile = Profile(
            display_name=str(details.get("display_name") or data.get("name") or ""),
            real_name=str(details.get("real_name") or data.get("real_name") or ""),
            email=str(details.get("email") or ""),
        )
        with self._lock:
            self._profiles[user.id] = profile
            self._profile_failed.pop(user.id, None)
        return profile

    def user(self, user_id: str) -> UserRef:
        """A UserRef with the person's name when Slack tells it (never fails; no name when it cannot)."""
        try:
            profile = self.profile(UserRef(PLATFORM, user_id))
        except DeliveryError as exc:
            log.warning("%s", exc)
            return UserRef(PLATFORM, user_id)
        return UserRef(PLATFORM, user_id, profile.display_name or profile.real_name)

    # -- files ------------------------------------------------------------------------------

    def attachment(self, file: Mapping[str, Any]) -> Attachment:
        return attachment(self.client, self.token, file, allow_loopback=self.allow_loopback_files)
