"""A bullet must stand alone: resolve a pronoun or definite reference that opens it, or refuse it.

News sentences lean on the sentences before them: "He said ...", "The company cut ...",
"Austin said ..." (Austin was introduced two paragraphs up as "Defense Secretary Lloyd
Austin"). Out of its article such a bullet points at nothing. `resolve_start` rewrites the
opening reference with the source's own words (the person's full name, the organisation's
name), and returns None when the source does not say clearly who is meant: the sentence is
then not used. Every word a rewrite adds comes from the story's text, so grounding holds.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from .parse import definite_head
from .text import LEGAL_FORMS, STOPWORDS, stem
from .text import words as text_words

# Openers that always need the sentence before them.
_PRONOUNS = frozenset("it they them this these those such there its their both".split())
_PERSONAL = {"he": "", "she": "", "his": "'s", "her": "'s"}
# "The company cut its forecast": a definite noun that stands for a name said earlier.
_ORG_NOUNS = frozenset(
    """
    company firm group organisation organization agency retailer carrier airline bank lender
    insurer automaker maker manufacturer chain startup utility operator developer publisher
    network brand business conglomerate giant party union ministry department
    """.split()
)
_PERSON_NOUNS = frozenset(
    "official spokesperson spokesman spokeswoman minister president senator lawmaker "
    "executive chief ceo leader man woman suspect victim player coach".split()
)
# A name of an organisation (not a person or a place): it ends with one of these words, or it
# is an acronym such as "PG&E" or "NATO".
_ORG_SUFFIXES = frozenset(
    """
    inc inc. corp corp. corporation co co. company companies ltd ltd. llc plc group holdings
    bank airlines airways motors technologies systems energy partners capital association
    agency authority party union council ministry department commission committee institute
    university foundation organization organisation network media industries entertainment
    labs services brands stores depot pharmaceuticals therapeutics
    """.split()
)
# Nouns that only stand for something said before them: "The incident unfolded ...", "The
# move angered ...", "The two were ...". Out of its article such a bullet says nothing.
_SHELL_NOUNS = frozenset(
    """
    incident move decision announcement precaution step measure result outcome thing matter
    situation development latter former same two three four both pair trio duo couple remark
    comment statement claim finding findings news effort change process issue problem episode
    event case occurrence accident encounter exchange gesture action proposal idea
    """.split()
)
# "The government", "The police", "The weekend", "The city" (of the dateline): a reader of
# the story knows which.
_UNIQUE_NOUNS = frozenset(
    """
    government police military army navy public world economy weather country nation market
    markets internet pandemic war day week month year morning afternoon evening night weekend
    season time decade century summer winter spring autumn fall future past city town village
    county state province region capital island district borough area community
    """.split()
)
_TITLES = frozenset("mr mr. mrs mrs. ms ms. dr dr. prof prof.".split())
# Capitalised words that are not names however they are written.
_NOT_NAMES = frozenset(
    """
    monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december i
    """.split()
)
_NAME_WORD = r"(?:[A-Z][a-z]+(?:[-'’][A-Z]?[a-z]+)*|(?<![.\w])[A-Z]\.)"
# Spaces only: a heading line above a paragraph is not the first half of a name.
_FULL_NAME = re.compile(
    rf"\b{_NAME_WORD}(?:[ \u00a0]+{_NAME_WORD}){{0,2}}[ \u00a0]+([A-Z][a-z]+(?:-[A-Z][a-z]+)?)\b"
)
_CAP_RUN = re.compile(
    r"\b(?:[A-Z][\w&'’.-]*|of|and|&)(?:\s+(?:[A-Z][\w&'’.-]*|of|and|&))*", re.UNICODE
)
_ACRONYM = re.compile(r"^[A-Z][A-Z&]{1,5}$")
_FIRST = re.compile(r"^([\"“‘']?)(\w+(?:[.'’]\w+)*\.?)(\s+)(\S+)?")
_REPORT_VERBS = frozenset(
    "said says told added noted wrote warned argued explained announced stated "
    "insisted believes believed thinks thought".split()
)


def _first_words(text: str) -> tuple[str, str, str]:
    """(opening quote, first word, second word) of a sentence."""
    m = _FIRST.match(text.strip())
    if not m:
        return "", "", ""
    return m.group(1), m.group(2), (m.group(4) or "").strip(",.;:")


def _names(text: str) -> list[str]:
    """Multi-word capitalised names ("Lloyd Austin", "Defense Secretary Lloyd Austin") in order."""
    out = []
    for m in _FULL_NAME.finditer(text):
        words = m.group(0).split()
        while words and (words[0].lower() in STOPWORDS or words[0].lower() in _NOT_NAMES):
            words = words[1:]
        if len(words) >= 2:
            out.append(" ".join(words))
    return out


def _person_names(texts: Sequence[str]) -> dict[str, str]:
    """Surname -> the full name ending with it that the texts use as a person's.

    A two-word name counts as a person's when its last word is also used alone elsewhere
    ("Lloyd Austin" ... "Austin said"), which is how news writes about people, and when it
    is met inside a sentence at least once: at a sentence start "Unlike Russia" looks like a
    name too. Headings and titles (most words capitalised) are not read.
    """
    joined = "\n".join(texts)
    alone = _alone_words(joined)
    solo = _alone_words(joined, solo=True)
    fixed = _fixed_parts(joined)
    found: dict[str, str] = {}
    for line in joined.split("\n"):
        tokens = line.split()
        if not tokens or sum(t[:1].isupper() for t in tokens) > 0.6 * len(tokens):
            continue  # a heading or a title
        # Sentences, and the parts of a "topic/ topic/ place/" chain.
        for sentence in re.split(r"(?<=[.!?])\s+(?=[\"“‘']?[A-Z])|/\s+", line):
            for m in _FULL_NAME.finditer(sentence):
                words = m.group(0).split()
                surname, first = words[-1], words[-2]
                if surname.lower() in STOPWORDS or surname.lower() in _NOT_NAMES:
                    continue
                if first.lower() in _TITLES or first.lower() in STOPWORDS or "'" in first:
                    continue
                if "’" in first or surname not in alone or surname in found:
                    continue
                if first in solo or first in fixed:
                    continue  # "Biden Ukraine", "North Korea Russia": not a given name
                # Keep the person's own name, not the job before it: "Secretary Lloyd
                # Austin" -> "Lloyd Austin" ("J. R. Smith" keeps its initials).
                keep = 2
                while keep < len(words) and re.fullmatch(r"[A-Z]\.", words[-keep]):
                    keep += 1
                start = m.start() + m.group(0).rindex(" ".join(words[-keep:]))
                if sentence[:start].strip(" \"“‘'(") == "":
                    continue  # sentence-initial: only counts when met inside a sentence too
                found[surname] = " ".join(words[-keep:])
    return found


def _fixed_parts(text: str) -> set[str]:
    """Words always met after a capitalised word but before many ("North Korea has").

    Such a word ends a fixed name ("North Korea"); a given name is always followed by its
    surname ("Secretary Lloyd Austin").
    """
    before: dict[str, set[str]] = {}
    after: dict[str, set[str]] = {}
    count: Counter[str] = Counter()
    tokens = text.split()
    for prev, token, nxt in zip(tokens, tokens[1:], [*tokens[2:], ""], strict=False):
        word = token.strip("\"“”‘’'(),.;:!?")
        if word[:1].isupper():
            count[word] += 1
            before.setdefault(word, set()).add(prev if prev[:1].isupper() else "")
            after.setdefault(word, set()).add(nxt.strip("\"“”‘’'(),.;:!?"))
    return {w for w, n in count.items() if n >= 2 and "" not in before[w] and len(after[w]) > 1}


def _alone_words(text: str, solo: bool = False) -> set[str]:
    """Capitalised words used without a capitalised word before them ("... Austin said").

    With `solo`, only those also used without a capitalised word after them: "Paul" in
    "chief executive Paul Okafor" is not solo, "Biden" in "Biden authorized" is.
    """
    out: set[str] = set()
    prev = ""
    tokens = text.split()
    for i, token in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if solo and nxt[:1].isupper() and token[-1:] not in '.!?,;:"”':
            prev = token
            continue
        word = token.strip("\"“”‘’'(),.;:!?")
        if word.endswith(("'s", "’s")):
            word = word[:-2]
        if word[:1].isupper():
            if not prev or prev[-1] in '.!?"”,;:' or not prev[0].isupper():
                out.add(word)
            elif prev.lower() in _TITLES:
                out.add(word)
        prev = token
    return out


def _org_names(text: str) -> list[str]:
    """Organisation names in order of appearance (by suffix word or acronym)."""
    out = []
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        out.extend(_org_names_in(sentence))
    return out


def _org_names_in(sentence: str) -> list[str]:
    out = []
    for m in _CAP_RUN.finditer(sentence):
        words = m.group(0).strip(" .,").split()
        if m.start() == 0 and "of" in words[1:-1]:
            # "Shares of Northfield Motors": the sentence's first word is not part of the name.
            after = words[words.index("of") + 1 :]
            if after and after[-1].lower().rstrip(".") in _ORG_SUFFIXES:
                words = after
        while words and words[-1] in ("of", "and", "&"):
            words.pop()
        while words and (words[0].lower() in STOPWORDS or words[0] in ("of", "and", "&")):
            words = words[1:]
        if not words:
            continue
        if len(words) >= 3 and words[-1].lower().rstrip(".") in LEGAL_FORMS:
            words = words[:-1]  # "Northfield Motors Inc." -> "Northfield Motors"
        last = words[-1].rstrip(".,;:'’s").lower()
        if len(words) >= 2 and (last in _ORG_SUFFIXES or words[-1].lower() in _ORG_SUFFIXES):
            out.append(" ".join(words))
        elif (
            len(words) == 1
            and _ACRONYM.match(words[0].rstrip("'’s"))
            and words[0]
            not in (
                "US",
                "UK",
                "EU",
                "UN",
            )
        ):
            out.append(words[0].rstrip("'’s") if words[0].endswith(("'s", "’s")) else words[0])
    return out


def _opening_reference(text: str) -> tuple[str, int] | None:
    """(kind, length in characters) of a reference that opens the text, None if there is none.

    kind: "pronoun", "personal", "org", "person-noun", or "surname:<word>".
    """
    quote, first, second = _first_words(text)
    low = first.lower()
    start = len(text) - len(text.lstrip()) + len(quote)
    if low in _PERSONAL:
        return "personal", start + len(first)
    if low in _PRONOUNS:
        return "pronoun", start + len(first)
    if low == "the" and second[:1].islower():  # "The Bank of Norland" is a name
        noun = second.lower().rstrip("'’s")
        if noun in _ORG_NOUNS:
            m = re.match(r"\S+\s+\S+", text[start:])
            assert m
            return "org", start + len(m.group(0).rstrip(",.;:"))
        if noun in _PERSON_NOUNS:
            return "person-noun", start
    return None


def _surname_start(text: str, people: dict[str, str]) -> tuple[str, int] | None:
    """A bare surname (or "Mr. X") opening the text: (full name, characters it takes)."""
    quote, first, second = _first_words(text)
    start = len(text) - len(text.lstrip()) + len(quote)
    word, length = first, len(first)
    if first.lower() in _TITLES and second:
        word = second.rstrip("'’s,") if second.endswith(("'s", "’s")) else second.rstrip(",")
        m = re.match(r"\S+\s+" + re.escape(word), text[start:])
        if not m:
            return None
        length = len(m.group(0))
    else:
        # "Austin said", "Austin's remarks": the surname is the whole subject.
        if second and second[:1].isupper() and second.lower() not in _REPORT_VERBS:
            return None  # "Lloyd Austin said": a full name already
        word = first[:-2] if first.endswith(("'s", "’s")) else first
        length = len(word)
    full = people.get(word)
    if full is None or full == word:
        return None
    return full, start + length


def people_of(story: Sequence[str]) -> dict[str, str]:
    """Surname -> full name of the people a story's texts name (build once per story)."""
    return _person_names(story)


def back_reference(text: str, before: str = "", known: str = "") -> str | None:
    """The noun of a "the ..." phrase opening the text that points back at something the text
    does not say ("The incident unfolded ...", "The new rules will ..."): a noun that only
    ever stands for something said before (`_SHELL_NOUNS`), or one `before` (the article up
    to the sentence) already used. None when the opening says which one it is ("The plan to
    build ...", "The British embassies"), is one a reader knows ("The police"), or is in
    `known`, what the reader sees above the bullet (the story's titles: "the mines" under
    "U.S. to send land mines to Ukraine")."""
    _, first, second = _first_words(text)
    if first.lower() != "the" or not second[:1].islower():
        return None
    head = definite_head(text)
    if head is None or head in _UNIQUE_NOUNS or head in _ORG_NOUNS or head in _PERSON_NOUNS:
        return None  # organisations and people are `_opening_reference`'s to resolve
    if stem(head) in {stem(w) for w in text_words(known)}:
        return None
    if head in _SHELL_NOUNS:
        return head
    said = {stem(w) for w in text_words(before)}
    return head if stem(head) in said else None


def unresolved_start(
    text: str, sources: Sequence[str], people: dict[str, str] | None = None
) -> bool:
    """True when the text opens with a reference to something it does not name itself.

    Without the article before the sentence, a "the ..." opening counts only when its noun
    always points back (`back_reference`)."""
    ref = _opening_reference(text)
    if ref is not None or back_reference(text) is not None:
        return True
    return _surname_start(text, people_of(sources) if people is None else people) is not None


def resolve_start(
    text: str,
    before: str,
    story: Sequence[str],
    people: dict[str, str] | None = None,
    known: str = "",
) -> str | None:
    """The text with an opening reference replaced by the source's name for it, or None.

    `before` is the article's text up to the sentence (where the referent was introduced),
    `story` every text of the story (where a full name may be found; `people`, from
    `people_of(story)`, saves finding them again), `known` what the reader sees above the
    bullet (the story's titles). Text that opens with no reference comes back unchanged.
    """
    if people is None:
        people = people_of([*story, before])
    surname = _surname_start(text, people)
    if surname is not None:
        full, end = surname
        return _replace(text, end, full, _opening_span(text, end))
    ref = _opening_reference(text)
    if ref is None:
        # "The incident unfolded ...": the text does not say what it was, nor can a name
        return None if back_reference(text, before, known) is not None else text
    kind, end = ref
    if kind == "personal":
        name = _last_person(before, people)
        if name is None:
            return None
        word = _first_words(text)[1].lower()
        return _replace(text, end, name + _PERSONAL[word], _opening_span(text, end))
    if kind == "org":
        orgs = _org_names(before)
        if not orgs:
            return None
        return _replace(text, end, orgs[-1], _opening_span(text, end))
    return None  # "It", "They", "This", "The official": too vague to name from the text


def _opening_span(text: str, end: int) -> int:
    """Where the replaced words start (after leading space and an opening quote)."""
    quote, _, _ = _first_words(text)
    return len(text) - len(text.lstrip()) + len(quote)


def _replace(text: str, end: int, name: str, start: int) -> str:
    return text[:start] + name + text[end:]


# Nouns that stand for a person the sentence does not name ("The former vice president had a
# lead ..."): after such a sentence, "his" may be that person, not the one named before it.
_UNNAMED_PERSON = re.compile(
    r"\b(?:[Tt]he|[Aa]n?|[Hh]is|[Hh]er|[Tt]heir)\s+(?:[a-z-]+\s+){0,3}?(?:"
    + "|".join(
        sorted(
            _PERSON_NOUNS
            | {
                "president",
                "candidate",
                "governor",
                "mayor",
                "senator",
                "congressman",
                "congresswoman",
                "secretary",
                "chairman",
                "chairwoman",
                "director",
                "founder",
                "boy",
                "girl",
                "teenager",
                "father",
                "mother",
                "son",
                "daughter",
                "husband",
                "wife",
            }
        )
    )
    + r")\b"
    # the noun is the phrase's head: a mark or a verb comes next ("The former vice president
    # had ..."), not another noun ("The official figures", "the chief reason")
    + r"(?=\s*(?:[,.;:)]|$)|\s+(?:had|has|have|was|were|is|are|said|says|told|who|will|would"
    + r"|could|did|does|of|in|at|on|and|from|also|then|later)\b)"
)


def _last_person(before: str, people: dict[str, str]) -> str | None:
    """The person the last sentences before were about: one full name, else None (ambiguous).

    A sentence between that names nobody but speaks of someone ("The former vice president
    ...") makes it ambiguous too: "his" may be that one.
    """
    sentences = re.split(r"(?<=[.!?])\s+", before.strip())[-2:]
    for sentence in reversed(sentences):
        named = []
        for name in _names(sentence):
            surname = name.split()[-1]
            if surname in people:
                named.append(people[surname])
        for word in re.findall(r"\b[A-Z][a-z]+\b", sentence):
            if word in people:
                named.append(people[word])
        distinct = list(dict.fromkeys(named))
        if len(distinct) == 1:
            return distinct[0]
        if len(distinct) > 1 or _UNNAMED_PERSON.search(sentence):
            return None
    return None
