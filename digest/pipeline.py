"""The daily digest, stage by stage. This file only wires the stages together:

    feeds --fetch--> bytes --parse--> FeedItem --(page fetch)+extract--> Article --store-->
    --cluster--> Story --rank--> top stories --summarise--> QuickLooks --> Digest
    --render+deliver (per destination, through the ledger)--> Delivery

Read it top to bottom to follow one article from a feed to Slack: `run_digest` first, then
`run_alerts` (the same stages, one story at a time when it matches an alert rule), then each
stage they call, in the order they call them. The records passed between stages are frozen
dataclasses (`FeedFetch`, `NewItem`, `PageOutcome` here; `FeedItem`, `Article`, `Story`,
`Digest`, `Delivery` in digest.models).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from .alerts import Matcher, alert_digest, watched_feeds
from .app import App
from .archive import record_sent
from .channels import tailor
from .cluster import rank
from .config import AlertRule, Destination, DigestConfig, FeedConfig
from .deliver import Message, Notifier, OnSent, ReconcilingNotifier
from .errors import (
    DeliveryError,
    DeliveryInDoubt,
    DigestError,
    FeedParseError,
    LeaseLost,
    StateError,
)
from .extract import ExtractedPage, build_article, needs_page
from .feeds import ParsedFeed, parse_feed
from .fetch import FetchRequest
from .models import Article, Delivery, Digest, DigestStory, FeedItem, QuickLooks, Story
from .subscribers import expand_destinations
from .summarize import quicklooks_from_dict, quicklooks_to_dict, summary_cache_key
from .updates import as_update, find_candidates, fresh_facts
from .urls import user_url_allows_private
from .work import InProcessWork, PageRequest, Work

log = logging.getLogger(__name__)

CLUSTER_SLICE = 100  # articles clustered (and committed) at a time
INTENT_POST_WINDOW = timedelta(minutes=30)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class RunResult:
    """What one run produced: the digest, what was delivered where, and what went wrong."""

    digest: Digest
    deliveries: tuple[Delivery, ...]
    problems: tuple[str, ...]
    new_articles: int
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """True when a destination could not be delivered to."""
        return any(not d.ok for d in self.deliveries)


# --- the whole run -----------------------------------------------------------------------------


def run_digest(
    app: App, digest: DigestConfig, *, dry_run: bool = False, period: str | None = None
) -> RunResult:
    """Collect, pick, summarise, render and deliver one digest; record the run.

    `dry_run` renders without delivering and without marking anything delivered.
    """
    timer = _Timer()
    now = app.clock()
    run_id = None if dry_run else app.store.start_run(digest.name, period, now)
    try:
        # Destinations first: a missing secret stops the run before any fetching. A dry run
        # sends nothing, so it needs no secret, only what the ledger says each one has.
        notifiers = [] if dry_run else notifiers_for(app, digest)
        keys = destination_keys(app, digest) if dry_run else [n.key for n in notifiers]
        collected = _collect(app, digest.feeds, timer)

        # Candidates: stories in the window with something not yet delivered to a destination.
        since = now - timedelta(hours=app.config.cluster.window_hours)
        stories = app.store.stories_updated_since(since, [f.url for f in digest.feeds])
        delivered = [app.store.delivered_ids(k) for k in keys]
        pending = [s for s in stories if any(s.id not in d for d in delivered)]
        # A story an earlier run ranked below the cut is not new just because it was never
        # sent: unless it grew, it only competes again, ranked with stories that are new.
        passed = app.store.passed_over(digest.name)
        fresh = [s for s in pending if passed.get(s.id) != len(s.articles)]
        top = rank(pending, app.clock())[: digest.max_stories] if fresh else []
        # Delivered stories that gained articles since: they may come back once as an Update.
        updates = []
        if app.config.cluster.updates:
            updates = find_candidates(app.store, stories, keys)
            updates = updates[: max(digest.max_stories - len(top), 0)]
        log.info(
            "rank: %d candidate stories (%d new, %d passed over before), %d to show, "
            "%d possible updates in %.1fs",
            len(pending),
            len(fresh),
            len(pending) - len(fresh),
            len(top),
            len(updates),
            timer.lap("rank"),
        )

        # Each pick carries the articles its Quick Looks are made from: an Update only the
        # sentences with facts its earlier delivery lacked.
        picks = [_Pick(s, s.articles) for s in top]
        picks += [_Pick(u.story, arts, True) for u in updates if (arts := fresh_facts(u))]
        quick = summarize_stories(app, [p.articles for p in picks])
        shown = [
            DigestStory(p.story, as_update(p.story, q), is_update=True)
            if p.is_update
            else DigestStory(p.story, q)
            for p, q in zip(picks, quick, strict=True)
            if q is not None  # lost on the queue: the story waits for the next run, unsent
            and (q.bullets or not p.is_update)  # no new fact worth a bullet: no Update
        ]
        log.info("summarise: %d stories in %.1fs", len(quick), timer.lap("summarise"))

        problems = collected.problems
        problems += [
            f"story {p.story.headline!r}: its summary did not come back; it waits for the next run"
            for p, q in zip(picks, quick, strict=True)
            if q is None
        ]
        result_digest = Digest(
            name=digest.name,
            generated_at=now,
            stories=tuple(shown),
            notes=tuple(problems),
        )
        if dry_run:
            return RunResult(
                result_digest, (), tuple(problems), collected.new_articles, timer.timings
            )

        deliveries = deliver(app, result_digest, notifiers, send_empty=digest.send_empty)
        shown_ids = {s.id for s in top}
        app.store.record_cut(
            digest.name,
            [(s.id, len(s.articles)) for s in pending if s.id not in shown_ids],
            sorted(shown_ids),
            app.clock(),
        )
        record_sent(app.store, result_digest, deliveries)  # the web archive
        log.info("deliver: %d destinations in %.1fs", len(deliveries), timer.lap("deliver"))
        failed = [d for d in deliveries if not d.ok]
        outcome = "failed" if failed else ("ok" if result_digest.stories else "empty")
        error = "; ".join(d.detail for d in failed) or None
        if run_id is not None:
            app.store.finish_run(run_id, app.clock(), outcome, error, len(result_digest.stories))
        return RunResult(
            result_digest, tuple(deliveries), tuple(problems), collected.new_articles, timer.timings
        )
    except BaseException as e:
        # A replica that lost its lease stops as a crash would: the run is left unfinished,
        # not failed, so it costs the period none of its attempts; the new holder resumes it.
        if run_id is not None and not isinstance(e, LeaseLost):
            try:
                app.store.finish_run(run_id, app.clock(), "failed", f"{type(e).__name__}: {e}")
            except StateError as again:  # the state is what failed: report the first error
                log.debug("run not recorded: %s", again)
        raise


@dataclass(frozen=True)
class _Pick:
    """A story chosen for the digest, with the articles its Quick Looks are made from."""

    story: Story
    articles: tuple[Article, ...]
    is_update: bool = False


# --- the alert run: one story at once, when it matches a rule ---------------------------------


def run_alerts(app: App, rules: Sequence[AlertRule], *, since: datetime) -> list[Delivery]:
    """Fetch the feeds the rules watch and check the stories changed since `since`.

    Stories changed by a digest run (which fetches too) are checked as well as those this poll
    touched, so a scheduled run never swallows an alert.
    """
    feeds: dict[str, FeedConfig] = {}
    for rule in rules:
        for f in watched_feeds(app.config, rule):
            feeds.setdefault(f.url, f)
    touched, problems = collect(app, list(feeds.values()))
    for line in problems:
        log.debug("alerts: %s", line)
    # A minute of slack: a story saved while the previous poll was finishing still counts.
    recent = app.store.stories_updated_since(since - timedelta(minutes=1), list(feeds))
    return check_alerts(app, [*touched, *recent], rules=rules)


def check_alerts(
    app: App, stories: Sequence[Story], *, rules: Sequence[AlertRule] | None = None
) -> list[Delivery]:
    """Match the stories against every rule (the config's by default), queue the matches,
    send what is allowed now.

    A story alerts at most once per rule and destination (the ledger), even across restarts.
    Matches in quiet hours, or over `max_per_hour`, wait in the queue and go out later; a
    failed send stays queued and is retried at the next check.
    """
    rules = app.config.alert if rules is None else rules
    now = app.clock()
    unique = list({s.id: s for s in stories}.values())
    deliveries: list[Delivery] = []
    for rule in rules:
        # One email destination per recipient, without those who unsubscribed from the rule.
        destinations = expand_destinations(app.store, rule.name, rule.destinations)
        keys = [d.key for d in destinations]
        matched = _queue_matches(app, rule, unique, keys, now)
        if rule.quiet_hours and rule.quiet_hours.contains(now):
            held = app.store.queued_alerts(rule.name)
            if held:
                log.info("alerts: %s: %d held for quiet hours", rule.name, len(held))
            continue
        sent = _send_held(app, rule, destinations, now, deliveries)
        log.info(
            "alerts: %s: %d matched, %d sent, %d held",
            rule.name,
            matched,
            sent,
            len(app.store.queued_alerts(rule.name)),
        )
    return deliveries


def _queue_matches(
    app: App,
    rule: AlertRule,
    stories: Sequence[Story],
    keys: Sequence[str],
    now: datetime,
) -> int:
    """Queue the stories from the rule's feeds that match it and are not alerted everywhere
    yet; return how many matched."""
    urls = {f.url for f in watched_feeds(app.config, rule)}
    matcher = Matcher(rule, app.embedder)
    matched = 0
    for story in stories:
        if not any(a.feed_url in urls for a in story.articles):
            continue
        if all(app.store.is_delivered(k, story.id, rule.kind) for k in keys):
            continue
        found = matcher.match(story, now)
        if found is not None:
            # Queued first: a story already queued for the rule keeps its first reason.
            app.store.queue_alert(rule.name, story.id, found.reason, now)
            matched += 1
    return matched


def _send_held(
    app: App,
    rule: AlertRule,
    destinations: Sequence[Destination],
    now: datetime,
    deliveries: list[Delivery],
) -> int:
    """Send the rule's queued matches, oldest first, within its rate limit; return how many
    went out. Each alert is its own digest: summarised, rendered and delivered like one."""
    held = app.store.queued_alerts(rule.name)
    keys = [d.key for d in destinations]
    budget = len(held)
    if rule.max_per_hour is not None:
        last_hour = app.store.stories_delivered_since(rule.kind, now - timedelta(hours=1))
        budget = max(rule.max_per_hour - last_hour, 0)
    sent = 0
    for queued in held:
        story_id = queued.story_id
        if now - queued.queued_at > timedelta(hours=rule.max_age_hours):
            log.warning("alerts: %s: dropping %s, held too long", rule.name, story_id)
            app.store.unqueue_alert(rule.name, story_id)
            continue
        if sent >= budget:
            break
        held_story = app.store.load_story(story_id)
        if held_story is None:
            app.store.unqueue_alert(rule.name, story_id)
            continue
        notifiers = [app.notifier_factory(d) for d in destinations]
        already = all(app.store.is_delivered(k, story_id, rule.kind) for k in keys)
        if not already:
            (quick,) = summarize_stories(app, [held_story])
            if quick is None:
                continue  # its summary was lost on the queue: stays queued for the next check
            message = alert_digest(rule, held_story, quick, queued.reason, now)
            result = deliver(app, message, notifiers, kind=rule.kind)
            deliveries.extend(result)
            if not all(d.ok for d in result):
                continue  # stays queued: retried at the next check
            sent += 1
        app.store.unqueue_alert(rule.name, story_id)
    return sent


# --- collect: feeds to stored, clustered articles ---------------------------------------------


@dataclass(frozen=True)
class FeedFetch:
    """A configured feed that was fetched and parsed this run.

    `trusted` is the private-address rule for everything fetched on this feed's behalf (the
    feed itself, its redirects and its items' pages), decided once: a feed the user configured
    on a private host (an intranet) is trusted; links found inside feeds on a public host are
    checked against private addresses by parse_feed and the fetcher.
    """

    feed: FeedConfig
    parsed: ParsedFeed
    etag: str | None  # the validators to store once the feed's items are stored
    last_modified: str | None
    trusted: bool


@dataclass(frozen=True)
class NewItem:
    """A feed item never seen before (by identity key), and the feed it came from."""

    source: FeedFetch
    item: FeedItem


@dataclass(frozen=True)
class PageOutcome:
    """What became of a new item's article page: one status, not a type to tell apart.

    - `feed_text`: no page was needed (the feed carries the text) or fetching pages is off;
    - `extracted`: fetched and extracted, `page` holds it;
    - `failed`: the fetch or the extraction failed, `error` says why (the feed's text is used).
    """

    status: Literal["feed_text", "extracted", "failed"]
    page: ExtractedPage | None = None
    error: str | None = None

    @classmethod
    def of(cls, result: ExtractedPage | str) -> PageOutcome:
        """The outcome of one extraction (`extract_pages` gives the page or its error)."""
        if isinstance(result, ExtractedPage):
            return cls("extracted", page=result)
        return cls("failed", error=result)


@dataclass(frozen=True)
class Collected:
    """What `collect` did: the stories new articles touched, the problems met, the count."""

    touched: list[Story]
    problems: list[str]
    new_articles: int


def collect(app: App, feeds: Sequence[FeedConfig]) -> tuple[list[Story], list[str]]:
    """Fetch the feeds, store what is new, extract it and group it into stories.

    Returns the stories touched by new articles and one line per problem met. Safe to call
    often: unchanged feeds cost one 304 each, and known items are never fetched again.
    """
    collected = _collect(app, feeds, _Timer())
    return collected.touched, collected.problems


def _collect(app: App, feeds: Sequence[FeedConfig], timer: _Timer) -> Collected:
    problems: list[str] = []
    fetched = _fetch_feeds(app, feeds, problems, timer)
    new = _new_items(app, fetched)
    new, deferred = _over_page_budget(app, new, problems)
    outcomes = _fetch_pages(app, new, timer)
    articles = _build_articles(new, outcomes, problems)
    log.info(
        "extract: %d new items, %d pages fetched, %d from feed text only in %.1fs",
        len(new),
        sum(o.status != "feed_text" for o in outcomes.values()),
        sum(a.from_feed_only for a in articles),
        timer.lap("extract"),
    )
    added = _store(app, articles, fetched, deferred)
    touched = _cluster(app)
    log.info(
        "cluster: %d new articles, %d stories touched in %.1fs",
        len(added),
        len(touched),
        timer.lap("cluster"),
    )
    return Collected(touched, problems, len(added))


def _fetch_feeds(
    app: App, feeds: Sequence[FeedConfig], problems: list[str], timer: _Timer
) -> list[FeedFetch]:
    """1. Fetch every feed at once (bounded concurrency), with the validators we stored.

    An unchanged feed (304) is recorded as a success at once; a failing one as a failure, with
    a problem line. The feeds with new content come back parsed.
    """
    allow_private = app.config.fetch.allow_private_addresses
    states = {f.url: app.store.feed_state(f.url) for f in feeds}
    trusted = {f.url: user_url_allows_private(f.url, allow_private) for f in feeds}
    results = app.fetcher.fetch_many(
        [
            FetchRequest(
                f.url,
                etag=states[f.url].etag,
                last_modified=states[f.url].last_modified,
                allow_private=trusted[f.url],
            )
            for f in feeds
        ]
    )
    fetched: list[FeedFetch] = []
    now = app.clock()
    unchanged = 0
    for feed, result in zip(feeds, results, strict=True):
        if result.status == "not_modified":
            unchanged += 1
            state = states[feed.url]
            app.store.record_feed_success(
                feed.url, now, etag=state.etag, last_modified=state.last_modified
            )
            continue
        if result.status != "ok" or result.content is None:
            problems.append(f"feed {feed.url}: {result.error or 'no content'}")
            app.store.record_feed_failure(feed.url, now, result.error or "no content")
            continue
        try:
            pf = parse_feed(
                result.content,
                feed.url,
                content_type=result.content_type,
                priority=feed.priority,
                allow_private=trusted[feed.url],
                max_items=app.config.fetch.max_items_per_feed,
            )
        except FeedParseError as e:
            problems.append(f"feed {feed.url}: {e.reason}")
            app.store.record_feed_failure(feed.url, now, e.reason)
            continue
        problems.extend(f"feed {feed.url}: {p}" for p in pf.problems)
        fetched.append(FeedFetch(feed, pf, result.etag, result.last_modified, trusted[feed.url]))
    log.info(
        "fetch: %d feeds, %d changed, %d unchanged (304), %d failed in %.1fs",
        len(feeds),
        len(fetched),
        unchanged,
        len(feeds) - len(fetched) - unchanged,
        timer.lap("fetch"),
    )
    return fetched


def _new_items(app: App, fetched: Sequence[FeedFetch]) -> list[NewItem]:
    """2. Keep only items never seen before (by identity key), first occurrence wins."""
    candidates: dict[str, NewItem] = {}
    for source in fetched:
        for item in source.parsed.items:
            candidates.setdefault(item.key, NewItem(source, item))
    known = app.store.known_keys(list(candidates))
    return [c for key, c in candidates.items() if key not in known]


def _over_page_budget(
    app: App, new: list[NewItem], problems: list[str]
) -> tuple[list[NewItem], set[str]]:
    """3a. The items to read this run, and the feeds whose items wait for the next one.

    Pages are fetched newest first up to the run's budget; teaser items over it are left out
    (their feed is fetched in full again next run, not answered by a 304).
    """
    settings = app.config.extract
    wanted = [c for c in new if needs_page(c.item, settings)]
    budget = app.config.fetch.max_page_fetches_per_run
    if len(wanted) <= budget:
        return new, set()
    wanted.sort(key=lambda c: c.item.published or _EPOCH, reverse=True)
    over = wanted[budget:]
    waiting = {c.item.key for c in over}
    deferred_feeds = {c.source.feed.url for c in over}
    problems.append(
        f"{len(over)} teaser items over the page budget (fetch.max_page_fetches_per_run = "
        f"{budget}) wait for the next run, from {len(deferred_feeds)} feed(s)"
    )
    return [c for c in new if c.item.key not in waiting], deferred_feeds


def _fetch_pages(app: App, new: Sequence[NewItem], timer: _Timer) -> dict[str, PageOutcome]:
    """3b. Fetch the article page of each teaser-only item, then extract it; by item key."""
    wanted = [c for c in new if needs_page(c.item, app.config.extract)]
    # Here, or on the queue's workers (digest.work): each page's text or why there is none.
    results = _work(app).fetch_pages(
        [PageRequest(c.item.key, c.item.url or "", allow_private=c.source.trusted) for c in wanted]
    )
    return {c.item.key: PageOutcome.of(r) for c, r in zip(wanted, results, strict=True)}


def _build_articles(
    new: Sequence[NewItem], outcomes: dict[str, PageOutcome], problems: list[str]
) -> list[Article]:
    """3c. One Article per new item: from its page when one was read, else the feed's text."""
    articles: list[Article] = []
    for c in new:
        outcome = outcomes.get(c.item.key, PageOutcome("feed_text"))
        if outcome.error:
            problems.append(f"page {c.item.url}: {outcome.error} (used the feed's text)")
        articles.append(
            build_article(
                c.item,
                outcome.page,
                feed_title=c.source.feed.name or c.source.parsed.title,
                page_error=outcome.error,
            )
        )
    return articles


def _store(
    app: App, articles: Sequence[Article], fetched: Sequence[FeedFetch], deferred: set[str]
) -> list[Article]:
    """4. Store the articles, then the feeds' validators; return the articles that were new.

    In this order, so a crash in between re-fetches the feed in full next time instead of
    losing its items behind a 304.
    """
    now = app.clock()
    added = app.store.add_articles(articles, now)
    for f in fetched:
        etag, last_modified = f.etag, f.last_modified
        if f.feed.url in deferred:  # keep the old validators: read it in full next time
            state = app.store.feed_state(f.feed.url)
            etag, last_modified = state.etag, state.last_modified
        app.store.record_feed_success(
            f.feed.url, now, etag=etag, last_modified=last_modified, title=f.parsed.title
        )
    return added


def _cluster(app: App) -> list[Story]:
    """5. Group into stories: this run's articles and any left unclustered by an earlier crash,
    a slice at a time, each committed: an interrupted run keeps what it clustered."""
    unclustered = app.store.unclustered_articles()
    touched_by_id: dict[str, Story] = {}
    with app.grouper.session():  # the window is read once, not once a slice
        for start in range(0, len(unclustered), CLUSTER_SLICE):
            for story in app.grouper.add(unclustered[start : start + CLUSTER_SLICE]):
                touched_by_id[story.id] = story  # first-touched order, latest members
    return list(touched_by_id.values())


# --- summarise, with the content-keyed cache ---------------------------------------------------


def _work(app: App) -> Work:
    """Where the heavy stages run: the App's (a queue's workers), else this process."""
    if app.work is not None:
        return app.work
    return InProcessWork(
        app.fetcher, app.config.extract, app.embedder, app.summarizer, cpus=app.cpus
    )


def summarize_stories(
    app: App, stories: Sequence[Story | Sequence[Article]]
) -> list[QuickLooks | None]:
    """Quick Looks for each story (or group of articles), in order; the same content is never
    summarised twice. None for a story whose summary a queue's workers never sent back."""
    settings = app.config.summarizer
    groups = [s.articles if isinstance(s, Story) else tuple(s) for s in stories]
    keys = [summary_cache_key(app.summarizer, g, settings) for g in groups]
    found: dict[str, QuickLooks | None] = {}
    for key in keys:
        data = app.store.cached_summary(key)
        if data is not None:
            found[key] = quicklooks_from_dict(data)
    missing = [(k, g) for k, g in zip(keys, groups, strict=True) if k not in found]
    if missing:
        made = _work(app).summarise([g for _, g in missing])
        now = app.clock()
        for (key, _), ql in zip(missing, made, strict=True):
            # Lost on the queue (None) or made by a fallback: not cached.
            if ql is not None and ql.model == app.summarizer.name:
                app.store.cache_summary(key, ql.model, quicklooks_to_dict(ql), now)
            found[key] = ql
    return [found[k] for k in keys]


# --- deliver, through the ledger ---------------------------------------------------------------


def notifiers_for(app: App, digest: DigestConfig) -> list[Notifier]:
    """The digest's destinations, or the local terminal + HTML file when it has none.

    Building them reads their secrets: a missing one raises ConfigError naming it.
    """
    if not digest.destinations:
        return [app.local_notifier_factory(digest)]
    # One email destination per recipient: their own message, their own ledger entries.
    destinations = expand_destinations(app.store, digest.name, digest.destinations)
    return [app.notifier_factory(dest) for dest in destinations]


def destination_keys(app: App, digest: DigestConfig) -> list[str]:
    """The ledger keys of the digest's destinations, without building them (no secret needed:
    what a dry run asks the ledger about)."""
    if not digest.destinations:
        return [app.local_notifier_factory(digest).key]
    return [d.key for d in expand_destinations(app.store, digest.name, digest.destinations)]


def deliver(
    app: App,
    digest: Digest,
    notifiers: Sequence[Notifier],
    *,
    kind: str = "story",
    send_empty: bool = False,
) -> list[Delivery]:
    """Render the digest for each destination and send it, skipping what the ledger says the
    destination already has.

    Per destination: what it lacks, then a Slack channel's own copy (`channel_copy`), then
    rendered by the notifier's renderer (Slack Block Kit, an email, an HTML file; see
    digest.render), then transported by the notifier. The ledger is written after every
    message a destination confirms, so a crash (even SIGKILL) mid-delivery resends only what
    was not confirmed, and never to a destination that confirmed. A reconciling destination
    (Slack with a bot token) also closes the window between its confirmation and the ledger
    write: see `reconcile`. An Update goes only where its story went before, and only once.
    """
    deliveries = []
    for notifier in notifiers:
        key = notifier.key
        if app.fence is not None and not app.fence():
            # Another replica may hold the lease and be delivering this period: stop here.
            raise LeaseLost(f"{key}: not sent: this serve is no longer sure it holds the lease")
        reconciler = notifier if isinstance(notifier, ReconcilingNotifier) else None
        if reconciler is not None:
            reconcile(app, reconciler)
        else:
            _forget_doubts(app, key)
        done = app.store.delivered_ids(key, kind)
        updated = app.store.delivered_ids(key, "update")
        todo = tuple(
            ds
            for ds in digest.stories
            if (
                (ds.story.id in done and ds.story.id not in updated)
                if ds.is_update
                else ds.story.id not in done
            )
        )
        if not todo and not (send_empty and not digest.stories):
            deliveries.append(Delivery(key, (), ok=True, detail="nothing new"))
            continue
        kinds = {ds.story.id: "update" if ds.is_update else kind for ds in todo}
        sent: list[str] = []

        def on_sent(
            story_ids: tuple[str, ...],
            ref: str,
            key: str = key,
            sent: list[str] = sent,
            kinds: dict[str, str] = kinds,
        ) -> None:
            for k in dict.fromkeys(kinds[i] for i in story_ids):
                ids = [i for i in story_ids if kinds[i] == k]
                app.store.record_delivery(
                    key, ids, kind=k, digest=digest.name, ref=ref, now=app.clock()
                )
            sent.extend(story_ids)

        try:
            copy = channel_copy(app, key, replace(digest, stories=todo), on_sent)
            if copy is not None:
                messages: list[Message[Any]] = notifier.renderer.render(copy)
                if reconciler is not None:
                    intents = _Intents(app, key, digest.name, kinds, on_sent)
                    reconciler.send(messages, on_sent, intents)
                else:
                    notifier.send(messages, on_sent)
        except DeliveryInDoubt as e:
            # Recorded so the next run knows this message may be there already (see
            # _forget_doubts); never retried within this run.
            unsent = tuple(i for i in kinds if i not in sent)
            app.store.record_intent(
                key,
                e.reference,
                digest=digest.name,
                story_ids=unsent,
                kinds=[kinds[i] for i in unsent],
                now=app.clock(),
            )
            log.error("deliver: %s", e)
            deliveries.append(Delivery(key, tuple(sent), ok=False, detail=str(e)))
            continue
        except StateError:
            # The ledger cannot be written (a full disk): sending on would only make more
            # deliveries nobody can record. The error says what went out and where it is kept.
            raise
        except DigestError as e:
            log.error("deliver: %s", e)
            deliveries.append(Delivery(key, tuple(sent), ok=False, detail=str(e)))
            continue
        deliveries.append(Delivery(key, tuple(sent), ok=True))
    return deliveries


def channel_copy(app: App, destination: str, digest: Digest, on_sent: OnSent) -> Digest | None:
    """A Slack channel's own copy of a digest: its mutes left out, in its reactions' order
    (digest.channels); other destinations get the digest as it is.

    Muted stories are recorded for the channel at once (reference `muted`), so they are not
    offered again; None when every story was muted, so nothing is sent.
    """
    if not destination.startswith("slack:"):
        return digest
    copy, muted = tailor(app.store, destination, digest, app.clock())
    if muted:
        on_sent(tuple(muted), "muted")
    return copy if copy.stories or not digest.stories else None


def reconcile(app: App, notifier: ReconcilingNotifier) -> list[str]:
    """Settle the intents an interrupted run left open for this destination; return the story
    ids found delivered.

    A message the destination has is recorded in the ledger and never posted again; one it does
    not have (or when it cannot be asked) is forgotten, so its stories are posted as usual.
    """
    intents = app.store.open_intents(notifier.key)
    if not intents:
        return []
    found = notifier.find_posted(
        [i.key for i in intents],
        min(i.created_at for i in intents),
        # A post follows its intent within seconds (minutes when rate-limited): reading the
        # channel back from then, not from now, keeps a busy channel's later posts out of it.
        max(i.created_at for i in intents) + INTENT_POST_WINDOW,
    )
    settled: list[str] = []
    refs = []
    for intent in intents:
        ref = found.get(intent.key)
        if ref is None:
            app.store.drop_intent(notifier.key, intent.key)
            continue
        settled += app.store.settle_intent(notifier.key, intent.key, ref=ref, now=app.clock())
        refs.append(ref)
    if refs:
        log.info(
            "deliver: %s: %d message(s) with %d stories reached it before the last run was "
            "interrupted (%s); recorded, not posted again",
            notifier.key,
            len(refs),
            len(settled),
            ", ".join(refs),
        )
    return settled


def _forget_doubts(app: App, destination: str) -> None:
    """Messages an earlier run left in doubt at a destination that cannot be asked (email).

    Their stories were never recorded, so this run sends them again: at-least-once, one copy
    per run at most, and with the same Message-ID when the stories are the same, so mail
    clients can fold a duplicate. The doubt is logged and cleared.
    """
    for intent in app.store.open_intents(destination):
        log.warning(
            "deliver: %s: the last run's message %s may have arrived (its confirmation was "
            "lost); its %d stories are sent again",
            destination,
            intent.key,
            len(intent.story_ids),
        )
        app.store.drop_intent(destination, intent.key)


@dataclass
class _Intents:
    """The IntentLog a reconciling notifier writes through: an intent before each post, and the
    ledger entry with the intent cleared, in one transaction, after Slack confirms it."""

    app: App
    destination: str
    digest: str
    kinds: dict[str, str]
    on_sent: OnSent

    def begin(self, key: str, story_ids: tuple[str, ...]) -> None:
        self.app.store.record_intent(
            self.destination,
            key,
            digest=self.digest,
            story_ids=story_ids,
            kinds=[self.kinds[i] for i in story_ids],
            now=self.app.clock(),
        )

    def confirm(self, key: str, story_ids: tuple[str, ...], reference: str) -> None:
        with self.app.store.transaction():
            self.on_sent(story_ids, reference)
            self.app.store.drop_intent(self.destination, key)


# --- timing ------------------------------------------------------------------------------------


class _Timer:
    """Collects wall time per stage for RunResult.timings and the INFO log lines."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._start = time.perf_counter()

    def lap(self, stage: str) -> float:
        now = time.perf_counter()
        spent = now - self._start
        self.timings[stage] = self.timings.get(stage, 0.0) + spent
        self._start = now
        return spent


__all__ = [
    "Collected",
    "DeliveryError",
    "FeedFetch",
    "NewItem",
    "PageOutcome",
    "RunResult",
    "channel_copy",
    "check_alerts",
    "collect",
    "deliver",
    "destination_keys",
    "notifiers_for",
    "reconcile",
    "run_alerts",
    "run_digest",
    "summarize_stories",
]
