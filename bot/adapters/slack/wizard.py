"""`accessbot init` for Slack: the app from the manifest, the tokens checked live, the reviewers channel
picked by name (or created), reviewers and admins found by @name or e-mail. Nobody copies an id.

Plain HTTPS to the Web API (bot/setup/http.py): no Slack library is loaded to set up.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from bot.adapters.slack.setup import (
    APP_TOKEN,
    BOT_TOKEN,
    CHANNEL_ID,
    OPTIONAL_SCOPES,
    REQUIRED_SCOPES,
    SETUP_SCOPES,
    SIGNING_SECRET,
    value_check,
)
from bot.setup.ask import SetupError
from bot.setup.contract import PlatformSetup, SetupInput
from bot.setup.files import shipped
from bot.setup.http import HTTPFailure, JSONClient

SLACK_API = "https://slack.com/api/"
NEW_APP_URL = "https://api.slack.com/apps?new_app=1&manifest_json="
NEW_CHANNEL = "mimic-access-review"
PUBLIC_WARNING = "review posts show applicants' documents; a private channel is safer"
_USER_ID = re.compile(r"^[UW][A-Z0-9]{6,}$")
_MAX_PAGES = 50


class SlackRefused(Exception):
    def __init__(self, method: str, error: str, needed: str = "") -> None:
        hint = f" (the app lacks the scope {needed}: reinstall it from slack-manifest.yaml)" if needed else ""
        super().__init__(f"Slack {method}: {error}{hint}")
        self.method, self.error, self.needed = method, error, needed


@dataclass
class SlackAPI:
    token: str
    base_url: str = SLACK_API

    def call(self, method: str, **params: str) -> tuple[dict[str, Any], dict[str, str]]:
        client = JSONClient(self.base_url, {"Authorization": f"Bearer {self.token}"})
        try:
            answer = client.request("POST", method, form=params)
        except HTTPFailure as exc:
            raise SlackRefused(method, str(exc)) from None
        body = answer.body if isinstance(answer.body, dict) else {}
        if not body.get("ok"):
            raise SlackRefused(method, str(body.get("error") or "no answer"), str(body.get("needed") or ""))
        return body, {k.lower(): v for k, v in answer.headers.items()}

    def pages(self, method: str, key: str, **params: str) -> Iterator[dict[str, Any]]:
        cursor = ""
        for _ in range(_MAX_PAGES):
            body, _headers = self.call(
                method, limit="200", **params, **({"cursor": cursor} if cursor else {})
            )
            yield from body.get(key) or []
            cursor = str((body.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                return


@dataclass
class Channel:
    id: str
    name: str
    private: bool
    member: bool

    def label(self) -> str:
        where = "private" if self.private else "public: everyone can read the review posts"
        return f"#{self.name} ({where}{'' if self.member else '; the bot is not in it yet'})"


@dataclass
class Conversation:
    setup: SetupInput
    api: SlackAPI = field(init=False)
    bot_name: str = ""
    granted: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    _users: list[dict[str, Any]] | None = None

    # -- 1. the app and its tokens --------------------------------------------------------------

    def manifest(self) -> None:
        say = self.setup.ask.say
        path = shipped("slack-manifest.yaml")
        say("Slack, step 1: the app. Skip this if the lab's accessbot app exists already.")
        if path is not None:
            manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
            link = NEW_APP_URL + urllib.parse.quote(json.dumps(manifest, separators=(",", ":")))
            say(f"  Open this link, pick the lab's workspace, and press Create:\n  {link}")
            say(f"  (or: https://api.slack.com/apps -> Create New App -> From a manifest, paste {path})")
        else:
            say(
                "  https://api.slack.com/apps -> Create New App -> From a manifest: paste slack-manifest.yaml"
            )
        say("  Then Install App -> Install to Workspace, and copy the Bot User OAuth Token (xoxb-...).")

    def bot_token(self) -> str:
        default = self.setup.answer("slack_bot_token") or self.setup.env.get(BOT_TOKEN)

        def check(value: str) -> str:
            shape = value_check(BOT_TOKEN, value)
            if not shape.ok:
                raise ValueError(f"{shape.what}: {shape.fix}")
            api = SlackAPI(value, self.setup.api_url or SLACK_API)
            try:
                body, headers = api.call("auth.test")
            except SlackRefused as exc:
                raise ValueError(f"{exc}: copy the Bot User OAuth Token again") from None
            self.api = api
            self.bot_name = str(body.get("user") or "accessbot")
            self.granted = {s.strip() for s in headers.get("x-oauth-scopes", "").split(",") if s.strip()}
            self.setup.ask.say(
                f"  ✓ the bot @{self.bot_name} in the workspace {body.get('team')} ({body.get('url')})"
            )
            return value

        token = self.setup.ask.until(
            "Bot User OAuth Token (xoxb-...):", default, check, flag="--slack-bot-token", secret=True
        )
        self.scopes()
        return token

    def scopes(self) -> None:
        if not self.granted:
            return
        missing = [s for s in REQUIRED_SCOPES if s not in self.granted]
        if missing:
            raise SetupError(
                f"the bot token lacks {', '.join(missing)}: re-create the app from slack-manifest.yaml"
                " (or add the scopes under OAuth & Permissions), reinstall it, and run accessbot init again"
            )
        for scope, effect in {**OPTIONAL_SCOPES, **SETUP_SCOPES}.items():
            if scope not in self.granted:
                self.setup.ask.say(f"  ! the token lacks {scope}: {effect}")

    def mode(self) -> tuple[dict[str, str], list[str]]:
        """Socket Mode (the app-level token, checked by apps.connections.open) or HTTP mode."""
        ask, env = self.setup.ask, self.setup.env
        given = self.setup.answer("slack_mode")
        default = given or ("http" if env.get(SIGNING_SECRET) and not env.get(APP_TOKEN) else "socket")

        def parse_mode(value: str) -> str:
            if value.lower() not in ("socket", "http"):
                raise ValueError("answer socket or http")
            return value.lower()

        mode = ask.until(
            "Socket Mode (no public URL needed) or HTTP mode? socket/http",
            default,
            parse_mode,
            flag="--slack-mode",
        )
        if mode == "http":
            ask.say("  Basic Information -> App Credentials -> Signing Secret (32 hex characters).")
            secret = ask.until(
                "Signing Secret:",
                self.setup.answer("slack_signing_secret") or env.get(SIGNING_SECRET),
                lambda v: _shape(SIGNING_SECRET, v),
                flag="--slack-signing-secret",
                secret=True,
            )
            return {SIGNING_SECRET: secret}, [APP_TOKEN]
        ask.say("  Basic Information -> App-Level Tokens -> Generate: any name, scope connections:write.")

        def check(value: str) -> str:
            _shape(APP_TOKEN, value)
            try:
                SlackAPI(value, self.api.base_url).call("apps.connections.open")
            except SlackRefused as exc:
                raise ValueError(f"{exc}: generate an App-Level Token with connections:write") from None
            ask.say("  ✓ Socket Mode accepts the app-level token")
            return value

        token = ask.until(
            "App-Level Token (xapp-...):",
            self.setup.answer("slack_app_token") or env.get(APP_TOKEN),
            check,
            flag="--slack-app-token",
            secret=True,
        )
        return {APP_TOKEN: token}, [SIGNING_SECRET]

    # -- 2. the reviewers channel -----------------------------------------------------------------

    def channels(self) -> list[Channel]:
        try:
            found = list(
                self.api.pages(
                    "conversations.list",
                    "channels",
                    types="private_channel,public_channel",
                    exclude_archived="true",
                )
            )
        except SlackRefused as exc:
            self.setup.ask.say(f"  ! cannot list channels ({exc})")
            return []
        listed = [
            Channel(
                str(c["id"]),
                str(c.get("name") or c["id"]),
                bool(c.get("is_private")),
                bool(c.get("is_member")),
            )
            for c in found
            if c.get("id")
        ]
        return sorted(listed, key=lambda c: (not c.private, not c.member, c.name))

    def channel(self) -> tuple[str, bool]:
        """The reviewers channel's id, and whether init created it."""
        ask = self.setup.ask
        listed = self.channels()
        given = self.setup.answer("channel").lstrip("#")
        if given:
            chosen = next((c for c in listed if given in (c.name, c.id)), None)
            if chosen is not None:
                return self._checked(chosen), False
            if CHANNEL_ID.match(given):
                return given, False
            if not self.setup.answer("create_channel"):
                raise SetupError(
                    f"the bot sees no channel {given!r}: invite it (/invite @{self.bot_name}),"
                    " or pass --create-channel"
                )
        if self.setup.answer("create_channel"):
            return self._create(self.setup.answer("create_channel")), True
        current = self.setup.current_channel("slack")
        options = [c.label() for c in listed] + ["a new private channel, created now"]
        default = next((i for i, c in enumerate(listed) if c.id == current), None)
        if default is None:
            default = next(
                (i for i, c in enumerate(listed) if c.private and c.member and "review" in c.name),
                len(listed),
            )
        ask.say("Slack, step 2: the private channel where reviewers get the packages.")
        picked = ask.pick("Reviewers channel (number or name):", options, default, flag="--channel")
        if picked == len(listed):
            name = ask.until(
                "Name of the new private channel:", NEW_CHANNEL, _channel_name, flag="--create-channel"
            )
            return self._create(name), True
        return self._checked(listed[picked]), False

    def _checked(self, channel: Channel) -> str:
        if not channel.private:
            self.setup.ask.say(f"  ! #{channel.name} is public: {PUBLIC_WARNING}")
        if not channel.member:
            self.notes.append(f"invite the bot to #{channel.name}: type /invite @{self.bot_name} there")
        return channel.id

    def _create(self, name: str) -> str:
        try:
            body, _ = self.api.call("conversations.create", name=_channel_name(name), is_private="true")
        except SlackRefused as exc:
            raise SetupError(f"could not create #{name}: {exc}") from None
        self.setup.ask.say(f"  ✓ created the private channel #{name} (the bot is in it)")
        return str(body["channel"]["id"])

    # -- 3. people --------------------------------------------------------------------------------

    def users(self) -> list[dict[str, Any]]:
        if self._users is None:
            try:
                found = self.api.pages("users.list", "members")
                self._users = [
                    u
                    for u in found
                    if not u.get("deleted") and not u.get("is_bot") and u.get("id") != "USLACKBOT"
                ]
            except SlackRefused as exc:
                raise ValueError(
                    f"cannot list the workspace's people ({exc}): give e-mail addresses instead"
                ) from None
        return self._users

    def person(self, wanted: str) -> tuple[str, str]:
        """(id, label) of the one person `wanted` names: @name, a name, an e-mail or a member id."""
        text = wanted.strip()
        if _USER_ID.match(text):
            try:
                body, _ = self.api.call("users.info", user=text)
            except SlackRefused as exc:
                raise ValueError(f"{text}: {exc}") from None
            return text, _label(body.get("user") or {})
        if "@" in text.lstrip("@") and "." in text.rsplit("@", 1)[-1]:
            try:
                body, _ = self.api.call("users.lookupByEmail", email=text)
            except SlackRefused as exc:
                raise ValueError(f"nobody in the workspace has the e-mail {text} ({exc.error})") from None
            user = body.get("user") or {}
            return str(user.get("id")), _label(user)
        name = text.lstrip("@").lower()
        everyone = self.users()
        exact = [u for u in everyone if name in _names(u)]
        close = exact or [u for u in everyone if any(name in n for n in _names(u))]
        if len(close) == 1:
            return str(close[0]["id"]), _label(close[0])
        if not close:
            raise ValueError(f"nobody in the workspace is called {text}: try the e-mail address")
        listed = ", ".join(_label(u) for u in close[:5])
        raise ValueError(
            f"{text} could be {listed}{' …' if len(close) > 5 else ''}: write more of the name, or the e-mail"
        )

    def people(self, kind: str, default_ids: list[str], flag: str) -> list[str]:
        ask = self.setup.ask
        default = self.setup.answer(kind) or ", ".join(self._known(default_ids))

        def parse(answer: str) -> list[str]:
            found = [self.person(part) for part in answer.split(",") if part.strip()]
            if not found:
                raise ValueError("name at least one person")
            ask.say("  ✓ " + ", ".join(label for _, label in found))
            return list(dict.fromkeys(user_id for user_id, _ in found))

        return ask.until(
            f"{kind.title()} (@names or e-mails, separated by commas):", default, parse, flag=flag
        )

    def _known(self, ids: list[str]) -> list[str]:
        """The current ids as @names, when Slack knows them (so the default reads like an answer)."""
        out = []
        for user_id in ids:
            try:
                body, _ = self.api.call("users.info", user=user_id)
                out.append("@" + str((body.get("user") or {}).get("name") or user_id))
            except SlackRefused:
                continue  # an id Slack does not know is not offered again
        return out

    def invite(self, channel: str, people: list[str]) -> None:
        try:
            self.api.call("conversations.invite", channel=channel, users=",".join(people))
            self.setup.ask.say(f"  ✓ invited {len(people)} reviewer(s) to the channel")
        except SlackRefused as exc:
            if exc.error != "already_in_channel":
                self.notes.append(f"add the reviewers to the reviewers channel ({exc})")


def _shape(name: str, value: str) -> str:
    check = value_check(name, value)
    if not check.ok:
        raise ValueError(f"{check.what}: {check.fix}")
    return value


def _channel_name(value: str) -> str:
    name = value.strip().lstrip("#").lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,79}", name):
        raise ValueError("a channel name is lower-case letters, digits, - and _ (at most 80)")
    return name


def _names(user: dict[str, Any]) -> set[str]:
    profile = user.get("profile") or {}
    values = (user.get("name"), user.get("real_name"), profile.get("display_name"), profile.get("real_name"))
    return {str(v).lower() for v in values if v}


def _label(user: dict[str, Any]) -> str:
    real = (user.get("profile") or {}).get("real_name") or user.get("real_name") or ""
    return f"@{user.get('name') or user.get('id')}" + (f" ({real})" if real else "")


def converse(setup: SetupInput) -> PlatformSetup:
    """The whole Slack conversation (bot/setup/contract.py)."""
    talk = Conversation(setup)
    talk.manifest()
    env = {BOT_TOKEN: talk.bot_token()}
    mode_env, drop = talk.mode()
    env.update(mode_env)
    channel, created = talk.channel()
    setup.ask.say("Slack, step 3: who reviews, who administers.")
    reviewers = talk.people("reviewers", setup.current("reviewers", "slack"), "--reviewers")
    admins = talk.people("admins", setup.current("admins", "slack") or reviewers[:1], "--admins")
    if created:
        talk.invite(channel, reviewers)
    return PlatformSetup(
        env=env, channel=channel, reviewers=reviewers, admins=admins, drop=drop, next_steps=talk.notes
    )
