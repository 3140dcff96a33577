"""Text helpers the stages share: word tokens and counts, titles, the two word kits.

One helper per idea. Where two stages really need different behaviour, the variants stand side
by side here, each named for what it is for:

- counting words: `word_count` (word tokens: what the summariser's length limits count) and
  `whitespace_word_count` (every space-separated piece: what extraction's teaser and
  minimum-length thresholds count);
- titles: `plain_line` (a feed's title or author markup as one line of text),
  `strip_outlet_suffix` (only the exact outlet name after a separator: headlines the clusterer
  compares) and `headline_without_outlet` (anything that looks like the outlet: a headline
  for a reader);
- language checks: `is_english` (an article's text, for the summariser) and
  `english_ratio` / `looks_english_headline` (the clusterer's thin-evidence rule: a body, or
  a headline too telegraphic for the ratio);
- word kits: the summariser's (`SUMMARY_STOPWORDS`, `summary_stem`, `content_words`:
  multilingual function words, a stem that also folds derivations) and the clusterer's
  (`MATCH_STOPWORDS`, `match_tokens`, `match_stem`: English filler and calendar words,
  inflections only), tuned apart against their own evaluations.

Pure functions over strings: any string in, something sensible out, never an exception.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable

# --- counting words -----------------------------------------------------------------------------

# Chinese and Japanese put no spaces between words, so a whole clause of theirs is one token to
# a splitter; counted as one word per two characters (about a word's length in both), their
# texts measure up to the same thresholds (teaser length, bullet length) as spaced scripts.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

WORD_TOKEN = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*", re.UNICODE)
"""A word: letters and digits, with inner hyphens and apostrophes ("well-known", "O'Neill")."""


def count_words(tokens: Iterable[str]) -> int:
    """Words in these tokens: 1 per token, or 1 per 2 Chinese/Japanese characters in it."""
    count = 0
    for token in tokens:
        unspaced = len(_UNSPACED.findall(token))
        count += max(1, (unspaced + 1) // 2) if unspaced else 1
    return count


def words(text: str) -> list[str]:
    """Word tokens (letters and digits, inner hyphens and apostrophes kept), original case."""
    return WORD_TOKEN.findall(text)


def word_count(text: str) -> int:
    """Words a reader sees: word tokens, so a lone dash or quote is not one (summary limits)."""
    return count_words(words(text))


def whitespace_word_count(text: str) -> int:
    """Every whitespace-separated piece, a lone dash too: how long an extracted text is.

    The teaser and minimum-length thresholds of extraction were set against this count; it is
    also cheaper than tokenising a whole page.
    """
    return count_words(text.split())


_SPACE = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


def normalize(text: str) -> str:
    """NFC, one kind of space, no control characters; line breaks are kept."""
    text = unicodedata.normalize("NFC", text or "")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return "\n".join(_SPACE.sub(" ", line).strip() for line in text.split("\n"))


# --- titles -------------------------------------------------------------------------------------

# Only real HTML element names count as tags: "<!channel>", "<@U123>" or "a <b and c>" in a
# title are text that the render stage escapes, not markup to delete.
_TAG_NAMES = (
    "a|abbr|acronym|b|big|blockquote|br|cite|code|del|dfn|div|em|font|h[1-6]|hr|i|img|ins|kbd|"
    "mark|p|q|s|samp|small|span|strike|strong|sub|sup|time|tt|u|var|wbr"
)
_TAG = re.compile(rf"</?(?:{_TAG_NAMES})(?:\s[^<>]*)?/?>", re.IGNORECASE)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_CONTROL = dict.fromkeys(c for c in range(0x20) if chr(c) not in "\t\n\r")
_CONTROL.update({0x7F: None})


def plain_line(value: str | None) -> str:
    """Feed markup as one line of text: known HTML tags stripped, entities unescaped, spaces
    collapsed. For a feed's or an entry's title and an author's name."""
    if not value:
        return ""
    text = _COMMENT.sub("", value)
    text = _TAG.sub(" ", text)
    # Feeds double-escape often ("&amp;amp;"); unescape until it stops changing (bounded).
    for _ in range(3):
        unescaped = html.unescape(text)
        if unescaped == text:
            break
        text = unescaped
    text = text.translate(_CONTROL)
    return " ".join(text.split())


def strip_outlet_suffix(title: str, outlet: str = "") -> str:
    """The headline without a " - Outlet" / " | Outlet" suffix naming exactly this outlet.

    Strict on purpose: the clusterer compares headlines, and a tail that only looks like an
    outlet ("Quake hits Chile - aftershocks") is part of what the article is about.
    """
    title = " ".join(title.split())
    for sep in (" | ", " - ", " – ", " — "):
        head, _, tail = title.rpartition(sep)
        if head and outlet and tail.strip().lower() == outlet.strip().lower():
            return head.strip()
    return title


_OUTLET_SEPARATORS = (" | ", " ｜ ", " — ", " – ", " - ", " :: ", " · ", " • ")
_SITE_TAIL = re.compile(r"\.(?:com|org|net|co|news|uk|io)\b", re.I)


def _norm_name(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def headline_without_outlet(title: str, outlets: Iterable[str] = ()) -> str:
    """A page title without its outlet, for a reader: "Rates rise | The Daily" -> "Rates rise".

    Generous on purpose: drops an outlet named in `outlets` before or after a separator, a
    domain name after one, and a short tail after a bar, as long as two words are left.
    """
    title = " ".join(normalize(title).split())
    names = {_norm_name(o) for o in outlets if o}
    names.discard("")
    changed = True
    while changed:
        changed = False
        for sep in _OUTLET_SEPARATORS:
            if sep not in title:
                continue
            head, _, tail = title.rpartition(sep)
            first, _, rest = title.partition(sep)
            tail_name, first_name = _norm_name(tail), _norm_name(first)
            if (
                tail_name in names
                or _SITE_TAIL.search(tail)
                or (sep.strip() in "|｜" and len(tail.split()) <= 4)
                or (len(tail_name) >= 3 and any(tail_name in n or n in tail_name for n in names))
            ):
                if word_count(head) >= 2:
                    title, changed = head.strip(), True
                    break
            if first_name in names and word_count(rest) >= 2:
                title, changed = rest.strip(), True
                break
    return title.strip(" -|–—:")


# --- the summariser's word kit -----------------------------------------------------------------

# Function words: never facts, never labels. English plus the commonest of a few other
# Latin-script languages so that a French or Spanish page does not get "De La" as a label.
SUMMARY_STOPWORDS = frozenset(
    """
    a about above after again against ago all almost also although always am among an and
    another any are around as at be became because been before being below between both but
    by can could did do does doing done down during each either else even ever every few for
    from further had has have having he her here hers herself him himself his how however i
    if in into is it its itself just last least less like made make many may me might more
    most much must my myself near neither never new next no nor not now of off often on once
    one only onto or other our ours ourselves out over own per perhaps rather said same say
    says she should since so some still such than that the their theirs them themselves then
    there these they this those though through thus to too toward towards under until up upon
    us very via was we were what when where whether which while who whom whose why will with
    within without would yet you your yours yourself according told added also amid across
    de la le les des du un une et en est pour par sur dans au aux qui que ce cette ses son sa
    el los las del y por para con una unos unas al lo su sus se es como mas pero
    der die das und ist im den dem des ein eine einen mit von zu auf für nicht sich auch
    il di che non per con gli della delle dei nel nella sono da
    o os as do da dos das em um uma com não
    """.split()
)


def summary_stem(word: str) -> str:
    """A crude English stem, enough to match "strikes"/"strike" and "closed"/"closure"."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    for suffix, keep in (
        ("ational", 5),
        ("ations", 4),
        ("ation", 4),
        ("ments", 4),
        ("ment", 4),
        ("ings", 4),
        ("ing", 4),
        ("ies", 3),
        ("ied", 3),
        ("y", 4),
        ("ures", 4),
        ("ure", 4),
        ("ers", 4),
        ("ed", 4),
        ("es", 4),
        ("s", 3),
        ("e", 4),
    ):
        if w.endswith(suffix) and len(w) - len(suffix) >= keep:
            w = w[: -len(suffix)]
            break
    return w


def content_words(text: str) -> list[str]:
    """Lowercased stems of the words that carry meaning (no function words, no one-letter)."""
    return [
        summary_stem(w.replace("-", ""))  # "anti-personnel" and "antipersonnel" are one word
        for w in words(text)
        if len(w) > 1 and w.lower() not in SUMMARY_STOPWORDS and not w.isdigit()
    ]


# --- the clusterer's word kit ------------------------------------------------------------------

# English function words plus the calendar and counting words every news story has: none of
# them tells one event from another.
MATCH_STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my no nor not now of off on once only or other our ours out over
    own same she should so some such than that the their theirs them then there these they this
    those through to too under until up very was we were what when where which while who whom why
    will with would you your yours said says say new one two three four five six seven eight nine
    ten first last year years day days week month monday tuesday wednesday thursday friday
    saturday sunday today yesterday tonight morning evening night according told since still
    like may might must shall us""".split()
)

_MATCH_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def match_tokens(text: str) -> list[str]:
    """Lower-case word tokens (letters and digits; hyphens and apostrophes split them)."""
    return [w.lower() for w in _MATCH_TOKEN.findall(text)]


def match_stem(word: str) -> str:
    """A crude suffix strip so "recalls", "recalled" and "recall" compare equal."""
    for suffix in ("ings", "ing", "ied", "ies", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            base = word[: -len(suffix)]
            return base + "y" if suffix in ("ied", "ies") else base
    return word


# --- is it English? ------------------------------------------------------------------------------


def is_english(text: str) -> bool:
    """A cheap language check: enough common English function words among the words."""
    tokens = [w.lower() for w in words(text)[:400]]
    if len(tokens) < 4:
        return all(ord(ch) < 0x250 for ch in text)  # short Latin-script text: assume English
    english = sum(t in _ENGLISH_COMMON for t in tokens)
    foreign = sum(t in _FOREIGN_COMMON for t in tokens)
    return english / len(tokens) >= 0.08 and english > foreign


_ENGLISH_COMMON = frozenset(
    "the of and to in is that for on was with as by it at from has have are be said will "
    "this were which".split()
)
# Function words of other languages that are not also English words.
_FOREIGN_COMMON = frozenset(
    "de la le les des du un une et est pour par sur dans au aux qui que ce el los las del y "
    "por para con una al lo su sus es der die das und ist im den dem ein eine mit von zu auf "
    "il di che non della nel sono da os um uma não och att det är ett".split()
)


# Function words of other Latin-script languages. A headline is telegraphic ("Norvik recalls
# 120,000 cars over brake fault" has one English function word in eight), so a short item is
# taken as English unless it shows one of these or is mostly in another script.
_FOREIGN = frozenset(
    """de del la las los el y en con por para una uno les des du et est sur dans pour au aux
    une der die das und mit für von zu ist ein eine nicht auf il lo gli della di che per non
    sono het een van voor og och att är på som med för não em os uma ao dos das""".split()
)


def looks_english_headline(text: str) -> bool:
    """Whether a headline or teaser too short for `english_ratio` reads as English."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    latin = sum(c.isascii() for c in letters) / len(letters)
    if latin < 0.7:
        return False
    tokens = match_tokens(text)
    return sum(t in _FOREIGN for t in tokens) < max(1, len(tokens) // 6)


def english_ratio(text: str) -> float:
    """Share of tokens that are common English function words (0 for no tokens)."""
    tokens = match_tokens(text)
    if not tokens:
        return 0.0
    return sum(t in MATCH_STOPWORDS for t in tokens) / len(tokens)
