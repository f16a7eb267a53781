"""Wiring and serving: a bolt App over the Host, then Socket Mode or HTTP until the Stopper fires.

    app = create_app(host, env, client=client)           # attaches a SlackAdapter to `host`
    serve(host, env, options, stopper)                   # checks, preflight, serve; an exit code

The runtime around `serve` warms the PDF worker up, runs reminders, turns SIGTERM into
`stopper.request()`, drains the events in hand and closes the store: none of that is here.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from cheroot import wsgi as cheroot_wsgi
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.adapters.slack.blocks import ACTION_PREFIX
from bot.adapters.slack.errors import slack_error
from bot.adapters.slack.home import HomeTabs
from bot.adapters.slack.inbound import Inbound
from bot.adapters.slack.outbound import SlackAdapter
from bot.adapters.slack.setup import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, preflight, token_checks
from bot.platform import Environment, Host, ServeOptions, Stopper

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/health"
_POLL_S = 0.5  # how often the serving loop looks at the stopper and the server thread
HTTP_HOST = "0.0.0.0"  # noqa: S104 (a server: every interface, as in a container)
HTTP_THREADS = 16
HTTP_BACKLOG = 256
"""Connections waiting to be accepted (cheroot's default, 5, resets a burst of Slack's retries)."""
"""cheroot's worker threads: requests served at once (each is acknowledged at once; the listeners
run in bolt's own thread pool, process_before_response=False)."""


def make_client(token: str, **kwargs: Any) -> WebClient:
    return with_rate_limit_retries(WebClient(token=token, timeout=30, **kwargs))


def with_rate_limit_retries(client: WebClient) -> WebClient:
    """Slack answers bursts with 429 + Retry-After: wait and retry (slack-sdk's handler, off by default)."""
    if not any(isinstance(h, RateLimitErrorRetryHandler) for h in client.retry_handlers):
        client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client


def create_app(
    host: Host,
    env: Environment,
    *,
    client: WebClient | None = None,
    process_before_response: bool | None = None,
    bot_user_id: str = "",
    allow_loopback_files: bool = False,
    stopper: Stopper | None = None,
) -> App:
    """A bolt App wired to `host` (a SlackAdapter is attached to it).

    `process_before_response` defaults to True when a client is injected (tests: dispatch returns after
    the listener ran) and False otherwise (Slack gets its acknowledgement at once).
    `allow_loopback_files` lets downloads go to 127.0.0.1: for the tests' fake Slack only.
    """
    injected = client is not None
    client = with_rate_limit_retries(client if client is not None else make_client(env.get(BOT_TOKEN)))
    adapter = SlackAdapter(
        client=client,
        token=client.token or env.get(BOT_TOKEN),
        bot_user_id=bot_user_id,
        allow_loopback_files=allow_loopback_files,
    )
    adapter.homes = HomeTabs(client, host.home_for, lambda key: host.rules.is_reviewer(key))
    if stopper is not None:  # no tab is redrawn once stopping (the store closes after serve)
        stopper.on_stop(adapter.homes.close)
    host.attach(adapter)
    inbound = Inbound(host, adapter)
    app = App(
        client=client,
        signing_secret=env.get(SIGNING_SECRET),
        token_verification_enabled=False,  # serve() checks the token itself, with plain messages
        process_before_response=injected if process_before_response is None else process_before_response,
    )
    app.use(Inbound.on_rate_limited)
    app.event("message")(inbound.on_message)
    app.event("reaction_added")(inbound.on_reaction)
    app.event("reaction_removed")(inbound.on_reaction)
    app.event("app_home_opened")(inbound.on_app_home_opened)
    app.action(re.compile("^" + ACTION_PREFIX))(inbound.on_action)
    app.view(re.compile("^" + ACTION_PREFIX))(inbound.on_view_submission)
    return app


# -- serving ------------------------------------------------------------------------------------


class Connection(Protocol):
    def close(self) -> None: ...


def connect_socket_mode(app: App, app_token: str) -> Connection:
    """Open the Socket Mode connection (raises SlackApiError when Slack refuses the app token)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(app, app_token)
    handler.connect()  # type: ignore[no-untyped-call]
    return handler


def wsgi_app(app: App) -> WSGIApplication:
    """Slack's requests at /slack/events, and GET /health -> 200 for load balancers and probes."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "3")])
            return [b"ok\n"]
        return slack(environ, start_response)

    return application


def http_server(app: App, port: int, host: str = "") -> cheroot_wsgi.Server:
    """The production WSGI server (cheroot, thread-pooled) over wsgi_app, bound by `prepare()`."""
    return cheroot_wsgi.Server(
        (host or HTTP_HOST, port),
        wsgi_app(app),
        numthreads=HTTP_THREADS,
        server_name="accessbot",
        timeout=30,
        request_queue_size=HTTP_BACKLOG,
    )


def serve(
    host: Host,
    env: Environment,
    options: ServeOptions,
    stopper: Stopper,
    *,
    client: WebClient | None = None,
    err: TextIO | None = None,
    connect_socket: Callable[[App, str], Connection] = connect_socket_mode,
    listening: Callable[[int], None] | None = None,
) -> int:
    """Check the set-up, then serve Slack until the stopper fires. Returns an exit code, never exits.

    `client`, `connect_socket` and `listening` (told the HTTP port) are for tests.
    """
    err = err if err is not None else sys.stderr
    problems = [c for c in token_checks(env, "http" if options.http else "socket") if c.status == "fail"]
    if problems:
        err.write("accessbot cannot start on Slack:\n" + "".join(f"- {c.what}: {c.fix}\n" for c in problems))
        return 1
    client = client if client is not None else make_client(env.get(BOT_TOKEN))
    checked = preflight(client)
    for warning in checked.warnings:
        log.warning("%s", warning)
        err.write(f"warning: {warning}\n")
    if checked.errors:
        err.write("accessbot cannot start on Slack:\n" + "".join(f"- {p}\n" for p in checked.errors))
        return 1
    app = create_app(
        host,
        env,
        client=client,
        process_before_response=False,
        bot_user_id=checked.bot_user_id,
        stopper=stopper,
    )
    try:
        if options.http:
            return _serve_http(app, options.port, stopper, listening)
        log.info("Slack Socket Mode: connecting")
        connection = connect_socket(app, env.get(APP_TOKEN))
        try:
            log.info("Slack Socket Mode: connected")
            while not stopper.wait(_POLL_S):
                pass
        finally:
            connection.close()
    except KeyboardInterrupt:
        return 0
    except SlackApiError as exc:
        code = slack_error(exc)
        hint = (
            "SLACK_APP_TOKEN was refused: generate an App-Level Token with connections:write and turn "
            "Socket Mode on (see docs/slack.md)"
            if code in ("invalid_auth", "not_authed", "not_allowed_token_type")
            else "Slack refused the connection"
        )
        err.write(f"accessbot stopped: {hint} ({code}).\n")
        return 1
    except OSError as exc:
        err.write(f"accessbot stopped: {exc} (is port {options.port} free? is the network up?)\n")
        return 1
    return 0


def _serve_http(app: App, port: int, stopper: Stopper, listening: Callable[[int], None] | None) -> int:
    server = http_server(app, port)
    server.prepare()  # binds: a busy port raises OSError here, before anything is served
    thread = threading.Thread(target=server.serve, name="slack-http", daemon=True)
    thread.start()
    bound = server.bind_addr
    actual = bound[1] if isinstance(bound, tuple) else port
    log.info("Slack HTTP mode on port %d, cheroot (request URL path %s)", actual, EVENTS_PATH)
    if listening is not None:
        listening(actual)
    try:
        while not stopper.wait(_POLL_S):
            if not thread.is_alive():
                log.error("the Slack HTTP server stopped on its own")
                return 1
    finally:
        server.stop()
        thread.join(timeout=10)
    return 0
