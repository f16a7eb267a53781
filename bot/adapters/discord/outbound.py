"""The Adapter the core sees (send, edit, mention, profile), and everything that goes out to Discord.

Threading: the core calls `send`/`edit` from worker threads; each hops onto the client's loop with
`asyncio.run_coroutine_threadsafe(...).result(timeout)`. Never call them on the loop thread.
A reply to the person whose interaction (button, form, slash command) is being handled in this worker
goes back to that interaction as an ephemeral follow-up.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import logging
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import discord

from bot.adapters.discord.components import render_view
from bot.adapters.discord.grants import RoleGrants
from bot.adapters.discord.render import clip, plain, render_embed, split_text
from bot.adapters.discord.setup import NAME
from bot.emoji import canonical
from bot.events import (
    Attachment,
    AttachmentTooLarge,
    AttachmentUnavailable,
    Destination,
    Event,
    MessageRef,
    Outgoing,
    UserRef,
)
from bot.platform import Capabilities, DeliveryError, Host, Profile

log = logging.getLogger(__name__)

SEND_TIMEOUT_S = 30.0
DOWNLOAD_TIMEOUT_S = 60.0
CANNOT_DM_CODES = {50007}  # "Cannot send messages to this user"
PERMANENT_CODES = {10003, 10008, 10013, 50001, 50007, 50013, 50035}
"""Unknown channel/message/user, missing access/permissions, invalid form body: retrying won't help."""

T = TypeVar("T")


def user_ref(user: discord.abc.User) -> UserRef:
    return UserRef(NAME, str(user.id), user.display_name)


def profile_of(user: discord.abc.User) -> Profile:
    """Discord has no real names: the display name (global name) is the closest."""
    return Profile(display_name=user.display_name, real_name=user.global_name or "")


def delivery_error(exc: discord.HTTPException, what: str) -> DeliveryError:
    """Discord's refusal as the core's DeliveryError; permanent when retrying cannot help."""
    code = exc.code
    if code in CANNOT_DM_CODES:
        text = f"Cannot send messages to this user (Discord {code}: DMs closed or no shared server)"
    else:
        text = f"Discord refused {what}: {exc.status} {exc.text or ''} (code {code})".strip()
    permanent = code in PERMANENT_CODES or isinstance(exc, discord.Forbidden | discord.NotFound)
    log.warning("Discord HTTP error while %s: status %s, code %s: %s", what, exc.status, code, exc.text)
    return DeliveryError(text, permanent=permanent)


@dataclass
class _ReplyTarget:
    """The interaction being handled in this worker thread: replies to its user go back to it."""

    user_id: str
    interaction: discord.Interaction[Any]
    answered: bool = False

    @property
    def command(self) -> bool:
        """A slash command (/queue): its ephemeral answer may carry buttons (a package's approve,
        reject, claim). Answers to a button press stay plain; a step's buttons go to the DM."""
        return self.interaction.type is discord.InteractionType.application_command


class DiscordAdapter:
    """bot.platform.Adapter on top of a discord.Client. Call `send` and `edit` from worker threads."""

    platform = NAME
    capabilities = Capabilities(buttons=True, reactions=True, threads=True, forms=True, files=True)

    def __init__(
        self,
        client: discord.Client,
        host: Host,
        *,
        timeout_s: float = SEND_TIMEOUT_S,
        default_guild: str = "",
    ) -> None:
        self.client = client
        self.host = host
        self.timeout_s = timeout_s
        self.profiles: dict[str, Profile] = {}
        """People seen in events (discord.py caches no users without the members intent)."""
        self._local = threading.local()
        self.roles = RoleGrants(client, default_guild)
        """Entitlements of kind discord_role (GrantsAccess); `default_guild` is DISCORD_GUILD_ID."""

    # -- running coroutines on the loop from a worker thread -----------------------------------

    def call(self, coro: Coroutine[Any, Any, T], *, what: str, timeout_s: float | None = None) -> T:
        """Run `coro` on the client's loop and wait for it. Never call this on the loop thread."""
        loop: object = self.client.loop  # a sentinel until the client has started
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None:
            coro.close()
            raise RuntimeError(f"DiscordAdapter called on an event loop thread while {what}: use a worker")
        if not isinstance(loop, asyncio.AbstractEventLoop) or loop.is_closed():
            coro.close()
            raise DeliveryError(f"Discord connection is closed ({what})")
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result(self.timeout_s if timeout_s is None else timeout_s)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise DeliveryError(f"Discord did not answer in time while {what}") from None
        except concurrent.futures.CancelledError:  # the loop is shutting down
            raise DeliveryError(f"Discord connection closed while {what}") from None

    # -- the contract ----------------------------------------------------------------------------

    def send(self, destination: Destination, message: Outgoing) -> MessageRef:
        target: _ReplyTarget | None = getattr(self._local, "reply_to", None)
        if (
            target is not None
            and destination.user is not None
            and destination.user.id == target.user_id
            and (not message.buttons or target.command)
            and not message.reactions
        ):
            try:
                ref = self.call(self._followup(target.interaction, message), what="answering an interaction")
                target.answered = True
                return ref
            except DeliveryError as exc:
                log.warning("interaction follow-up failed (%s); answering by DM instead", exc)
                self._local.reply_to = None
        where = "a DM" if destination.user is not None else f"channel {destination.channel}"
        return self.call(self._deliver(destination, message), what=f"sending to {where}")

    def edit(self, ref: MessageRef, message: Outgoing) -> None:
        self.call(self._replace(ref, message), what=f"editing message {ref.message_id}")

    def grant(self, user: UserRef, target: str) -> None:
        """GrantsAccess: give the role `target` (`GUILD_ID/ROLE_ID` or a role id); idempotent."""
        role = self.roles.target(target)
        self.call(self.roles.change(user.id, role, "grant"), what=f"giving role {role.role_id}")

    def revoke(self, user: UserRef, target: str) -> None:
        """GrantsAccess: remove the role `target`; idempotent (a member without it, or gone, is fine)."""
        role = self.roles.target(target)
        self.call(self.roles.change(user.id, role, "revoke"), what=f"removing role {role.role_id}")

    def mention(self, user: UserRef) -> str:
        return f"<@{user.id}>"

    def profile(self, user: UserRef) -> Profile:
        known = self.profiles.get(user.id)
        if known is not None:
            return known
        if not user.id.isdigit():
            return Profile(display_name=user.display_name)
        found = self.client.get_user(int(user.id))
        if found is None:
            try:
                found = self.call(self.client.fetch_user(int(user.id)), what="looking up a profile")
            except discord.HTTPException as exc:
                raise DeliveryError(f"profile lookup failed: {exc}", permanent=True) from exc
        return profile_of(found)

    # -- incoming helpers (people seen, attachments, dispatch in the worker) ----------------------

    def remember(self, user: discord.abc.User) -> None:
        self.profiles[str(user.id)] = profile_of(user)

    def names(self) -> dict[str, str]:
        return {key: p.display_name for key, p in self.profiles.items()}

    def dispatch(self, event: Event, reply_to: discord.Interaction[Any] | None = None) -> bool:
        """Hand one event to the core (in a worker thread); replies to the interaction's user go to it.

        Returns True when the interaction got an answer this way."""
        target = _ReplyTarget(str(reply_to.user.id), reply_to) if reply_to is not None else None
        self._local.reply_to = target
        try:
            self.host.dispatch(event)
        finally:
            self._local.reply_to = None
        return target is not None and target.answered

    def attachment(self, item: discord.Attachment) -> Attachment:
        """A neutral attachment whose bytes are downloaded (on the loop) only when the core asks."""

        def fetch(max_bytes: int) -> bytes:
            if item.size > max_bytes:  # never download what the platform already says is too big
                raise AttachmentTooLarge(f"{item.size} bytes declared, limit {max_bytes}")
            try:
                return self.call(
                    item.read(), what=f"downloading {item.filename}", timeout_s=DOWNLOAD_TIMEOUT_S
                )
            except (discord.NotFound, discord.Forbidden) as exc:
                raise AttachmentUnavailable(f"Discord CDN refused the file: {exc}", ours=False) from exc
            except discord.HTTPException as exc:
                raise AttachmentUnavailable(f"Discord CDN error: {exc}") from exc
            except DeliveryError as exc:
                raise AttachmentUnavailable(str(exc)) from exc

        return Attachment(
            id=str(item.id),
            filename=item.filename,
            size=item.size,
            content_type=item.content_type,
            fetch=fetch,
        )

    # -- on the loop ------------------------------------------------------------------------------

    async def _deliver(self, destination: Destination, message: Outgoing) -> MessageRef:
        client = self.client
        what = "opening a DM" if destination.user is not None else "resolving the channel"
        try:
            if destination.user is not None:
                channel: discord.abc.Messageable = await client.create_dm(
                    discord.Object(int(destination.user.id))
                )
            else:
                channel = client.get_partial_messageable(int(str(destination.channel)))
            reference = None
            if destination.thread is not None:
                # A thread reviewers started on the post has the post's id: answer there. Otherwise
                # a "thread" on Discord is a reply to the post.
                started = client.get_channel(int(destination.thread.message_id))
                if isinstance(started, discord.Thread):
                    channel = started
                else:
                    reference = discord.MessageReference(
                        message_id=int(destination.thread.message_id),
                        channel_id=int(destination.thread.channel),
                        fail_if_not_exists=False,
                    )
            what = "sending a message"
            sent = await self._send_rendered(channel, message, reference)
        except ValueError as exc:
            raise DeliveryError(f"bad id or value while {what}: {exc}", permanent=True) from exc
        except discord.HTTPException as exc:
            raise delivery_error(exc, what) from exc
        await self._seed_reactions(sent, message.reactions)
        return MessageRef(NAME, str(sent.channel.id), str(sent.id))

    async def _replace(self, ref: MessageRef, message: Outgoing) -> None:
        """Edit a message the bot sent: new embed and text; the view goes when there are no buttons."""
        try:
            channel = self.client.get_partial_messageable(int(ref.channel))
            partial = channel.get_partial_message(int(ref.message_id))
            if message.buttons or message.fields:
                view = render_view(message.buttons) if message.buttons else None
                await partial.edit(content=None, embed=render_embed(message, self.names()), view=view)
            else:
                await partial.edit(content=clip(message.text, 2000), embed=None, view=None)
        except ValueError as exc:
            raise DeliveryError(f"bad id while editing a message: {exc}", permanent=True) from exc
        except discord.HTTPException as exc:
            raise delivery_error(exc, "editing a message") from exc

    async def _send_rendered(
        self,
        channel: discord.abc.Messageable,
        message: Outgoing,
        reference: discord.MessageReference | None,
    ) -> discord.Message:
        reply_to: Any = reference  # None is accepted at run time (the stubs say otherwise)
        if message.buttons and not message.fields and not message.title:  # a DM with buttons: plain text
            chunks = split_text(plain(message)) or ["\u200b"]
            for chunk in chunks[:-1]:
                await channel.send(chunk, reference=reply_to)
                reply_to = None
            return await channel.send(chunks[-1], view=render_view(message.buttons), reference=reply_to)
        if message.buttons or message.fields:
            embed = render_embed(message, self.names())
            if message.buttons:
                return await channel.send(embed=embed, view=render_view(message.buttons), reference=reply_to)
            return await channel.send(embed=embed, reference=reply_to)
        text = plain(message)
        if message.files:  # attachments ride with the first chunk of text
            files = [discord.File(io.BytesIO(f.data), filename=f.filename) for f in message.files]
            return await channel.send(clip(text, 2000), files=files, reference=reply_to)
        first: discord.Message | None = None
        for chunk in split_text(text):
            reference_once: Any = reply_to if first is None else None
            sent = await channel.send(chunk, reference=reference_once)
            first = first or sent
        assert first is not None
        return first

    async def _seed_reactions(self, sent: discord.Message, reactions: tuple[str, ...]) -> None:
        for emoji in reactions:
            char = canonical(emoji)
            if char.isascii():
                log.warning("cannot seed reaction %r: Discord needs the emoji character", emoji)
                continue
            try:
                await sent.add_reaction(char)
            except discord.HTTPException as exc:  # the post is out; reviewers can still use the buttons
                log.error(
                    "could not add %s to the review post %s (give the bot Add Reactions and Read Message"
                    " History in the reviewers channel): %s",
                    char,
                    sent.id,
                    exc,
                )

    async def _followup(self, interaction: discord.Interaction[Any], message: Outgoing) -> MessageRef:
        """Answer the person who pressed a button or used a command, only to them."""
        try:
            first: discord.WebhookMessage | None = None
            chunks = split_text(plain(message))
            for number, chunk in enumerate(chunks, start=1):
                if message.buttons and number == len(chunks):  # the buttons ride with the last chunk
                    view = render_view(message.buttons)
                    sent = await interaction.followup.send(chunk, ephemeral=True, wait=True, view=view)
                else:
                    sent = await interaction.followup.send(chunk, ephemeral=True, wait=True)
                first = first or sent
        except discord.HTTPException as exc:
            raise delivery_error(exc, "answering an interaction") from exc
        assert first is not None
        return MessageRef(NAME, str(interaction.channel_id or ""), str(first.id))
