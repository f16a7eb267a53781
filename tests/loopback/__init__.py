"""A small platform over a loopback TCP socket, to prove a platform is one package and one line.

Protocol: JSON lines. The client sends {"user": "ann", "text": "..."} (a DM) or {"quit": true};
the server answers every message the bot sends as {"to": "dm:ann" | "#reviewers", "text": "..."},
then {"done": true} once the event is handled. It has no buttons, reactions, threads, forms or
files, so the core's text fallbacks are what reviewers see.
"""

from __future__ import annotations

import itertools
import json
import socket
from dataclasses import dataclass, field

from bot.events import Destination, DirectMessage, MessageRef, Outgoing, UserRef
from bot.platform import Capabilities, Check, Environment, Host, Profile, ServeOptions, Setting, Stopper
from bot.rules import Rules
from bot.setup_checks import people_checks

NAME = "loopback"
PORT = "ACCESSBOT_LOOPBACK_PORT"


@dataclass
class LoopbackAdapter:
    platform: str = NAME
    capabilities: Capabilities = field(default_factory=lambda: Capabilities(reactions=False))
    outbox: list[dict[str, str]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def send(self, destination: Destination, message: Outgoing) -> MessageRef:
        to = f"dm:{destination.user.id}" if destination.user else f"#{destination.channel}"
        self.outbox.append({"to": to, "text": message.text})
        return MessageRef(NAME, destination.channel or to, str(next(self._ids)))

    def edit(self, ref: MessageRef, message: Outgoing) -> None:
        self.outbox.append({"to": f"#{ref.channel}", "text": message.text, "edited": ref.message_id})

    def mention(self, user: UserRef) -> str:
        return f"@{user.id}"

    def profile(self, user: UserRef) -> Profile:
        return Profile(display_name=user.id)


class LoopbackPlatform:
    name = NAME
    settings = (Setting(PORT, "port on 127.0.0.1 the loopback test platform listens on"),)

    def configured(self, env: Environment) -> bool:
        return bool(env.get(PORT))

    def partly_configured(self, env: Environment) -> bool:
        return self.configured(env)

    def checks(self, env: Environment, rules: Rules | None, options: ServeOptions) -> list[Check]:
        found = [
            Check.good(f"{PORT} is {env.get(PORT)}")
            if env.get(PORT).isdigit()
            else Check.fail(f"{PORT} is not a port number", f"set {PORT}")
        ]
        if rules is not None:
            found += people_checks(
                rules, NAME, options.rules_path, channel_pattern=None, channel_help="any name"
            )
        return found

    def serve(self, host: Host, env: Environment, options: ServeOptions, stopper: Stopper) -> int:
        adapter = LoopbackAdapter()
        host.attach(adapter)
        with socket.create_server(("127.0.0.1", int(env.get(PORT)))) as server:
            server.settimeout(10)
            connection, _ = server.accept()
            with connection, connection.makefile("rw", encoding="utf-8") as stream:
                for number, line in enumerate(stream):
                    request = json.loads(line)
                    if request.get("quit") or stopper.requested:
                        break
                    user = UserRef(NAME, str(request["user"]))
                    host.dispatch(
                        DirectMessage(event_id=f"loop-{number}", user=user, text=str(request["text"]))
                    )
                    for sent in adapter.outbox:
                        stream.write(json.dumps(sent) + "\n")
                    adapter.outbox.clear()
                    stream.write(json.dumps({"done": True}) + "\n")
                    stream.flush()
        return 0


PLATFORM = LoopbackPlatform()
