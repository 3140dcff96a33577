"""The daily digest, stage by stage. This file only wires the stages together:

    feeds --fetch--> bytes --parse--> FeedItem --(page fetch)+extract--> Article --store-->
    --cluster--> Story --rank--> top stories --summarise--> QuickLooks --> Digest
    --render+deliver (per destination, through the ledger)--> Delivery

Read it top to bottom to follow one article from a feed to Slack.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from .app import App
from .archive import record_sent
from .config import DigestConfig, FeedConfig
from .deliver import OnSent, ReconcilingNotifier
from .errors import DeliveryError, DeliveryInDoubt, DigestError, FeedParseError, StateError
from .extract import build_article, extract_pages, needs_page
from .feeds import ParsedFeed, parse_feed
from .fetch import FetchRequest
from .models import Article, Delivery, Digest, DigestStory, FeedItem, QuickLooks, Story
from .updates import as_update, find_candidates, fresh_facts
from .urls import user_url_allows_private

log = logging.getLogger(__name__)

CLUSTER_SLICE = 100  # articles clustered (and committed) at a time
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


# --- collect: feeds to stored, clustered articles ---------------------------------------------


def collect(app: App, feeds: Sequence[FeedConfig]) -> tuple[list[Story], list[str]]:
    """Fetch the feeds, store what is new, extract it and group it into stories.

    Returns the stories touched by new articles and one line per problem met. Safe to call
    often: unchanged feeds cost one 304 each, and known items are never fetched again.
    """
    touched, problems, _ = _collect(app, feeds, _Timer())
    return touched, problems


def _collect(
    app: App, feeds: Sequence[FeedConfig], timer: _Timer
) -> tuple[list[Story], list[str], int]:
    problems: list[str] = []
    allow_private = app.config.fetch.allow_private_addresses
    states = {f.url: app.store.feed_state(f.url) for f in feeds}

    # 1. Fetch every feed at once (bounded concurrency), with the validators we stored.
    # A feed the user configured on a private host (an intranet) is trusted; links found inside
    # feeds are checked against private addresses by parse_feed and the fetcher.
    results = app.fetcher.fetch_many(
        [
            FetchRequest(
                f.url,
                etag=states[f.url].etag,
                last_modified=states[f.url].last_modified,
                allow_private=user_url_allows_private(f.url, allow_private),
            )
            for f in feeds
        ]
    )
    parsed: list[tuple[FeedConfig, ParsedFeed, str | None, str | None]] = []
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
                allow_private=user_url_allows_private(feed.url, allow_private),
                max_items=app.config.fetch.max_items_per_feed,
            )
        except FeedParseError as e:
            problems.append(f"feed {feed.url}: {e.reason}")
            app.store.record_feed_failure(feed.url, now, e.reason)
            continue
        problems.extend(f"feed {feed.url}: {p}" for p in pf.problems)
        parsed.append((feed, pf, result.etag, result.last_modified))
    log.info(
        "fetch: %d feeds, %d changed, %d unchanged (304), %d failed in %.1fs",
        len(feeds),
        len(parsed),
        unchanged,
        len(feeds) - len(parsed) - unchanged,
        timer.lap("fetch"),
    )

    # 2. Keep only items never seen before (by identity key), first occurrence wins.
    candidates: dict[str, tuple[FeedConfig, ParsedFeed, FeedItem]] = {}
    for feed, pf, _, _ in parsed:
        for item in pf.items:
            candidates.setdefault(item.key, (feed, pf, item))
    known = app.store.known_keys(list(candidates))
    new = [c for key, c in candidates.items() if key not in known]

    # 3. Fetch the article page of teaser-only items, then extract. Pages are fetched newest
    #    first up to the run's budget; items over it wait for the next run (their feed is
    #    fetched in full again then, not answered by a 304).
    settings = app.config.extract
    wanted = [(feed, pf, item) for feed, pf, item in new if needs_page(item, settings)]
    budget = app.config.fetch.max_page_fetches_per_run
    if len(wanted) > budget:
        wanted.sort(key=lambda c: c[2].published or _EPOCH, reverse=True)
        wanted, over = wanted[:budget], wanted[budget:]
        waiting = {item.key for _, _, item in over}
        new = [c for c in new if c[2].key not in waiting]
        deferred_feeds = {feed.url for feed, _, _ in over}
        problems.append(
            f"{len(over)} teaser items over the page budget (fetch.max_page_fetches_per_run = "
            f"{budget}) wait for the next run, from {len(deferred_feeds)} feed(s)"
        )
    else:
        deferred_feeds = set()
    pages = app.fetcher.fetch_many(
        [
            FetchRequest(
                item.url or "", allow_private=user_url_allows_private(feed.url, allow_private)
            )
            for feed, _, item in wanted
        ]
    )
    page_for = {item.key: result for (_, _, item), result in zip(wanted, pages, strict=True)}
    timer.lap("fetch")
    fetched = [
        (key, (result.content, result.final_url))
        for key, result in page_for.items()
        if result.status == "ok" and result.content is not None
    ]
    extracted = dict(
        zip(
            [key for key, _ in fetched],
            extract_pages(
                [job for _, job in fetched],
                favor_precision=settings.favor_precision,
                processes=settings.processes,
                cpus=app.cpus,
            ),
            strict=True,
        )
    )
    articles: list[Article] = []
    for feed, pf, item in new:
        feed_title = feed.name or pf.title
        page = None
        page_error = None
        fetched_page = page_for.get(item.key)
        if fetched_page is not None:
            outcome = extracted.get(item.key)
            if isinstance(outcome, str):
                page_error = outcome
            elif outcome is not None:
                page = outcome
            else:
                page_error = fetched_page.error or "no content"
            if page_error:
                problems.append(f"page {item.url}: {page_error} (used the feed's text)")
        articles.append(build_article(item, page, feed_title=feed_title, page_error=page_error))
    log.info(
        "extract: %d new items, %d pages fetched, %d from feed text only in %.1fs",
        len(new),
        len(wanted),
        sum(a.from_feed_only for a in articles),
        timer.lap("extract"),
    )

    # 4. Store the articles, then the feeds' validators: a crash in between re-fetches the feed
    #    in full next time instead of losing its items behind a 304.
    now = app.clock()
    added = app.store.add_articles(articles, now)
    for feed, pf, etag, last_modified in parsed:
        if feed.url in deferred_feeds:  # keep the old validators: read it in full next time
            state = states[feed.url]
            etag, last_modified = state.etag, state.last_modified
        app.store.record_feed_success(
            feed.url, now, etag=etag, last_modified=last_modified, title=pf.title
        )

    # 5. Group into stories: this run's articles and any left unclustered by an earlier crash,
    #    a slice at a time, each committed: an interrupted run keeps what it clustered.
    unclustered = app.store.unclustered_articles()
    touched_by_id: dict[str, Story] = {}
    for start in range(0, len(unclustered), CLUSTER_SLICE):
        for story in app.grouper.add(unclustered[start : start + CLUSTER_SLICE]):
            touched_by_id[story.id] = story  # first-touched order, latest members
    touched = list(touched_by_id.values())
    log.info(
        "cluster: %d new articles, %d stories touched in %.1fs",
        len(added),
        len(touched),
        timer.lap("cluster"),
    )
    return touched, problems, len(added)


# --- summarise, with the content-keyed cache ---------------------------------------------------


def summarize_stories(app: App, stories: Sequence[Story | Sequence[Article]]) -> list[QuickLooks]:
    """Quick Looks for each story (or group of articles); the same content is never
    summarised twice."""
    from .summarize import quicklooks_from_dict, quicklooks_to_dict, summary_cache_key

    settings = app.config.summarizer
    groups = [s.articles if isinstance(s, Story) else tuple(s) for s in stories]
    keys = [summary_cache_key(app.summarizer, g, settings) for g in groups]
    found: dict[str, QuickLooks] = {}
    for key in keys:
        data = app.store.cached_summary(key)
        if data is not None:
            found[key] = quicklooks_from_dict(data)
    missing = [(k, g) for k, g in zip(keys, groups, strict=True) if k not in found]
    if missing:
        made = app.summarizer.summarize([g for _, g in missing])
        now = app.clock()
        for (key, _), ql in zip(missing, made, strict=True):
            if ql.model == getattr(app.summarizer, "name", ql.model):  # not a fallback's
                app.store.cache_summary(key, ql.model, quicklooks_to_dict(ql), now)
            found[key] = ql
    return [found[k] for k in keys]


# --- deliver, through the ledger ---------------------------------------------------------------


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


INTENT_POST_WINDOW = timedelta(minutes=30)


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


def deliver(
    app: App,
    digest: Digest,
    notifiers: Sequence[object],
    *,
    kind: str = "story",
    send_empty: bool = False,
) -> list[Delivery]:
    """Send the digest to each destination, skipping what the ledger says it already has.

    The ledger is written after every message a destination confirms, so a crash (even SIGKILL)
    mid-delivery resends only what was not confirmed, and never to a destination that confirmed.
    A reconciling destination (Slack with a bot token) also closes the window between its
    confirmation and the ledger write: see `reconcile`. An Update goes only where its story went
    before, and only once.
    """
    deliveries = []
    for notifier in notifiers:
        key: str = notifier.key  # type: ignore[attr-defined]
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
            if reconciler is not None:
                intents = _Intents(app, key, digest.name, kinds, on_sent)
                reconciler.send(replace(digest, stories=todo), on_sent, intents)
            else:
                notifier.send(replace(digest, stories=todo), on_sent)  # type: ignore[attr-defined]
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


@dataclass(frozen=True)
class _LedgerKey:
    """A destination as a dry run sees it: only its ledger key, so no secret is needed."""

    key: str


def notifiers_for(app: App, digest: DigestConfig, *, keys_only: bool = False) -> list[object]:
    """The digest's destinations, or the local terminal + HTML file when it has none.

    `keys_only` (a dry run) gives each destination's ledger key without building it.
    """
    from .channels import tailored
    from .subscribers import expand_destinations

    if not digest.destinations:
        return [app.local_notifier_factory(digest)]
    # One email destination per recipient: their own message, their own ledger entries.
    destinations = expand_destinations(app.store, digest.name, digest.destinations)
    if keys_only:
        return [_LedgerKey(dest.key) for dest in destinations]
    # A Slack channel gets its own copy: its mutes left out, its reactions' order (channels.py).
    return [tailored(app.notifier_factory(dest), app.store, app.clock) for dest in destinations]


# --- the whole run -----------------------------------------------------------------------------


def _rank(stories: Sequence[Story], app: App) -> list[Story]:
    from .cluster import rank

    return rank(stories, app.clock())


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
        notifiers = notifiers_for(app, digest, keys_only=dry_run)
        _, problems, new_count = _collect(app, digest.feeds, timer)

        # Candidates: stories in the window with something not yet delivered to a destination.
        since = now - timedelta(hours=app.config.cluster.window_hours)
        stories = app.store.stories_updated_since(since, [f.url for f in digest.feeds])
        delivered = [app.store.delivered_ids(n.key) for n in notifiers]  # type: ignore[attr-defined]
        pending = [s for s in stories if any(s.id not in d for d in delivered)]
        # A story an earlier run ranked below the cut is not new just because it was never
        # sent: unless it grew, it only competes again, ranked with stories that are new.
        passed = app.store.passed_over(digest.name)
        fresh = [s for s in pending if passed.get(s.id) != len(s.articles)]
        top = _rank(pending, app)[: digest.max_stories] if fresh else []
        # Delivered stories that gained articles since: they may come back once as an Update.
        updates = []
        if app.config.cluster.updates:
            keys = [n.key for n in notifiers]  # type: ignore[attr-defined]
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

        # An Update summarises only the sentences with facts its earlier delivery lacked.
        deltas = [(u.story, fresh_facts(u)) for u in updates]
        deltas = [(story, arts) for story, arts in deltas if arts]
        quick = summarize_stories(app, [*(s.articles for s in top), *(arts for _, arts in deltas)])
        shown = [DigestStory(s, q) for s, q in zip(top, quick, strict=False)]
        for (story, _), delta in zip(deltas, quick[len(top) :], strict=True):
            if delta.bullets:
                shown.append(DigestStory(story, as_update(story, delta), is_update=True))
        log.info("summarise: %d stories in %.1fs", len(quick), timer.lap("summarise"))

        result_digest = Digest(
            name=digest.name,
            generated_at=now,
            stories=tuple(shown),
            notes=tuple(problems),
        )
        if dry_run:
            return RunResult(result_digest, (), tuple(problems), new_count, timer.timings)

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
            result_digest, tuple(deliveries), tuple(problems), new_count, timer.timings
        )
    except BaseException as e:
        if run_id is not None:
            try:
                app.store.finish_run(run_id, app.clock(), "failed", f"{type(e).__name__}: {e}")
            except StateError as again:  # the state is what failed: report the first error
                log.debug("run not recorded: %s", again)
        raise


__all__ = [
    "RunResult",
    "collect",
    "deliver",
    "notifiers_for",
    "reconcile",
    "run_digest",
    "summarize_stories",
    "DeliveryError",
]
