"""Benchmark: cluster 10,000 synthetic articles arriving in daily batches of 1,000.

    python bench/cluster.py                         # hashing twin for vectors (default)
    python bench/cluster.py --embedder minilm       # the real model (slow on 2 cores)
    python bench/cluster.py --minilm-sample 300     # also time MiniLM on a sample of leads

A history of `--history-days` days is clustered first (not timed), then `--days` batches of
`--batch` articles go through `Clusterer.add` against an on-disk store (WAL), one batch per
simulated day, as `digest run` would see them. For each batch it reports wall time with the
embedding time separately, the rows in the window, and the peak memory allocated during the batch
(tracemalloc, which sees numpy's buffers) plus the process RSS. Synthetic events are told by 1-5
outlets in varied words, with names and figures, and 10% wire copies with small edits.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
import tempfile
import threading
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import psutil  # noqa: E402

from digest.cluster import Clusterer  # noqa: E402
from digest.config import ClusterSettings  # noqa: E402
from digest.embed import build_embedder  # noqa: E402
from digest.models import Article  # noqa: E402
from digest.store import Store  # noqa: E402

PLACES = """Antofagasta Mackay Boulder Riverton Gelderland Shepparton Quito Lisbon Frankfurt Munich
Cincinnati Portland Luzon Fukushima Tohoku Manila Ottawa Sydney Houston Geneva Chicago Minneapolis
Kyiv Kharkiv Odesa Warsaw Gdansk Krakow Bilbao Valencia Seville Porto Braga Lyon Marseille Nantes
Turin Naples Palermo Bergen Tromso Tampere Oulu Tartu Riga Vilnius Kaunas Split Zadar""".split()
ORGS = """Norvik Castell Brightwater Helix Nimbus PayLink Skyway FreshMart Lumen Arcway Meridian
Orbital Codelco Eurojet Vantor Kestrel Quarry Solace Tidewater Halcyon Ardent Borealis Cobalt
Drayton Ember Fairlane Granite Harbinger Ionic Juniper Keystone Larkspur Monarch Northwind Obsidian
Pinnacle Quasar Redwood Sable Thistle Umber Verity Wexford Yarrow Zephyr Alder Bramble Cinder
Dunmore""".split()
FIRST = """Lena Omar Maria Tiff Priya Ines Grace Carl Tom Rachel Clare David Michele Jared Curtis
Dave Elena Adrienne Viktor Angel Samu Ricardo Gen Dick Frans Luisa Daniel Rafael Paul
Sofia""".split()
LAST = """Vos Haddad Lindqvist Macklem Raman Moreau Okafor Brandt Harlan Ortiz Looker Crisafulli
Bullock Polis Johnson Yost Kagan Nelson Gyokeres Horta Nakatani Schoof Timmermans Gonzalez Noboa
Correa Dietz Alvarez Novak Petrov""".split()

TOPICS = [
    (
        [
            "{org} recalls {n1} vehicles over {thing} fault",
            "{org} to fix {n1} cars after {thing} problem",
            "Recall: {n1} {org} models affected by {thing} defect",
        ],
        [
            "{org} is recalling about {n1} vehicles because a {thing} fault can cause "
            "problems, the company said in a filing.",
            "The recall covers models built in {place} over two years.",
            "{person} said the company knew of {n2} minor incidents and no injuries.",
            "Owners will get a free fix starting next week, {org} said.",
        ],
    ),
    (
        [
            "Earthquake of magnitude {mag} strikes near {place}",
            "Quake shakes {place}, {n2} hurt",
            "Strong {mag} tremor hits {place} region",
        ],
        [
            "A magnitude {mag} earthquake struck near {place} early on {day}, officials said.",
            "At least {n2} people were injured and power was cut to {n1} homes.",
            "{person} of the emergency agency said teams were checking bridges and hospitals.",
            "{org} halted operations at two sites near {place} for inspection.",
        ],
    ),
    (
        [
            "{org} agrees to buy {org2} for ${bn} billion",
            "{org2} shares jump on {org} takeover",
            "{org} bets on growth with {org2} deal",
        ],
        [
            "{org} said on {day} it would buy {org2} for ${bn} billion including debt.",
            "{person}, chief executive of {org}, said the deal would save ${n2} million a year.",
            "The companies expect the deal to close next year in {place}.",
            "{org2} shares rose sharply after the announcement.",
        ],
    ),
    (
        [
            "Court blocks {place} law on {thing}",
            "Judge rules against {place} {thing} rules",
            "{place} {thing} law struck down by appeals court",
        ],
        [
            "A federal court on {day} blocked a {place} law on {thing}, ruling it "
            "unconstitutional.",
            "Judge {person} wrote that the law was far too broad.",
            "The suit was brought by {org}, a trade group with {n2} members.",
            "State officials said they would consider an appeal.",
        ],
    ),
    (
        [
            "Wildfire forces {n1} to flee near {place}",
            "Fire near {place} destroys {n2} homes",
            "Evacuations ordered as blaze grows near {place}",
        ],
        [
            "A wind-driven wildfire forced about {n1} people to evacuate near {place} on {day}.",
            "The fire had burned {n2} hectares by evening, {person} said.",
            "Crews from {org} were unable to fly aircraft because of strong winds.",
            "Shelters opened at schools across the region.",
        ],
    ),
    (
        [
            "{org} raises ${bn} billion in new funding",
            "{org} valued at ${n2} billion after round",
            "Investors pour ${bn} billion into {org}",
        ],
        [
            "{org} has raised ${bn} billion in a round led by {org2}, the company said on {day}.",
            "{person}, its chief executive, said the money would pay for computing capacity.",
            "The start-up, based in {place}, employs {n1} people.",
            "The valuation is triple the figure from a year ago.",
        ],
    ),
]
THINGS = "brake battery software airbag privacy zoning rental water emissions steering".split()
DAYS = "Monday Tuesday Wednesday Thursday Friday".split()
FILLER = """Analysts said the news had been widely expected. The announcement came after weeks of
speculation. Officials declined to comment further. Local media reported long queues. Markets were
little changed after the news. A spokesperson said more details would follow. The matter has drawn
attention from lawmakers. Residents described a tense night. Critics said the response was too
slow. Supporters welcomed the move.""".replace("\n", " ").split(". ")
# Words for sentences that differ between outlets, so copies are rare as in real feeds.
VOCAB = """government plan officials report market prices workers union company city council
school hospital police road bridge river weather storm rain winds coast port airport train bus
energy power grid oil gas coal copper steel food farm water budget tax rates inflation jobs
families residents visitors tourists teachers doctors nurses engineers lawyers judges voters
parties leaders ministers agency board committee inquiry review audit contract deal talks strike
protest rally vote election campaign poll survey study data figures growth decline record delay
cost damage repairs safety risk warning alert rescue crews teams volunteers donations support
criticism praise concern pressure demand supply exports imports shares investors banks loans
housing rents transport traffic network service outage update software users customers
""".split()


@dataclass
class _Event:
    topic: int
    slots: dict[str, str]
    start: datetime
    outlets: int


def _event(rng: random.Random, start: datetime) -> _Event:
    slots = {
        "org": rng.choice(ORGS),
        "org2": rng.choice(ORGS),
        "place": rng.choice(PLACES),
        "person": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        "thing": rng.choice(THINGS),
        "n1": f"{rng.randrange(1000, 200000):,}",
        "n2": str(rng.randrange(11, 900)),
        "mag": f"{rng.uniform(4.5, 7.9):.1f}",
        "bn": f"{rng.uniform(1, 40):.1f}",
        "day": rng.choice(DAYS),
    }
    outlets = min(5, 1 + int(rng.expovariate(0.8)))
    return _Event(rng.randrange(len(TOPICS)), slots, start, outlets)


def _article(rng: random.Random, ev: _Event, n: int, outlet: str, when: datetime) -> Article:
    titles, sentences = TOPICS[ev.topic]
    title = rng.choice(titles).format(**ev.slots)
    body = [s.format(**ev.slots) for s in sentences]
    rng.shuffle(body[1:])
    body = body[:1] + rng.sample(body[1:], k=len(body) - 2)  # each outlet picks its facts
    body += [rng.choice(FILLER).strip().rstrip(".") + "." for _ in range(rng.randrange(1, 3))]
    for _ in range(rng.randrange(3, 6)):
        words = rng.sample(VOCAB, k=rng.randrange(9, 16))
        body.append(" ".join(words).capitalize() + ".")
    paragraphs = [" ".join(body[i : i + 2]) for i in range(0, len(body), 2)]
    text = "\n\n".join(paragraphs)
    key = f"https://{outlet}.example/{hashlib.sha1(f'{title}{n}'.encode()).hexdigest()[:12]}"
    return Article(
        key=key,
        feed_url=f"https://{outlet}.example/feed",
        url=key,
        title=title,
        text=text,
        outlet=outlet,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        published=when,
    )


def headline_only(a: Article, n: int) -> Article:
    """The item as a headline-only feed gives it: no body, or the headline as a teaser."""
    text = "" if n % 2 == 0 else f"{a.title}. {a.outlet}"
    return Article(
        **{
            **a.__dict__,
            "text": text,
            "content_hash": hashlib.sha256(text.encode()).hexdigest(),
            "from_feed_only": True,
        }
    )


def synthetic_day(
    rng: random.Random, day_start: datetime, count: int, offset: int, headlines: bool = False
) -> list[Article]:
    """`count` articles published during one day, grouped into events of 1-5 outlets."""
    out: list[Article] = []
    while len(out) < count:
        ev = _event(rng, day_start + timedelta(minutes=rng.randrange(0, 23 * 60)))
        for i in range(ev.outlets):
            if len(out) >= count:
                break
            when = min(
                ev.start + timedelta(minutes=rng.randrange(0, 600)),
                day_start + timedelta(hours=23, minutes=59),
            )
            outlet = f"outlet{rng.randrange(60)}"
            a = _article(rng, ev, offset + len(out), outlet, when)
            if i > 0 and rng.random() < 0.1 and out:
                # A wire copy of the previous article with one word changed.
                prev = out[-1]
                text = prev.text.replace(" said", " reported", 1)
                a = Article(
                    **{
                        **a.__dict__,
                        "text": text,
                        "content_hash": hashlib.sha256(text.encode()).hexdigest(),
                    }
                )
            out.append(a)
    if headlines:
        out = [headline_only(a, offset + i) for i, a in enumerate(out)]
    return out


class _PeakRSS:
    """Samples the process RSS every few milliseconds in a thread; `take()` returns the peak.

    tracemalloc would see numpy's buffers too, but it slows allocation-heavy Python 3-5x and
    would distort the timings, so it is only used with --tracemalloc.
    """

    def __init__(self, interval: float = 0.005) -> None:
        self._proc = psutil.Process()
        self._peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self._peak = max(self._peak, self._proc.memory_info().rss)

    def take(self) -> int:
        """The peak since the last call, and start a new period."""
        peak = max(self._peak, self._proc.memory_info().rss)
        self._peak = 0
        return peak

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _cpus() -> int:
    try:
        from digest.runtime import usable_cpus  # type: ignore[import-not-found]

        return int(usable_cpus())
    except ImportError:
        return len(os.sched_getaffinity(0))


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one line per batch and a total."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--history-days", type=int, default=2)
    parser.add_argument("--embedder", default="hashing", choices=["hashing", "minilm"])
    parser.add_argument(
        "--minilm-sample", type=int, default=0, help="also time MiniLM on this many synthetic leads"
    )
    parser.add_argument(
        "--headlines",
        action="store_true",
        help="headline-only items: each article keeps its title and gets no body or a "
        "one-line teaser, as aggregator and ticker feeds give",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also report Python-level peak allocations (slows the run 3-5x)",
    )
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    embedder = build_embedder(args.embedder)
    start = datetime(2025, 3, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(tmp)
        clock = _Clock(start)
        clusterer = Clusterer(store, embedder, ClusterSettings(window_hours=72), clock)
        offset = 0
        for d in range(args.history_days):
            day = start + timedelta(days=d)
            batch = synthetic_day(rng, day, args.batch, offset, args.headlines)
            offset += len(batch)
            clock.now = day + timedelta(days=1)
            store.add_articles(batch, clock.now)
            clusterer.add(batch)
        kind = "headline-only items" if args.headlines else "articles"
        print(
            f"embedder {embedder.name}; {kind}; history: {offset} in {args.history_days} days; "
            f"usable CPUs {_cpus()}; load average {os.getloadavg()[0]:.1f}"
        )
        print(
            "day  articles  window  stories+  total_s  embed_s  cluster_s  "
            "(features  load  assign  persist)  peak_rss_MiB  alloc_MiB"
        )
        rss = _PeakRSS()
        rss.take()
        total = embed_total = cpu_total = 0.0
        peaks = []
        for d in range(args.days):
            day = start + timedelta(days=args.history_days + d)
            batch = synthetic_day(rng, day, args.batch, offset, args.headlines)
            offset += len(batch)
            clock.now = day + timedelta(days=1)
            before = store.conn.execute("SELECT COUNT(*) FROM stories").fetchone()[0]
            if args.tracemalloc:
                tracemalloc.start()
            rss.take()
            t0 = time.perf_counter()
            c0 = time.process_time()
            store.add_articles(batch, clock.now)
            clusterer.add(store.unclustered_articles())
            elapsed = time.perf_counter() - t0
            cpu_total += time.process_time() - c0
            peak_rss = rss.take()
            alloc = tracemalloc.get_traced_memory()[1] if args.tracemalloc else 0
            tracemalloc.stop()
            after = store.conn.execute("SELECT COUNT(*) FROM stories").fetchone()[0]
            lo = (day - timedelta(hours=72)).isoformat()
            window = store.conn.execute(
                "SELECT COUNT(*) FROM cluster_features WHERE at >= ?", (lo,)
            ).fetchone()[0]
            t = clusterer.timings
            embed_s = t.get("embed", 0.0)
            total += elapsed
            embed_total += embed_s
            peaks.append(peak_rss)
            print(
                f"{d + 1:>3}  {len(batch):>8}  {window:>6}  {after - before:>8}  {elapsed:>7.2f}  "
                f"{embed_s:>7.2f}  {elapsed - embed_s:>9.2f}  "
                f"({t['prepare']:>8.2f}  {t['load']:>4.2f}  {t['assign']:>6.2f}  "
                f"{t['persist']:>7.2f})  {peak_rss / 2**20:>12.0f}  "
                f"{alloc / 2**20 if args.tracemalloc else float('nan'):>9.1f}"
            )
        stories = store.conn.execute("SELECT COUNT(*) FROM stories").fetchone()[0]
        print(
            f"total: {args.days * args.batch} {kind} in {total:.1f} s "
            f"(embedding {embed_total:.1f} s, clustering {total - embed_total:.1f} s); "
            f"peak RSS per batch {min(peaks) / 2**20:.0f}-{max(peaks) / 2**20:.0f} MiB; "
            f"{stories} stories in store; load average now {os.getloadavg()[0]:.1f}"
        )
        # On a shared machine wall time includes waiting for a core; CPU time does not.
        print(f"process CPU time for those batches: {cpu_total:.1f} s (embedding included)")
        store.close()
        rss.stop()

    if args.minilm_sample:
        sample = synthetic_day(
            random.Random(args.seed + 1), start, args.minilm_sample, 0, args.headlines
        )
        from digest.cluster.features import article_features

        # What the clusterer embeds: the headline of a headline-only item, else the lead.
        leads = [
            article_features(a).title if args.headlines else article_features(a).lead
            for a in sample
        ]
        model = build_embedder("minilm")
        model.embed(leads[:8])  # load and warm up outside the timing
        t0 = time.perf_counter()
        model.embed(leads)
        spent = time.perf_counter() - t0
        rate = len(leads) / spent
        print(
            f"MiniLM: {len(leads)} leads in {spent:.1f} s = {rate:.0f} texts/s "
            f"-> {args.days * args.batch / rate:.0f} s for {args.days * args.batch} articles"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
