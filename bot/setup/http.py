"""A small JSON-over-HTTPS client for the set-up (urllib: no platform library needed).

The base URL is injectable (tests point it at a fake server on 127.0.0.1); by default each platform
module passes its real API address. A 429 is waited out once (Retry-After, at most 10 s).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

TIMEOUT_S = 20.0
USER_AGENT = "accessbot-init (https://github.com/; urllib)"


class HTTPFailure(Exception):
    """The API could not be reached, or answered with an HTTP error."""

    def __init__(self, message: str, *, status: int = 0, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: Any


@dataclass
class JSONClient:
    base_url: str
    headers: dict[str, str] = field(default_factory=dict)
    timeout_s: float = TIMEOUT_S

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        form: Mapping[str, str] | None = None,
        payload: Any = None,
    ) -> Response:
        url = self.base_url.rstrip("/") + "/" + path.lstrip("/")
        if query:
            url += "?" + urllib.parse.urlencode(query)
        headers = {"User-Agent": USER_AGENT, **self.headers}
        data: bytes | None = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif payload is not None:
            data = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:  # noqa: S310
                    return Response(answer.status, dict(answer.headers.items()), _json(answer.read()))
            except urllib.error.HTTPError as exc:
                body = _json(exc.read())
                if exc.code == 429 and attempt == 1:
                    time.sleep(min(float(exc.headers.get("Retry-After") or 1), 10.0))
                    continue
                raise HTTPFailure(f"HTTP {exc.code} from {path}", status=exc.code, body=body) from None
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise HTTPFailure(f"cannot reach {self.base_url} ({reason}): check the network") from None
        raise HTTPFailure(f"{path} kept answering 429 (rate limited): try again in a minute", status=429)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None
