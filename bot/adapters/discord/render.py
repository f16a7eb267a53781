"""Neutral messages as Discord shows them: text cut to Discord's limits, embeds."""

from __future__ import annotations

import re

import discord

from bot.events import Outgoing

TEXT_LIMIT = 2000
"""Discord's limit for a message's content."""

_MENTION = re.compile(r"<@!?(\d+)>")


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


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(message: Outgoing) -> str:
    """The message as one text: the title in bold, then the text."""
    return f"**{message.title}**\n{message.text}" if message.title else message.text


def render_embed(message: Outgoing, names: dict[str, str] | None = None) -> discord.Embed:
    """Title, the text lines not already shown as fields, and the fields (within Discord's limits)."""
    names = names or {}
    shown = {f"{name}: {value}" for name, value in message.fields} | {v for _, v in message.fields}
    lines = [line for line in message.text.splitlines() if line.strip() not in shown]
    title = message.title
    if title:  # mentions are not rendered in titles: show the name instead
        title = _MENTION.sub(lambda m: "@" + names.get(m.group(1), m.group(1)), title)
    embed = discord.Embed(
        title=clip(title, 256) if title else None,
        description=clip("\n".join(lines).strip(), 4096) or None,
    )
    for name, value in message.fields[:25]:
        embed.add_field(name=clip(name, 256) or "\u200b", value=clip(value, 1024) or "-", inline=False)
    if len(embed) > 6000:  # too much for one embed: the text alone is always complete
        embed = discord.Embed(title=embed.title, description=clip(message.text, 4096))
    return embed
