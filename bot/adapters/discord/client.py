"""The discord.Client subclass: gateway events in, neutral events out, handed to the Host.

Threading: discord.py runs one asyncio loop. `Host.dispatch` is synchronous (PDF validation can take
seconds), so every event is dispatched in a small thread pool and the loop stays free. Interactions
are answered on the loop (defer, or a form) before anything is dispatched, so Discord's 3-second
deadline never depends on the queue.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import re
import time
from collections.abc import Callable
from typing import Any

import discord
from discord import app_commands

from bot.adapters.discord.components import CUSTOM_ID_PREFIX, ActionButton, FormModal
from bot.adapters.discord.outbound import DiscordAdapter, user_ref
from bot.adapters.discord.setup import GUILD_VAR, NAME, guild_id, invite_url
from bot.emoji import canonical
from bot.events import (
    ButtonPress,
    ChannelMessage,
    Command,
    DirectMessage,
    Event,
    Form,
    FormSubmitted,
    MessageRef,
    ReactionAdded,
    ReactionRemoved,
    UserRef,
)
from bot.platform import Environment, Host

log = logging.getLogger(__name__)


class EventStamps:
    """Strictly increasing stamps (nanoseconds of the wall clock) for events Discord gives no id.

    A reaction has no id of its own: `message:user:emoji:add` is the same for a vote withdrawn and
    given again, in this run or the next. The stamp makes each gateway event's id unique; taken from
    the wall clock, it does not repeat after a restart either (the clock has moved on since)."""

    def __init__(self, clock_ns: Callable[[], int] = time.time_ns) -> None:
        self._clock_ns = clock_ns
        self._last = 0

    def next(self) -> int:
        self._last = max(self._last + 1, self._clock_ns())
        return self._last


class AccessClient(discord.Client):
    """A discord.Client wired to a Host."""

    def __init__(self, host: Host, env: Environment, *, intents: discord.Intents | None = None) -> None:
        super().__init__(
            intents=intents or discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.host = host
        self.env = env
        self.tree = app_commands.CommandTree(self)
        self.adapter = DiscordAdapter(self, host, default_guild=env.get(GUILD_VAR))
        # The core is thread-safe (one person's events in order, decisions one at a time): several
        # workers let others be answered while one person's PDF is being read.
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="accessbot")
        self._in_flight: set[asyncio.Future[bool]] = set()
        self.stamps = EventStamps()
        host.attach(self.adapter)
        _add_commands(self)

    # -- start-up ----------------------------------------------------------------------------

    async def setup_hook(self) -> None:
        self.add_dynamic_items(ActionButton)
        await self.sync_commands()

    async def sync_commands(self) -> None:
        """Global commands (DMs need them); a copy in the lab's guild shows up there at once."""
        await self._sync(None)
        if not self.env.get(GUILD_VAR):
            return
        server = guild_id(self.env)
        if server is None:
            log.error("%s must be the server's numeric id, got %r", GUILD_VAR, self.env.get(GUILD_VAR))
            return
        guild = discord.Object(server)
        self.tree.copy_global_to(guild=guild)
        await self._sync(guild)

    async def _sync(self, guild: discord.Object | None) -> None:
        where = f"in server {guild.id}" if guild is not None else "globally"
        try:
            await self.tree.sync(guild=guild)
        except discord.Forbidden as exc:
            log.error(
                "could not register /status and /help %s (%s): invite the bot with the"
                " applications.commands scope (docs/discord.md), and check %s",
                where,
                exc,
                GUILD_VAR,
            )
        except (discord.HTTPException, app_commands.AppCommandError) as exc:
            log.error("could not register /status and /help %s: %s", where, exc)

    async def on_ready(self) -> None:
        log.info("connected to Discord as %s (%s)", self.user, self.user.id if self.user else "?")
        if self.application_id is not None:
            roles = any(e.kind == "discord_role" for e in self.host.rules.entitlements)
            log.info("invite link (exact permissions): %s", invite_url(self.application_id, roles=roles))

    # -- dispatching to the core -----------------------------------------------------------------

    async def dispatch_event(self, event: Event, *, reply_to: discord.Interaction[Any] | None = None) -> None:
        """Run Host.dispatch in a worker thread; the loop stays free meanwhile."""
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self.executor, self.adapter.dispatch, event, reply_to)
        self._in_flight.add(future)
        answered = False
        try:
            answered = await future
        except Exception:  # Host.dispatch never raises; anything here is a bug worth a traceback
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
        self.adapter.remember(message.author)
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
                message=MessageRef(NAME, str(message.channel.id), str(message.id)),
                thread=thread,
                attachments=attachments,
            )
        await self.dispatch_event(event)

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
        """Every reaction but the bots' goes to the core, which decides which emoji are votes."""
        if self.user is not None and payload.user_id == self.user.id:
            return  # the approve/reject emoji the bot seeds itself
        if payload.member is not None and payload.member.bot:
            return
        emoji = canonical(payload.emoji.name or "")
        if not emoji:
            return
        kind = "add" if added else "remove"
        event_id = f"{payload.message_id}:{payload.user_id}:{emoji}:{kind}:{self.stamps.next()}"
        name = payload.member.display_name if payload.member is not None else ""
        known = self.adapter.names().get(str(payload.user_id), "")
        user = UserRef(NAME, str(payload.user_id), name or known)
        ref = MessageRef(NAME, str(payload.channel_id), str(payload.message_id))
        if added:
            await self.dispatch_event(ReactionAdded(event_id=event_id, user=user, message=ref, emoji=emoji))
        else:
            await self.dispatch_event(ReactionRemoved(event_id=event_id, user=user, message=ref, emoji=emoji))

    # -- buttons and forms -----------------------------------------------------------------------

    async def on_button(self, interaction: discord.Interaction[Any], action: str, value: str) -> None:
        if interaction.message is None:
            return
        channel_id = interaction.channel_id or interaction.message.channel.id
        post = MessageRef(NAME, str(channel_id), str(interaction.message.id))
        self.adapter.remember(interaction.user)
        press = ButtonPress(
            event_id=str(interaction.id),
            user=user_ref(interaction.user),
            message=post,
            action=action,
            value=value,
        )
        form = await self._form_for(press)
        if form is not None:
            modal = FormModal(
                form, post, self._form_submitted, custom_id=f"{CUSTOM_ID_PREFIX}:form:{interaction.id}"
            )
            try:
                await interaction.response.send_modal(modal)
            except discord.HTTPException as exc:
                log.error("could not open form %s (button %s %s): %s", form.id, action, value, exc)
            return
        try:
            await interaction.response.defer()  # within 3 s; the core's answer comes as a follow-up
        except discord.HTTPException as exc:
            log.error("could not acknowledge the %s button (%s): %s", action, value, exc)
        await self.dispatch_event(press, reply_to=interaction)

    async def _form_for(self, press: ButtonPress) -> Form | None:
        """Ask the core (off the loop, not queued behind PDF checks) whether the press opens a form."""
        try:
            return await asyncio.to_thread(self.host.form_for, press)
        except Exception:  # the press is then dispatched as it is: the core still decides
            log.exception("asking for the form of button %s %s failed", press.action, press.value)
            return None

    async def _form_submitted(self, interaction: discord.Interaction[Any], modal: FormModal) -> None:
        self.adapter.remember(interaction.user)
        event = FormSubmitted(
            event_id=str(interaction.id),
            user=user_ref(interaction.user),
            form=modal.form.id,
            context=modal.form.context,
            message=modal.post,
            answers=modal.answers(),
        )
        await self.dispatch_event(event, reply_to=interaction)


def create_client(host: Host, env: Environment) -> AccessClient:
    """The client, attached to `host` (not connected: `serve` or `client.start(token)` connects it)."""
    return AccessClient(host, env)


def _is_dm(message: discord.Message) -> bool:
    if isinstance(message.channel, discord.DMChannel):
        return True
    return message.guild is None and getattr(message.channel, "guild_id", None) is None


def _thread_of(message: discord.Message) -> MessageRef | None:
    """The post a channel message answers: a reply to it, or a message in the thread started on it."""
    reference = message.reference
    if reference is not None and reference.message_id is not None:
        channel_id = reference.channel_id or message.channel.id
        return MessageRef(NAME, str(channel_id), str(reference.message_id))
    channel = message.channel
    if isinstance(channel, discord.Thread) and channel.parent_id is not None:
        # A thread started from a message has that message's id.
        return MessageRef(NAME, str(channel.parent_id), str(channel.id))
    return None


# -- slash commands ---------------------------------------------------------------------------------


def _add_commands(client: AccessClient) -> None:
    async def answer(interaction: discord.Interaction[Any], name: str) -> None:
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
        except discord.HTTPException as exc:
            log.error("could not acknowledge /%s: %s", name, exc)
        client.adapter.remember(interaction.user)
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

    @app_commands.command(name="queue", description="Reviewers: the packages waiting, oldest first")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    @app_commands.allowed_installs(guilds=True, users=False)
    async def queue(interaction: discord.Interaction[Any]) -> None:
        await answer(interaction, "queue")

    @app_commands.command(name="stats", description="Admins: the figures and the latest problems")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    @app_commands.allowed_installs(guilds=True, users=False)
    async def stats(interaction: discord.Interaction[Any]) -> None:
        await answer(interaction, "stats")

    client.tree.add_command(status)
    client.tree.add_command(help_)
    client.tree.add_command(queue)
    client.tree.add_command(stats)
