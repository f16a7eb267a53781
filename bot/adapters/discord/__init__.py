"""The Discord adapter (discord.py 2.7), as a package behind the platform contract (bot/platform.py).

- setup.py: settings, the token checker and offline checks, the invite link's permissions;
- client.py: the discord.Client subclass (gateway events in, neutral events out);
- outbound.py: the Adapter (send, edit, mention, profile), follow-ups, attachments;
- render.py: text splitting and embeds; components.py: buttons and modals from a neutral Form;
- serve.py: connect and serve until the Stopper asks.

Only `PLATFORM` is exported here, and importing it does not import discord.py.
"""

from __future__ import annotations

from bot.adapters.discord.descriptor import DiscordPlatform

PLATFORM = DiscordPlatform()
