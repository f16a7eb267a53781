"""Slack files in: a file object as a lazy Attachment, and its download with the bot token.

The bearer token goes only to Slack's own file hosts over https (files.slack.com and the like), never
to another host a file object or a redirect names. Loopback is allowed only when asked for (the tests'
fake Slack on 127.0.0.1).

Slack answers a wrong token or a missing `files:read` scope with HTTP 200 and an HTML login page,
so the bytes are checked after download: an HTML page where a document was declared is our fault.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.adapters.slack.errors import delivery_error
from bot.events import Attachment, AttachmentUnavailable

MAX_REDIRECTS = 3
TIMEOUT_S = 30.0
SLACK_FILE_DOMAINS = ("slack.com", "slack-files.com", "slack-gov.com")
"""Hosts the token may be sent to: these domains and their subdomains (files.slack.com, GovSlack's)."""
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


def slack_file_host(host: str) -> bool:
    """True for Slack's own hosts (files.slack.com, …), never for look-alikes (files.slack.com.evil.org)."""
    host = host.lower().rstrip(".")
    return any(host == domain or host.endswith("." + domain) for domain in SLACK_FILE_DOMAINS)


def _check_url(url: str, allow_loopback: bool) -> urllib.parse.SplitResult:
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    loopback = allow_loopback and host in _LOOPBACK
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
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
    allow_loopback: bool = False,
) -> bytes:
    """GET `url` with the bot token; return at most `max_bytes + 1` bytes.

    Raises AttachmentUnavailable (`ours=True` for token, scope and network trouble, and for a URL that
    is not Slack's; `ours=False` when the file is gone).
    """
    if not url:
        raise AttachmentUnavailable("the Slack file has no download URL (files:read scope missing?)")
    first = _check_url(url, allow_loopback)
    host = first.hostname or ""
    if not (slack_file_host(host) or (allow_loopback and host in _LOOPBACK)):
        raise AttachmentUnavailable(
            f"refusing to send the bot token to {host or url!r}: not a Slack file host"
        )
    origin = first.netloc
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        parts = _check_url(current, allow_loopback)
        headers = {"User-Agent": "accessbot"}
        if parts.netloc == origin:  # a redirect to another host never gets the token
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


def attachment(
    client: WebClient, token: str, file: Mapping[str, Any], *, allow_loopback: bool = False
) -> Attachment:
    """A Slack file object as a lazy Attachment (stubs resolved with files.info first)."""
    file_id = str(file.get("id") or "")
    if file.get("file_access") == "check_file_info" or (
        file_id and not file.get("url_private_download") and file.get("mode") != "hidden_by_limit"
    ):
        try:
            file = client.files_info(file=file_id).get("file") or {}
        except (SlackApiError, SlackClientError, OSError) as exc:
            return _unavailable(file_id, str(delivery_error(f"files.info for {file_id}", exc)))
    if file.get("mode") == "hidden_by_limit":
        return _unavailable(file_id, "Slack hides this file (the workspace's plan limits file history)")
    url = str(file.get("url_private_download") or file.get("url_private") or "")
    mimetype = str(file.get("mimetype") or "") or None

    def fetch(max_bytes: int) -> bytes:
        return download(url, token, max_bytes, declared_type=mimetype, allow_loopback=allow_loopback)

    return Attachment(
        id=file_id,
        filename=str(file.get("name") or file.get("title") or file_id or "file"),
        size=int(file.get("size") or 0),
        content_type=mimetype,
        fetch=fetch,
    )


def _unavailable(file_id: str, reason: str) -> Attachment:
    def fetch(max_bytes: int) -> bytes:
        raise AttachmentUnavailable(reason, ours=True)

    return Attachment(id=file_id, filename="file", size=0, content_type=None, fetch=fetch)
