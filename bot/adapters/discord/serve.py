"""`accessbot run discord`: connect, serve until the runtime's Stopper asks, then drain and close.

The runtime (not this module) warms up the PDF worker, runs reminders, turns SIGTERM into
`stopper.request()`, and closes the store after `serve` returns. Never exits the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys

import discord

from bot.adapters.discord.client import AccessClient, create_client
from bot.adapters.discord.setup import TOKEN_VAR, token_check
from bot.platform import Environment, Host, Stopper

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAIL = 0, 1
CLOSE_TIMEOUT_S = 10.0

BAD_LOGIN_HELP = (
    "Discord refused the bot token. In the Developer Portal (https://discord.com/developers/applications)"
    f" open your application, Bot, Reset Token, and put the new token in {TOKEN_VAR}."
)
INTENTS_HELP = (
    "Discord closed the connection (code 4014): the bot asked for a privileged intent that is not enabled."
    " accessbot needs none; if you changed the intents, enable them in the Developer Portal, Bot,"
    " Privileged Gateway Intents, or remove them."
)


def serve(host: Host, env: Environment, stopper: Stopper) -> int:
    """Connect and serve until `stopper` asks (exit 0), or explain why Discord refused (exit 1)."""
    check = token_check(env)
    if not check.ok:
        fail(f"{check.what}: {check.fix} (see docs/discord.md).")
        return EXIT_FAIL
    client = create_client(host, env)
    try:
        asyncio.run(_serve(client, env.get(TOKEN_VAR), stopper))
    except KeyboardInterrupt:
        return EXIT_OK
    except discord.LoginFailure:
        fail(BAD_LOGIN_HELP)
        return EXIT_FAIL
    except discord.PrivilegedIntentsRequired:
        fail(INTENTS_HELP)
        return EXIT_FAIL
    except (discord.HTTPException, discord.GatewayNotFound, OSError) as exc:
        fail(f"could not connect to Discord: {exc}")
        return EXIT_FAIL
    finally:
        # Events still in a worker finish here (their sends fail fast: the connection is closed), so
        # nothing touches the core after serve returns and the runtime closes the store.
        client.executor.shutdown(wait=True, cancel_futures=True)
    return EXIT_OK


async def _serve(client: AccessClient, token: str, stopper: Stopper) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def request() -> None:  # on whichever thread asks (the main thread, for SIGTERM): never blocks
        with contextlib.suppress(RuntimeError):  # the loop is already closed: nothing left to stop
            loop.call_soon_threadsafe(stop.set)

    stopper.on_stop(request)
    async with client:
        running = asyncio.create_task(client.start(token), name="discord")
        stopping = asyncio.create_task(stop.wait(), name="discord-stop")
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not stopping.done():  # the connection ended by itself: say why (LoginFailure, ...)
            stopping.cancel()
            running.result()
            return
        log.info("stopping: finishing current events, then disconnecting")
        await client.drain()
        await client.close()
        done, _ = await asyncio.wait({running}, timeout=CLOSE_TIMEOUT_S)
        if not done:  # still logging in when asked to stop
            running.cancel()
        with contextlib.suppress(asyncio.CancelledError, discord.DiscordException, OSError):
            await running  # failures while closing on purpose are not worth an exit code


def fail(text: str) -> None:
    log.error("%s", text)
    sys.stderr.write(f"accessbot: {text}\n")
