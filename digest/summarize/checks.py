"""Checks on a finished Quick Looks: format, grounding and redundancy (used by tests and eval)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

from ..models import Article, QuickLooks
from .grounding import SourceIndex, ungrounded_in_text
from .labels import MAX_LABEL_WORDS, unbacked_label_words
from .select import MAX_BULLET_WORDS, MAX_HEADLINE_WORDS
from .text import content_words, ends_sentence, word_count

# "~12 words" / "~30 words" in the spec: a little slack before it counts as a violation.
HEADLINE_SLACK = 2


def format_problems(q: QuickLooks, min_bullets: int = 3, max_bullets: int = 5) -> list[str]:
    """Every way the Quick Looks breaks the house format; empty when it complies."""
    problems = []
    if not q.headline.strip():
        problems.append("empty headline")
    elif word_count(q.headline) > MAX_HEADLINE_WORDS + HEADLINE_SLACK:
        problems.append(f"headline has {word_count(q.headline)} words")
    if not min_bullets <= len(q.bullets) <= max_bullets:
        problems.append(f"{len(q.bullets)} bullets (want {min_bullets}-{max_bullets})")
    for b in q.bullets:
        n = word_count(b.label)
        if not 1 <= n <= MAX_LABEL_WORDS:
            problems.append(f"label {b.label!r} has {n} words")
        if any(w[:1].islower() for w in b.label.split() if w.lower() not in _SMALL):
            problems.append(f"label {b.label!r} is not Title Case")
        if word_count(b.text) > MAX_BULLET_WORDS:
            problems.append(f"bullet has {word_count(b.text)} words: {b.text[:40]!r}")
        if not b.text.rstrip("\"'”’)").endswith((".", "!")):
            problems.append(f"bullet does not end with a full stop: {b.text[-30:]!r}")
        if not b.sources:
            problems.append(f"bullet has no source sentence: {b.text[:40]!r}")
    return problems


_SMALL = frozenset("a an the and or of in on at to for by vs as from with".split())


def ungrounded_bullets(q: QuickLooks, articles: Sequence[Article]) -> list[tuple[str, list[str]]]:
    """(bullet, what the sources lack) for every bullet that fails the grounding check."""
    index = SourceIndex.build([a.title for a in articles] + [a.text for a in articles])
    out = []
    for b in q.bullets:
        # A label's event noun ("Easing" on "eases") is backed by the bullet's own verb.
        missing = unbacked_label_words(b.label, b.text, index) + ungrounded_in_text(b.text, index)
        if missing:
            out.append((f"{b.label}: {b.text}", missing))
    return out


def grounding_share(q: QuickLooks, articles: Sequence[Article]) -> float:
    """Share of bullets whose numbers, dates and proper nouns are all in the sources."""
    if not q.bullets:
        return 1.0
    return 1 - len(ungrounded_bullets(q, articles)) / len(q.bullets)


def redundancy(q: QuickLooks) -> float:
    """The largest word overlap (Jaccard of content words) between two bullets; 0 is best."""
    sets = [set(content_words(b.text)) for b in q.bullets]
    return max((len(a & b) / len(a | b) for a, b in combinations(sets, 2) if a | b), default=0.0)


def repeated_bullets(q: QuickLooks) -> list[str]:
    """Bullet texts or labels that occur more than once."""
    seen: set[str] = set()
    out = []
    for value in [b.text.lower() for b in q.bullets] + [b.label.lower() for b in q.bullets]:
        if value in seen:
            out.append(value)
        seen.add(value)
    return out


def finished(text: str) -> bool:
    """True when text ends like a sentence (re-exported for the eval)."""
    return ends_sentence(text)
