"""Slack HTTP mode on cheroot: signed events per second and p99 latency, 50 concurrent requests on
loopback (issue 14 item 5). Outgoing Web API calls go to the fake Slack of tests/fake_slack.py.

Each request is a signed `message` event from its own user (a status question), posted on a new
connection as Slack does; the latency is until Slack's acknowledgement (HTTP 200). The floor is
`GET /health` on the same server at the same concurrency, interleaved round by round.
"""

from __future__ import annotations

import http.client
import http.server
import io
import json
import os
import queue
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from benchmarks.timing import p
from bot.adapters.slack import serve as slack_serve
from bot.app import assemble
from bot.documents import Validator
from bot.platform import Environment, ServeOptions, Stopper
from bot.rules_loader import RulesHolder
from bot.store import Store
from tests.fake_slack import FakeSlack

ROOT = Path(__file__).resolve().parent.parent
SECRET = "0123456789abcdef0123456789abcdef"  # noqa: S105 (the fake's signing secret)
FAKE_TOKEN = "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"  # noqa: S105 (the fake's)
CONCURRENCY = 50
ROUNDS = 4
PER_ROUND = int(os.environ.get("ACCESSBOT_BENCH_HTTP_REQUESTS", "500"))


def _post(port: int, n: int) -> float:
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": "T0LAB",
            "api_app_id": "A0ACCESS",
            "event_id": f"Ev{n:08d}",
            "event_time": int(time.time()),
            "event": {
                "type": "message",
                "channel": f"D{n:08d}",
                "channel_type": "im",
                "user": f"U{n:08d}",
                "text": "status",
                "ts": f"1772440000.{n:06d}",
            },
        }
    )
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": str(SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)),
    }
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/slack/events", body.encode(), headers)
        response = conn.getresponse()
        response.read()
        assert response.status == 200, response.status
    finally:
        conn.close()
    return (time.perf_counter() - started) * 1000


def _health(port: int, _n: int) -> float:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/health")
        response = conn.getresponse()
        response.read()
        assert response.status == 200
    finally:
        conn.close()
    return (time.perf_counter() - started) * 1000


def _round(
    pool: ThreadPoolExecutor, fn: Callable[[int, int], float], port: int, first: int
) -> tuple[list[float], float]:
    started = time.perf_counter()
    latencies = list(pool.map(lambda n: fn(port, n), range(first, first + PER_ROUND)))
    return latencies, time.perf_counter() - started


def run() -> str:
    slack_serve.HTTP_HOST = "127.0.0.1"  # loopback only
    # the fake Web API is a stdlib server: give it a backlog for the bot's 50 concurrent replies
    http.server.ThreadingHTTPServer.request_queue_size = 256
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeSlack(token=FAKE_TOKEN) as fake,
        Validator() as validator,
    ):
        bot = assemble(
            rules=RulesHolder(ROOT / "rules.yaml"), store=Store(Path(tmp) / "data"), validator=validator
        )
        env = Environment({"SLACK_BOT_TOKEN": fake.token, "SLACK_SIGNING_SECRET": SECRET})
        ports: queue.Queue[int] = queue.Queue()
        stopper = Stopper()
        client = WebClient(token=fake.token, base_url=fake.api_url)
        server = threading.Thread(
            target=slack_serve.serve,
            args=(bot, env, ServeOptions(http=True, port=0), stopper),
            kwargs={"client": client, "err": io.StringIO(), "listening": ports.put},
            daemon=True,
        )
        server.start()
        port = ports.get(timeout=30)
        events: list[float] = []
        floors: list[float] = []
        event_s = floor_s = 0.0
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            for r in range(ROUNDS):
                lat, secs = _round(pool, _post, port, r * PER_ROUND)
                events += lat
                event_s += secs
                lat, secs = _round(pool, _health, port, 0)
                floors += lat
                floor_s += secs
            started = time.perf_counter()
            deadline = time.monotonic() + 120

            def replies() -> int:
                return sum(1 for c in list(fake.calls) if c.method == "chat.postMessage")

            while replies() < ROUNDS * PER_ROUND and time.monotonic() < deadline:
                time.sleep(0.1)
            answered_s = event_s + time.perf_counter() - started  # the replies follow the acks
            answered = replies()
        stopper.request()
        server.join(timeout=15)
        bot.drain()
        people = bot.services.store.count()
        bot.close()
    total = ROUNDS * PER_ROUND
    rows = [
        ("signed `message` events (POST /slack/events)", events, total / event_s),
        ("floor: `GET /health`, same server", floors, total / floor_s),
    ]
    lines = [
        "## Slack HTTP mode (cheroot)",
        "",
        f"{total:,} requests each, {CONCURRENCY} concurrent, a new loopback connection per request,"
        f" {ROUNDS} interleaved rounds; the bot's own replies go to the fake Slack Web API"
        f" (tests/fake_slack.py). Acknowledged: {total:,}; people who got a record: {people:,}"
        f" (each event comes from a new user).",
        "",
        "| requests | per second | median ms | p99 ms |",
        "|---|---:|---:|---:|",
    ]
    for name, lat, rate in rows:
        lines.append(f"| {name} | {rate:,.0f} | {statistics.median(lat):.1f} | {p(lat, 0.99):.1f} |")
    lines += [
        "",
        f"All {total:,} events acknowledged in {event_s:.1f} s; {answered:,} replies reached the fake"
        f" Slack within {answered_s:.1f} s of the first request.",
        "",
    ]
    return "\n".join(lines)
