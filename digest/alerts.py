"""Alerts: rules that send one story at once when it matches, instead of waiting for the digest.

A rule sets any of: keywords (all / any / none, whole words, case-insensitive, phrases), a
regular expression, a semantic query (MiniLM similarity), and "breaking" (N outlets within M
hours). It fires when every condition it sets holds. A match is queued in the state first, then
sent when the rule's quiet hours and rate limit allow; the ledger (kind `alert:<rule>`) makes a
story alert at most once per rule and destination, whatever the restarts.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .config import Destination, format_validation_error
from .errors import ConfigError
from .models import Delivery, Digest, DigestStory, Story

if TYPE_CHECKING:
    from .app import App
    from .config import Config, FeedConfig

log = logging.getLogger(__name__)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _nonblank(values: list[str]) -> list[str]:
    for value in values:
        if not value.strip():
            raise ValueError("keywords must not be blank")
    return values


class Keywords(_Model):
    """Words or phrases; `all` must each appear, `any` at least one, `none` not one."""

    all: list[str] = Field(default_factory=list)
    any: list[str] = Field(default_factory=list)
    none: list[str] = Field(default_factory=list)

    _check = field_validator("all", "any", "none")(classmethod(lambda cls, v: _nonblank(v)))

    @model_validator(mode="after")
    def _something(self) -> Keywords:
        if not (self.all or self.any or self.none):
            raise ValueError("set at least one of all, any, none")
        return self


class Semantic(_Model):
    """A sentence; a story matches when its embedding is at least `threshold` similar."""

    query: str = Field(min_length=1)
    threshold: float = Field(0.5, gt=0, le=1)


class Breaking(_Model):
    """A story reported by at least `outlets` outlets within the last `within_hours`."""

    outlets: int = Field(ge=2, le=100)
    within_hours: float = Field(gt=0, le=168)


_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class QuietHours(_Model):
    """Local hours when matches are held, then sent once the quiet ends (may span midnight)."""

    start: str
    end: str
    timezone: str = "UTC"

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError(f"must be a time like 22:00, got {value!r}")
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _differ(self) -> QuietHours:
        if _clock_time(self.start) == _clock_time(self.end):
            raise ValueError("start and end must differ")
        return self

    def contains(self, when: datetime) -> bool:
        """Whether `when` falls in the quiet hours (start inclusive, end exclusive)."""
        local = when.astimezone(ZoneInfo(self.timezone)).time().replace(tzinfo=None)
        start, end = _clock_time(self.start), _clock_time(self.end)
        if start < end:
            return start <= local < end
        return local >= start or local < end  # spans midnight


def _clock_time(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


class AlertRule(_Model):
    """One `[[alert]]` table of the config."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    keywords: Keywords | None = None
    regex: str | None = None
    semantic: Semantic | None = None
    breaking: Breaking | None = None
    quiet_hours: QuietHours | None = None
    max_per_hour: int | None = Field(None, ge=1)
    # A story older than this (newest article) never alerts: alerts are for news, and a first
    # start on a full feed must not page anyone about last week.
    max_age_hours: float = Field(24, gt=0)
    feeds: Literal["all"] | Annotated[list[str], Field(min_length=1)] = "all"
    destinations: list[Destination] = Field(min_length=1)

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not value:
            raise ValueError("must not be empty")
        try:
            re.compile(value)
        except re.error as e:
            raise ValueError(f"not a valid regular expression: {e}") from None
        return value

    @model_validator(mode="after")
    def _has_condition(self) -> AlertRule:
        if not (self.keywords or self.regex or self.semantic or self.breaking):
            raise ValueError(
                "sets no condition: add keywords, regex, semantic or breaking "
                "(a rule without one would alert on every story)"
            )
        return self

    @property
    def kind(self) -> str:
        """The ledger kind of this rule's alerts."""
        return f"alert:{self.name}"


class _Rules(BaseModel):
    alert: list[AlertRule]


def parse_rules(config: Config) -> list[AlertRule]:
    """Validate the config's `[[alert]]` tables; ConfigError lists every problem, one a line."""
    if not config.alert:
        return []
    try:
        rules = _Rules.model_validate({"alert": config.alert}).alert
    except ValidationError as e:
        raise ConfigError("\n".join(format_validation_error(config.source, e))) from None
    problems = []
    names = [r.name for r in rules]
    known = {d.name for d in config.digest}
    for i, rule in enumerate(rules):
        if names.index(rule.name) != i:
            problems.append(f"{config.source}: alert[{i}].name: {rule.name!r} is used twice")
        if rule.feeds != "all":
            for j, name in enumerate(rule.feeds):
                if name not in known:
                    problems.append(
                        f"{config.source}: alert[{i}].feeds[{j}]: no digest named {name!r} "
                        f"(known: {', '.join(sorted(known)) or 'none'})"
                    )
        for j, dest in enumerate(rule.destinations):
            if dest.type == "email" and config.smtp is None:
                problems.append(
                    f"{config.source}: alert[{i}].destinations[{j}]: is email but there is no "
                    "[smtp] table"
                )
    if problems:
        raise ConfigError("\n".join(problems))
    return rules


def watched_feeds(config: Config, rule: AlertRule) -> list[FeedConfig]:
    """The feeds of the digests a rule watches, each URL once."""
    digests = config.digest if rule.feeds == "all" else [config.get_digest(n) for n in rule.feeds]
    seen: dict[str, FeedConfig] = {}
    for d in digests:
        for f in d.feeds:
            seen.setdefault(f.url, f)
    return list(seen.values())


# --- matching ---------------------------------------------------------------------------------

# Typographic variants that real pages use and rule authors do not type.
_FOLD = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u00ad": None,  # soft hyphen, invisible in the page but splits the word
    }
)


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_FOLD)


def keyword_pattern(phrase: str) -> re.Pattern[str]:
    """A case-insensitive whole-word pattern for a word or phrase.

    Words of a phrase may be separated by any whitespace or a hyphen ("land mines" also finds
    "land-mines" and a line break between the words); a word never matches inside a longer one.
    """
    words = _normalise(phrase).split()
    body = r"[\s\-]+".join(re.escape(w) for w in words)
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def story_text(story: Story) -> str:
    """Everything a rule's words are looked for in: headline, titles and article texts."""
    parts = [story.headline]
    for a in story.articles:
        parts.append(a.title)
        parts.append(a.text)
    return _normalise("\n\n".join(p for p in parts if p))


def _lead(story: Story) -> list[str]:
    """Per article, its title and first paragraph: what MiniLM reads (it truncates anyway)."""
    texts = []
    for a in story.articles:
        first = next((p.strip() for p in a.text.split("\n\n") if p.strip()), "")
        texts.append(f"{a.title}. {first[:600]}")
    return texts or [story.headline]


def _article_time(story: Story, published: datetime | None, now: datetime) -> datetime:
    # An article without a date counts as seen when its story last changed; a date in the
    # future (bad clocks, time zones) as now.
    when = published or story.last_updated
    return min(when, now)


@dataclass(frozen=True)
class Match:
    """A story a rule matched, and why (one line for the alert message)."""

    rule: AlertRule
    story: Story
    reason: str


class Matcher:
    """Checks stories against one rule; compiled patterns and the query embedding are reused."""

    def __init__(self, rule: AlertRule, embedder: Any = None) -> None:
        self.rule = rule
        self.embedder = embedder
        kw = rule.keywords
        self._all = [(k, keyword_pattern(k)) for k in (kw.all if kw else [])]
        self._any = [(k, keyword_pattern(k)) for k in (kw.any if kw else [])]
        self._none = [(k, keyword_pattern(k)) for k in (kw.none if kw else [])]
        self._regex = re.compile(rule.regex) if rule.regex else None
        self._query_vector: Any = None

    def match(self, story: Story, now: datetime) -> Match | None:
        """A Match when every condition the rule sets holds for this story, else None."""
        if story.published < now - timedelta(hours=self.rule.max_age_hours):
            return None
        reasons = []
        # Cheap conditions first: the embedding is computed only for stories that pass them.
        if self.rule.keywords:
            text = story_text(story)
            found = self._keywords(text)
            if found is None:
                return None
            reasons.append(found)
        if self._regex is not None:
            hit = self._regex.search(story_text(story))
            if hit is None:
                return None
            reasons.append(f"regex matched {hit.group(0)[:60]!r}")
        if self.rule.breaking:
            found = self._breaking(story, now)
            if found is None:
                return None
            reasons.append(found)
        if self.rule.semantic:
            found = self._semantic(story)
            if found is None:
                return None
            reasons.append(found)
        return Match(self.rule, story, f"rule {self.rule.name}: " + "; ".join(reasons))

    def _keywords(self, text: str) -> str | None:
        for _word, pattern in self._none:
            if pattern.search(text):
                return None
        missing = [w for w, p in self._all if not p.search(text)]
        if missing:
            return None
        any_hits = [m.group(0) for _, p in self._any if (m := p.search(text))]
        if self._any and not any_hits:
            return None
        parts = []
        if self._any:
            parts.append(
                f"keywords any={[w for w, _ in self._any]} matched "
                + ", ".join(repr(" ".join(h.split())) for h in any_hits)
            )
        if self._all:
            parts.append(f"all={[w for w, _ in self._all]} matched")
        if self._none:
            parts.append(f"none of {[w for w, _ in self._none]}")
        text_ = "; ".join(parts)
        return text_ if text_.startswith("keywords") else "keywords " + text_

    def _breaking(self, story: Story, now: datetime) -> str | None:
        rule = self.rule.breaking
        assert rule is not None
        since = now - timedelta(hours=rule.within_hours)
        first_by_outlet: dict[str, datetime] = {}
        for a in story.articles:
            when = _article_time(story, a.published, now)
            if when > since:
                old = first_by_outlet.get(a.outlet)
                first_by_outlet[a.outlet] = when if old is None else min(old, when)
        if len(first_by_outlet) < rule.outlets:
            return None
        times = sorted(first_by_outlet.values())
        span = times[-1] - times[0]
        return f"{len(first_by_outlet)} outlets in {_human(span)}"

    def _semantic(self, story: Story) -> str | None:
        rule = self.rule.semantic
        assert rule is not None
        if self.embedder is None:
            log.warning("alerts: rule %s has a semantic query but no embedder", self.rule.name)
            return None
        if self._query_vector is None:
            self._query_vector = self.embedder.embed([rule.query])[0]
        vectors = self.embedder.embed(_lead(story))
        score = float(max(vectors @ self._query_vector))
        if score < rule.threshold:
            return None
        short = rule.query if len(rule.query) <= 50 else rule.query[:47] + "..."
        return f"similar to {short!r} ({score:.2f} >= {rule.threshold:.2f})"


def _human(span: timedelta) -> str:
    minutes = max(int(span.total_seconds() // 60), 1)
    if minutes < 90:
        return f"{minutes}m"
    hours = span.total_seconds() / 3600
    return f"{hours:.0f}h" if hours >= 10 else f"{hours:.1f}h".replace(".0h", "h")


# --- the held queue and the rate limit (SQL on the store's connection) ----------------------


class AlertQueue:
    """Matches waiting to be sent: held by quiet hours or a rate limit, or not yet confirmed."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def put(self, match: Match, now: datetime) -> None:
        """Queue a match; a story already queued for the rule keeps its first reason."""
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO alert_queue (rule, story_id, reason, queued_at) "
                "VALUES (?, ?, ?, ?)",
                (match.rule.name, match.story.id, match.reason, _iso(now)),
            )

    def pending(self, rule: str) -> list[tuple[str, str, datetime]]:
        """(story_id, reason, queued_at) for a rule, oldest first."""
        rows = self.store.conn.execute(
            "SELECT story_id, reason, queued_at FROM alert_queue WHERE rule = ? "
            "ORDER BY queued_at, story_id",
            (rule,),
        )
        return [(r[0], r[1], datetime.fromisoformat(r[2])) for r in rows]

    def remove(self, rule: str, story_id: str) -> None:
        """Drop a queued match (sent, or expired)."""
        with self.store.transaction() as conn:
            conn.execute(
                "DELETE FROM alert_queue WHERE rule = ? AND story_id = ?", (rule, story_id)
            )

    def sent_since(self, kind: str, since: datetime) -> int:
        """How many stories alerts of this kind delivered since then (any destination)."""
        row = self.store.conn.execute(
            "SELECT COUNT(DISTINCT story_id) FROM deliveries WHERE kind = ? AND delivered_at >= ?",
            (kind, _iso(since)),
        ).fetchone()
        return int(row[0])


def _iso(when: datetime) -> str:
    from .store import _ts

    return _ts(when) or ""


# --- checking and sending ---------------------------------------------------------------------


def alert_digest(
    rule: AlertRule, story: Story, quick_looks: Any, reason: str, now: datetime
) -> Digest:
    """The message of one alert: the story with its Quick Looks, and which rule fired and why."""
    return Digest(
        name=rule.name,
        generated_at=now,
        stories=(DigestStory(story, quick_looks),),
        kind="alert",
        reason=reason,
    )


def check_alerts(
    app: App, stories: Sequence[Story], *, rules: Sequence[AlertRule] | None = None
) -> list[Delivery]:
    """Match the stories against every rule, queue the matches, send what is allowed now.

    A story alerts at most once per rule and destination (the ledger), even across restarts.
    Matches in quiet hours, or over `max_per_hour`, wait in the queue and go out later; a
    failed send stays queued and is retried at the next check.
    """
    from .pipeline import deliver, summarize_stories
    from .subscribers import expand_destinations

    rules = parse_rules(app.config) if rules is None else rules
    if not rules:
        return []
    now = app.clock()
    queue = AlertQueue(app.store)
    unique = list({s.id: s for s in stories}.values())
    deliveries: list[Delivery] = []
    for rule in rules:
        urls = {f.url for f in watched_feeds(app.config, rule)}
        # One email destination per recipient, without those who unsubscribed from the rule.
        destinations = expand_destinations(app.store, rule.name, rule.destinations)
        keys = [d.key for d in destinations]
        matcher = Matcher(rule, app.embedder)
        matched = 0
        for story in unique:
            if not any(a.feed_url in urls for a in story.articles):
                continue
            if all(app.store.is_delivered(k, story.id, rule.kind) for k in keys):
                continue
            found = matcher.match(story, now)
            if found is not None:
                queue.put(found, now)
                matched += 1

        held = queue.pending(rule.name)
        if rule.quiet_hours and rule.quiet_hours.contains(now):
            if held:
                log.info("alerts: %s: %d held for quiet hours", rule.name, len(held))
            continue
        budget = len(held)
        if rule.max_per_hour is not None:
            budget = max(
                rule.max_per_hour - queue.sent_since(rule.kind, now - timedelta(hours=1)), 0
            )
        sent = 0
        for story_id, reason, queued_at in held:
            if now - queued_at > timedelta(hours=rule.max_age_hours):
                log.warning("alerts: %s: dropping %s, held too long", rule.name, story_id)
                queue.remove(rule.name, story_id)
                continue
            if sent >= budget:
                break
            held_story = app.store.load_story(story_id)
            if held_story is None:
                queue.remove(rule.name, story_id)
                continue
            notifiers = [app.notifier_factory(d) for d in destinations]
            already = all(app.store.is_delivered(k, story_id, rule.kind) for k in keys)
            if not already:
                (quick,) = summarize_stories(app, [held_story])
                message = alert_digest(rule, held_story, quick, reason, now)
                result = deliver(app, message, notifiers, kind=rule.kind)
                deliveries.extend(result)
                if not all(d.ok for d in result):
                    continue  # stays queued: retried at the next check
                sent += 1
            queue.remove(rule.name, story_id)
        log.info(
            "alerts: %s: %d matched, %d sent, %d held",
            rule.name,
            matched,
            sent,
            len(queue.pending(rule.name)),
        )
    return deliveries


def poll(app: App, rules: Sequence[AlertRule], *, since: datetime) -> list[Delivery]:
    """Fetch the feeds the rules watch and check the stories changed since `since`.

    Stories changed by a digest run (which fetches too) are checked as well as those this poll
    touched, so a scheduled run never swallows an alert.
    """
    from .pipeline import collect

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
