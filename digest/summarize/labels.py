"""Bullet labels: the few-shot prompt for a model, the check on what it writes, and a rule-based
labeller that needs no model (the extractive baseline and the fallback for a bad model label).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from .grounding import SourceIndex, ungrounded_in_label
from .text import STOPWORDS, stem, words

MAX_LABEL_WORDS = 4

# Few-shot examples written for this project (not taken from any article). They show the
# style wanted: a 1-4 word Title Case name for what the sentence is about, never a new fact.
LABEL_EXAMPLES: tuple[tuple[str, str], ...] = (
    (
        "The central bank raised its main interest rate by half a point on Tuesday, the "
        "largest increase in two decades.",
        "Rate Hike",
    ),
    (
        "Flooding has forced more than 3,000 residents from their homes along the river "
        "since Sunday.",
        "Residents Evacuated",
    ),
    (
        "Critics say the new rules will raise costs for small farms that cannot afford the "
        "equipment.",
        "Cost Concerns",
    ),
    (
        "The company expects the plant to open in 2026 and employ about 1,200 people.",
        "New Jobs",
    ),
    (
        "Police have not yet identified a motive and asked witnesses to come forward.",
        "Motive Unknown",
    ),
    (
        "The opposition party walked out of parliament before the vote, calling the bill an "
        "attack on press freedom.",
        "Opposition Walkout",
    ),
    (
        "Scientists found that the drug cut the risk of a second stroke by a third in a trial "
        "of 4,000 patients.",
        "Trial Results",
    ),
    (
        "Neighbouring countries have offered rescue teams and field hospitals to help the "
        "quake-hit region.",
        "Foreign Aid",
    ),
    (
        "The striker scored twice in the final ten minutes to send the club into the cup final.",
        "Late Goals",
    ),
    (
        "Talks on a ceasefire are expected to resume next week in Cairo, mediators said.",
        "Ceasefire Talks",
    ),
    (
        "The wildfire has burned about 12,000 acres and is 15% contained, fire officials said.",
        "Fire Spread",
    ),
    (
        "Shares in the carmaker fell 8% after it cut its profit forecast for the year.",
        "Profit Warning",
    ),
)

LABEL_INSTRUCTION = (
    "Give each news sentence a short label of 1 to 4 words in Title Case that names what the "
    "sentence is about. The label uses no facts that are not in the sentence.\n\n"
)


def label_prompt_prefix() -> str:
    """The shared few-shot part of every label prompt (its KV cache is reused across calls)."""
    shots = "".join(f"Sentence: {s}\nLabel: {label}\n\n" for s, label in LABEL_EXAMPLES)
    return LABEL_INSTRUCTION + shots


def label_prompt_suffix(sentence: str) -> str:
    """The per-bullet part of a label prompt; the model continues after "Label:"."""
    return f"Sentence: {sentence}\nLabel:"


_SMALL = frozenset("a an the and or of in on at to for by vs as from with".split())
_LABEL_CHARS = re.compile(r"^[\w .'’&/-]+$", re.UNICODE)
_VAGUE = frozenset(
    "official officials statement update news report story details people government country "
    "world today latest breaking".split()
)
_REJECT = frozenset("label sentence none n/a na unknown title summary headline".split())
_REPORTING = frozenset(
    """
    said says say told tells announced announces added adds reported reports claimed claims
    noted notes stated states according explained confirmed revealed warned urged argued
    described called asked
    """.split()
)


def title_case(text: str) -> str:
    """Title Case that keeps acronyms ("U.S.", "NATO") and inner capitals ("iPhone")."""
    out: list[str] = []
    for i, word in enumerate(text.split()):
        parts: list[str] = []
        for part in word.split("-"):
            if not part:
                parts.append(part)
            elif part.isupper() or any(ch.isupper() for ch in part[1:]) or not part[0].isalpha():
                parts.append(part)
            elif i > 0 and part.lower() in _SMALL and "-" not in word:
                parts.append(part.lower())
            else:
                parts.append(part[0].upper() + part[1:])
        out.append("-".join(parts))
    return " ".join(out)


def clean_label(
    raw: str,
    index: SourceIndex | None = None,
    taken: Collection[str] = (),
    topic: Collection[str] = (),
) -> str | None:
    """A model's label as a 1-4 word Title Case label, or None when it cannot be used.

    None when it is empty, too long, has odd characters, repeats a word, names something the
    sources do not (see `ungrounded_in_label`), is already used by another bullet, or is one
    vague word: the story's own topic (`topic`: stems of its key words) or "Official".
    """
    text = raw.split("\n", 1)[0]
    text = text.split(":", 1)[0] if ":" in text else text
    text = text.strip().strip("\"'“”‘’*_`#[]()").strip().rstrip(".,;!?").strip()
    if not text or len(text) > 40 or not _LABEL_CHARS.match(text):
        return None
    parts = text.split()
    if not 1 <= len(parts) <= MAX_LABEL_WORDS or text.lower() in _REJECT:
        return None
    lowered = [p.lower() for p in parts]
    if len(set(lowered)) != len(lowered) or all(p in STOPWORDS for p in lowered):
        return None
    if lowered[-1] in _SMALL or lowered[0] in ("and", "or", "of", "to"):
        return None  # a cut-off phrase: "Support for"
    label = title_case(text)
    if index is not None and ungrounded_in_label(label, index):
        return None
    key = _label_key(label)
    if len(parts) == 1 and (lowered[0] in _VAGUE or key <= set(topic)):
        return None  # "Ukraine" on a bullet of a Ukraine story labels nothing
    for other in taken:
        shared = key & _label_key(other)
        if key == _label_key(other) or (shared and len(shared) * 2 >= len(key)):
            return None  # "Anti-Personnel Mines" after "U.S. Land Mines" repeats the head word
    return label


def _label_key(label: str) -> frozenset[str]:
    return frozenset(stem(w) for w in words(label) if w.lower() not in STOPWORDS and len(w) > 1)


GENERIC_LABELS = ("Key Point", "Details", "Background", "More", "Also Noted")


def _candidate_runs(sentence: str) -> list[list[str]]:
    """Runs of consecutive content words: the places a noun phrase can be taken from."""
    runs: list[list[str]] = [[]]
    for token in re.findall(r"[^\W_]+(?:[-'’][^\W_]+)*|[^\w\s]", sentence):
        low = token.lower()
        usable = (
            token[0].isalpha()
            and len(token) > 1
            and low not in STOPWORDS
            and low not in _REPORTING
            and not low.endswith("ly")
        )
        if usable:
            runs[-1].append(token)
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]


_ADJECTIVE_END = re.compile(
    r"(?:ian|ean|ese|ish|ic|al|ive|ous|ful|less|able|ible|ary|ory|ly|er|est)$", re.IGNORECASE
)
_NOUN_END = re.compile(r"(?:tion|sion|ment|ness|ity|ance|ence|ship|ism|ure|age|ery|ists?)$")


def word_roles(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """Words the text uses as nouns (after "the", "of", ...) and as verbs (after "to", "will").

    A cheap stand-in for a part-of-speech tagger, good enough to keep rule labels from ending
    on an adjective ("Strike Russian") or starting with a verb.
    """
    nouns: set[str] = set()
    verbs: set[str] = set()
    previous = ""
    for token in re.findall(r"[^\W_]+(?:[-'’][^\W_]+)*", text):
        low = token.lower()
        if previous in _DETERMINERS:
            nouns.add(low)
        elif previous in _VERB_MARKERS:
            verbs.add(low)
        previous = low
    return frozenset(nouns), frozenset(verbs - nouns)


# Words that cannot end a label: ordinals, comparatives and vague amounts say nothing on their
# own ("First", "Lower", "Remainder"), and the head of an English noun phrase is its last word.
_WEAK_HEADS = frozenset(
    """
    first second third fourth fifth last next final early earlier late later lower upper higher
    high low more less most least new old former top main key major minor other same several
    various whole entire own total remainder rest part half way thing things time times year
    million millions billion billions trillion thousand thousands hundred hundreds percent
    years day days week weeks month months today yesterday tomorrow monday tuesday wednesday
    thursday friday saturday sunday january february march april june july august september
    october november december
    """.split()
)

_DETERMINERS = frozenset(
    "the a an its their his her this these those of for on in with by from about over against "
    "our no any each every another".split()
)
_VERB_MARKERS = frozenset(
    "to will would can could may might must should shall has have had not never".split()
)


def rule_label(
    sentence: str,
    weights: Mapping[str, float],
    taken: Collection[str] = (),
    *,
    given: str | None = None,
    position: int = 0,
    nouns: Collection[str] = (),
    verbs: Collection[str] = (),
) -> str:
    """A 1-3 word label made only of the sentence's own words, favouring the story's key terms.

    `weights` maps word stems to how central they are to the story; `given` is a label the
    source itself wrote ("Belgorod Region: ..."), used when it is clean; `position` picks a
    generic label when the sentence has nothing usable (text without spaces, digits only);
    `nouns`/`verbs` (from `word_roles`) steer the label towards a noun phrase.
    """
    taken_keys = {_label_key(t) for t in taken}
    taken_stems = set().union(*taken_keys) if taken_keys else set()
    if given:
        label = clean_label(given, taken=taken)
        if label:
            return label
    best: tuple[float, str] | None = None
    for run in _candidate_runs(sentence):
        for size in (2, 3, 1):
            for start in range(0, len(run) - size + 1):
                gram = run[start : start + size]
                first, last = gram[0].lower(), gram[-1].lower()
                if len(last) < 3:
                    continue
                score = sum(weights.get(stem(w), 0.0) for w in gram) / (size**0.6)
                score += 0.15 * (size == 2) - 0.02 * start
                if last in nouns or _NOUN_END.search(last):
                    score += 0.4
                elif last in verbs or last.endswith(("ing", "ed")):
                    score -= 0.8
                if _ADJECTIVE_END.search(last) and last not in nouns:
                    score -= 0.6
                after = run[start + size] if start + size < len(run) else ""
                before = run[start - 1] if start > 0 else ""
                if (gram[-1][0].isupper() and after[:1].isupper()) or (
                    gram[0][0].isupper() and before[:1].isupper()
                ):
                    score -= 0.8  # half a name: "Head Librarian Aurelio", "Oyelaran"
                if last in _WEAK_HEADS:
                    score -= 1.0
                if size == 1 and not gram[0][0].isupper():
                    score -= 0.25  # one common word ("Carrier") labels less than two
                if first in verbs or (size > 1 and first.endswith("ed") and first not in nouns):
                    score -= 0.8
                if last.endswith(("'s", "’s")):
                    score -= 1.0  # "Russia's" wants a noun after it
                if any(w.lower().endswith("ed") or w.lower() in verbs for w in gram[1:-1]):
                    score -= 0.6
                score -= 0.5 * len({stem(w) for w in gram} & taken_stems)
                label = title_case(" ".join(gram))
                if _label_key(label) in taken_keys or len(label) > 40:
                    continue
                if best is None or score > best[0]:
                    best = (score, label)
    if best is not None and best[0] > -0.5:
        return best[1]
    for label in GENERIC_LABELS[position % len(GENERIC_LABELS) :] + GENERIC_LABELS:
        if _label_key(label) not in taken_keys:
            return label
    return GENERIC_LABELS[0]
