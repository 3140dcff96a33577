"""Alerts: matching stories against alert rules, which send one story at once when it matches,
instead of waiting for the digest.

A rule (`digest.config.AlertRule`, validated when the config is read) sets any of: keywords
(all / any / none, whole words, case-insensitive, phrases), a regular expression, a semantic
query (MiniLM similarity), and "breaking" (N outlets within M hours). It fires when every
condition it sets holds. Matching is pure: `Matcher.match` reads a story and the time.

The alert run is `digest.pipeline.run_alerts`, beside `run_digest`: a match is queued in the
state first (the store's alert queue), then sent when the rule's quiet hours and rate limit
allow; the ledger (kind `alert:<rule>`) makes a story alert at most once per rule and
destination, whatever the restarts.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from .clock import minutes_or_hours
from .config import AlertRule, Config, FeedConfig
from .embed import Embedder
from .models import Digest, DigestStory, QuickLooks, Story

log = logging.getLogger(__name__)


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

    def __init__(self, rule: AlertRule, embedder: Embedder | None = None) -> None:
        self.rule = rule
        self.embedder = embedder
        kw = rule.keywords
        self._all = [(k, keyword_pattern(k)) for k in (kw.all if kw else [])]
        self._any = [(k, keyword_pattern(k)) for k in (kw.any if kw else [])]
        self._none = [(k, keyword_pattern(k)) for k in (kw.none if kw else [])]
        self._regex = re.compile(rule.regex) if rule.regex else None
        self._query_vector: np.ndarray | None = None

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
        return f"{len(first_by_outlet)} outlets in {minutes_or_hours(span)}"

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


# --- the message -------------------------------------------------------------------------------


def alert_digest(
    rule: AlertRule, story: Story, quick_looks: QuickLooks, reason: str, now: datetime
) -> Digest:
    """The message of one alert: the story with its Quick Looks, and which rule fired and why."""
    return Digest(
        name=rule.name,
        generated_at=now,
        stories=(DigestStory(story, quick_looks),),
        kind="alert",
        reason=reason,
    )
