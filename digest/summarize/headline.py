"""Headlines: an outlet's title, cut to about ten words by deleting parts it can lose whole.

A title over `MAX_HEADLINE_WORDS` words loses one or more of these, each of which leaves a
title that still says what it said:

- one side of ": ", " | ", " — ", "? " ("VIDEO: ...", "Do you know ...? First-ever ...");
- a leading subordinate clause ("As his first debate nears, Bloomberg is ...");
- a trailing subordinate clause ("... bans men after lewd act"), or a trailing comment after a
  comma ("..., the highest in 16 years");
- an attribution ("..., police say"; "X says Y" becomes "X: Y");
- a trailing prepositional phrase with no verb in it ("... by federal agents");
- a parenthesis, a bracket, a trailing date.

Every candidate is the title's own words in order (a colon may stand in for "says"). The
longest candidate within the limit wins. A title a little over the limit keeps all its words
when the only cuts would lose a third of them, and a title no cut brings within the limit
gets the shortest cut there is: a whole title reads better than one cut mid-phrase.

A sentence classifier trained on news sentences is not used here: on titles' compressed
language it deletes the words that carry the point ("Mark Meadows accused of [timing]
retirement").
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .text import word_count
from .wordclass import word_classes

MAX_HEADLINE_WORDS = 10

_SMALL_KEEP = 2  # a title this far over the limit may stay whole
_SUBORDINATE = (
    "after as while amid following despite before when since because until although though "
    "once whereas"
).split()
_LEADING = re.compile(
    # Circumstances only: "When you take X daily, this is what happens" keeps its condition.
    r"^(?:as|while|after|before|since|amid|despite|following|with)\s[^,;:]{3,80},\s+"
    r"(?P<rest>\S.*)$",
    re.IGNORECASE,
)
_TRAILING_SUBORDINATE = re.compile(
    r"\s(?=(?:" + "|".join(_SUBORDINATE) + r"|ahead of|in the wake of|over)\s)", re.IGNORECASE
)
_ATTRIBUTION_VERBS = "says|say|said|reports|report|claims|claim|warns|warn|confirms|confirm"
_TRAILING_ATTRIBUTION = re.compile(
    r"(?:,|\s[-–—])\s+(?P<who>(?:[^\s,]+\s+){1,4})(?:" + _ATTRIBUTION_VERBS + r")$",
    re.IGNORECASE,
)
_LEADING_ATTRIBUTION = re.compile(
    r"^(?P<who>[A-Z][^\s,]*(?:\s+[^\s,]+){0,4}?)\s+(?:says|said|warns|claims)"
    r"(?:\s+that)?\s+(?P<what>\S.*)$"
)
_PREPOSITIONS = frozenset(
    "in at on from within with by for near across during into under outside inside against "
    "through toward towards via onto amid among beyond".split()
)
_TRAILING_DATE = re.compile(
    r",?\s+(?:on\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
    r"\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?$",
    re.IGNORECASE,
)
_TRUNCATED = re.compile(r"(?:\s+\S+)?\s*(?:\.\.\.|…)\s*$")  # the cut word goes too
_WHOLE_END = re.compile(r"[!?](?=\s)|(?=,\s+(?:and|but)\s)")
_SAID = "\u2236"  # a colon for "says" that `_cuts` does not split at; ":" in the result
# Words that label a title's form, not its news ("WATCH: ", "Live updates: "). A name in
# capitals ("NASA: ...", "WHO: ...") is a speaker and stays.
_KICKER_WORDS = (
    "video|videos|watch|live|breaking|news|update|updates|updated|exclusive|photos?|gallery|"
    "opinion|analysis|listen|podcast|explainer|factbox|just in|must see|in pictures"
)
_KICKER = re.compile(
    rf"^(?:{_KICKER_WORDS})(?:\s(?:{_KICKER_WORDS}))?:\s+(?P<rest>\S.*)$", re.IGNORECASE
)
_BRACKETS = re.compile(r"\s*(?:\([^()]*\)|\[[^\[\]]*\])")
_SEPARATORS = (": ", " | ", " — ", " – ", " - ", "; ", "? ")
_STOP_ENDS = frozenset(
    "a an the of to and or but for with in on at by from as that which who is are was were "
    "be has have had will would can could its his her their our my your this these".split()
)
# A footnote mark or an unclosed bracket left in a title ("Spell[2] (Aguamenti)").
_FOOTNOTE = re.compile(r"\[(?:\d+|src|citation needed|edit)\]?", re.IGNORECASE)
_LEAD_JUNK = re.compile(r"^[\s\-–—=*_#~•·|]+")


def tidy_title(title: str) -> str:
    """The title without footnote marks, leading rules ("---- ") or doubled spaces."""
    title = _FOOTNOTE.sub("", title)
    title = _LEAD_JUNK.sub("", title)
    return " ".join(title.split())


def _tokens(text: str) -> list[str]:
    return [w.strip("\"'“”‘’()[],.;:!?").lower() for w in text.split()]


def _reads(head: str) -> bool:
    """True when `head` can stand as a title: a few words, not ending in a joining word."""
    tokens = [t for t in _tokens(head) if t]
    if len(tokens) < 3:
        return False
    if tokens[-1] in _STOP_ENDS or tokens[0] in _SUBORDINATE:
        return False
    text = head.rstrip()
    if text.count("(") != text.count(")") or text.count('"') % 2 or _open_quote(text):
        return False
    return not _TRUNCATED.search(text)


def _open_quote(text: str) -> bool:
    """True when a single quotation opened ("'likely to ...") and did not close."""
    opened = sum(w[:1] in "'‘" and len(w) > 1 for w in text.split())
    closed = sum(w.rstrip(".,;:!?")[-1:] in "'’" and len(w) > 1 for w in text.split())
    return opened > closed


def _kicker(head: str) -> bool:
    """True for a title's lead-in that may go: "VIDEO", "#SXSW Forward", "SXSW 2014", a question.

    Any other head is kept: it is often the speaker ("Neil Tyson: Media should ...", "NASA:
    ...") or the subject ("The Voice: ...").
    """
    head = head.strip()
    return (
        head.endswith("?")
        or any(c.isdigit() or c == "#" for c in head)
        or bool(re.fullmatch(rf"(?:{_KICKER_WORDS})(?:\s(?:{_KICKER_WORDS}))?", head, re.I))
    )


def _verbish(token: str) -> bool:
    classes = word_classes(token)
    return "VERB" in classes and "NOUN" not in classes


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _before_clauses(title: str) -> Iterator[str]:
    """The title before each trailing subordinate clause ("X bans men [after lewd act]")."""
    for match in _TRAILING_SUBORDINATE.finditer(title):
        yield title[: match.start()].rstrip(" ,;:")


def _cuts(title: str) -> Iterator[str]:
    """Every title one whole-part deletion shorter (may repeat)."""
    for sep in _SEPARATORS:
        if sep in title:
            head, tail = title.split(sep, 1)
            if sep == "? ":
                head += "?"
            if tail[:1] not in "\"'“‘„«":  # a quotation after the colon is the point
                yield head.strip()
            if _kicker(head):
                yield tail.strip()
    if ", " in title:  # "X raises rates to 4.25%, the highest in 16 years": a comment goes
        head, tail = title.rsplit(", ", 1)
        if any("VERB" in word_classes(t) for t in _tokens(head) if t) and not any(
            _verbish(t) or t in ("and", "or", "but") for t in _tokens(tail) if t
        ):
            yield head
    match = _LEADING.match(title)
    if match:
        yield _capital(match["rest"])
    yield from _before_clauses(title)
    match = _TRAILING_ATTRIBUTION.search(title)
    if match:  # "..., police say" -> "Police: ...": the claim keeps its speaker
        yield f"{_capital(match['who'].strip())}{_SAID} {title[: match.start()]}"
    match = _LEADING_ATTRIBUTION.match(title)
    if match and word_count(match["who"]) <= 5:
        # The speaker stays: a colon that no later cut may split (see `short_title`).
        yield f"{match['who']}{_SAID} {_capital(match['what'])}"
    parts = title.split()
    for i in range(len(parts) - 1, 2, -1):
        phrase = _tokens(" ".join(parts[i:]))
        if phrase[0] not in _PREPOSITIONS or len(phrase) > 8:
            continue
        if any("," in w for w in parts[i - 1 :]) or any(_verbish(t) for t in phrase[1:]):
            continue
        # "went [on a double date]": the verb needs it ("seized [by divers]" does not).
        if phrase[0] != "by" and _verbish(_tokens(parts[i - 1])[0]):
            continue
        # The phrase may go only from a clause with its own verb: "Mom, dad & 'The
        # Bachelor' [under one roof]" is the predicate, not a detail.
        clause = re.split(r"[:;?|—–,]|\s-\s", " ".join(parts[:i]))[-1]
        if any(_verbish(t) for t in _tokens(clause) if t):
            yield " ".join(parts[:i])
    yield _TRAILING_DATE.sub("", title)
    yield _BRACKETS.sub("", title)


def title_cuts(title: str, depth: int = 3) -> list[str]:
    """The title and every shorter title up to `depth` deletions away, nearest first."""
    seen = {title: 0}
    frontier = [title]
    for level in range(1, depth + 1):
        found = []
        for text in frontier:
            for cut in _cuts(text):
                cut = " ".join(cut.split()).rstrip(" ,;:-–—")
                if cut and cut not in seen and word_count(cut) < word_count(text) and _reads(cut):
                    seen[cut] = level
                    found.append(cut)
        frontier = found
    return list(seen)


def short_title(title: str, max_words: int = MAX_HEADLINE_WORDS) -> str:
    """The title in at most `max_words` words where whole-part deletions get it there."""
    title = tidy_title(title)
    kicker = _KICKER.match(title)
    if kicker and word_count(kicker["rest"]) >= 3:  # "VIDEO: ..." says nothing of the story
        title = _capital(kicker["rest"])
    if _TRUNCATED.search(title):
        # A feed cut it off: a cut that ends at a whole part's end, else its last word gone.
        whole = _TRUNCATED.sub("", title)
        ends = [c for c in title_cuts(whole)[1:] if whole.startswith(c) and _SAID not in c]
        # A sentence that ended, or a clause before ", and": "X is everything it should be".
        ends += [c for m in _WHOLE_END.finditer(whole) if _reads(c := whole[: m.end()])]
        fitting = [c for c in ends if word_count(c) <= max_words]
        if fitting or ends:
            return max(fitting, key=word_count) if fitting else min(ends, key=word_count)
        # No whole part to end at: the feed's words as they came, saying they were cut.
        return re.sub(r"\s*(?:\.\.\.|…)\s*$", "", title).rstrip(" ,;:-–—") + " …"
    n = word_count(title)
    if n <= max_words:
        return title
    cuts = [c.replace(_SAID, ":") for c in title_cuts(title)[1:]]
    fitting = [c for c in cuts if word_count(c) <= max_words]
    if fitting:
        best = max(fitting, key=word_count)  # max() keeps the first (nearest) of equals
        if n > max_words + _SMALL_KEEP or word_count(best) * 3 >= n * 2:
            return best
        # A trailing "after ..." clause is a circumstance, not the point: it may go even when
        # it is a third of the title ("X approves flood barrier [after decade of delays]").
        clauses = [c for c in _before_clauses(title) if _reads(c) and word_count(c) <= max_words]
        return max(clauses, key=word_count) if clauses else title
    if n <= max_words + _SMALL_KEEP or not cuts:
        return title
    return min(cuts, key=word_count)
