"""Failover for real: several `digest serve` processes on one state, the leader SIGKILLed.

Used by tests/test_failover.py and bench/failover.py. Everything is real and on loopback: the
replicas are `digest serve --standby` subprocesses; the feeds are the bundled demo site plus
`MinuteFeed`, which gains one story at the start of every minute (so every one-minute period has
a digest to send); the destinations are two Slack channels on the stand-in (bot token: intents
and the history lookup) and two email addresses on a real SMTP server (aiosmtpd). Both answer
slowly (`hold` seconds per message), so a kill can land inside a delivery:

- Slack stores the post at once and holds its answer: a kill then leaves an intent that the
  next leader finds in the channel's history.
- The SMTP server has the whole message and holds its `250`. When the client is gone by then it
  keeps the message or drops it (a coin toss per message: real servers do either), so a kill
  there is the documented in-doubt window (email: sent again, same Message-ID) or a plain loss
  of an unconfirmed message (sent again).

`check` applies the README's rules per destination type to what the destinations received.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from slack_api import SlackAPI
from smtp_sink import ReceivedMail, SmtpSink

from digest.demo import serve_sample

CHANNELS = ("#desk", "#wire")
RECIPIENTS = ("desk@example.com", "wire@example.com")
PLACES = ("Saltmarsh", "Estuary Road", "North Quay", "Harbour Lane", "Kestrel Point", "Fenwick")


def _floor_minute(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(second=0, microsecond=0)


class MinuteFeed:
    """An RSS feed on 127.0.0.1 that gains one story at the start of every minute.

    The story of minute M is published at M and links `/story/<M>.html`: the digest of the
    period M (a `* * * * *` schedule) is the first that can carry it.
    """

    def __init__(self, first: datetime) -> None:
        self.first = _floor_minute(first)
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                body, ctype = feed.answer(self.path.split("?")[0])
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", ctype)
                payload = body or b"not found"
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def minutes(self, until: datetime) -> list[datetime]:
        """The minutes whose story is out at `until`."""
        out, m = [], self.first
        while m <= until:
            out.append(m)
            m += timedelta(minutes=1)
        return out

    def url(self, minute: datetime) -> str:
        return f"{self.base}/story/{minute:%Y%m%d%H%M}.html"

    def _story(self, minute: datetime) -> tuple[str, list[str]]:
        n = int(minute.timestamp() // 60)
        place = PLACES[n % len(PLACES)]
        stamp = f"{minute:%H:%M}"
        title = f"{place} tide gauge logs reading {n % 97} at {stamp}"
        paragraphs = [
            f"The tide gauge at {place} recorded a reading of {n % 97} centimetres above the "
            f"datum at {stamp} UTC, the harbour office said in its minute bulletin number {n}.",
            f"Pilots working the {place} channel were told to expect the reading to change by "
            f"{n % 7 + 2} centimetres before the next bulletin, and to keep to the marked lane.",
            f"The office publishes a bulletin every minute during the trial, which runs until "
            f"the {place} gauge has been checked against the survey boat's own instruments.",
        ]
        return title, paragraphs

    def answer(self, path: str) -> tuple[bytes | None, str]:
        now = datetime.now(UTC)
        if path == "/feed.rss":
            items = []
            for minute in self.minutes(now):
                title, paragraphs = self._story(minute)
                url = self.url(minute)
                items.append(
                    f"<item><title>{html.escape(title)}</title><link>{url}</link>"
                    f"<guid>{url}</guid><pubDate>{format_datetime(minute)}</pubDate>"
                    f"<description>{html.escape(paragraphs[0])}</description></item>"
                )
            xml = (
                '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>Harbour Bulletins</title><link>{self.base}/</link>"
                f"{''.join(reversed(items))}</channel></rss>"
            )
            return xml.encode(), "application/rss+xml"
        found = re.fullmatch(r"/story/(\d{12})\.html", path)
        if found:
            minute = datetime.strptime(found.group(1), "%Y%m%d%H%M").replace(tzinfo=UTC)
            if minute <= now:
                title, paragraphs = self._story(minute)
                body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
                page = (
                    f"<html><head><title>{html.escape(title)}</title>"
                    '<meta property="og:site_name" content="Harbour Bulletins"></head>'
                    f"<body><article><h1>{html.escape(title)}</h1>{body}</article></body></html>"
                )
                return page.encode(), "text/html; charset=utf-8"
        return None, "text/plain"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Flight:
    """One message a destination was holding: when, and whether the client died meanwhile."""

    what: str
    started: float
    ended: float | None = None
    client_gone: bool = False
    kept: bool = True


class _Flights:
    """What the slow destinations are holding now, and what they held."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.all: list[Flight] = []
        self.started = threading.Condition(self.lock)

    def begin(self, what: str) -> Flight:
        with self.lock:
            flight = Flight(what, time.monotonic())
            self.all.append(flight)
            self.started.notify_all()
            return flight

    def end(self, flight: Flight) -> None:
        with self.lock:
            flight.ended = time.monotonic()

    def in_flight(self) -> list[Flight]:
        with self.lock:
            return [f for f in self.all if f.ended is None]

    def wait_for_new(self, after: int, timeout: float) -> Flight | None:
        """The first flight begun after the `after`-th one, waiting up to `timeout`."""
        with self.started:
            self.started.wait_for(lambda: len(self.all) > after, timeout)
            return self.all[after] if len(self.all) > after else None


class SlowSlack(SlackAPI):
    """The Slack stand-in, storing each post at once and holding its answer `hold` seconds."""

    def __init__(self, flights: _Flights, hold: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.flights = flights
        self.hold = hold

    def start(self) -> SlowSlack:
        super().start()
        assert self._server is not None
        # An answer held for a client that was killed meanwhile goes nowhere: not an error.
        self._server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        return self

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Any:
        answer = super().handle(path, headers, body)
        if path == "/api/chat.postMessage":
            flight = self.flights.begin("slack")
            time.sleep(random.uniform(self.hold / 2, self.hold))
            self.flights.end(flight)
        return answer


class SlowSink(SmtpSink):
    """The SMTP sink, holding each `250` `hold` seconds after it has the whole message.

    A client gone meanwhile (killed) leaves the message kept or dropped, a coin toss.
    """

    def __init__(self, flights: _Flights, hold: float) -> None:
        super().__init__()
        self.flights = flights
        self.hold = hold
        self.in_doubt: list[ReceivedMail] = []  # kept although the client never saw the 250
        self.flight_of: dict[int, Flight] = {}  # id(received mail) -> its flight

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        flight = self.flights.begin("email")
        try:
            await asyncio.sleep(random.uniform(self.hold / 2, self.hold))
        except asyncio.CancelledError:
            # aiosmtpd cancels the handler when the client goes away (it was killed).
            flight.client_gone = True
        self.flights.end(flight)
        if flight.client_gone or server.transport is None or server.transport.is_closing():
            flight.client_gone = True
            flight.kept = random.random() < 0.5
            if not flight.kept:
                return "451 4.3.0 connection lost"  # nobody hears it; the message is dropped
            answer = await super().handle_DATA(server, session, envelope)
            self.in_doubt.append(self.received[-1])
            self.flight_of[id(self.received[-1])] = flight
            return answer
        answer = await super().handle_DATA(server, session, envelope)
        self.flight_of[id(self.received[-1])] = flight
        return answer


def write_config(
    directory: Path,
    feeds: list[str],
    slack_url: str,
    smtp_port: int,
    lease: float,
    state_url: str | None = None,
) -> Path:
    """The replicas' config: a one-minute digest to two Slack channels and two addresses, the
    state in `state_url` (Postgres) or a SQLite file under the directory."""
    feed_lines = ", ".join(f'{{ url = "{u}" }}' for u in feeds)
    slack = ",\n".join(
        f'  {{ type = "slack", channel = "{c}", token_env = "FAILOVER_SLACK_TOKEN" }}'
        for c in CHANNELS
    )
    email = ",\n".join(f'  {{ type = "email", to = ["{r}"] }}' for r in RECIPIENTS)
    path = directory / "config.toml"
    path.write_text(
        f"""
state_dir = "state"
{f'state_url = "{state_url}"' if state_url else ""}

[fetch]
allow_private_addresses = true
timeout_seconds = 5

[summarizer]
backend = "extractive"

[cluster]
enabled = false

[slack]
base_url = "{slack_url}"

[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from = "digest@example.com"
timeout_seconds = 20

[serve]
lease_seconds = {lease}
standby = true
grace_minutes = 30

[[digest]]
name = "harbour"
schedule = "* * * * *"
max_stories = 100
feeds = [{feed_lines}]
destinations = [
{slack},
{email}
]
""",
        encoding="utf-8",
    )
    return path


@dataclass
class Replica:
    """One `digest serve` process and its log."""

    process: subprocess.Popen[bytes]
    log: Path
    started: float

    @property
    def pid(self) -> int:
        return self.process.pid

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def ready(self) -> bool:
        """Standing by or leading (it has read its config and reached the lease)."""
        text = self.text()
        return "standing by" in text or "next runs at" in text


@dataclass
class Kill:
    """One SIGKILL of the leader and what followed."""

    at: float
    pid: int
    mid_delivery: bool  # a destination was holding a message of the leader's at the kill
    takeover: float | None = None  # seconds until another replica held the lease
    resumed: float | None = None  # a pause (SIGSTOP): when the leader was let go on (SIGCONT)
    exit_code: int | None = None  # a pause: how the resumed old leader ended
    cut: list[str] = field(default_factory=list)  # what was in flight: "slack", "email"


@dataclass
class Outcome:
    """What a failover run did and what the destinations got."""

    kills: list[Kill]
    problems: list[str]
    periods: list[str]
    stories: int
    email_resends: int  # in-doubt copies with the same Message-ID (the documented rule)
    seconds: float
    lease_losses: int = 0  # leaders that found their lease taken mid-work and exited (75)
    pauses: list[Kill] = field(default_factory=list)  # SIGSTOP past the lease, then SIGCONT
    emails_kept: int = 0  # emails whose sender died before the 250 and that the server kept
    email_regrouped: int = 0  # in-doubt emails whose stories came again under a new Message-ID
    logs: str = ""

    @property
    def takeovers(self) -> list[float]:
        return [k.takeover for k in self.kills if k.takeover is not None]

    def summary(self) -> str:
        times = self.takeovers
        mid = sum(k.mid_delivery for k in self.kills)
        slack = sum("slack" in k.cut for k in self.kills)
        email = sum("email" in k.cut for k in self.kills)
        line = (
            f"{len(self.kills)} kills ({mid} mid-delivery: {slack} in a Slack post, {email} in "
            f"an email; {self.emails_kept} cut emails kept by the server), "
            f"{len(self.periods)} periods, "
            f"{self.stories} stories x {len(CHANNELS) + len(RECIPIENTS)} destinations, "
            f"{len(self.problems)} problems, {self.email_resends} in-doubt emails sent again "
            f"(same Message-ID), {self.email_regrouped} whose stories came again in a larger "
            f"digest (new Message-ID), {self.lease_losses} leaders that lost the lease mid-work, "
            f"{self.seconds:.0f}s"
        )
        if times:
            line += (
                f"; takeover median {statistics.median(times):.2f}s, max {max(times):.2f}s"
                f" (n={len(times)})"
            )
        paused = [p.takeover for p in self.pauses if p.takeover is not None]
        if self.pauses:
            line += (
                f"; {len(self.pauses)} pauses past the lease "
                f"({sum(p.mid_delivery for p in self.pauses)} mid-delivery), "
                f"old leader's exits {[p.exit_code for p in self.pauses]}"
            )
        if paused:
            line += (
                f", takeover by expiry median {statistics.median(paused):.2f}s, "
                f"max {max(paused):.2f}s"
            )
        return line


class Cluster:
    """N replicas of `digest serve --standby` on one config; a killed one is replaced."""

    def __init__(self, config: Path, size: int, env: dict[str, str]) -> None:
        self.config = config
        self.size = size
        self.env = env
        self.replicas: list[Replica] = []
        self.dead: list[Replica] = []
        self.exits: list[int] = []  # exit codes of replicas that ended without being killed
        self.exited: list[Replica] = []  # those replicas
        self._n = 0

    def spawn(self) -> Replica:
        self._n += 1
        log = self.config.parent / f"replica-{self._n}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "digest", "serve", "--config", str(self.config)],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.config.parent,
        )
        replica = Replica(process, log, time.monotonic())
        self.replicas.append(replica)
        return replica

    def prune(self) -> None:
        """Count out replicas that exited by themselves (75: one that lost its lease mid-work)."""
        for r in [r for r in self.replicas if r.process.poll() is not None]:
            self.replicas.remove(r)
            self.dead.append(r)
            self.exited.append(r)
            self.exits.append(r.process.returncode)

    def fill(self) -> None:
        """Replace the replicas that were killed or exited."""
        self.prune()
        while len(self.replicas) < self.size:
            self.spawn()

    def ready(self) -> list[Replica]:
        return [r for r in self.replicas if r.process.poll() is None and r.ready()]

    def by_pid(self, pid: int) -> Replica | None:
        return next((r for r in self.replicas if r.pid == pid), None)

    def kill(self, replica: Replica) -> None:
        replica.process.send_signal(signal.SIGKILL)
        replica.process.wait(30)
        self.replicas.remove(replica)
        self.dead.append(replica)

    def stop(self) -> list[int | None]:
        for r in self.replicas:
            if r.process.poll() is None:
                r.process.send_signal(signal.SIGTERM)
        codes = []
        for r in self.replicas:
            try:
                codes.append(r.process.wait(60))
            except subprocess.TimeoutExpired:
                r.process.kill()
                codes.append(None)
        return codes

    def logs(self) -> str:
        return "\n".join(
            f"--- {r.log.name} (pid {r.pid}) ---\n{r.text()[-4000:]}"
            for r in [*self.dead, *self.replicas]
        )


def _pid_of(owner: str | None) -> int | None:
    parts = (owner or "").rsplit(":", 2)
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


class StateReader:
    """Reads the lease and the runs through the state API, on SQLite or Postgres alike.

    One connection for the whole run: opening the state migrates it, which writes.
    """

    def __init__(self, state: str) -> None:
        self.state = state
        self._opened: Any = None

    def _store(self) -> Any:
        if self._opened is None:
            from digest.store import Store

            self._opened = Store.open(self.state)
        return self._opened

    def leader(self) -> int | None:
        try:
            return _pid_of(self._store().lock_owner("serve", datetime.now(UTC)))
        except Exception:  # noqa: BLE001 - a state being created or busy: ask again
            return None

    def period_done(self, digest: str, period: str) -> bool:
        try:
            return bool(self._store().period_done(digest, period))
        except Exception:  # noqa: BLE001
            return False

    def close(self) -> None:
        if self._opened is not None:
            self._opened.close()


def _wait(condition: Callable[[], Any], timeout: float, step: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


_LINK = re.compile(r"https?://127\.0\.0\.1:\d+/[^\s|<>\")\]]+")


def slack_story_links(message: Any, expected: set[str]) -> set[str]:
    """The expected article links a Slack message carries."""
    return {u for u in _LINK.findall(json.dumps(message.blocks)) if u in expected}


def mail_story_links(mail: ReceivedMail, expected: set[str]) -> set[str]:
    text = mail.parse().get_body(("plain",)).get_content()
    return {u for u in _LINK.findall(text) if u in expected}


def check(
    expected: set[str],
    slack: SlackAPI,
    sink: SlowSink,
    paused: Sequence[tuple[float, float]] = (),
) -> tuple[list[str], int, int]:
    """What broke the README's delivery rules; how many in-doubt emails were sent again with
    their Message-ID, and how many had their stories sent again in a larger digest.

    Slack (bot token): every story in exactly one message per channel. Email: every story
    reaches each address; a second copy is allowed only as the resend of a message the server
    kept while its client was dead (the in-doubt window), with the same Message-ID.
    """
    problems: list[str] = []
    for channel in CHANNELS:
        counts: Counter[str] = Counter()
        for m in slack.channel_messages(channel):
            counts.update(slack_story_links(m, expected))
        problems += [f"slack {channel}: {u} lost" for u in sorted(expected - set(counts))]
        problems += [f"slack {channel}: {u} posted {n}x" for u, n in counts.items() if n > 1]
    doubted = {id(m) for m in sink.in_doubt}
    # A message answered while its sender was stopped (SIGSTOP) is in doubt as well: the
    # replica that took over cannot know it went out.
    for mail in sink.received:
        flight = sink.flight_of.get(id(mail))
        if flight is not None and flight.ended is not None:
            if any(a <= flight.ended <= b for a, b in paused):
                doubted.add(id(mail))
    resent: set[str] = set()  # in-doubt messages sent again with their Message-ID
    regrouped: set[str] = set()  # in-doubt messages whose stories came again in a later one
    for address in RECIPIENTS:
        copies: dict[str, list[tuple[str, bool]]] = {}
        for mail in sink.received:
            if address not in mail.rcpt_tos:
                continue
            message_id = str(mail.parse()["Message-ID"])
            for url in mail_story_links(mail, expected):
                copies.setdefault(url, []).append((message_id, id(mail) in doubted))
        problems += [f"email {address}: {u} lost" for u in sorted(expected - set(copies))]
        for url, got in copies.items():
            if len(got) == 1:
                continue
            # A story twice is allowed only after a copy the server kept without confirming
            # it (the in-doubt window): every copy but the last must be one of those.
            if not all(doubt for _, doubt in got[:-1]):
                problems.append(f"email {address}: {url} sent {len(got)}x: {got}")
            elif len({m for m, _ in got}) == 1:
                resent.add(got[0][0])  # the README's rule: the same Message-ID
            else:
                # The run that took over had a new story too: the resend is a larger digest,
                # with a Message-ID of its own (README: "Running more than one").
                regrouped |= {m for m, doubt in got if doubt}
    return problems, len(resent), len(regrouped)


def _pause(
    replica: Replica, state: StateReader, lease: float, holding: bool, problems: list[str]
) -> Kill:
    """SIGSTOP the leader past its lease (a node cut off), wait for another to take over, then
    SIGCONT it: it must notice it lost the lease and end, starting nothing more."""
    pid = replica.pid
    pause = Kill(time.monotonic(), pid, mid_delivery=holding)
    replica.process.send_signal(signal.SIGSTOP)
    try:
        # The process is alive: only the lease's expiry lets another replica take over.
        if _wait(lambda: (state.leader() or pid) != pid, lease * 4 + 30):
            pause.takeover = time.monotonic() - pause.at
        else:
            problems.append(f"nobody took over from the paused pid {pid}")
    finally:
        replica.process.send_signal(signal.SIGCONT)
        pause.resumed = time.monotonic()
    try:
        pause.exit_code = replica.process.wait(30)
    except subprocess.TimeoutExpired:
        problems.append(f"the resumed old leader (pid {pid}) kept running without the lease")
    return pause


def run_failover(
    workdir: Path,
    *,
    kills: int,
    replicas: int = 3,
    lease: float = 8.0,
    hold: float = 1.5,
    seed: int | None = None,
    log: Callable[[str], None] = lambda line: None,
    max_seconds: float = 900.0,
    state_url: str | None = None,
    pauses: int = 0,
) -> Outcome:
    """Start `replicas` serves, SIGKILL the leader `kills` times, then check the deliveries.

    Every other kill waits for a destination to hold one of the leader's messages and lands
    at a random point of its answer; the others land at a random moment (0.5-8 s after the
    previous takeover). The run ends once a period after the last kill has been delivered.
    """
    rng = random.Random(seed)
    started = time.monotonic()
    flights = _Flights()
    with ExitStack() as stack:
        slack = SlowSlack(flights, hold).start()
        stack.callback(slack.stop)
        sink = stack.enter_context(SlowSink(flights, hold))
        demo_base, demo_feeds = stack.enter_context(serve_sample())
        minute_feed = MinuteFeed(datetime.now(UTC))
        stack.callback(minute_feed.stop)
        feeds = [f"{minute_feed.base}/feed.rss", *demo_feeds]
        config = write_config(workdir, feeds, slack.base_url, sink.port, lease, state_url)
        env = {
            **os.environ,
            "FAILOVER_SLACK_TOKEN": slack.token,
            "HF_HUB_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("DIGEST_STATE_DIR", None)
        env.pop("DIGEST_DATABASE_URL", None)  # the config says where the state is
        state = StateReader(state_url or str(workdir / "state"))
        stack.callback(state.close)
        cluster = Cluster(config, replicas, env)
        stack.callback(cluster.stop)
        cluster.fill()
        done: list[Kill] = []
        paused: list[Kill] = []
        problems: list[str] = []
        if not _wait(lambda: len(cluster.ready()) == replicas and state.leader(), 120):
            problems.append("the replicas never came up with a leader")
        while not problems and len(done) < kills:
            if time.monotonic() - started > max_seconds:
                problems.append(f"gave up after {max_seconds:.0f}s with {len(done)} kills")
                break
            # Two replicas up besides the leader, so a standby is always there to take over.
            # (One that ends meanwhile, a leader that lost its lease, is replaced too.)
            if not _wait(lambda: cluster.fill() or len(cluster.ready()) == replicas, 180, 0.1):
                problems.append("a replacement replica never came up")
                break
            mid = len(done) % 2 == 0
            if mid:
                # Any of a period's four messages (Slack first, then email), not always the first.
                target = len(flights.all) + rng.randrange(len(CHANNELS) + len(RECIPIENTS))
                flight = flights.wait_for_new(target, timeout=120)
                if flight is None:
                    problems.append("no delivery began within 120s")
                    break
                time.sleep(rng.uniform(0, hold / 2))
            else:
                time.sleep(rng.uniform(0.5, 8.0))
            pid = state.leader()
            replica = cluster.by_pid(pid) if pid else None
            if replica is None:
                continue  # between leaders: try again
            holding = bool(flights.in_flight())
            cut = [f.what for f in flights.in_flight()]
            # The pauses spread among the kills: after every kills // (pauses + 1) of them.
            if len(paused) < pauses and len(done) >= (len(paused) + 1) * max(
                1, kills // (pauses + 1)
            ):
                paused.append(_pause(replica, state, lease, holding, problems))
                p = paused[-1]
                log(
                    f"pause {len(paused)}/{pauses}: pid {pid}, "
                    f"{'mid-delivery' if holding else 'between deliveries'}, takeover by "
                    f"expiry {p.takeover or 0:.2f}s, the old leader exited {p.exit_code}"
                )
                continue
            kill = Kill(time.monotonic(), replica.pid, mid_delivery=holding, cut=cut)
            cluster.kill(replica)
            new = _wait(lambda p=pid: (state.leader() or p) != p, lease * 4 + 30)
            if new:
                kill.takeover = time.monotonic() - kill.at
            else:
                problems.append(f"nobody took over from pid {pid}")
            done.append(kill)
            log(
                f"kill {len(done)}/{kills}: pid {pid}, "
                f"{'mid-delivery (' + '+'.join(cut) + ')' if holding else 'between deliveries'}"
                ", takeover " + (f"{kill.takeover:.2f}s" if kill.takeover is not None else "none")
            )
        # Let a period after the last kill finish: everything pending is then delivered.
        last_minute = _floor_minute(datetime.now(UTC))
        settle = last_minute + timedelta(minutes=1)
        period = settle.isoformat(timespec="seconds")
        # Even after a problem: a story missing at the end must really be lost, not pending.
        cluster.fill()
        if not _wait(lambda: state.period_done("harbour", period), 240, 0.5):
            problems.append(f"period {period} never finished")
        _wait(lambda: len(cluster.ready()) == replicas, 120)  # SIGTERM only after start-up
        _wait(lambda: not flights.in_flight(), 30, 0.1)
        cluster.prune()
        exits = list(cluster.exits)
        codes = cluster.stop()
        stack.pop_all().close()
        logs = cluster.logs()
        if any(code != 0 for code in codes):
            problems.append(f"replicas exited {codes} on SIGTERM")
        # 75: a leader that found its lease taken while working ends at once, as designed; 1: one
        # that found it taken between two units of work (a pause) stops and says so.
        stopped = [p.pid for p in paused]
        problems += [
            f"a replica exited {code} by itself"
            for r, code in zip(cluster.exited, exits, strict=True)
            if code != 75 and not (code == 1 and r.pid in stopped)
        ]
        expected = {minute_feed.url(m) for m in minute_feed.minutes(settle)} | demo_links(demo_base)
        windows = [(p.at, (p.resumed or p.at) + 2 * hold) for p in paused]
        found, resends, regrouped = check(expected, slack, sink, windows)
        problems += found
        periods = [m.isoformat(timespec="seconds") for m in minute_feed.minutes(settle)]
    return Outcome(
        kills=done,
        problems=problems,
        periods=periods,
        stories=len(expected),
        email_resends=resends,
        seconds=time.monotonic() - started,
        lease_losses=exits.count(75),
        pauses=paused,
        emails_kept=len(sink.in_doubt),
        email_regrouped=regrouped,
        logs=logs,
    )


def demo_links(base: str) -> set[str]:
    """The demo site's article links: they ride in the first digest."""
    from digest.demo import load_sample

    return {f"{base}/{a['outlet']}/{a['slug']}.html" for a in load_sample()["articles"]}
