"""Discord roles as entitlements: the real discord.py HTTP client (aiohttp) gives and removes roles on
a fake Discord REST API on 127.0.0.1 that applies Discord's permission and hierarchy rules; doctor
checks the same rules live and names the role and what to fix."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import discord
import pytest
import pytest_asyncio
import yaml

from bot import adapters
from bot.adapters.discord import PLATFORM
from bot.adapters.discord.setup import PERMISSIONS_VALUE, ROLE_PERMISSIONS, invite_url
from bot.doctor import doctor
from bot.documents import Validator
from bot.events import UserRef
from bot.platform import DeliveryError, GrantsAccess
from bot.settings import Settings
from tests.conftest import RULES, Clock
from tests.discord_harness import APPLICANT, BOT_ID, GUILD_ID, REVIEWER, Harness
from tests.fake_discord_rest import MANAGE_ROLES, TOKEN, FakeDiscordREST, member, role
from tests.test_discord import complete_package

G = str(GUILD_ID)
BOT_ROLE, DATA_ROLE, STAFF_ROLE, BOOST_ROLE = (
    "710000000000000001",
    "710000000000000002",
    "710000000000000003",
    "710000000000000004",
)
GONE = "200000000000000099"


def lab_guild(*, bot_permissions: int = MANAGE_ROLES) -> dict[str, Any]:
    """@everyone, the bot's role at position 5, the data role below it, a staff role above it."""
    return {
        "name": "Lab",
        "owner_id": "200000000000000003",
        "roles": [
            role(G, "@everyone", 0, 1 << 10),
            role(DATA_ROLE, "mimic-cxr", 2),
            role(BOT_ROLE, "accessbot", 5, bot_permissions, managed=True),
            role(STAFF_ROLE, "lab-staff", 8, 1 << 3),
            role(BOOST_ROLE, "Server Booster", 1, managed=True),
        ],
        "members": [
            {**member(str(BOT_ID), "accessbot"), "roles": [BOT_ROLE]},
            {**member(str(APPLICANT), "alice_kim", "Alice Kim"), "roles": []},
        ],
    }


def roles_of(api: FakeDiscordREST, user_id: int) -> list[str]:
    found = [m for m in api.guilds[G]["members"] if m["user"]["id"] == str(user_id)]
    return list(found[0]["roles"])


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDiscordREST]:
    with FakeDiscordREST(bot_id=str(BOT_ID)) as fake:
        fake.guilds[G] = lab_guild()
        monkeypatch.setattr(discord.http.Route, "BASE", fake.api_url)  # discord.py's own HTTP, to loopback
        yield fake


@pytest_asyncio.fixture
async def h(
    tmp_path: Path, validator: Validator, clock: Clock, api: FakeDiscordREST
) -> AsyncIterator[Harness]:
    entitlements = [{"id": "data_role", "kind": "discord_role", "target": f"{G}/{DATA_ROLE}"}]
    async with Harness(tmp_path, validator, clock, entitlements=entitlements) as harness:
        await harness.client.http.static_login(TOKEN)  # the aiohttp session; GET /users/@me on the fake
        try:
            yield harness
        finally:
            await harness.client.http.close()


async def in_worker(h: Harness, action: str, user: int, target: str) -> None:
    """The outbox calls grant/revoke from a worker thread (never on the loop)."""
    adapter = h.client.adapter
    assert isinstance(adapter, GrantsAccess)
    await asyncio.to_thread(getattr(adapter, action), UserRef("discord", str(user), ""), target)


@pytest.mark.asyncio
async def test_grant_and_revoke_put_and_delete_the_role_and_are_idempotent(
    h: Harness, api: FakeDiscordREST
) -> None:
    target = f"{G}/{DATA_ROLE}"
    await in_worker(h, "grant", APPLICANT, target)
    assert roles_of(api, APPLICANT) == [DATA_ROLE]
    await in_worker(h, "grant", APPLICANT, target)  # twice is fine, still one role
    assert roles_of(api, APPLICANT) == [DATA_ROLE]
    path = f"/guilds/{G}/members/{APPLICANT}/roles/{DATA_ROLE}"
    assert api.requests.count(("PUT", path)) == 2
    assert api.reasons[0] == "accessbot: access approved"  # shown in the server's audit log
    await in_worker(h, "revoke", APPLICANT, target)
    await in_worker(h, "revoke", APPLICANT, target)  # removing a role they lack is fine too
    assert roles_of(api, APPLICANT) == []
    assert api.requests.count(("DELETE", path)) == 2
    await in_worker(h, "revoke", int(GONE), target)  # left the server: nothing to remove


@pytest.mark.asyncio
async def test_a_bare_role_id_uses_the_guild_setting_or_says_what_is_missing(
    h: Harness, api: FakeDiscordREST
) -> None:
    with pytest.raises(DeliveryError, match="names no server: write GUILD_ID/ROLE_ID"):
        await in_worker(h, "grant", APPLICANT, DATA_ROLE)  # this harness has no DISCORD_GUILD_ID
    h.client.adapter.roles.default_guild = G
    await in_worker(h, "grant", APPLICANT, DATA_ROLE)
    assert roles_of(api, APPLICANT) == [DATA_ROLE]


@pytest.mark.asyncio
async def test_a_role_above_the_bots_is_refused_with_what_to_drag_where(
    h: Harness, api: FakeDiscordREST
) -> None:
    with pytest.raises(DeliveryError) as refused:
        await in_worker(h, "grant", APPLICANT, f"{G}/{STAFF_ROLE}")
    text = str(refused.value)
    assert "role 'lab-staff' (710000000000000003) is not below the bot's highest role" in text
    assert "drag the bot's role ('accessbot' (710000000000000001)) above 'lab-staff'" in text
    assert refused.value.permanent  # retrying alone will not help; the outbox still retries
    assert roles_of(api, APPLICANT) == []
    assert ("GET", f"/guilds/{G}/roles") in api.requests  # read to tell which condition failed


@pytest.mark.asyncio
async def test_without_manage_roles_the_admins_are_told_to_turn_it_on(
    h: Harness, api: FakeDiscordREST
) -> None:
    api.guilds[G] = lab_guild(bot_permissions=0)
    with pytest.raises(DeliveryError, match="lacks the Manage Roles permission") as refused:
        await in_worker(h, "grant", APPLICANT, f"{G}/{DATA_ROLE}")
    assert "'accessbot' (710000000000000001) → Permissions: turn on Manage Roles" in str(refused.value)
    assert roles_of(api, APPLICANT) == []


@pytest.mark.asyncio
async def test_unknown_role_and_member_not_in_the_server_say_what_to_do(
    h: Harness, api: FakeDiscordREST
) -> None:
    with pytest.raises(DeliveryError, match="does not exist in server") as unknown:
        await in_worker(h, "grant", APPLICANT, f"{G}/710000000000000077")
    assert unknown.value.permanent
    with pytest.raises(DeliveryError, match=r"is not in server .*ask them to join") as absent:
        await in_worker(h, "grant", int(GONE), f"{G}/{DATA_ROLE}")
    assert not absent.value.permanent  # they may join


@pytest.mark.asyncio
async def test_approval_by_button_gives_the_role_and_records_it(
    h: Harness, api: FakeDiscordREST, clock: Clock
) -> None:
    post_id = await complete_package(h, clock)
    review_id = h.bot.store.get(f"discord:{APPLICANT}").review_id  # type: ignore[union-attr]
    h.press(REVIEWER, post_id, f"accessbot:approve:{review_id}")
    await h.until(lambda: roles_of(api, APPLICANT) == [DATA_ROLE])
    await h.settle()
    applicant = h.bot.store.get(f"discord:{APPLICANT}")
    assert applicant is not None and applicant.access.granted == ["data_role"]
    assert [e.entitlement for e in applicant.access.history] == ["data_role"]


# -- doctor, live --------------------------------------------------------------------------------


def doctor_report(tmp_path: Path, api_url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    data = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    data["entitlements"] = [
        {"id": "data_role", "kind": "discord_role", "target": DATA_ROLE},
        {"id": "staff_role", "kind": "discord_role", "target": f"{G}/{STAFF_ROLE}"},
        {"id": "booster", "kind": "discord_role", "target": f"{G}/{BOOST_ROLE}"},
    ]
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    monkeypatch.setattr(adapters, "REGISTRY", {"discord": "bot.adapters.discord"})
    monkeypatch.setattr(PLATFORM, "api_url", api_url)
    settings = Settings.from_env(
        {
            "ACCESSBOT_DATA_DIR": str(tmp_path / "data"),
            "ACCESSBOT_RULES": str(rules),
            "DISCORD_TOKEN": TOKEN,
            "DISCORD_GUILD_ID": G,
        }
    )
    out = io.StringIO()
    return doctor(settings, out), out.getvalue()


def test_doctor_names_a_role_above_the_bots_and_how_to_fix_it(
    tmp_path: Path, api: FakeDiscordREST, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, report = doctor_report(tmp_path, api.api_url, monkeypatch)
    assert code == 1
    assert (
        f"✓ entitlement data_role: the bot may give role 'mimic-cxr' ({DATA_ROLE}) in server {G}"
        " (Manage Roles, below 'accessbot' (710000000000000001))"
    ) in report
    assert (
        f"✗ entitlement staff_role (server {G}): role 'lab-staff' ({STAFF_ROLE}) is not below the"
        " bot's highest role, 'accessbot' (710000000000000001)\n"
        "    fix: Server Settings → Roles: drag the bot's role ('accessbot' (710000000000000001)) above"
        f" 'lab-staff' ({STAFF_ROLE})"
    ) in report
    assert "✗ entitlement booster" in report and "is managed by an integration" in report
    assert ("GET", f"/guilds/{G}/members/{BOT_ID}") in api.requests
    assert not [r for r in api.requests if r[0] != "GET"]  # doctor changes nothing


def test_doctor_says_when_the_bot_lacks_manage_roles(
    tmp_path: Path, api: FakeDiscordREST, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.guilds[G] = lab_guild(bot_permissions=1 << 11)
    code, report = doctor_report(tmp_path, api.api_url, monkeypatch)
    assert code == 1
    assert f"✗ entitlement data_role (server {G}): the bot lacks the Manage Roles permission" in report
    assert "fix: Server Settings → Roles → 'accessbot' (710000000000000001) → Permissions: turn on" in report
    assert "✓ entitlement data_role" not in report


def test_doctor_warns_when_discord_cannot_be_reached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeDiscordREST(bot_id=str(BOT_ID)) as gone:
        url = gone.api_url  # nothing listens there once the block ends
    _, report = doctor_report(tmp_path, url, monkeypatch)
    assert "! Discord roles not checked: cannot reach" in report
    assert "entitlement data_role" not in report
    assert "✗ Discord roles" not in report  # a warning: a network hiccup does not stop `run`


def test_the_invite_link_asks_for_manage_roles_only_for_role_entitlements() -> None:
    assert {"manage_roles": discord.Permissions.manage_roles.flag} == ROLE_PERMISSIONS
    assert invite_url(1).endswith(f"permissions={PERMISSIONS_VALUE}")
    with_roles = PERMISSIONS_VALUE + discord.Permissions.manage_roles.flag
    assert invite_url(1, roles=True).endswith(f"permissions={with_roles}")
    docs = (Path(__file__).parent.parent / "docs" / "discord.md").read_text(encoding="utf-8")
    assert f"permissions={with_roles}" in docs and "Manage Roles" in docs
