"""The signed webhook to the lab's own scripts (storage ACLs, group membership).

A JSON POST; the headers carry the Unix time and `sha256=` + HMAC-SHA256(secret, "TIMESTAMP.BODY")
in hex, so the receiver can refuse a forged or replayed call (compare in constant time, and refuse
timestamps more than a few minutes old). The secret comes from the environment variable rules.yaml
names. A failure raises DeliveryError; the outbox retries it with backoff (bot/entitlements/service.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Mapping

from bot.platform import DeliveryError

TIMESTAMP_HEADER = "X-Accessbot-Timestamp"
SIGNATURE_HEADER = "X-Accessbot-Signature"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, given: str) -> bool:
    """What a receiver checks (the lab's scripts can copy this)."""
    return hmac.compare_digest(signature(secret, timestamp, body), given)


def post(url: str, secret: str, payload: Mapping[str, object], *, timestamp: int, timeout_s: float) -> None:
    """POST the payload signed; raises DeliveryError unless the receiver answers 2xx."""
    if not secret:
        raise DeliveryError("the webhook's secret is not set in the environment")
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    stamp = str(timestamp)
    request = urllib.request.Request(  # noqa: S310 (rules check allows https, and http only to loopback)
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "accessbot",
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: signature(secret, stamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"the webhook answered {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DeliveryError(f"the webhook could not be reached: {exc}") from exc
    if not 200 <= status < 300:
        raise DeliveryError(f"the webhook answered {status}")
