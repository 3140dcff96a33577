"""The two summarizers behind the `Summarizer` port: extractive (no model) and model-labelled.

Both pick the same grounded source sentences (`select.plan_story`); they differ only in who
writes the labels. With the default 270M model the model writes labels and nothing else:
asked to rewrite a sentence it invents facts, asked for a 2-4 word label with examples it does
well. A label that fails the checks (`labels.clean_label`) is replaced by a rule-based one.
A larger model may also rewrite bullets (`rewrite = true`), and every rewrite must pass the
grounding check or the source sentence is kept.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from ..config import SummarizerSettings
from ..errors import ModelError
from ..models import Article, Bullet, QuickLooks
from ..runtime import size_torch_threads
from .compress import RuleCompressor
from .grounding import ungrounded_in_text
from .labels import (
    GENERIC_LABELS,
    PRIOR_PARSED,
    PRIOR_PARSED_NEXT,
    candidate_priors,
    clean_label,
    fallback_label,
    label_candidates,
    label_problems,
    label_prompt_prefix,
    label_prompt_suffix,
    repeats,
    rule_label,
)
from .models import TextModel, load_model
from .parse import cuts_a_name, object_labels, parsed_labels
from .select import MAX_BULLET_WORDS, Compressor, Plan, plan_story
from .text import ends_sentence, word_count

log = logging.getLogger(__name__)

LABEL_TOKENS = 8  # a 1-4 word label is at most ~7 tokens; the newline stops it earlier
REWRITE_TOKENS = 60

REWRITE_EXAMPLES: tuple[tuple[str, str], ...] = (
    (
        "In a statement released late on Monday, the city council confirmed that the new "
        "bridge, which has been delayed twice, will finally open to traffic in March.",
        "The city council confirmed the twice-delayed bridge will open in March.",
    ),
    (
        "Additionally, the company said that it had hired an outside law firm to review how "
        "the data of about 2 million customers was exposed.",
        "The company hired an outside law firm to review how data of about 2 million "
        "customers was exposed.",
    ),
)


def _rewrite_prefix() -> str:
    shots = "".join(f"Sentence: {s}\nShorter: {r}\n\n" for s, r in REWRITE_EXAMPLES)
    return "Shorten each news sentence. Keep every fact; add none.\n\n" + shots


def _labels_by_rule(plan: Plan) -> list[str]:
    taken: list[str] = []
    for i, bullet in enumerate(plan.bullets):
        taken.append(_rule_label(plan, i, bullet.text, taken))
    return taken


def _rule_label(plan: Plan, i: int, text: str, taken: Sequence[str]) -> str:
    """The rule-based label of bullet `i` (shown as `text`), given the labels already taken."""
    return rule_label(
        text,
        plan.label_weights or plan.weights,
        taken,
        given=plan.bullets[i].given_label,
        position=i,
        nouns=plan.nouns,
        verbs=plan.verbs,
    )


# A label's log-probability is divided by its token count to this power: 0 would favour
# one-word labels; editors' labels are mostly two words, so it is the mean per token.
LENGTH_NORM = 1.0
MAX_SCORED = 7  # candidates scored per bullet: each costs its tokens through the model


def _score_all(
    model: TextModel, prefix: str, items: Sequence[tuple[str, Sequence[str]]]
) -> list[list[tuple[float, int]]]:
    """`score` for each (context, continuations); in one batch where the model can
    (`LocalModel.score_many`), else one context at a time (a server's model)."""
    many = getattr(model, "score_many", None)
    if many is not None:
        return list(many(prefix, items))
    return [model.score(prefix, context, conts) if conts else [] for context, conts in items]


def _chosen_labels(
    model: TextModel, plan: Plan, texts: Sequence[str], outlets: Collection[str]
) -> list[str]:
    """Each bullet's label: of its candidates that pass every check, the one the model finds
    likeliest after the few-shot prompt (plus its kind's prior, `candidate_priors`), and not a
    repeat of an earlier bullet's label.

    A story's bullets are scored together and apart from every other story (see
    `LocalModel.score_many`), so its labels do not depend on the stories it is summarised with.
    """
    prefix = label_prompt_prefix()
    weights = plan.label_weights or plan.weights
    shortlists: list[list[str]] = []
    priors: list[dict[str, float]] = []
    reserves: list[list[str]] = []
    for j, text in enumerate(texts):
        given = plan.bullets[j].given_label
        parsed = parsed_labels(text)
        proposed = label_candidates(text, weights, given=given, nouns=plan.nouns, verbs=plan.verbs)
        proposed = list(dict.fromkeys([*parsed, *proposed]))
        problems = {
            c: label_problems(
                c, text, topic=plan.topic, outlets=outlets, index=plan.index, parsed=c in parsed
            )
            for c in proposed
        }
        for c in proposed:
            if cuts_a_name(c, text):
                problems[c].append("cuts_a_name")
        # Failing only "one word" is the mildest fault: such a word stands in when no
        # candidate passes everything, rather than a rule label that was never checked.
        candidates = [c for c in proposed if not problems[c]] or [
            c for c in proposed if problems[c] == ["is_topic_only"]
        ]
        reserves.append([c for c in proposed if problems[c] == ["is_topic_only"]])
        prior = candidate_priors(text, candidates, given)
        for k, c in enumerate(c for c in parsed if c in prior):
            prior[c] = max(prior[c], PRIOR_PARSED if k == 0 else PRIOR_PARSED_NEXT)
        # The likeliest kinds first: each candidate scored costs its tokens through the model.
        candidates = sorted(candidates, key=lambda c: -prior[c])[:MAX_SCORED]
        shortlists.append(candidates)
        priors.append(prior)
    # A bullet with one candidate needs no model; the others are scored in one batch.
    items = [
        (label_prompt_suffix(text), [f" {c}\n" for c in cands] if len(cands) > 1 else [])
        for text, cands in zip(texts, shortlists, strict=True)
    ]
    scores = _score_all(model, prefix, items)
    labels: list[str] = []
    for j, text in enumerate(texts):
        candidates, prior = shortlists[j], priors[j]
        if len(candidates) > 1:
            ranked = [
                c
                for c, _ in sorted(
                    zip(candidates, scores[j], strict=True),
                    key=lambda cs: -(cs[1][0] / max(1, cs[1][1]) ** LENGTH_NORM + prior[cs[0]]),
                )
            ]
        else:
            ranked = candidates
        pick = next((c for c in ranked if not repeats(c, labels)), None)
        if pick is None:
            pick = fallback_label(
                text, reserves[j], labels, topic=plan.topic, outlets=outlets, index=plan.index
            )
        if pick is None:
            pick = _object_label(plan, text, outlets, labels)
        if pick is None:
            rule = _rule_label(plan, j, text, labels)
            faults = label_problems(rule, text, outlets=outlets, taken=labels, index=plan.index)
            generic = [g for g in GENERIC_LABELS if not repeats(g, labels)]
            pick = rule if set(faults) <= {"is_topic_only"} or not generic else generic[0]
        labels.append(pick)
    return labels


def _object_label(
    plan: Plan, text: str, outlets: Collection[str], taken: Sequence[str]
) -> str | None:
    """What the bullet's main clause is about, as the parse names it ("Reality Show" of "is
    set to have her own reality show", `object_labels`), for a bullet none of whose
    candidates can be used: one that passes every check, else one that only names the topic
    (as `fallback_label` allows); None when there is neither."""
    faults = {
        c: set(
            label_problems(
                c,
                text,
                topic=plan.topic,
                outlets=outlets,
                taken=taken,
                index=plan.index,
                parsed=True,
            )
        )
        for c in object_labels(text)
    }
    return next((c for c, f in faults.items() if not f), None) or next(
        (c for c, f in faults.items() if f <= {"is_topic_only"}), None
    )


def _quick_looks(plan: Plan, labels: Sequence[str], texts: Sequence[str], model: str) -> QuickLooks:
    bullets = tuple(
        Bullet(label=label, text=text, sources=(b.source,))
        for label, text, b in zip(labels, texts, plan.bullets, strict=True)
    )
    return QuickLooks(
        headline=plan.headline,
        bullets=bullets,
        model=model,
        deep_look=plan.deep_look,
        url=plan.headline_url,
    )


def _plans(
    stories: Sequence[Sequence[Article]],
    settings: SummarizerSettings,
    embedder: Any = None,
    compressor: Compressor | None = None,
) -> list[Plan]:
    plans = [plan_story(list(articles), settings, embedder, compressor) for articles in stories]
    log.debug("planned %d stories, %d bullets", len(plans), sum(len(p.bullets) for p in plans))
    return plans


class ExtractiveSummarizer:
    """The baseline and in-memory twin: source sentences with rule-based labels, no model.

    Deterministic and fast; what `--dry-run`, the tests and `backend = "extractive"` use.
    """

    name = "extractive"

    def __init__(
        self,
        settings: SummarizerSettings | None = None,
        *,
        embedder: Any = None,
        compressor: Compressor | None = None,
    ) -> None:
        self.settings = settings or SummarizerSettings(backend="extractive")
        self.embedder = embedder  # optional digest.embed.Embedder: catches paraphrased repeats
        # Shortens bullet sentences; None: the rules (build_summarizer passes the classifier).
        self.compressor = compressor

    def summarize(self, stories: Sequence[Sequence[Article]]) -> list[QuickLooks]:
        """One QuickLooks per story, from its member articles."""
        out = []
        self.compressor = self.compressor or RuleCompressor()
        for plan in _plans(stories, self.settings, self.embedder, self.compressor):
            out.append(
                _quick_looks(plan, _labels_by_rule(plan), [b.text for b in plan.bullets], self.name)
            )
        return out


class ModelSummarizer:
    """Quick Looks whose labels (and, if allowed, rewrites) come from a local model.

    The model is loaded on the first `summarize` call that has something to label, once per
    object; loading problems raise ModelError, nothing else does.
    """

    def __init__(
        self,
        settings: SummarizerSettings | None = None,
        cache_dir: Path | str = Path("state/models"),
        *,
        model: TextModel | None = None,
        embedder: Any = None,
        threads: int | None = None,
        compressor: Compressor | None = None,
    ) -> None:
        self.settings = settings or SummarizerSettings()
        self.cache_dir = Path(cache_dir)
        self.threads = threads  # torch threads; None: the usable CPUs (digest.runtime)
        self.name = self.settings.model
        self._model = model
        self._lock = threading.Lock()
        self.embedder = embedder  # optional digest.embed.Embedder: catches paraphrased repeats
        # Shortens bullet sentences; None: the rules (build_summarizer passes the classifier).
        self.compressor = compressor

    @property
    def loaded(self) -> bool:
        """True once the model is in memory."""
        return self._model is not None

    def load(self) -> TextModel:
        """Load the model now (normally it loads itself on first use)."""
        with self._lock:
            if self._model is None:
                size_torch_threads(self.threads)
                self._model = load_model(self.settings.model, self.cache_dir)
                log.info("summary model %s loaded from %s", self.name, self._model.path)
            return self._model

    def summarize(self, stories: Sequence[Sequence[Article]]) -> list[QuickLooks]:
        """One QuickLooks per story. A causal model picks each label among candidates made of
        the bullet's words (`_chosen_labels`); a seq2seq model writes them (`_written_labels`).
        """
        self.compressor = self.compressor or RuleCompressor()
        plans = _plans(stories, self.settings, self.embedder, self.compressor)
        wanted = [(i, j) for i, p in enumerate(plans) if p.english for j in range(len(p.bullets))]
        texts = [[b.text for b in p.bullets] for p in plans]
        chosen: dict[int, list[str]] = {}
        raw: dict[tuple[int, int], str] = {}
        if wanted:
            model = self.load()  # ModelError propagates: the caller decides what to do
            try:
                if self.settings.rewrite:
                    self._rewrite(model, plans, wanted, texts)
                if model.seq2seq:
                    raw = self._written_labels(model, wanted, texts)
                else:
                    for i, plan in enumerate(plans):
                        if plan.english and plan.bullets:
                            outlets = {a.outlet for a in stories[i]}
                            chosen[i] = _chosen_labels(model, plan, texts[i], outlets)
            except ModelError:
                raise
            except Exception as e:  # a scoring failure costs labels, never the digest
                log.warning("summary model %s failed, using rule-based labels: %s", self.name, e)
        results = []
        for i, plan in enumerate(plans):
            labels: list[str] = chosen.get(i, [])
            if len(labels) != len(plan.bullets):
                labels = []
                for j in range(len(plan.bullets)):
                    label = clean_label(raw.get((i, j), ""), plan.index, labels, plan.topic)
                    labels.append(label or _rule_label(plan, j, texts[i][j], labels))
            results.append(_quick_looks(plan, labels, texts[i], self.name))
        return results

    def _written_labels(
        self, model: TextModel, wanted: Sequence[tuple[int, int]], texts: list[list[str]]
    ) -> dict[tuple[int, int], str]:
        """Labels a seq2seq model writes (it has no few-shot prefix to score candidates with)."""
        suffixes = [
            f"Write a title of two to four words for this news: {texts[i][j]}" for i, j in wanted
        ]
        return dict(zip(wanted, model.complete("", suffixes, LABEL_TOKENS), strict=True))

    def _rewrite(
        self,
        model: TextModel,
        plans: Sequence[Plan],
        wanted: Sequence[tuple[int, int]],
        texts: list[list[str]],
    ) -> None:
        """Shorter wordings from the model, each kept only if it passes every check."""
        prefix = _rewrite_prefix() if not model.seq2seq else ""
        suffixes = [
            f"Sentence: {texts[i][j]}\nShorter:"
            if not model.seq2seq
            else f"summarize: {texts[i][j]}"
            for i, j in wanted
        ]
        for (i, j), out in zip(
            wanted, model.complete(prefix, suffixes, REWRITE_TOKENS), strict=True
        ):
            candidate = " ".join(out.split())
            original = texts[i][j]
            if (
                candidate
                and ends_sentence(candidate)
                and 5 <= word_count(candidate) <= MAX_BULLET_WORDS
                and word_count(candidate) <= word_count(original) + 2
                and not ungrounded_in_text(candidate, plans[i].index)
            ):
                texts[i][j] = candidate
            else:
                log.debug("rewrite rejected, keeping the source sentence: %r", candidate)
