"""What the clusterer reads from an article: cleaned body, thin-evidence reasons, names, numbers.

Everything here is pure text work (no model, no store), so it is cheap to test with hypothesis
and to recompute. Real feeds carry wire datelines, press-release boilerplate, outlet suffixes in
titles and pages in other languages; each of those is handled here, before any comparison, so
that two articles are never judged similar because of text neither of them is about.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..models import Article
from ..text import (
    MATCH_STOPWORDS,
    english_ratio,
    looks_english_headline,
    match_stem,
    match_tokens,
    strip_outlet_suffix,
)
from ..urls import canonical_url

# An article body shorter than this (after boilerplate is removed) is a teaser: two sentences
# do not say enough to tell one event from another on the same topic.
MIN_BODY_WORDS = 40
# A headline with fewer content words than this ("Watch: verdict", "Live updates") names nothing.
MIN_TITLE_TERMS = 3
# Share of English function words among the tokens of an English news text is ~0.35-0.5; other
# Latin-script languages score well under 0.1 on this list, non-Latin scripts score ~0.
MIN_ENGLISH_RATIO = 0.15
# Words read for names, numbers and the embedding: the lead is where news says what happened.
LEAD_WORDS = 220

# Capitalised words that start sentences or headlines without naming anything.
_NOT_NAMES = MATCH_STOPWORDS | frozenset(
    """the a an in on at after before as but for from if it its this that these those he she they
    we his her their our when while with without more most many some several about amid over
    under between breaking live watch video update updates analysis opinion exclusive photos
    january february march april may june july august september october november december
    mr mrs ms dr sir president minister prime governor chief ceo senator judge justice
    overview introduction details deep look quick looks key what why how who where read also
    meanwhile however although despite instead executive officer director spokesperson
    spokesman spokeswoman chairman chairwoman chair secretary lawyer attorney general""".split()
)

# Words that are part of many names ("Supreme Court", "Bank of Canada") but name nothing alone.
_GENERIC = frozenset(
    """court courts bank banks county state states united national federal supreme department
    ministry agency university city council party company group reserve valley point service
    services commission office administration house fire airport port news network times daily
    post journal herald observer wire press international global central north south east west
    northern southern eastern western new old great royal republic democratic people peoples
    association institute union alliance foundation centre center station airlines air motors
    foods inc corp ltd llc plc co holdings capital partners media tech labs health hospital
    police army navy force forces government parliament senate congress circuit district
    appeals commercial lunar""".split()
)

_WORD = re.compile(r"[^\W\d_][\w'’.-]*", re.UNICODE)
_NUMBER = re.compile(r"(?<![\w.])\$?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?\s*(%|percent|per cent)?")
_YEAR = re.compile(r"^(19|20)\d\d$")
# "CITY, Region (Agency) - " at the start of a wire story: the agency's name is not the news.
_DATELINE = re.compile(
    r"^\s*(?:[A-Z][A-Za-z .,'’-]{0,60}?)?\s*\((?:[A-Za-z][\w .&'’-]{1,40})\)\s*[-–—:]+\s*"
)
# "CHICAGO, March 6, 2025 /PRNewswire/ --" and friends.
_WIRE_SERVICE = re.compile(
    r"^[^\n/]{0,80}?/?\s*\b(PRNewswire|PR Newswire|Business Wire|GLOBE NEWSWIRE|"
    r"GlobeNewswire|ACCESSWIRE|Newsfile|EINPresswire|PRWeb)\b[^-–—]*[-–—]+\s*",
    re.IGNORECASE,
)
# Paragraphs from here to the end are press-release furniture, not news.
_BOILERPLATE_HEAD = re.compile(
    r"^\s*(about\s+[\w&.,' -]{2,60}$|forward[- ]looking statements?|safe harbou?r|"
    r"media contacts?:?|press contacts?:?|investor (relations|contacts?):?|contacts?:|"
    r"source:?\s|source\s+[A-Z]|###|-\s*ends\s*-|for more information|this press release)",
    re.IGNORECASE,
)
_PRESS_RELEASE = re.compile(
    r"(/\s*PRNewswire\s*/|Business Wire|GLOBE NEWSWIRE|today announced|forward-looking statements)",
    re.IGNORECASE,
)


def strip_boilerplate(text: str) -> tuple[str, bool]:
    """The news part of a body, and whether it looked like a press release.

    Drops wire datelines and press-release furniture ("About X", forward-looking statements,
    contacts, SOURCE lines), which differs per issuer but repeats across all their releases.
    """
    is_release = bool(_PRESS_RELEASE.search(text))
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    kept: list[str] = []
    for i, para in enumerate(paragraphs):
        # The first paragraph is the news even if it starts "About 8,000 people...".
        if i > 0 and _BOILERPLATE_HEAD.match(para) and (is_release or len(para.split()) <= 6):
            if is_release:
                break  # everything after "About X" in a release is furniture
            continue  # a lone heading such as "Contact:" in an ordinary page
        kept.append(para)
    if kept:
        kept[0] = _WIRE_SERVICE.sub("", _DATELINE.sub("", kept[0], count=1), count=1)
    return "\n\n".join(kept), is_release


_CONNECTORS = frozenset(("of", "de", "del", "van", "von", "al", "bin", "da", "and"))
_BOUNDARY = re.compile(r"[.!?:;]['\"”’)]*\s*['\"“‘(]*\s*$")


_ACRONYM = re.compile(r"(?:[A-Z]\.){2,}|[A-Z][A-Z0-9]{1,7}")
_TERMINAL = re.compile(r"[.!?\"”]$")


def _is_acronym(token: str) -> bool:
    return _ACRONYM.fullmatch(token) is not None


_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st gov sen rep gen lt col sgt jr sr inc corp co ltd no vs".split()
)


def _ends_sentence(token: str) -> bool:
    if not token.endswith("."):
        return False
    body = token.rstrip(".")
    return not (_is_acronym(token) or body.lower() in _ABBREVIATIONS or len(body) == 1)


def unwrap(text: str) -> str:
    """Join hard-wrapped lines back into their paragraph; headings and blank lines stay."""
    out: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        prev = out[-1] if out else ""
        wrapped = (
            stripped
            and prev
            and len(prev.split()) > 6
            and not re.search(r"[.!?\"”:]$", prev)
            and not stripped.startswith(("-", "•", "*"))
        )
        if wrapped:
            out[-1] = f"{prev} {stripped}"
        else:
            out.append(stripped)
    return "\n".join(out)


@dataclass(frozen=True)
class _Tok:
    bare: str  # without possessive and trailing dots; acronyms without their dots
    lower: str
    acronym: bool
    initial: bool  # starts a sentence (or a Headline Case title)
    joined: bool  # nothing but spaces since the previous word


def _tok(raw: str, initial: bool, joined: bool) -> _Tok:
    acronym = raw[:1].isupper() and _is_acronym(raw)
    bare = raw if acronym else raw.rstrip(".-'’")
    if bare.endswith(("'s", "’s")):
        bare = bare[:-2]
    if acronym:
        bare = bare.replace(".", "")
    return _Tok(bare, bare.lower(), acronym, initial, joined)


def _lines(text: str) -> Iterable[list[_Tok]]:
    """Per line, its words with sentence-start and joined-to-previous flags.

    A short line without final punctuation is a section heading ("Deep Look", "Author: Desk")
    and names nothing, so it is skipped.
    """
    for line in unwrap(text).splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if len(stripped.split()) <= 6 and not _TERMINAL.search(stripped):
            continue
        out: list[_Tok] = []
        prev_end = 0
        prev_tok = ""
        for m in _WORD.finditer(line):
            gap = line[prev_end : m.start()]
            if prev_end == 0:
                initial = not gap.strip(" '\"“‘(-–—•*")
                joined = False
            elif gap == " ":  # the common case, without a regex
                initial = _ends_sentence(prev_tok)
                joined = not prev_tok.endswith((",", "."))
            else:
                initial = _ends_sentence(prev_tok) or bool(_BOUNDARY.search(gap))
                joined = not gap.strip() and not prev_tok.endswith((",", "."))
            out.append(_tok(m.group(0), initial, joined))
            prev_end, prev_tok = m.end(), m.group(0)
        yield out


def _headline_case(title: str) -> bool:
    long_words = [w for w in _WORD.findall(title) if len(w) > 3]
    return bool(long_words) and sum(w[0].isupper() for w in long_words) / len(long_words) >= 0.6


def names(text: str, title: str = "") -> set[str]:
    """Named things in a text: people, places, organisations, products, acronyms.

    A capitalised word that starts a sentence (or sits in a Headline Case title) counts only
    when the text also capitalises it mid-sentence: "Rescuers recovered..." names nothing,
    "Codelco said..." does when "operated by Codelco" appears too.
    """
    lines = list(_lines(text))
    if title.strip():
        all_initial = _headline_case(title)
        title_line = next(iter(_lines(title + ".")), [])
        lines.append(
            [
                _Tok(t.bare, t.lower, t.acronym, t.initial or all_initial, t.joined)
                for t in title_line
            ]
        )
    tokens = [t for line in lines for t in line]
    confirmed = {t.lower for t in tokens if not t.initial and t.bare[:1].isupper()}
    # A word only ever seen capitalised at sentence starts still names something when it
    # recurs and never appears in lower case ("Norvik said... Norvik shares...").
    seen_lower = {t.bare for t in tokens if t.bare[:1].islower()}
    initial_counts: dict[str, int] = {}
    for t in tokens:
        if t.initial and t.bare[:1].isupper():
            initial_counts[t.bare] = initial_counts.get(t.bare, 0) + 1
    confirmed |= {
        b.lower() for b, n in initial_counts.items() if n >= 2 and b.lower() not in seen_lower
    }
    found: set[str] = set()
    for line in lines:
        run: list[str] = []
        for t in line:
            lower = t.lower
            is_name = (t.acronym and lower not in _NOT_NAMES) or (
                t.bare[:1].isupper()
                and lower not in _NOT_NAMES
                and (not t.initial or lower in confirmed)
            )
            if run and (t.initial or not t.joined):
                found.update(_emit(run))  # a new sentence or a comma ends a name
                run = []
            if is_name:
                run.append(lower)
            elif run and lower in _CONNECTORS:
                run.append(lower)
            else:
                found.update(_emit(run))
                run = []
        found.update(_emit(run))
    return {n for n in found if not n.isdigit()}


def _emit(run: list[str]) -> Iterable[str]:
    while run and run[-1] in _CONNECTORS:
        run = run[:-1]
    if not run:
        return
    # The whole run and each word: "Tiff Macklem" must meet a later bare "Macklem".
    if len(run) > 1:
        yield " ".join(run)
    for w in run:
        if w not in _CONNECTORS and w not in _GENERIC and len(w) > 1:
            yield w


_SCORE = re.compile(r"(?<![\w.-])(\d{1,2})\s?[-–]\s?(\d{1,2})(?![\w-]|\.\d)")


def numbers(text: str) -> set[str]:
    """Distinctive numbers ("6.8", "120000", "2.75%", scores and votes such as "2-1").

    Small counts and bare years are left out: every story has a "3" and a "2025" in it.
    """
    found = {f"{int(a)}-{int(b)}" for a, b in _SCORE.findall(text)}
    text = _SCORE.sub(" ", text)
    for m in _NUMBER.finditer(text):
        whole, frac, pct = m.group(1).replace(",", ""), m.group(2), m.group(3)
        if frac:
            value = f"{int(whole)}.{frac.rstrip('0') or '0'}"
        else:
            if _YEAR.match(whole) or int(whole) < 10:
                continue
            value = str(int(whole))
        found.add(value + ("%" if pct else ""))
    return found


def title_terms(title: str) -> set[str]:
    """Stemmed content words of a headline."""
    return {match_stem(w) for w in match_tokens(title) if w not in MATCH_STOPWORDS and len(w) > 1}


_HEADLINE_TOKEN = re.compile(r"[^\W_][\w'’.&-]*", re.UNICODE)


def headline_names(title: str) -> frozenset[str]:
    """Names in a headline: capitalised or mixed-case words and acronyms, case-folded.

    Headlines capitalise freely ("Plosser: Fed May Have to Accelerate Tapering Pace"), so every
    capitalised word that is not a function word counts; IDF weights over the window then make
    "Plosser" count for much more than "Pace". Case-folding and stemming make "EBay", "Ebay"
    and "eBay" (and "Taper"/"Tapering") one name.
    """
    found: set[str] = set()
    for m in _HEADLINE_TOKEN.finditer(title):
        raw = m.group(0).strip(".'’-&")
        if raw.endswith(("'s", "’s")):
            raw = raw[:-2]
        if len(raw) < 2 or raw[0].isdigit():
            continue
        if not (raw[0].isupper() or any(c.isupper() for c in raw[1:])):
            continue
        lower = raw.lower().replace(".", "")
        if lower in _NOT_NAMES or len(lower) < 2:
            continue
        found.add(match_stem(lower))
    return frozenset(found)


def identity_url(url: str | None) -> str | None:
    """The canonical URL ignoring scheme, "www." and a trailing slash: one page, one identity."""
    if not url:
        return None
    canon = canonical_url(url)
    if canon is None:
        return None
    rest = canon.split("://", 1)[1]
    if rest.startswith("www."):
        rest = rest[4:]
    return rest.rstrip("/")


@dataclass(frozen=True)
class Features:
    """The parts of an article the clusterer compares."""

    title: str
    body: str  # boilerplate removed
    lead: str  # title + first LEAD_WORDS words of the body: what gets embedded
    body_words: int
    names: frozenset[str]
    numbers: frozenset[str]
    title_terms: frozenset[str]
    ident_url: str | None
    thin: tuple[str, ...]  # why evidence is thin (empty when there is enough to compare)
    english: bool
    press_release: bool

    @property
    def comparable(self) -> bool:
        """Whether the same-event level may merge this article (it has enough evidence)."""
        return not self.thin


def _lead(body: str, limit: int = LEAD_WORDS) -> str:
    """The first paragraphs of a body up to about `limit` words, line structure kept."""
    kept: list[str] = []
    count = 0
    for para in unwrap(body).split("\n"):
        n = len(para.split())
        if n <= 6 and not _TERMINAL.search(para.strip()):
            continue  # a section heading ("Overview", "Author: Desk") says nothing

        if count + n > limit:
            kept.append(" ".join(para.split()[: max(limit - count, 0)]))
            break
        kept.append(para)
        count += n
    return "\n".join(kept).strip()


def article_features(article: Article) -> Features:
    """Read an article once for everything the clusterer needs."""
    title = strip_outlet_suffix(article.title, article.outlet)
    body, is_release = strip_boilerplate(article.text or "")
    body_tokens = body.split()
    lead_body = _lead(body)
    lead = f"{title}. {' '.join(lead_body.split())}".strip(". ") if lead_body else title
    sample = f"{title} {lead_body}"
    english = english_ratio(sample) >= MIN_ENGLISH_RATIO or len(match_tokens(sample)) < 8
    if not english and len(body_tokens) < MIN_BODY_WORDS:
        english = looks_english_headline(sample)
    t_terms = frozenset(title_terms(title))
    thin: list[str] = []
    if not body_tokens:
        thin.append("empty text")
    elif len(body_tokens) < MIN_BODY_WORDS:
        what = "press release with little news" if is_release else "teaser"
        thin.append(f"{what}: {len(body_tokens)} words")
    if len(t_terms) < MIN_TITLE_TERMS:
        thin.append(f"short title: {len(t_terms)} content words")
    if not english:
        thin.append("not English")
    if len(body_tokens) < MIN_BODY_WORDS:
        # No body to confirm names in: the headline is all there is (and all that is compared).
        found_names: frozenset[str] = headline_names(title)
        found_numbers = frozenset(numbers(title))
    else:
        found_names = frozenset(names(lead_body, title))
        found_numbers = frozenset(numbers(f"{title}\n{lead_body}"))
    return Features(
        title=title,
        body=body,
        lead=lead,
        body_words=len(body_tokens),
        names=found_names,
        numbers=found_numbers,
        title_terms=t_terms,
        ident_url=identity_url(article.url),
        thin=tuple(thin),
        english=english,
        press_release=is_release,
    )


def shingles(text: str, size: int = 3) -> set[str]:
    """Word n-grams of a body, the unit of near-duplicate comparison."""
    tokens = match_tokens(text)
    if len(tokens) < size:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}
