"""Choose what a story's Quick Looks say: its headline, 3-5 distinct source sentences, Deep Look.

Everything here is extractive: the bullet texts are source sentences, trimmed of connectives
and shortened only at safe clause boundaries, so they are grounded by construction. A model
(if any) only labels them afterwards.

Sentences are scored on what makes a fact worth a bullet in a news summary: it is what the
story is about (shares the story's frequent words and the headline's), it comes early (news
puts the main fact first), and several outlets say it. Then bullets are picked greedily, each
skipping sentences too close to one already picked, so no two bullets say the same thing.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from ..config import SummarizerSettings
from ..models import Article
from .compress import RuleCompressor, mask_of, standalone_problems, tokenize
from .compress_model import load_compressor
from .grounding import SourceIndex
from .headline import MAX_HEADLINE_WORDS, short_title, tidy_title
from .labels import has_verb, word_roles
from .parse import cut_complement, has_main_clause, lost_heads
from .referents import people_of, resolve_start, unresolved_start
from .text import (
    STOPWORDS,
    blocks,
    capitalize_first,
    clean_title,
    content_words,
    ends_sentence,
    is_english,
    split_list_item,
    split_sentences,
    stem,
    strip_tag_chain,
    trim_connectives,
    trim_sentence,
    word_count,
    words,
)

if TYPE_CHECKING:
    from ..embed import Embedder

log = logging.getLogger(__name__)

MAX_BULLET_WORDS = 22
MIN_BULLET_WORDS = 6
# Only the best-scored sentences are compressed (one batch for the story): compressing every
# sentence of a 5,000-word page would cost more than the rest of the summary together.
COMPRESSED_CANDIDATES = 24
PER_OUTLET = 12  # ... plus this many of each article's best (a story has a few outlets)
NAMED_EXTRA = 6  # ... plus this many that name what the best NAMED_FROM do not
NAMED_FROM = 8
# A sentence longer than this is not worth compressing: nothing short and whole comes of it.
MAX_SOURCE_WORDS = 60
# A 30,000-word page has ~1,500 sentences; the lead carries the story, so only the first
# sentences of each article are candidates (all of them still count for word weights).
MAX_CANDIDATES_PER_ARTICLE = 150
# With many outlets, comparing every sentence with every other one grows quadratically: the
# candidates are shared out so a 20-outlet story still compares a few hundred sentences.
MAX_CANDIDATES_PER_STORY = 300
MIN_CANDIDATES_PER_ARTICLE = 25
DEEP_LOOK_WORDS = 110
# Two bullets whose rare words overlap this much (weighted containment) say the same thing.
REDUNDANCY_LIMIT = 0.38
LEAD_REDUNDANCY_LIMIT = 0.2
NOVELTY_WEIGHT = 1.5
# After the lead, a bullet is chosen more for the fact it adds than for how central it is:
# centrality is what made the lead, and the next most central sentence mostly restates it.
COVERAGE_WEIGHT = 1.5
FACET_SCORE_WEIGHT = 0.6
# A bullet that names an actor or a figure no chosen bullet names is a new fact (North Korea's
# troops in a story about mines), not the lead in other words.
NAMED_WEIGHT = 0.4
NAMED_CAP = 2  # new names or numbers that earn the whole of NAMED_WEIGHT
# A name in more than this share of a story's sentences is its topic, not a new actor.
COMMON_NAME_SHARE = 0.1
# How much a fact several outlets report counts over one only one outlet has (an outlet's own
# fact is a facet too: kept small so it does not shut those out).
AGREEMENT_WEIGHT = 0.6
# MiniLM cosine above which two sentences of one story report the same fact (paraphrases of one
# fact measured 0.60-0.87, different facts of one story 0.15-0.59; 0.73 for two close ones).
MEANING_REDUNDANCY_LIMIT = 0.6
LEAD_POSITIONS = 2  # the lead is among an article's first three sentences
TOPIC_WORDS = 8

_BOILERPLATE = re.compile(
    r"\b(?:subscribe|sign up|newsletter|click here|read more|all rights reserved|cookies?\b|"
    r"advertisement|follow us|share this|stay informed|stay tuned|download (?:the|our) app|"
    r"copyright|getty images|photo:|image:|watch:|listen:|related:|recommended|"
    r"terms of (?:use|service)|privacy policy|log ?in|register now|free trial|"
    r"this story has been updated|contributed to this report|editing by|reporting by)",
    re.IGNORECASE,
)
# A snippet cut off by its site ("... Era 20th century philosophy Region …") is not whole.
_CUT_OFF = re.compile(r"(?:…|\.\.\.)[\"'”’)\]]*\s*$")
# A reference-list entry: "Chung W-H, et al. Oxypurinol-specific ...", "Smith AB, Jones CD.",
# or a journal's "2010;62(2):315-8".
_REFERENCE = re.compile(
    r"^(?:\d{1,3}\.\s+)?[A-Z][a-z][\w'’-]*(?:\s[A-Z][a-z][\w'’-]*)?\s[A-Z]{1,3}(?:-[A-Z]{1,2})?"
    r"(?:,|\s+et al\b)"
    r"|\bet al\.,?\s+[A-Z]"
    r"|\b(?:19|20)\d\d\s*;\s*\d+\s*(?:\(\d+\))?\s*:\s*\d+|\bdoi:\s*10\.|\bdoi\.org/"
)
# "WASHINGTON (AP) — " / "KYIV, Ukraine — " datelines open wire copy; they are not the fact.
_DATELINE = re.compile(
    r"^[A-Z][A-Z.'\- ]{1,40}(?:,\s*[A-Z][\w.' ]{1,30})?\s*(?:\([\w .&-]{1,20}\))?\s*[—–-]{1,2}\s+"
)
_PRONOUN_START = re.compile(
    r"^(?:he|she|it|they|this|that|these|those|his|her|its|their|we|i|such|the latter|"
    r"the former|both|there)\b",
    re.IGNORECASE,
)
_POINTING_BACK = re.compile(r"(?<!^)\b(?:these|those|such)\s+[a-z]{3,}", re.IGNORECASE)
ANAPHORA_PENALTY = 0.3
_FIRST_PERSON = re.compile(r"\b(?:I|we|We|my|My|our|Our|us)\b")
_QUOTE_START = re.compile(r"^[\"“‘']")
_SAFE_CUT = re.compile(
    r"(?:;\s+|\s+[—–]\s+|,\s+(?=(?:which|who|while|as|with|after|before|amid|following|"
    r"including|indicating|saying|adding|citing|where|although|though|despite|but|and|even|"
    r"prompting|raising|sparking|leaving|making|marking|bringing|reflecting|underscoring|"
    r"highlighting|signaling|signalling|emphasizing|emphasising|noting|claiming)\b"
    # a trailing participle clause with its object: ", ending more than a decade of debate",
    # ", forcing 38 cancellations"; not a list item (", gambling, smoking products and ...")
    r"|[a-z]{2,}ing\s+(?:the|a|an|its|their|his|her|our|this|that|these|those|more|some|"
    r"several|many|all|about|nearly|almost|over|up|out|off|\d)))"
)


@dataclass(frozen=True)
class Candidate:
    """A source sentence that could become a bullet."""

    text: str  # as the bullet shows it: trimmed, maybe shortened, ends with a full stop
    source: str  # the sentence as the source wrote it
    article: int
    position: int  # index among the article's sentences
    stems: frozenset[str]
    given_label: str | None = None
    score: float = 0.0
    title_score: float = 0.0  # the part of `score` that comes from sharing the headline's words


class Compressor(Protocol):
    """Deletes words from sentences: each output is made of its input's tokens, in order."""

    def compress(self, sentences: Sequence[str]) -> list[str]:
        """One compression per sentence, in order."""
        ...


class TrimCompressor:
    """The rule-based compressor (`text.trim_sentence`): lead-ins, attributions, asides."""

    name = "trim"

    def compress(self, sentences: Sequence[str]) -> list[str]:
        """One trimmed sentence per sentence."""
        return [trim_sentence(s) for s in sentences]


class _Unchanged:
    """No compression (text in a language the compressors do not know)."""

    def compress(self, sentences: Sequence[str]) -> list[str]:
        return list(sentences)


def default_compressor() -> Compressor:
    """The compressor bullets use: `compress_model.load_compressor("checked")`.

    The MiniLM classifier's compression of a sentence where `compress.compression_problems`
    finds that it still has the main clause's verb, subject, numbers and negations and reads
    at its joints, else the rules' (on the fixture stories the classifier alone wrote "The bus
    drivers' union warned shifts." and "warnings of a attack"). The rules alone when torch or
    the weights are missing. Loads nothing until first used.
    """
    return load_compressor("checked")


@dataclass(frozen=True)
class Plan:
    """What a story's Quick Looks will say, before labels are written."""

    headline: str
    bullets: tuple[Candidate, ...]
    deep_look: str | None
    index: SourceIndex
    weights: dict[str, float]
    english: bool
    nouns: frozenset[str] = frozenset()
    verbs: frozenset[str] = frozenset()
    label_weights: dict[str, float] | None = None  # central *and* specific words, for labels
    topic: frozenset[str] = frozenset()  # stems of the story's most central words
    headline_url: str | None = None  # the link of the article the headline comes from


def shorten(sentence: str, max_words: int = MAX_BULLET_WORDS) -> str | None:
    """The sentence cut at a safe clause boundary to at most `max_words`, or None if it can't be.

    Only cuts where the part before is a whole clause: at "; ", at a dash, or before a
    trailing ", which ...", ", while ...", ", saying ..." and similar. Never cuts an
    "according to" attribution away from its claim.
    """
    if word_count(sentence) <= max_words:
        return sentence
    best = None
    for match in _SAFE_CUT.finditer(sentence):
        head = sentence[: match.start()].rstrip(" ,;:—–-")
        n = word_count(head)
        if n > max_words:
            break
        if n >= 8 and head.count("(") == head.count(")") and head.count('"') % 2 == 0:
            if _dangling(head, sentence[match.start() :]):
                continue
            best = head
    if best is None:
        return None
    if best[-1] in "\"'”’":
        return None  # a cut inside a quotation would misquote
    return best if best.endswith(".") else best + "."  # "after 6 a.m." has its full stop


# ", its largest single increase since 2008." closing a sentence: a comment on the clause.
_TRAILING_APPOSITIVE = re.compile(r",\s+(?:its|their|the|a|an|his|her)\s[^,;\"“”]{3,80}[.!]$")
_SUBORDINATORS = frozenset(
    "while although though if when because as since unless whereas after before once".split()
)


_CLAUSE_CUT = re.compile(
    r"\s+(?=(?:after|as|while|because|when|amid|following|since)\s)", re.IGNORECASE
)


def _clause_cut(sentence: str, min_words: int = 8) -> str:
    """The main clause before a trailing "after ..." / "as ..." clause, or "" if none fits."""
    best = ""
    for match in _CLAUSE_CUT.finditer(sentence):
        head = sentence[: match.start()].rstrip(" ,;:")
        n = word_count(head)
        if n > MAX_BULLET_WORDS:
            break
        if (
            n >= min_words
            and head.count('"') % 2 == 0
            and not _dangling(head, sentence[match.start() :])
        ):
            best = head if head.endswith(".") else head + "."
    return best


def _dangling(head: str, rest: str) -> bool:
    """True when cutting `head` from `rest` leaves half a sentence: a clause, a list, "that"."""
    tokens = words(head)
    if not tokens or tokens[-1].lower() in STOPWORDS:
        return True  # "... workers fear that."
    if tokens[0].lower() in _SUBORDINATORS and "," not in head:
        return True  # "While more than 685 million people have ..." has no main clause
    # ", and" / ", or" after two commas ends a list ("U.S., Spanish, Italian, and Greek").
    following = rest.lstrip(" ,").split(" ", 1)[0].lower()
    return rest.startswith(",") and following in ("and", "or") and "," in head


# A footnote mark glued to a word ("Spell[2]", "Spell[2" cut by the splitter): no prose.
_FOOTNOTE = re.compile(r"(?<=[\w.,;:”\"'’)])\[\d{1,3}\]?(?=[\s.,;:]|$)")


def _clean_sentence(sentence: str) -> str:
    sentence = _FOOTNOTE.sub("", sentence)
    sentence = _DATELINE.sub("", sentence, count=1)
    return trim_connectives(sentence)


def _sentences_of(article: Article) -> list[tuple[str | None, str]]:
    """(given label, sentence) pairs of an article's body, headings and bylines left out."""
    out: list[tuple[str | None, str]] = []
    unpunctuated: list[str] = []
    for block in blocks(article.text):
        label, body = split_list_item(strip_tag_chain(block))
        found = split_sentences(body)
        if not any(ends_sentence(s) for s in found):
            unpunctuated.append(body)
        for sentence in found:
            if ends_sentence(sentence):  # headings, bylines and datelines are not sentences
                out.append((label, sentence))
            label = None
    if not out:
        # Text with no sentence punctuation at all (transcripts, some non-Latin scripts):
        # a line of a sensible length is taken as one sentence.
        out = [
            (None, line.rstrip(",;:") + ".")
            for line in unpunctuated
            if 6 <= word_count(line) <= MAX_BULLET_WORDS
        ]
    return out


def _balanced(sentence: str) -> bool:
    """True when every bracket the sentence closes it opened, and every one it opens it closes:
    else the splitter cut it inside a parenthesis ("(zob. Aneks)", "(Bd. 1)")."""
    depth = 0
    for ch in sentence:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _title_ok(title: str) -> bool:
    n = word_count(title)
    return 3 <= n <= 22 and "/ " not in title and not title.isupper()


def _headline(articles: Sequence[Article], weights: dict[str, float]) -> tuple[str, int | None]:
    """The best outlet title, shortened, and the index of its article ("", None if none fits).

    The headline links to that article, so the title shown and the page opened agree.
    """
    outlets = [a.outlet for a in articles]
    best: tuple[float, str, int] | None = None
    for i, article in enumerate(articles):
        title = tidy_title(clean_title(article.title or "", outlets))
        if not _title_ok(title):
            continue
        title = short_title(title)
        stems = set(content_words(title))
        centrality = sum(weights.get(s, 0.0) for s in stems) / math.sqrt(len(stems) + 1)
        n = word_count(title)
        fit = 1.0 if 4 <= n <= MAX_HEADLINE_WORDS else 0.6
        score = centrality * fit - 0.01 * i
        if best is None or score > best[0]:
            best = (score, title, i)
    if best is not None:
        return best[1], best[2]
    return "", None


def _headline_from_lead(
    chosen: Sequence[Candidate], articles: Sequence[Article]
) -> tuple[str, int | None]:
    """A headline when no title fits: the first bullet that names what it talks about, cut
    to its main clause, else a title cut short.

    "That is the view of coach X" points back at a sentence the reader has not seen. Returns
    the headline and the index of the article it came from.
    """
    sources = [a.text for a in articles]
    top = next((c for c in chosen if not unresolved_start(c.text, sources)), None)
    if top is not None:
        head = tidy_title(top.text.rstrip(".!?"))
        if word_count(head) <= MAX_HEADLINE_WORDS + 2:
            return head, top.article
        cut = short_title(head)
        if word_count(cut) <= MAX_HEADLINE_WORDS + 2:
            return cut, top.article
        return " ".join(head.split()[:MAX_HEADLINE_WORDS]) + " …", top.article
    for i, article in enumerate(articles):
        title = tidy_title(article.title or "")
        if title:
            return (title if word_count(title) <= 20 else short_title(title)), i
    return "Untitled story", None


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


class _Similarity:
    """How much two sentences share, each word weighted by how rare it is in the story.

    Words in most sentences of the story ("Ukraine" in a Ukraine story) say little about
    which fact a sentence reports; rare shared words ("antipersonnel", "embassy") say a lot.
    """

    def __init__(self, df: Counter[str], n: int) -> None:
        self.idf = {w: math.log((n + 1) / (c + 0.5)) for w, c in df.items()}
        self.default = math.log(n + 2)
        self.vectors: dict[str, Any] = {}
        self.embedder: Embedder | None = None

    def embed(self, embedder: Embedder, sentences: Sequence[str]) -> None:
        """Vectors for these sentences (an aid: failures only cost the aid)."""
        texts = [t for t in dict.fromkeys(sentences) if t not in self.vectors]
        if not texts:
            return
        try:
            matrix = embedder.embed(texts)
        except Exception as e:  # the embedder is optional here; word overlap still works
            log.warning("sentence embeddings unavailable for summaries: %s", e)
            self.embedder = None
            return
        self.vectors.update(zip(texts, matrix, strict=True))

    def cosine(self, a: str, b: str) -> float | None:
        """Cosine of two sentences (rows are unit length), None without an embedder.

        Sentences are embedded when first compared: only the few the bullet choice weighs
        against the chosen ones, not every contender (MiniLM was a quarter of a story's time).
        """
        if self.embedder is not None:
            missing = [t for t in dict.fromkeys((a, b)) if t not in self.vectors]
            if missing:
                self.embed(self.embedder, missing)
        va, vb = self.vectors.get(a), self.vectors.get(b)
        if va is None or vb is None:
            return None
        return float(va @ vb)

    def __call__(self, a: frozenset[str], b: frozenset[str]) -> float:
        if not a or not b:
            return 0.0
        weight = self.idf.get
        shared = sum(weight(w, self.default) for w in a & b)
        size_a = sum(weight(w, self.default) for w in a)
        size_b = sum(weight(w, self.default) for w in b)
        # Containment, not cosine: two outlets report one fact with different extra words
        # (names, days), and what matters is how much of the shorter one the other repeats.
        return shared / min(size_a, size_b) if size_a and size_b else 0.0

    def share_new(self, stems: frozenset[str], covered: set[str]) -> float:
        """The weighted share of a sentence's words that no chosen bullet has used yet."""
        weight = self.idf.get
        total = sum(weight(w, self.default) for w in stems)
        new = sum(weight(w, self.default) for w in stems if w not in covered)
        return new / total if total else 0.0


def named_facts(
    text: str, names: Collection[str] = (), persons: Collection[str] = ()
) -> frozenset[str]:
    """The names and numbers a sentence reports: capitalised words after its first, numbers.

    "North Korea", "ATACMS", "7%": what makes one fact another, where the rest of the words
    are the story's own ("Ukraine", "mines") or paraphrase. The first word counts when it is
    one of `names` (stems the story capitalises inside a sentence: "Moscow", not "Officials").
    People's names (`persons`) do not count: a new person quoted is a new source, seldom a
    new fact.
    """
    out: set[str] = set(_FIGURE.findall(text))
    for i, w in enumerate(words(text)):
        if w[0].isdigit():
            continue
        if len(w) > 1 and w[0].isupper() and w.lower() not in STOPWORDS:
            if i > 0 or stem(w) in names:
                out.add(stem(w))
    return frozenset(out - set(persons))


def _gain(
    c: Candidate,
    *,
    chosen: Sequence[Candidate],
    covered: set[str],
    sim: _Similarity,
    named: frozenset[str] = frozenset(),
    facts: Callable[[str], frozenset[str]] = named_facts,
) -> float:
    """What adding the sentence would bring, given the bullets chosen so far.

    `named`: the names and numbers (`facts`) the chosen bullets and the headline report.
    """
    if not chosen:
        return c.score
    # After the first bullet, the headline's words no longer make a sentence worth more (they
    # are said); words no bullet has said yet do, and names and numbers no bullet has named
    # most (a new actor or figure is a new fact; new common words may be a paraphrase).
    new_names = len(facts(c.text) - named)
    # "these incursions", "such weapons": it points back at a sentence the reader lacks.
    unquoted = re.sub(r"[\"“][^\"”]*[\"”]", "", c.text)
    pointing = ANAPHORA_PENALTY if _POINTING_BACK.search(unquoted) else 0.0
    return (
        FACET_SCORE_WEIGHT * (c.score - 0.5 * c.title_score)
        - pointing
        + COVERAGE_WEIGHT * sim.share_new(c.stems, covered)
        + NAMED_WEIGHT * min(new_names, NAMED_CAP) / NAMED_CAP
        - NOVELTY_WEIGHT * max(sim(c.stems, o.stems) for o in chosen)
    )


def _redundant(a: Candidate, b: Candidate, sim: _Similarity) -> bool:
    """True when two sentences report the same thing.

    The leads of two articles in one story report the story's main event by definition, so
    between leads a smaller overlap already counts as the same fact.
    """
    if a.text == b.text:
        return True
    limit = REDUNDANCY_LIMIT
    if a.article != b.article and a.position <= 1 and b.position <= 1:
        limit = LEAD_REDUNDANCY_LIMIT
    # Shared words first: they are free, while MiniLM costs a forward pass per sentence (these
    # checks' embeddings, most of them the Deep Look's, were a fifth of a long story's time).
    # A bullet's own source sentence, which the Deep Look meets first, is caught here.
    if sim(a.stems, b.stems) > limit:
        return True
    cosine = sim.cosine(a.text, b.text)
    # Different words, same fact: "inert after two weeks" / "minimal risk".
    return cosine is not None and cosine > MEANING_REDUNDANCY_LIMIT


def plan_story(
    articles: Sequence[Article],
    settings: SummarizerSettings,
    embedder: Embedder | None = None,
    compressor: Compressor | None = None,
) -> Plan:
    """Pick the headline, the bullet sentences and the Deep Look of one story.

    Bullets are compressions (`compressor`; the summarizers pass `default_compressor()`, None
    means the rules alone) of the best-scored source sentences; the first is the story's lead,
    the others distinct facets from any outlet.
    With an `embedder` (the clustering stage's MiniLM) two sentences that say the same thing
    in different words are also kept apart; without one, word overlap alone decides.
    """
    compressor = compressor or RuleCompressor()
    texts = [a.title or "" for a in articles] + [a.text or "" for a in articles]
    index = SourceIndex.build(texts)
    english = is_english(" ".join(a.text[:4000] for a in articles if a.text))

    raw: list[Candidate] = []
    per_article = min(
        MAX_CANDIDATES_PER_ARTICLE,
        max(MIN_CANDIDATES_PER_ARTICLE, MAX_CANDIDATES_PER_STORY // max(1, len(articles))),
    )
    tf: Counter[str] = Counter()
    df: Counter[str] = Counter()
    sentence_df: Counter[str] = Counter()
    n_sentences = 0
    sentences: list[list[str]] = []  # each article's sentences, where a referent is looked up
    for i, article in enumerate(articles):
        seen_in_article: set[str] = set()
        found = _sentences_of(article)
        sentences.append([sentence for _, sentence in found[:per_article]])
        for pos, (label, sentence) in enumerate(found):
            stems = content_words(sentence)
            tf.update(stems)
            sentence_df.update(set(stems))
            n_sentences += 1
            seen_in_article.update(stems)
            if pos >= per_article or not ends_sentence(sentence):
                continue
            if sentence.rstrip("\"'”’) ").endswith("?") or _BOILERPLATE.search(sentence):
                continue
            if _CUT_OFF.search(sentence) or _REFERENCE.search(sentence):
                continue  # a teaser cut off "…", a reference-list entry: not the article's prose
            if not _balanced(sentence):
                continue  # split inside brackets: "Aneks), który ...", "... (1739-1812) (Bd."
            text = _clean_sentence(sentence)
            n = word_count(text)
            if n < MIN_BULLET_WORDS or n > MAX_SOURCE_WORDS or not ends_sentence(text):
                continue
            if english and not has_verb(text):
                continue  # a caption or a name line: "Chief Education Officer Dr Ann Lee."
            if not text[0].isupper() and text[0].isalpha():
                text = capitalize_first(text)
            raw.append(Candidate(text, sentence, i, pos, frozenset(content_words(text)), label))
        df.update(seen_in_article)

    # Stems the story writes capitalised inside a sentence: its names ("Moscow", "Korea").
    names = {
        stem(w)
        for sentence_list in sentences
        for sentence in sentence_list
        for w in words(sentence)[1:]
        if len(w) > 1 and w[0].isupper() and w.lower() not in STOPWORDS
    }
    people = people_of([a.text or "" for a in articles])
    persons = {stem(w) for full in people.values() for w in full.split()}
    # Names in many of the story's sentences are its topic ("Russia" in a war story): a
    # bullet that names them again reports no new actor.
    common = {w for w in names if sentence_df[w] > COMMON_NAME_SHARE * max(1, n_sentences)}
    facts = partial(named_facts, names=names, persons=persons | common)
    title_stems: set[str] = set()
    for article in articles:
        title_stems.update(content_words(clean_title(article.title or "")))
    n_articles = max(1, len(articles))
    weights: dict[str, float] = {}
    for s, count in tf.items():
        agree = 1.0 + 0.6 * (df[s] - 1) / n_articles
        weights[s] = math.log1p(count) * agree + (0.8 if s in title_stems else 0.0)
    top_weight = max(weights.values(), default=1.0) or 1.0
    weights = {s: w / top_weight for s, w in weights.items()}

    # Centrality is scaled to 0..1 over this story's sentences, like the other signals, so a
    # page that repeats one boilerplate paragraph cannot outweigh its lead and headline.
    top_centrality = max((_centrality(c.stems, weights) for c in raw), default=1.0) or 1.0
    sim = _Similarity(sentence_df, n_sentences)
    scored = [_score(c, raw, weights, title_stems, n_articles, top_centrality, sim) for c in raw]
    scored.sort(key=lambda c: (-c.score, c.article, c.position))

    headline, headline_article = _headline(articles, weights)
    # Each article's first sentences are compressed too: the lead is among them.
    leads = [c for c in scored if c.position <= LEAD_POSITIONS]
    # And each outlet's own best: a fact only one outlet reports must get a chance too.
    own = [
        c for i in range(len(articles)) for c in [x for x in scored if x.article == i][:PER_OUTLET]
    ]
    contenders = list(dict.fromkeys([*scored[:COMPRESSED_CANDIDATES], *leads, *own]))
    # And the best sentences that name what none of those names (North Korea's troops in a
    # story about mines): a fact one outlet reports further down is a facet too.
    seen = facts(headline).union(*(facts(c.text) for c in contenders[:NAMED_FROM]))
    for c in scored[COMPRESSED_CANDIDATES:]:
        if len(contenders) >= COMPRESSED_CANDIDATES + PER_OUTLET * len(articles) + NAMED_EXTRA:
            break
        new = facts(c.text) - seen
        if len(new) >= 2 and c not in contenders:
            contenders.append(c)
            seen |= new
    # The compressors are trained and written for English: other languages keep their sentences.
    pool = _compressed(
        contenders,
        compressor if english else _Unchanged(),
        sentences,
        [a.text or "" for a in articles],
        people,
        english=english,
        known=" ".join(a.title or "" for a in articles),
    )
    sim.embedder = embedder

    chosen: list[Candidate] = []
    lead = _lead(pool, headline, headline_article)
    if lead is not None:
        chosen.append(lead)
        pool.remove(lead)
    while pool and len(chosen) < settings.max_bullets:
        # Maximal marginal relevance: the best sentence that is not close to one already picked.
        covered: set[str] = set().union(*(c.stems for c in chosen)) if chosen else set()
        named = facts(headline).union(*(facts(c.text) for c in chosen))
        gain = partial(_gain, chosen=chosen, covered=covered, sim=sim, named=named, facts=facts)
        best = max(pool, key=gain)
        pool.remove(best)
        if any(_redundant(best, c, sim) for c in chosen):
            continue
        if chosen and len(chosen) >= settings.min_bullets and gain(best) < 0.4 * chosen[0].score:
            break
        chosen.append(best)

    if not chosen:
        chosen = _desperate_bullet(articles)
    if not headline:
        headline, headline_article = _headline_from_lead(chosen, articles)

    deep = _deep_look(scored, chosen, sim) if settings.deep_look else None
    nouns, verbs = word_roles(" ".join(texts))
    # A label should name what is special about its sentence: words of the story, but not
    # the ones in every sentence ("Ukraine" labels nothing in a Ukraine story).
    label_weights = {w: math.sqrt(v) * sim.idf.get(w, sim.default) for w, v in weights.items()}
    top_label = max(label_weights.values(), default=1.0) or 1.0
    label_weights = {w: v / top_label for w, v in label_weights.items()}
    topic = frozenset(sorted(weights, key=lambda w: -weights[w])[:TOPIC_WORDS])
    return Plan(
        headline,
        tuple(chosen),
        deep,
        index,
        weights,
        english,
        nouns,
        verbs,
        label_weights,
        topic,
        articles[headline_article].url if headline_article is not None else None,
    )


def _is_subsequence(short: str, long: str) -> bool:
    """True when every word of `short` is a word of `long`, in the same order."""
    it = iter(w.lower() for w in words(long))
    return all(any(w == x for x in it) for w in (w.lower() for w in words(short)))


def _compressed(
    contenders: Sequence[Candidate],
    compressor: Compressor,
    sentences: Sequence[Sequence[str]],
    story: Sequence[str],
    people: dict[str, str] | None = None,
    *,
    english: bool = True,
    known: str = "",
) -> list[Candidate]:
    """The contenders as bullets: compressed, at most MAX_BULLET_WORDS, standing alone.

    A compression that adds a word is not used (the sentence is trimmed by rule instead); a
    bullet whose opening reference the source cannot resolve is dropped ("The incident
    unfolded ..." too, unless `known`, the story's titles, says what it was). In English, a
    shortened bullet that no longer reads as a whole sentence (`unreadable`) gives way to its
    whole sentence when that is short and whole itself; otherwise the sentence is not used:
    fewer bullets, never a broken one.
    """
    if not contenders:
        return []
    try:
        outputs = compressor.compress([c.text for c in contenders])
    except Exception as e:  # the compressor is an aid: rules still shorten
        log.warning("sentence compressor failed, trimming by rule: %s", e)
        outputs = [trim_sentence(c.text) for c in contenders]
    out: list[Candidate] = []
    seen: set[str] = set()
    people = people if people is not None else people_of(story)
    shorts = [_shortened(c.text, short) for c, short in zip(contenders, outputs, strict=True)]
    # Word classes miss a lost main verb where a noun looks like one ("the guidance for pubs,
    # bars and restaurants to avoid loud music."): the parser finds it, one batch a story.
    cut = [k for k, c in enumerate(contenders) if shorts[k] not in ("", c.text)] if english else []
    clauses = dict(zip(cut, has_main_clause([shorts[k] for k in cut]), strict=True))
    for k, ok in clauses.items():
        if not ok:
            log.debug("no main clause left: %r", shorts[k])
    for k, (c, short) in enumerate(zip(contenders, shorts, strict=True)):
        if english and (
            not clauses.get(k, True)
            or unreadable(short, c.text)
            or (k in clauses and cut_complement(short, c.text))  # "... and take."
            or (k in clauses and bool(lost_heads(short, c.text)))  # "for weaker Wall Street."
        ):
            whole = c.text
            if word_count(whole) <= MAX_BULLET_WORDS and not unreadable(whole, whole):
                short = whole
            else:
                log.debug("dropped, no whole sentence of it fits: %r", short)
                continue
        if word_count(short) < MIN_BULLET_WORDS:
            continue
        before = " ".join(sentences[c.article][: c.position])
        resolved = resolve_start(short, before, story, people, known)
        if resolved is None or word_count(resolved) > MAX_BULLET_WORDS:
            log.debug("dropped, its opening reference is unresolved: %r", short)
            continue
        short = capitalize_first(resolved)
        if not ends_sentence(short):
            short = short.rstrip(",;: ") + "."
        if short in seen:
            continue
        seen.add(short)
        stems = frozenset(content_words(short))
        out.append(
            Candidate(
                short,
                c.source,
                c.article,
                c.position,
                stems,
                c.given_label,
                c.score,
                c.title_score,
            )
        )
    return out


def _shortened(text: str, short: str | None) -> str:
    """A compressor's output for `text` as a bullet: a deletion that reads as its sentence did
    (else the sentence trimmed by rule), without opening connectives, shortened to fit."""
    short = " ".join((short or "").split())
    if not short or not _is_subsequence(short, text) or _broken(short, text):
        short = trim_sentence(text)
    short = trim_connectives(short)
    if word_count(short) > MAX_BULLET_WORDS:
        short = (
            shorten(short, MAX_BULLET_WORDS)
            or shorten(_TRAILING_APPOSITIVE.sub(".", short), MAX_BULLET_WORDS)
            or _clause_cut(short)
        )
    return short


_FIGURE = re.compile(r"\d(?:[\d.,]*\d)?")  # "3,000" in "sent 3,000 troops, ...", "2019" in "2019."
_BARE_RELATIVE = re.compile(r"(?<![,—–(])\s+(?:who|whom|whose|which)\b", re.IGNORECASE)
_BAD_OPENERS = frozenset(
    "which who whom whose that and but or nor so because although though while whereas".split()
)


def unreadable(short: str, source: str) -> list[str]:
    """Why `short` (a deletion of the English sentence `source`, or `source` itself) would not
    read as one whole sentence of its own (`compress.standalone_problems`); [] if it would."""
    tokens = tokenize(source)
    mask = mask_of(tokens, short)
    if mask is None:  # not a deletion of its source: judged on its own words
        tokens = tokenize(short)
        mask = [True] * len(tokens)
    return standalone_problems(tokens, mask)


def _broken(short: str, source: str) -> bool:
    """True when a compression no longer reads as its sentence did.

    It opens with what was a clause's joint ("Which pose long-term risks ..."), or it lost
    the quotation marks around someone's first-person words ("We are not going to ...").
    """
    tokens = words(short)
    if not tokens or tokens[0].lower() in _BAD_OPENERS or tokens[-1].lower() in STOPWORDS:
        return True  # "Which pose ...", "... a inauguré mardi une."
    # Figures without the mark after them: "£1,000," in the source is "£1,000." in the bullet.
    numbers = set(_FIGURE.findall(source))
    if numbers and not numbers & set(_FIGURE.findall(short)):
        return True  # the key number went: "raised its benchmark interest rate."
    quoted = any(q in source for q in '"“”')
    if quoted and not any(q in short for q in '"“”') and _FIRST_PERSON.search(short):
        return True
    # "... by issuing a bond who said ...": a relative pronoun now hangs on the wrong noun.
    return len(_BARE_RELATIVE.findall(short)) > len(_BARE_RELATIVE.findall(source))


def _lead(
    pool: Sequence[Candidate], headline: str, headline_article: int | None
) -> Candidate | None:
    """The bullet that carries the story's main event: the headline article's lead.

    News puts the event first: the first sentence of the article whose title is the headline
    that shares a word with the headline. Failing that, the best early sentence of any
    article that does.
    """
    head = set(content_words(headline))
    early = sorted(
        (c for c in pool if c.position <= LEAD_POSITIONS), key=lambda c: (c.position, -c.score)
    )
    if not head and early:  # no title to agree with: the first sentence is the lead
        return min(early, key=lambda c: (c.position, c.article))
    for c in early:
        if c.article == headline_article and c.stems & head:
            return c
    agreeing = [c for c in early if c.stems & head]
    if agreeing:
        return max(agreeing, key=lambda c: c.score)
    return max(pool, key=lambda c: c.score) if pool else None


def _centrality(stems: frozenset[str], weights: dict[str, float]) -> float:
    return sum(weights.get(s, 0.0) for s in stems) / math.sqrt(len(stems) + 2)


def _score(
    cand: Candidate,
    everything: Sequence[Candidate],
    weights: dict[str, float],
    title_stems: set[str],
    n_articles: int,
    top_centrality: float = 1.0,
    sim: _Similarity | None = None,
) -> Candidate:
    stems = cand.stems
    centrality = _centrality(stems, weights) / top_centrality
    title = len(stems & title_stems) / (len(title_stems) or 1)
    lead = 1.0 / math.sqrt(1 + cand.position)
    agree = 0.0
    if n_articles > 1 and sim is not None:
        # Facts several outlets report: the closest sentence in another article.
        agree = max(
            (sim(stems, o.stems) for o in everything if o.article != cand.article),
            default=0.0,
        )
    n = word_count(cand.text)
    score = 1.5 * centrality + 0.9 * title + 0.9 * lead + AGREEMENT_WEIGHT * min(agree, 0.6)
    if n < 10:
        score -= 0.3
    if _PRONOUN_START.match(cand.text):
        score -= 0.9  # "They said ..." needs the sentence before it
    if _QUOTE_START.match(cand.text):
        score -= 0.25
    if _FIRST_PERSON.search(re.sub(r"[\"“][^\"”]*[\"”]", "", cand.text)):
        score -= 0.3
    return Candidate(
        cand.text,
        cand.source,
        cand.article,
        cand.position,
        stems,
        cand.given_label,
        score,
        0.9 * title,
    )


_UNPUNCTUATED_CUT = re.compile(
    r"\s+(?=(?:as|while|but|and|after|because|although|though|when|where|which|so)\s)",
    re.IGNORECASE,
)


def _desperate_bullet(articles: Sequence[Article]) -> list[Candidate]:
    """One bullet from text without sentence punctuation (transcripts, live tickers).

    The first clause is taken: the text up to a conjunction ("as", "while", "and" ...) once it
    has 8-30 words. Only when there is no such place is the text cut and marked with "…".
    """
    for i, article in enumerate(articles):
        for block in blocks(article.text):
            tokens = block.split()
            if len(tokens) < MIN_BULLET_WORDS:
                continue
            text = None
            if len(tokens) <= MAX_BULLET_WORDS:
                text = block.rstrip(",;:. ") + "."
            else:
                for match in _UNPUNCTUATED_CUT.finditer(block):
                    n = word_count(block[: match.start()])
                    if n > MAX_BULLET_WORDS:
                        break
                    if n >= 8:
                        text = block[: match.start()].rstrip(",;: ") + "."
                        break
            if text is None:
                text = " ".join(tokens[:25]).rstrip(",;:.") + " …"
            text = capitalize_first(text)
            return [Candidate(text, block, i, 0, frozenset(content_words(text)))]
    return []


def _deep_look(
    scored: Sequence[Candidate], chosen: Sequence[Candidate], sim: _Similarity
) -> str | None:
    """A short paragraph of the next most important distinct sentences, in reading order."""
    picked: list[Candidate] = []
    total = 0
    for cand in scored:
        if total >= DEEP_LOOK_WORDS or len(picked) >= 5:
            break
        if cand in chosen or any(_redundant(cand, p, sim) for p in [*picked, *chosen]):
            continue
        if _PRONOUN_START.match(cand.text):
            continue
        picked.append(cand)
        total += word_count(cand.text)
    if len(picked) < 2:
        return None
    picked.sort(key=lambda c: (c.article, c.position))
    return " ".join(c.text for c in picked)


def story_words(plan: Plan) -> list[str]:
    """The story's most central words, for logging and tests."""
    return [w for w, _ in sorted(plan.weights.items(), key=lambda kv: -kv[1])[:10]]


__all__ = ["Candidate", "Plan", "plan_story", "shorten", "story_words", "words"]
