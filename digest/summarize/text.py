"""Plain-text helpers for summaries: blocks, sentences, connective trimming, titles, words.

Pure functions over strings. Real article text is messy (headings glued to paragraphs, tag
chains, bullet lists, pages in other languages), so every function accepts any string and
returns something sensible rather than raising.
"""

from __future__ import annotations

import re

from ..text import SUMMARY_STOPWORDS, WORD_TOKEN, headline_without_outlet, summary_stem

# The word kit, the language check and the title helper live in digest.text; the summariser's
# modules import them from here, under the names they have always had.
from ..text import content_words as content_words
from ..text import is_english as is_english
from ..text import normalize as normalize
from ..text import word_count as word_count
from ..text import words as words

STOPWORDS = SUMMARY_STOPWORDS
stem = summary_stem
# The legal form closing a company's name ("Inc.", "plc"): no name on its own.
LEGAL_FORMS = frozenset("inc corp co ltd llc plc".split())
clean_title = headline_without_outlet

# Sentence-initial words that also start a new sentence after an abbreviation such as "U.S."
_STARTERS = frozenset(
    """
    a an the he she it they we i this that these those there his her its their our but and
    so yet in on at as after before when while if however meanwhile officials police
    """.split()
)

# "Mr." and friends do not end a sentence. Entries are lowercased, without the final dot.
_ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sen sens rep reps gov gen col lt sgt capt cmdr adm maj st jr sr inc corp
    ltd co plc llc vs v etc no nos jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues
    wed thu thur thurs fri sat sun fig figs approx est dept univ ave blvd rd mt ft pres atty
    supt rev hon messrs mme mlle op cf al e.g i.e a.m p.m u.s u.k u.n e.u d.c u.s.a ph.d
    n.y l.a
    """.split()
)
# Abbreviations that often *do* end a sentence ("... sanctions on the U.S. The move ...").
_FINAL_ABBREVIATIONS = frozenset("etc inc co corp ltd jr sr u.s u.k u.n e.u d.c a.m p.m".split())

_BLOCK_BREAK = re.compile(r"\n\s*\n")

# A terminator (with any closing quotes or brackets), then whitespace or the end.
_BOUNDARY = re.compile(r"([.!?…]+|[。！？])([\"'”’»)\]]*)(?=\s|$)|([。！？])")
_OPENERS = "\"'“‘«([¿¡"

_TAG_CHAIN = re.compile(r"(?:[^/\n]{1,60}/\s+){3,}")
_LIST_MARKER = re.compile(r"^(?:[-*•·▪►–—]|\d{1,2}[.)])\s+")
# "Belgorod Region: Ukraine hit ..." -> the source's own label, then the sentence.
_INLINE_LABEL = re.compile(r"^((?:[A-Z][\w'’.-]*\s?){1,4}):\s+(?=[A-Z\"“])")

_LEADING_CONNECTIVE = re.compile(
    r"^(?:in a separate development|in a related development|in related news|in other news|"
    r"additionally|in addition|however|meanwhile|moreover|furthermore|also|still|besides|"
    r"nonetheless|nevertheless|as a result|consequently|therefore|thus|indeed|notably|"
    r"importantly|similarly|likewise|on the other hand|in contrast|by contrast|"
    r"at the same time|for its part|for their part|separately|elsewhere|overall|ultimately|"
    r"finally|first|firstly|second|secondly|third|thirdly|lastly|in short|in summary|"
    r"in conclusion|to that end|following suit|unfortunately|fortunately|interestingly|"
    r"crucially|significantly|specifically|instead|otherwise|of course|as such|so|then|now|"
    r"in turn|what's more|on top of that|all the while|that said|even so|in fact)\s*,\s*",
    re.IGNORECASE,
)
# Conjunctions that open a sentence without a comma; dropping them keeps the sentence whole.
_LEADING_CONJUNCTION = re.compile(r"^(?:and|but|or|plus)\s+(?=\S)", re.IGNORECASE)
# "In light of these developments," / "In response to this," point back at an earlier sentence.
_LEADING_ANAPHORA = re.compile(
    r"^(?:in|following|after|amid|given|despite|due to|as part of|in response to|in light of|"
    r"in the wake of|against the backdrop of|on top of|because of|with|beyond|besides|"
    r"alongside|along with|apart from|aside from|as with|like)\s+"
    r"(?:[\w-]+\s+){0,2}(?:these|this|that|those|such)\b[^,;:.!?]{0,60},\s*",
    re.IGNORECASE,
)


def blocks(text: str) -> list[str]:
    """Paragraph-like blocks: blank-line paragraphs, and single lines inside them.

    Extractors join paragraphs with blank lines, pasted text often uses single newlines; a
    heading line glued above its paragraph is its own block either way.
    """
    out: list[str] = []
    for paragraph in _BLOCK_BREAK.split(normalize(text)):
        for line in paragraph.split("\n"):
            line = line.strip()
            if line:
                out.append(line)
    return out


def strip_tag_chain(line: str) -> str:
    """Drop a leading "topic/ topic/ place/ outlet/" chain that some sites put before the lead."""
    match = _TAG_CHAIN.match(line)
    if match and match.end() < len(line):
        return line[match.end() :].strip()
    return line


def split_list_item(line: str) -> tuple[str | None, str]:
    """A list item "- Label: text" -> ("Label", "text"); other lines -> (None, line)."""
    line = _LIST_MARKER.sub("", line, count=1)
    match = _INLINE_LABEL.match(line)
    if match and len(line) - match.end() > 20:
        return match.group(1).strip(), line[match.end() :].strip()
    return None, line


def _word_before(text: str, end: int) -> str:
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return text[start:end]


def _is_boundary(text: str, dot_start: int, punct: str, after: int) -> bool:
    rest = text[after:].lstrip()
    if not rest:
        return True
    nxt = rest[0]
    if nxt.islower():
        return False  # "e.g. something", "approx. five"
    if punct != ".":
        return True
    word = _word_before(text, dot_start).lstrip(_OPENERS)
    key = word.lower().rstrip(".")
    if not key:
        return True
    if len(key) == 1 and key.isalpha() and word[0].isupper():
        return False  # an initial: "J. Mansour"
    if key in _ABBREVIATIONS or re.fullmatch(r"(?:[a-z]\.)+[a-z]", key):
        if key in _FINAL_ABBREVIATIONS or "." in key:
            first = WORD_TOKEN.match(rest)
            return bool(first and first.group(0).lower() in _STARTERS)
        return False
    return True


def split_sentences(text: str) -> list[str]:
    """Sentences of a block of text, whitespace normalised; never splits "U.S." or "Mr. Smith".

    Text without any sentence punctuation comes back as one piece (the caller decides what to
    do with it). Chinese and Japanese full stops split without a following space.
    """
    out: list[str] = []
    for block in blocks(text):
        start = 0
        for match in _BOUNDARY.finditer(block):
            if match.group(3):  # CJK terminator, no space needed
                end = match.end()
            else:
                end = match.end()
                if not _is_boundary(block, match.start(), match.group(1)[0], end):
                    continue
            piece = block[start:end].strip()
            if piece:
                out.append(piece)
            start = end
        tail = block[start:].strip()
        if tail:
            out.append(tail)
    return out


def ends_sentence(sentence: str) -> bool:
    """True when the text ends like a finished sentence (full stop, ! or ?, maybe quoted)."""
    stripped = sentence.rstrip("\"'”’»)] ")
    return bool(stripped) and stripped[-1] in ".!?。！？…"


def capitalize_first(text: str) -> str:
    """Upper-case the first letter (after any opening quote) and leave the rest alone."""
    for i, ch in enumerate(text):
        if ch.isalpha():
            return text[:i] + ch.upper() + text[i + 1 :]
        if ch not in _OPENERS and not ch.isspace():
            return text
    return text


def trim_connectives(sentence: str) -> str:
    """Drop leading connectives ("However,", "In a separate development,") that need context."""
    previous = None
    text = sentence.strip()
    while text != previous:
        previous = text
        for pattern in (_LEADING_CONNECTIVE, _LEADING_ANAPHORA, _LEADING_CONJUNCTION):
            match = pattern.match(text)
            # Keep at least a short clause; "So, what now?" is not worth rescuing.
            if match and len(text) - match.end() >= 20:
                text = capitalize_first(text[match.end() :])
    return text


# --- deletions that keep a sentence whole (the fallback when no compressor is at hand) -------

_LEAD_ATTRIBUTION = re.compile(r"^according to [^,]{2,80},\s+", re.IGNORECASE)
# "In a significant shift in military support, " / "On Wednesday, ": a lead-in before the
# subject. Only short ones, and never one with a number (that is often the fact).
_LEAD_IN = re.compile(
    r"^(?i:in|on|at|after|amid|with|following|despite|during|for|as|since|earlier|late|early|"
    r"last|this|speaking)\b[^,;:\d]{0,60},\s+(?=[A-Za-z\"“])"
)
_TRAIL_ATTRIBUTION = re.compile(
    r"(?:,\s+(?:according to\s|(?:said|says|told|reported|announced|noted|added|stated|"
    r"wrote|confirmed)\s+(?=[A-Z]))[^,;]{0,120}(?:,[^,;]{0,80})?"
    r"|,\s+(?:[A-Z][\w.'’-]*\s+){0,5}(?:the\s+)?[\w'’-]+(?:\s+[\w'’-]+){0,4}\s+"
    r"(?:said|says|told reporters|added|noted|announced|confirmed|reported|stated|wrote)"
    r"(?:\s+(?:on\s+)?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"in a statement|on x|in an interview))?)\s*(?=[.!]?[\"'”’]?$)",
    re.IGNORECASE,
)
_PARENTHESIS = re.compile(r"\s*\([^()]{1,80}\)")
_PREPOSITION_OPENERS = frozenset(
    "unlike like for in on at after before amid with despite during as since by".split()
)
_RELATIVE = re.compile(r",\s+(?:who|which|whose)\s(?:[^,;]|(?<=\d),(?=\d)){2,80},\s+")


def trim_sentence(sentence: str) -> str:
    """A sentence with its lead-in, attribution, parentheses and inner relative clause deleted.

    Deletion only: every word left is the sentence's own, in its order. A deletion that
    would leave fewer than six words is not made.
    """
    text = sentence.strip()
    end = text[-1] if text and text[-1] in ".!" else "."

    def cut(pattern: re.Pattern[str], repl: str) -> None:
        nonlocal text
        candidate = pattern.sub(repl, text, count=1).strip()
        if candidate != text and word_count(candidate) >= 6:
            text = candidate

    cut(_LEAD_ATTRIBUTION, "")
    cut(_LEAD_IN, "")
    body = text.rstrip(".! ")
    quoted = body.endswith(('"', "”"))
    text = body if not quoted else text
    # "The official, who asked not to be named, said" -> "The official said"; but "Unlike
    # Russia's mines, which last, the US mines ..." keeps the comma that ends its lead phrase.
    opener = text.split(" ", 1)[0].lower()
    cut(_RELATIVE, ", " if opener in _PREPOSITION_OPENERS else " ")
    cut(_TRAIL_ATTRIBUTION, "")
    cut(_PARENTHESIS, "")
    text = text.rstrip(",;: ")
    if not quoted and not ends_sentence(text):
        text += end
    return capitalize_first(text)
