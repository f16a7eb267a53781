"""The deliveries that grant and remove access (carried out by bot/entitlements/service.py)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.messenger import Delivery


@dataclass(frozen=True)
class Grant(Delivery):
    """Give `user` (a stable id) the entitlement of rules.yaml named `entitlement_id`."""

    user: str
    entitlement_id: str


@dataclass(frozen=True)
class Revoke(Delivery):
    """Take the entitlement away again, for `reason` (expired, revoked, blocked)."""

    user: str
    entitlement_id: str
    reason: str = ""
