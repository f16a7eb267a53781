"""The Discord adapter (discord.py 2.7): DMs, the reviewers channel, reactions, buttons, a reject form,
and the /status and /help slash commands.

Threading: discord.py runs one asyncio loop. `Bot.dispatch` is synchronous (PDF validation can take
seconds), so every event is dispatched in a one-thread executor (events are handled one at a time,
in order, as in the console). From that worker thread, `DiscordAdapter.send` and attachment
downloads hop back onto the loop with `asyncio.run_coroutine_threadsafe(...).result(timeout)`.
Interactions are answered on the loop (defer or a form) before anything is dispatched, so Discord's
3-second deadline never depends on the queue.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import itertools
import logging
import re
import signal
import sys
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands

from bot.emoji import canonical
from bot.events import (
    Attachment,
    AttachmentTooLarge,
    AttachmentUnavailable,
    Button,
    ButtonPress,
    ButtonStyle,
    ChannelMessage,
    Command,
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

if TYPE_CHECKING:
    from bot.core import Bot
    from bot.settings import Settings

log = logging.getLogger(__name__)

PLATFORM = "discord"
CUSTOM_ID_PREFIX = "accessbot"
SEND_TIMEOUT_S = 30.0
DOWNLOAD_TIMEOUT_S = 60.0
TEXT_LIMIT = 2000
"""Discord's limit for a message's content."""
CANNOT_DM_CODES = {50007}  # "Cannot send messages to this user"
PERMANENT_CODES = {10003, 10008, 10013, 50001, 50007, 50013, 50035}
"""Unknown channel/message/user, missing access/permissions, invalid form body: retrying won't help."""
REJECT_FORM_TIMEOUT_S = 900.0
PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,
    add_reactions=True,
    read_message_history=True,
    use_application_commands=True,
)
"""Exactly what the bot needs in the reviewers channel (277025475648; see docs/discord.md)."""
SCOPES = ("bot", "applications.commands")

EXIT_OK, EXIT_FAIL = 0, 1

T = TypeVar("T")

_MENTION = re.compile(r"<@!?(\d+)>")


# -- the adapter (the contract the core sees) ------------------------------------------------


@dataclass
class _ReplyTarget:
    """The interaction being handled in this worker thread: replies to its user go back to it."""

    user_id: str
    interaction: discord.Interaction[Any]
    answered: bool = False


class DiscordAdapter:
    """Implements bot.adapters.base.Adapter on top of an AccessClient. Call `send` from worker threads."""

    platform = PLATFORM
    capabilities = Capabilities(buttons=True, reactions=True, threads=True, forms=True, files=True)

    def __init__(self, client: AccessClient, *, timeout_s: float = SEND_TIMEOUT_S) -> None:
        self.client = client
        self.timeout_s = timeout_s
        self._local = threading.local()

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

    # -- the contract ----------------------------------------------------------------------------

    def send(self, destination: Destination, message: Outgoing) -> MessageRef:
        target: _ReplyTarget | None = getattr(self._local, "reply_to", None)
        if (
            target is not None
            and destination.user is not None
            and destination.user.id == target.user_id
            and not message.buttons
            and not message.reactions
        ):
            try:
                ref = self.call(
                    self.client.send_followup(target.interaction, message), what="answering an interaction"
                )
                target.answered = True
                return ref
            except DeliveryError as exc:
                log.warning("interaction follow-up failed (%s); answering by DM instead", exc)
                self._local.reply_to = None
        where = "a DM" if destination.user is not None else f"channel {destination.channel}"
        return self.call(self.client.deliver(destination, message), what=f"sending to {where}")

    def edit(self, ref: MessageRef, message: Outgoing) -> None:
        self.call(self.client.replace(ref, message), what=f"editing message {ref.message_id}")

    def mention(self, user: UserRef) -> str:
        return f"<@{user.id}>"

    def profile(self, user: UserRef) -> Profile:
        known = self.client.profiles.get(user.id)
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
        return _profile_of(found)

    # -- dispatch (runs in the worker thread) ---------------------------------------------------

    def dispatch(self, event: Event, reply_to: discord.Interaction[Any] | None = None) -> bool:
        """Hand one event to the core; replies to the interaction's user go to the interaction.

        Returns True when the interaction got an answer this way."""
        target = _ReplyTarget(str(reply_to.user.id), reply_to) if reply_to is not None else None
        self._local.reply_to = target
        try:
            self.client.bot.dispatch(event)
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


# -- rendering --------------------------------------------------------------------------------


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Cut a long text into messages Discord accepts, at line breaks where possible."""
    chunks: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        if len(current) + len(line) > limit:
            chunks.append(current)
            current = ""
        current += line
    if current.strip() or not chunks:
        chunks.append(current)
    return [c.rstrip("\n") or "\u200b" for c in chunks]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def custom_id(action: str, value: str) -> str:
    return f"{CUSTOM_ID_PREFIX}:{action}:{value}"


_STYLES = {
    ButtonStyle.PRIMARY: discord.ButtonStyle.success,
    ButtonStyle.DANGER: discord.ButtonStyle.danger,
    ButtonStyle.DEFAULT: discord.ButtonStyle.secondary,
}


def render_embed(message: Outgoing, names: dict[str, str] | None = None) -> discord.Embed:
    """Title, the text lines not already shown as fields, and the fields (within Discord's limits)."""
    names = names or {}
    shown = {f"{name}: {value}" for name, value in message.fields} | {v for _, v in message.fields}
    lines = [line for line in message.text.splitlines() if line.strip() not in shown]
    title = message.title
    if title:  # mentions are not rendered in titles: show the name instead
        title = _MENTION.sub(lambda m: "@" + names.get(m.group(1), m.group(1)), title)
    embed = discord.Embed(
        title=_clip(title, 256) if title else None,
        description=_clip("\n".join(lines).strip(), 4096) or None,
    )
    for name, value in message.fields[:25]:
        embed.add_field(name=_clip(name, 256) or "\u200b", value=_clip(value, 1024) or "-", inline=False)
    if len(embed) > 6000:  # too much for one embed: the text alone is always complete
        embed = discord.Embed(title=embed.title, description=_clip(message.text, 4096))
    return embed


def render_view(buttons: tuple[Button, ...]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for button in buttons[:25]:
        view.add_item(ActionButton(button.action, button.value, label=button.label, style=button.style))
    return view


# -- components: buttons that survive restarts, and the reject form ----------------------------


class ActionButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"^accessbot:(?P<action>[a-z_]{1,20}):(?P<value>[A-Za-z0-9_.-]{0,64})$",
):
    """A button whose custom_id (`accessbot:approve:<review id>`) carries everything needed."""

    def __init__(
        self, action: str, value: str, *, label: str = "", style: ButtonStyle = ButtonStyle.DEFAULT
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=_clip(label or action.title(), 80),
                style=_STYLES[style],
                custom_id=custom_id(action, value),
            )
        )
        self.action = action
        self.value = value

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ActionButton:
        return cls(match["action"], match["value"], label=getattr(item, "label", "") or "")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        client = interaction.client
        if isinstance(client, AccessClient):
            await client.on_button(interaction, self.action, self.value)


class RejectForm(discord.ui.Modal):
    """Asked when a reviewer presses Reject: which step to reopen, and why (the applicant reads it)."""

    def __init__(self, client: AccessClient, review_id: str, post: MessageRef, steps: str) -> None:
        core = client.bot
        lang = core.rules.language

        def t(key: str) -> str:
            return core.translator.t(lang, f"review.form_{key}")

        super().__init__(
            title=_clip(t("title"), 45),
            timeout=REJECT_FORM_TIMEOUT_S,
            custom_id=f"{CUSTOM_ID_PREFIX}:reject_form:{review_id}:{post.message_id}",
        )
        # Built per form, in the rules' language (labels cannot be changed after construction).
        self.step: discord.ui.TextInput[RejectForm] = discord.ui.TextInput(
            label=_clip(t("step"), 45),
            custom_id="reopen_step",
            placeholder=_clip(steps, 100) if steps else "e.g. 2 or citi_training",
            max_length=60,
        )
        self.reason: discord.ui.TextInput[RejectForm] = discord.ui.TextInput(
            label=_clip(t("reason"), 45),
            custom_id="reason",
            style=discord.TextStyle.paragraph,
            max_length=1000,
        )
        self.add_item(self.step)
        self.add_item(self.reason)
        self.client = client
        self.review_id = review_id
        self.post = post

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        await interaction.response.defer()  # acknowledged; the answer comes as an ephemeral follow-up
        event = ButtonPress(
            event_id=str(interaction.id),
            user=user_ref(interaction.user),
            message=self.post,
            action="reject",
            value=self.review_id,
            reason=self.reason.value.strip(),
            reopen_step=self.step.value.strip(),
        )
        await self.client.dispatch_event(event, reply_to=interaction)


# -- the client ---------------------------------------------------------------------------------


def user_ref(user: discord.abc.User) -> UserRef:
    return UserRef(PLATFORM, str(user.id), user.display_name)


def _profile_of(user: discord.abc.User) -> Profile:
    """Discord has no real names: the display name (global name) is the closest."""
    return Profile(display_name=user.display_name, real_name=user.global_name or "")


class AccessClient(discord.Client):
    """A discord.Client wired to a Bot: gateway events in, neutral events out."""

    def __init__(self, bot: Bot, settings: Settings, *, intents: discord.Intents | None = None) -> None:
        super().__init__(
            intents=intents or discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.bot = bot
        self.settings = settings
        self.tree = app_commands.CommandTree(self)
        self.adapter = DiscordAdapter(self)
        # The core is thread-safe (one person's events in order, decisions one at a time): several
        # workers let others be answered while one person's PDF is being read.
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="accessbot")
        self._in_flight: set[asyncio.Future[bool]] = set()
        self.profiles: dict[str, Profile] = {}
        """People seen in events (discord.py caches no users without the members intent)."""
        self._reactions_seen: dict[str, itertools.count[int]] = {}
        self.ready_once = asyncio.Event()
        bot.attach(self.adapter)
        _add_commands(self)

    # -- start-up ----------------------------------------------------------------------------

    async def setup_hook(self) -> None:
        self.add_dynamic_items(ActionButton)
        await self.sync_commands()
        loop = asyncio.get_running_loop()
        loop.run_in_executor(self.executor, self.bot.validator.warm_up)

    async def sync_commands(self) -> None:
        """Global commands (DMs need them); a copy in the lab's guild shows up there at once."""
        await self._sync(None)
        guild_id = self.settings.discord_guild_id
        if not guild_id:
            return
        if not guild_id.isdigit():
            log.error("DISCORD_GUILD_ID must be the server's numeric id, got %r", guild_id)
            return
        guild = discord.Object(int(guild_id))
        self.tree.copy_global_to(guild=guild)
        await self._sync(guild)

    async def _sync(self, guild: discord.Object | None) -> None:
        where = f"in server {guild.id}" if guild is not None else "globally"
        try:
            await self.tree.sync(guild=guild)
        except discord.Forbidden as exc:
            log.error(
                "could not register /status and /help %s (%s): invite the bot with the"
                " applications.commands scope (docs/discord.md), and check DISCORD_GUILD_ID",
                where,
                exc,
            )
        except (discord.HTTPException, app_commands.AppCommandError) as exc:
            log.error("could not register /status and /help %s: %s", where, exc)

    async def on_ready(self) -> None:
        log.info("connected to Discord as %s (%s)", self.user, self.user.id if self.user else "?")
        if self.application_id is not None:
            log.info("invite link (exact permissions): %s", invite_url(self.application_id))
        self.ready_once.set()

    # -- dispatching to the core -----------------------------------------------------------------

    async def dispatch_event(self, event: Event, *, reply_to: discord.Interaction[Any] | None = None) -> None:
        """Run Bot.dispatch in the worker thread; the loop stays free meanwhile."""
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self.executor, self.adapter.dispatch, event, reply_to)
        self._in_flight.add(future)
        answered = False
        try:
            answered = await future
        except Exception:  # Bot.dispatch never raises; anything here is a bug worth a traceback
            log.exception("dispatching %s %s failed", type(event).__name__, event.event_id)
        finally:
            self._in_flight.discard(future)
        thinking = discord.InteractionResponseType.deferred_channel_message
        if reply_to is not None and not answered and reply_to.response.type is thinking:
            try:  # the "thinking…" placeholder would otherwise stay until it times out
                await reply_to.delete_original_response()
            except discord.HTTPException as exc:
                log.warning("could not remove the placeholder of interaction %s: %s", reply_to.id, exc)

    async def drain(self) -> None:
        """Wait until every event handed to the core so far has been handled."""
        while self._in_flight:
            await asyncio.gather(*list(self._in_flight), return_exceptions=True)

    async def close(self) -> None:
        await super().close()
        self.executor.shutdown(wait=False, cancel_futures=True)

    # -- messages --------------------------------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or (self.user is not None and message.author.id == self.user.id):
            return
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return  # pins, joins, thread-created notices...
        self.remember(message.author)
        attachments = tuple(self.adapter.attachment(a) for a in message.attachments)
        text = self._clean(message.content)
        if _is_dm(message):
            event: Event = DirectMessage(
                event_id=str(message.id), user=user_ref(message.author), text=text, attachments=attachments
            )
        else:
            thread = _thread_of(message)
            if not attachments and thread is None:
                return  # ordinary chatter is not for the bot (and would only fill the store)
            event = ChannelMessage(
                event_id=str(message.id),
                user=user_ref(message.author),
                channel=str(message.channel.id),
                text=text,
                message=MessageRef(PLATFORM, str(message.channel.id), str(message.id)),
                thread=thread,
                attachments=attachments,
            )
        await self.dispatch_event(event)

    def remember(self, user: discord.abc.User) -> None:
        self.profiles[str(user.id)] = _profile_of(user)

    def _names(self) -> dict[str, str]:
        return {key: p.display_name for key, p in self.profiles.items()}

    def _clean(self, content: str) -> str:
        """Drop the bot's own mention (how people address it in a channel)."""
        if self.user is None:
            return content.strip()
        return re.sub(rf"<@!?{self.user.id}>", "", content).strip()

    # -- reactions -------------------------------------------------------------------------------

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self._reaction(payload, added=True)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self._reaction(payload, added=False)

    async def _reaction(self, payload: discord.RawReactionActionEvent, *, added: bool) -> None:
        if self.user is not None and payload.user_id == self.user.id:
            return  # the approve/reject emoji the bot seeds itself
        if payload.member is not None and payload.member.bot:
            return
        emoji = canonical(payload.emoji.name or "")
        if not emoji or self.bot.reviews.vote_for_emoji(emoji) is None:
            return  # not a vote: no need to wake the core (or write the event id)
        kind = "add" if added else "remove"
        event_id = f"{payload.message_id}:{payload.user_id}:{emoji}:{kind}"
        # The same reviewer may withdraw and vote again: later toggles get their own ids.
        nth = next(self._reactions_seen.setdefault(event_id, itertools.count()))
        if nth:
            event_id = f"{event_id}:{nth}"
        name = payload.member.display_name if payload.member is not None else ""
        user = UserRef(PLATFORM, str(payload.user_id), name or self._names().get(str(payload.user_id), ""))
        ref = MessageRef(PLATFORM, str(payload.channel_id), str(payload.message_id))
        if added:
            await self.dispatch_event(ReactionAdded(event_id=event_id, user=user, message=ref, emoji=emoji))
        else:
            await self.dispatch_event(ReactionRemoved(event_id=event_id, user=user, message=ref, emoji=emoji))

    # -- buttons and the reject form ---------------------------------------------------------------

    async def on_button(self, interaction: discord.Interaction[Any], action: str, value: str) -> None:
        if interaction.message is None:
            return
        channel_id = interaction.channel_id or interaction.message.channel.id
        post = MessageRef(PLATFORM, str(channel_id), str(interaction.message.id))
        self.remember(interaction.user)
        user = user_ref(interaction.user)
        rules = self.bot.rules
        if action == "reject" and rules.is_reviewer(user.key):
            try:
                await interaction.response.send_modal(RejectForm(self, value, post, self._step_hint()))
            except discord.HTTPException as exc:
                log.error("could not open the reject form for review %s: %s", value, exc)
            return
        try:
            await interaction.response.defer()  # within 3 s; the core's answer comes as a follow-up
        except discord.HTTPException as exc:
            log.error("could not acknowledge the %s button (review %s): %s", action, value, exc)
        event = ButtonPress(event_id=str(interaction.id), user=user, message=post, action=action, value=value)
        await self.dispatch_event(event, reply_to=interaction)

    def _step_hint(self) -> str:
        rules = self.bot.rules
        steps = [f"{n}. {s.id}" for n, s in enumerate(rules.steps, start=1) if s.complete_by != "review"]
        return ", ".join(steps)

    # -- sending (on the loop) ---------------------------------------------------------------------

    async def deliver(self, destination: Destination, message: Outgoing) -> MessageRef:
        what = "opening a DM" if destination.user is not None else "resolving the channel"
        try:
            if destination.user is not None:
                channel: discord.abc.Messageable = await self.create_dm(
                    discord.Object(int(destination.user.id))
                )
            else:
                channel = self.get_partial_messageable(int(str(destination.channel)))
            reference = None
            if destination.thread is not None:
                # A thread reviewers started on the post has the post's id: answer there. Otherwise
                # a "thread" on Discord is a reply to the post.
                started = self.get_channel(int(destination.thread.message_id))
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
        return MessageRef(PLATFORM, str(sent.channel.id), str(sent.id))

    async def replace(self, ref: MessageRef, message: Outgoing) -> None:
        """Edit a message the bot sent: new embed and text; the view goes when there are no buttons."""
        try:
            partial = self.get_partial_messageable(int(ref.channel)).get_partial_message(int(ref.message_id))
            if message.buttons or message.fields:
                view = render_view(message.buttons) if message.buttons else None
                await partial.edit(content=None, embed=render_embed(message, self._names()), view=view)
            else:
                await partial.edit(content=_clip(message.text, 2000), embed=None, view=None)
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
        if message.buttons or message.fields:
            embed = render_embed(message, self._names())
            if message.buttons:
                return await channel.send(embed=embed, view=render_view(message.buttons), reference=reply_to)
            return await channel.send(embed=embed, reference=reply_to)
        text = f"**{message.title}**\n{message.text}" if message.title else message.text
        if message.files:  # attachments ride with the first chunk of text
            files = [discord.File(io.BytesIO(f.data), filename=f.filename) for f in message.files]
            return await channel.send(_clip(text, 2000), files=files, reference=reply_to)
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

    async def send_followup(self, interaction: discord.Interaction[Any], message: Outgoing) -> MessageRef:
        """Answer the person who pressed a button or used a command, only to them."""
        text = f"**{message.title}**\n{message.text}" if message.title else message.text
        try:
            first: discord.WebhookMessage | None = None
            for chunk in split_text(text):
                sent = await interaction.followup.send(chunk, ephemeral=True, wait=True)
                first = first or sent
        except discord.HTTPException as exc:
            raise delivery_error(exc, "answering an interaction") from exc
        assert first is not None
        return MessageRef(PLATFORM, str(interaction.channel_id or ""), str(first.id))


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


def _is_dm(message: discord.Message) -> bool:
    if isinstance(message.channel, discord.DMChannel):
        return True
    return message.guild is None and getattr(message.channel, "guild_id", None) is None


def _thread_of(message: discord.Message) -> MessageRef | None:
    """The post a channel message answers: a reply to it, or a message in the thread started on it."""
    reference = message.reference
    if reference is not None and reference.message_id is not None:
        channel_id = reference.channel_id or message.channel.id
        return MessageRef(PLATFORM, str(channel_id), str(reference.message_id))
    channel = message.channel
    if isinstance(channel, discord.Thread) and channel.parent_id is not None:
        # A thread started from a message has that message's id.
        return MessageRef(PLATFORM, str(channel.parent_id), str(channel.id))
    return None


# -- slash commands ---------------------------------------------------------------------------------


def _add_commands(client: AccessClient) -> None:
    async def answer(interaction: discord.Interaction[Any], name: str) -> None:
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
        except discord.HTTPException as exc:
            log.error("could not acknowledge /%s: %s", name, exc)
        client.remember(interaction.user)
        event = Command(event_id=str(interaction.id), user=user_ref(interaction.user), name=name)
        await client.dispatch_event(event, reply_to=interaction)

    @app_commands.command(name="status", description="Your checklist: what is done and what to do next")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    @app_commands.allowed_installs(guilds=True, users=False)
    async def status(interaction: discord.Interaction[Any]) -> None:
        await answer(interaction, "status")

    @app_commands.command(name="help", description="How this bot guides you to MIMIC-CXR access")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    @app_commands.allowed_installs(guilds=True, users=False)
    async def help_(interaction: discord.Interaction[Any]) -> None:
        await answer(interaction, "help")

    client.tree.add_command(status)
    client.tree.add_command(help_)


# -- entry points ----------------------------------------------------------------------------------


def invite_url(application_id: int | str) -> str:
    """The link that adds the bot to a server with exactly PERMISSIONS and the two scopes."""
    return discord.utils.oauth_url(application_id, permissions=PERMISSIONS, scopes=SCOPES)


def create_client(bot: Bot, settings: Settings) -> AccessClient:
    """The client, attached to `bot` (not connected: `run` or `client.start(token)` connects it)."""
    return AccessClient(bot, settings)


_BAD_LOGIN_HELP = (
    "Discord refused the bot token. In the Developer Portal (https://discord.com/developers/applications)"
    " open your application, Bot, Reset Token, and put the new token in DISCORD_TOKEN."
)
_INTENTS_HELP = (
    "Discord closed the connection (code 4014): the bot asked for a privileged intent that is not enabled."
    " accessbot needs none; if you changed the intents, enable them in the Developer Portal, Bot,"
    " Privileged Gateway Intents, or remove them."
)


def run(bot: Bot, settings: Settings, **_options: object) -> int:
    """`accessbot run discord`: connect and serve until interrupted. Returns an exit code."""
    from bot.app import ReminderLoop

    if not settings.discord_token:
        _fail("DISCORD_TOKEN is not set: copy the bot token from the Developer Portal (see docs/discord.md).")
        return EXIT_FAIL
    client = create_client(bot, settings)
    reminders = ReminderLoop(bot)

    async def start_reminders() -> None:
        await client.ready_once.wait()
        reminders.start()

    async def stop() -> None:
        """`docker stop` sends SIGTERM: finish the events in hand, then disconnect (exit 0)."""
        log.info("SIGTERM: finishing current events, then disconnecting")
        await client.drain()
        await client.close()

    stopping: list[asyncio.Task[None]] = []  # held, so the task is not garbage-collected mid-way

    async def main() -> None:
        loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread():  # signals reach the main thread only
            loop.add_signal_handler(signal.SIGTERM, lambda: stopping.append(loop.create_task(stop())))
        async with client:
            starter = asyncio.create_task(start_reminders())
            try:
                await client.start(settings.discord_token)
            finally:
                starter.cancel()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        return EXIT_OK
    except discord.LoginFailure:
        _fail(_BAD_LOGIN_HELP)
        return EXIT_FAIL
    except discord.PrivilegedIntentsRequired:
        _fail(_INTENTS_HELP)
        return EXIT_FAIL
    except (discord.HTTPException, discord.GatewayNotFound, OSError) as exc:
        _fail(f"could not connect to Discord: {exc}")
        return EXIT_FAIL
    finally:
        reminders.stop()
    return EXIT_OK


def _fail(text: str) -> None:
    log.error("%s", text)
    sys.stderr.write(f"accessbot: {text}\n")
