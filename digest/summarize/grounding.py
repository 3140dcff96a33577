"""The grounding check: every number, date and proper noun in a bullet must be in the sources.

A small model that is asked to write will happily say "two Americans were killed" about a
story that mentions no Americans. So every bullet is checked against the story's own text,
token by token, before it is shown:

- numbers ("20%", "$4.5bn", "1,000th", "two") must appear as numbers in the sources;
- dates ("Nov. 20", "Wednesday") must name a month or weekday the sources name;
- proper nouns ("U.S.", "Lavrov", "ATACMS") must appear in the sources, case and dots aside;
- label words (Title Case hides proper nouns) must be source words or generic label words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .text import STOPWORDS, normalize, stem

_NUMBER_WORDS = {
    "zero": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "thirteen": "13",
    "fourteen": "14",
    "fifteen": "15",
    "sixteen": "16",
    "seventeen": "17",
    "eighteen": "18",
    "nineteen": "19",
    "twenty": "20",
    "thirty": "30",
    "forty": "40",
    "fifty": "50",
    "sixty": "60",
    "seventy": "70",
    "eighty": "80",
    "ninety": "90",
    "hundred": "100",
    "thousand": "1000",
    "million": "1000000",
    "billion": "1000000000",
    "trillion": "1000000000000",
    "dozen": "12",
    "dozens": "12",
    "hundreds": "100",
    "thousands": "1000",
    "millions": "1000000",
    "billions": "1000000000",
    "first": "1",
    "second": "2",
    "third": "3",
    "fourth": "4",
    "fifth": "5",
    "half": "0.5",
    "twice": "2",
    "double": "2",
    "triple": "3",
}
_MONTHS = {
    "january": "jan",
    "february": "feb",
    "march": "mar",
    "april": "apr",
    "may": "may",
    "june": "jun",
    "july": "jul",
    "august": "aug",
    "september": "sep",
    "october": "oct",
    "november": "nov",
    "december": "dec",
    "jan": "jan",
    "feb": "feb",
    "mar": "mar",
    "apr": "apr",
    "jun": "jun",
    "jul": "jul",
    "aug": "aug",
    "sep": "sep",
    "sept": "sep",
    "oct": "oct",
    "nov": "nov",
    "dec": "dec",
}
_WEEKDAYS = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}
# Words a label may use without the sources saying them: they name a kind of fact, not a fact.
GENERIC_LABEL_WORDS = frozenset(
    """
    key main top big major minor new latest early late final next first last fresh further
    official public private local national global international regional foreign domestic
    political economic military legal financial social humanitarian diplomatic environmental
    medical scientific technical criminal civilian human growing rising falling mounting
    ongoing renewed wider broader long short term high low strong weak more less
    shift change update news point details detail background context outlook overview summary
    impact effect effects response reaction reactions concern concerns worry worries fears
    risk risks threat threats warning warnings tension tensions pressure pressures
    criticism critics praise support opposition backing backlash debate dispute dispute
    talks deal deals agreement plan plans policy policies decision decisions move moves step
    steps action actions measure measures rules rule law laws ban bans limit limits
    cost costs price prices funding money budget spending cuts cut growth decline drop rise
    surge fall gains losses loss profit profits sales jobs demand supply market markets
    trade investment investors economy
    attack attacks strike strikes fighting conflict war violence clash clashes escalation
    security safety defense defence aid help relief rescue recovery damage casualties
    victims deaths death toll injuries injured evacuation evacuations
    investigation probe inquiry charges trial ruling verdict case cases court lawsuit appeal
    vote votes election campaign leadership leader leaders government officials authorities
    protest protests strike unrest crisis emergency disaster
    health care treatment study research findings results data evidence report reports
    record milestone launch release announcement statement claims claim denial
    timeline history origins cause causes reason reasons motive goal goals aim target targets
    role stakes challenge challenges problem problems issue issues question questions
    what why how who where when happens happened
    next steps ahead future path way forward progress delay delays setback
    win victory defeat loss return exit departure arrival resignation appointment
    reform reforms expansion closure closures opening shutdown restrictions sanctions
    alert alerts advice guidance package packages bill bills
    arrest arrests filed raised stock shortage theft outage power vaccination drive count
    poll lead gap earnings exports fines search police race partnership sale schedule
    match eligibility requirements tip how-to cooking rules figures
    """.split()
)

_NUM = re.compile(r"(?<![\w.])[$€£¥₹]?\d+(?:[.,]\d+)*(?:st|nd|rd|th|s)?")
_CAP = re.compile(r"[A-Z][\w'’]*(?:\.[A-Z]\.?)*(?:\.(?=[A-Z]))?|[A-Z]\.(?:[A-Z]\.)+")
_TOKEN = re.compile(r"[^\W_]+(?:[.'’-][^\W_]+)*\.?", re.UNICODE)


def _number_core(token: str) -> str:
    token = token.lstrip("$€£¥₹")
    token = re.sub(r"(?:st|nd|rd|th|s)$", "", token)
    token = token.replace(",", "")
    if "." in token:
        token = token.rstrip("0").rstrip(".") or "0"
    return token


def _name_key(token: str) -> str:
    """ "U.S." / "US" -> "us"; "Russia's" -> "russia"; "Atacms" / "ATACMS" -> "atacms"."""
    token = token.replace("’", "'")
    token = re.sub(r"'s?$", "", token)
    return token.replace(".", "").lower()


@dataclass
class SourceIndex:
    """What the story's sources say, in the forms the check compares."""

    numbers: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)  # every word, lowercased, dots removed
    stems: set[str] = field(default_factory=set)
    dates: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, texts: Iterable[str]) -> SourceIndex:
        """Index the source texts (titles and bodies) of one story."""
        index = cls()
        for text in texts:
            text = normalize(text)
            for match in _NUM.finditer(text):
                index.numbers.add(_number_core(match.group(0)))
            for token in _TOKEN.findall(text):
                for part in re.split(r"[-]", token):
                    key = _name_key(part)
                    if not key:
                        continue
                    index.names.add(key)
                    index.stems.add(stem(key))
                    if key in _NUMBER_WORDS:
                        index.numbers.add(_NUMBER_WORDS[key])
                    if key in _MONTHS:
                        index.dates.add(_MONTHS[key])
                    if key in _WEEKDAYS:
                        index.dates.add(_WEEKDAYS[key])
        return index


def _is_sentence_start(text: str, pos: int) -> bool:
    before = text[:pos].rstrip(" \"'“‘([")
    return not before or before[-1] in ".!?:;—–-\n"


def ungrounded_in_text(text: str, index: SourceIndex) -> list[str]:
    """Numbers, dates and proper nouns of a sentence that the sources do not contain."""
    text = normalize(text)
    missing: list[str] = []
    for match in _NUM.finditer(text):
        if _number_core(match.group(0)) not in index.numbers:
            missing.append(match.group(0))
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        for i, part in enumerate(token.split("-")):
            key = _name_key(part)
            if not key or key.isdigit():
                continue
            if key in _NUMBER_WORDS and key not in ("first", "second", "half"):
                if _NUMBER_WORDS[key] not in index.numbers and key not in index.names:
                    missing.append(part)
                continue
            if key in _MONTHS and len(key) > 2 and part[0].isupper():
                if _MONTHS[key] not in index.dates:
                    missing.append(part)
                continue
            if key in _WEEKDAYS:
                if _WEEKDAYS[key] not in index.dates:
                    missing.append(part)
                continue
            if not part[:1].isupper():
                continue
            if i == 0 and _is_sentence_start(text, match.start()):
                if key in STOPWORDS or key in index.names:
                    continue  # "The", "However": sentence case, not a name
                # A capitalised first word the sources never use is checked like a name.
            if key not in index.names:
                missing.append(part)
    return list(dict.fromkeys(m.rstrip(".") for m in missing))


def ungrounded_in_label(label: str, index: SourceIndex) -> list[str]:
    """Label words that are neither in the sources (by stem) nor generic label words."""
    missing: list[str] = []
    for token in _TOKEN.findall(normalize(label)):
        for part in token.split("-"):
            key = _name_key(part)
            if not key:
                continue
            if any(ch.isdigit() for ch in key):
                if _number_core(key) not in index.numbers:
                    missing.append(part)
                continue
            if key in STOPWORDS or key in index.names or stem(key) in index.stems:
                continue
            if key in _MONTHS or key in _WEEKDAYS:
                missing.append(part)
                continue
            if key in _NUMBER_WORDS and _NUMBER_WORDS[key] not in index.numbers:
                missing.append(part)
                continue
            if key in GENERIC_LABEL_WORDS or stem(key) in _GENERIC_STEMS:
                continue
            missing.append(part)
    return list(dict.fromkeys(missing))


_GENERIC_STEMS = frozenset(stem(w) for w in GENERIC_LABEL_WORDS)


def ungrounded(label: str, text: str, index: SourceIndex) -> list[str]:
    """Everything in a bullet ("Label: text") that the sources do not support."""
    return ungrounded_in_label(label, index) + ungrounded_in_text(text, index)


def is_grounded(label: str, text: str, index: SourceIndex) -> bool:
    """True when every number, date and proper noun of the bullet is in the sources."""
    return not ungrounded(label, text, index)
