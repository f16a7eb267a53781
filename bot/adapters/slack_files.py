"""Downloading Slack files: bearer token, size cap, no token on redirects to other hosts.

Slack answers a wrong token or a missing `files:read` scope with HTTP 200 and an HTML login page,
so the bytes are checked after download: an HTML page where a document was declared is our fault.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from bot.events import AttachmentUnavailable

MAX_REDIRECTS = 3
TIMEOUT_S = 30.0
_LOOPBACK = ("127.0.0.1", "localhost", "::1")

HTML_INSTEAD = (
    "Slack sent an HTML page instead of the file: the bot token is wrong or the files:read scope is "
    "missing (add files:read under OAuth & Permissions, or re-create the app from slack-manifest.yaml, "
    "then reinstall the app and update SLACK_BOT_TOKEN)"
)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are followed by hand, so the token goes only where we decide."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect())


def _check_url(url: str) -> urllib.parse.SplitResult:
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "https" and not (parts.scheme == "http" and host in _LOOPBACK):
        raise AttachmentUnavailable(f"refusing to download a Slack file from {parts.scheme}://{host}")
    return parts


def looks_like_html(data: bytes, content_type: str | None) -> bool:
    if content_type and content_type.split(";", 1)[0].strip().lower() == "text/html":
        return True
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head"))


def download(
    url: str,
    token: str,
    max_bytes: int,
    *,
    declared_type: str | None = None,
    timeout: float = TIMEOUT_S,
) -> bytes:
    """GET `url` with the bot token; return at most `max_bytes + 1` bytes.

    Raises AttachmentUnavailable (`ours=True` for token, scope and network trouble; `ours=False` when
    the file is gone).
    """
    if not url:
        raise AttachmentUnavailable("the Slack file has no download URL (files:read scope missing?)")
    origin = _check_url(url).netloc
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        parts = _check_url(current)
        headers = {"User-Agent": "accessbot"}
        if parts.netloc == origin:  # never hand the token to another host
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(current, headers=headers)  # noqa: S310 (scheme checked above)
        try:
            with _opener.open(request, timeout=timeout) as response:
                data: bytes = response.read(max_bytes + 1)
                content_type = response.headers.get("Content-Type")
        except urllib.error.HTTPError as exc:
            if exc.code in (301, 302, 303, 307, 308) and exc.headers.get("Location"):
                current = urllib.parse.urljoin(current, exc.headers["Location"])
                exc.close()
                continue
            exc.close()
            if exc.code in (404, 410):
                raise AttachmentUnavailable(
                    f"Slack says the file is gone (HTTP {exc.code})", ours=False
                ) from exc
            raise AttachmentUnavailable(f"Slack refused the download (HTTP {exc.code})") from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise AttachmentUnavailable(f"could not download the Slack file: {exc}") from exc
        declared_html = (declared_type or "").lower().startswith("text/html")
        if not declared_html and looks_like_html(data, content_type):
            raise AttachmentUnavailable(HTML_INSTEAD, ours=True)
        return data
    raise AttachmentUnavailable(f"too many redirects downloading a Slack file (more than {MAX_REDIRECTS})")
