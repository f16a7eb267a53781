"""Carrying out Grant and Revoke deliveries: on the platform (an adapter's optional `grant` /
`revoke`, bot/platform.py GrantsAccess) or through the signed webhook.

Each success is recorded on the applicant with its time (`Applicant.access.history`, shown by
`show`). A failure is reported to the admins once (until it succeeds) and kept in the outbox: tried
again with backoff (30 s, 1, 2, 4 ... minutes, at most an hour between tries), never lost.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from bot.entitlements import webhook
from bot.entitlements.deliveries import Grant, Revoke
from bot.events import UserRef
from bot.messenger import Mention, Messenger, Sent, TellAdmins
from bot.models import AccessEvent, Applicant
from bot.platform import DeliveryError, GrantsAccess
from bot.rules import ENTITLEMENT_PLATFORM, Entitlement, Rules
from bot.store import Store, UnknownApplicant

log = logging.getLogger(__name__)

FIRST_RETRY_S = 30.0
MAX_RETRY_S = 3600.0


class EntitlementService:
    def __init__(
        self,
        store: Store,
        messenger: Messenger,
        rules: Callable[[], Rules],
        clock: Callable[[], datetime],
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.store = store
        self.messenger = messenger
        self._rules = rules
        self.clock = clock
        self.environ = os.environ if environ is None else environ
        self._tries: dict[str, tuple[int, datetime]] = {}
        """Delivery key -> (failed tries, when the next may be made): the backoff, in memory."""

    def register(self) -> None:
        self.messenger.handle(Grant, self.grant)
        self.messenger.handle(Revoke, self.revoke)

    def grant(self, delivery: Grant) -> Sent:
        return self._carry_out(delivery.user, delivery.entitlement_id, "grant", "")

    def revoke(self, delivery: Revoke) -> Sent:
        return self._carry_out(delivery.user, delivery.entitlement_id, "revoke", delivery.reason)

    def _carry_out(self, user: str, entitlement_id: str, action: str, reason: str) -> Sent:
        entitlement = self._rules().entitlement(entitlement_id)
        if entitlement is None:  # removed from rules.yaml since: nothing left to do, the admins know
            log.warning("entitlement %r is no longer in rules.yaml: %s skipped", entitlement_id, action)
            self.messenger.deliver(
                [
                    TellAdmins(
                        "access.unknown_entitlement", {"entitlement": entitlement_id, "user": Mention(user)}
                    )
                ]
            )
            return Sent.GIVE_UP
        key = self.messenger.delivery_key
        now = self.clock()
        tries, next_at = self._tries.get(key, (0, now))
        if key and now < next_at:
            return Sent.RETRY  # backing off
        try:
            self._perform(entitlement, user, action, reason, key)
        except DeliveryError as exc:
            wait = min(FIRST_RETRY_S * 2**tries, MAX_RETRY_S)
            if key:
                self._tries[key] = (tries + 1, now + timedelta(seconds=wait))
            log.warning("%s of %s failed (try %d): %s", action, entitlement.id, tries + 1, exc)
            self._failed(user, entitlement, action, str(exc))
            return Sent.RETRY
        self._tries.pop(key, None)
        self._record(user, entitlement, action, reason)
        return Sent.DONE

    def _perform(self, entitlement: Entitlement, user: str, action: str, reason: str, key: str) -> None:
        if entitlement.kind == "webhook":
            now = self.clock()
            payload = {
                "action": action,
                "entitlement": entitlement.id,
                "user": user,
                "reason": reason,
                "id": key,
                "at": now.isoformat(timespec="seconds"),
            }
            secret = self.environ.get(entitlement.secret_env, "")
            if not secret:
                raise DeliveryError(f"{entitlement.secret_env} is not set in the environment")
            webhook.post(
                entitlement.url,
                secret,
                payload,
                timestamp=int(now.timestamp()),
                timeout_s=entitlement.timeout_seconds,
            )
            return
        platform = ENTITLEMENT_PLATFORM[entitlement.kind]
        adapter = self.messenger.adapter_for(platform)
        if adapter is None:
            raise DeliveryError(f"{platform} is not connected")
        if not isinstance(adapter, GrantsAccess):
            raise DeliveryError(f"the {platform} adapter cannot grant access")
        person = UserRef.from_key(user)
        if action == "grant":
            adapter.grant(person, entitlement.target)
        else:
            adapter.revoke(person, entitlement.target)

    def _record(self, user: str, entitlement: Entitlement, action: str, reason: str) -> None:
        at = self.store.now()
        recovered = False

        def change(a: Applicant) -> None:
            nonlocal recovered
            access = a.access
            recovered = access.failing.pop(entitlement.id, None) is not None
            if action == "grant":
                if entitlement.id not in access.granted:
                    access.granted.append(entitlement.id)
                access.history.append(AccessEvent(at, "granted", entitlement.id))
            else:
                if entitlement.id in access.granted:
                    access.granted.remove(entitlement.id)
                access.history.append(AccessEvent(at, "removed", entitlement.id, reason=reason))

        try:
            self.store.update(user, change)
        except UnknownApplicant:
            return  # forgotten meanwhile: nothing to record
        self.store.audit(
            "", f"access.{'granted' if action == 'grant' else 'removed'}", user, entitlement=entitlement.id
        )
        if recovered:
            self.messenger.deliver(
                [TellAdmins("access.recovered", {"user": Mention(user), "entitlement": entitlement.id})]
            )

    def _failed(self, user: str, entitlement: Entitlement, action: str, error: str) -> None:
        """Recorded on the applicant; the admins are told once per failing entitlement."""
        at = self.store.now()
        first = False

        def change(a: Applicant) -> None:
            nonlocal first
            first = entitlement.id not in a.access.failing
            a.access.failing[entitlement.id] = error
            if first:
                a.access.history.append(
                    AccessEvent(at, "failed", entitlement.id, reason=f"{action}: {error}")
                )

        try:
            self.store.update(user, change)
        except UnknownApplicant:
            return
        if first:
            self.messenger.deliver(
                [
                    TellAdmins(
                        "access.failed",
                        {
                            "user": Mention(user),
                            "entitlement": entitlement.id,
                            "action": action,
                            "reason": error,
                        },
                    )
                ]
            )
