"""How Quick Looks labels fare on every label check, on fixtures and real pages, and how many
a person judged apt.

Every bullet of the hand-written fixture stories (the events of eval/data/clustering and the
summary fixtures) and, with --pages, of one story per real page (English ones: the others get
rule-based labels without the model) is labelled by `ModelSummarizer` as in a digest (MiniLM
aiding bullet choice, as the App does). Each label then goes through every named check of
`digest.summarize.labels` (`label_problems`): printed is the share passing each check and all.

`--judged FILE` reads hand judgements (TSV after "#" comment lines: page, bullet number,
label, apt yes/no, sha256 prefix of the bullet text, note, and optionally set: "dev" for pages
the label code was developed on, "held-out" for pages it was not) and prints the share judged
apt among those whose page, bullet and label are still what the code produces (the others are
stale and counted apart), in all and per set.
The bullets themselves are not stored: they are third-party text; `--show-judged` prints
them beside each judgement from the pages. `--sample N` prints the first N English pages'
labels as judgement rows to fill in.

    python eval/labels.py --pages ../shared/data/pages --judged eval/data/label_judgements.tsv
"""

from __future__ import annotations

import argparse
import collections
import csv
import hashlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def text_sha(text: str) -> str:
    """The short hash a judgement row keys its bullet by."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


# (first data row, step, how many, rows of other sets never taken as (first, step))
SENTENCE_SETS: dict[str, tuple[int, int, int, tuple[tuple[int, int], ...]]] = {
    "held-out": (11, 89, 50, ((5, 97),)),
    "dev": (2, 41, 120, ((5, 97), (11, 89))),
}


def news_sentences(path: Path, which: str) -> list[tuple[int, str]]:
    """(data row, detokenised gold compression) of one sentence set (`SENTENCE_SETS`)."""
    from digest.summarize.compress_data import detokenize
    from digest.text import word_count

    first, step, n, others = SENTENCE_SETS[which]
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    out: list[tuple[int, str]] = []
    for i in range(first, len(rows), step):
        if any(i >= a and (i - a) % k == 0 for a, k in others):
            continue
        text = detokenize(rows[i]["compressed"].split())
        if 8 <= word_count(text) <= 22:
            out.append((i, text))
        if len(out) == n:
            break
    return out


def label_sentences(summarizer: object, sentences: list[tuple[int, str]]) -> list[str]:
    """Each sentence's label as the model summarizer gives it to a one-bullet story."""
    import dataclasses

    from digest.config import SummarizerSettings
    from digest.extract import content_hash
    from digest.models import Article
    from digest.summarize.quicklooks import _chosen_labels
    from digest.summarize.select import Candidate, plan_story
    from digest.summarize.text import stem, words

    model = summarizer.load()  # type: ignore[attr-defined]
    out = []
    for row, text in sentences:
        article = Article(
            key=f"row {row}",
            feed_url="",
            url=None,
            title="",
            text=text,
            outlet="newswire",
            content_hash=content_hash(text),
        )
        plan = plan_story([article], SummarizerSettings())
        bullet = Candidate(
            text=text, source=text, article=0, position=0, stems=frozenset(map(stem, words(text)))
        )
        plan = dataclasses.replace(plan, bullets=(bullet,))
        out.append(_chosen_labels(model, plan, [text], {"newswire"})[0])
    return out


def check_shares(results: list[tuple[str, object, object]]) -> dict[str, float]:
    """Share of labels passing each check (and all of them), over (name, plan/articles, q)."""
    from digest.summarize.labels import LABEL_CHECKS, label_problems

    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for _, articles, q in results:
        outlets = {a.outlet for a in articles}  # type: ignore[attr-defined]
        taken: list[str] = []
        for b in q.bullets:  # type: ignore[attr-defined]
            problems = label_problems(b.label, b.text, outlets=outlets, taken=taken)
            counts.update(problems)
            counts["_clean"] += not problems
            taken.append(b.label)
            total += 1
    shares = {c: 1 - counts[c] / total for c in (*LABEL_CHECKS, "repeats")} if total else {}
    shares["all checks"] = counts["_clean"] / total if total else 0.0
    shares["_n"] = total
    return shares


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(os.environ.get("DIGEST_MODEL_CACHE", ROOT / "state" / "models")),
        help="dequantised model cache (env DIGEST_MODEL_CACHE)",
    )
    parser.add_argument("--pages", type=Path, help="real pages (e.g. ../shared/data/pages)")
    parser.add_argument("--judged", type=Path, help="hand judgements (TSV, see above)")
    parser.add_argument("--show-judged", action="store_true", help="print judged bullets")
    parser.add_argument("--sample", type=int, default=0, help="print N pages' rows to judge")
    parser.add_argument("--no-fixtures", action="store_true", help="real pages only")
    parser.add_argument("--sentences", type=Path, help="news sentences (CSV, see above)")
    parser.add_argument("--sentence-set", choices=sorted(SENTENCE_SETS), default="dev")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.sentences:
        return sentence_report(args)

    from bench.summarize import page_stories, stories
    from digest.config import SummarizerSettings
    from digest.embed import build_embedder
    from digest.summarize import ModelSummarizer
    from digest.summarize.text import is_english

    summarizer = ModelSummarizer(
        SummarizerSettings(), args.cache_dir, embedder=build_embedder("minilm")
    )
    sets: dict[str, list[tuple[str, object, object]]] = {}
    if not args.no_fixtures:
        fixtures = stories()
        sets["fixtures"] = [
            (f"fixture {i}", s, q)
            for i, (s, q) in enumerate(zip(fixtures, summarizer.summarize(fixtures), strict=True))
            if is_english(" ".join(a.text for a in s))
        ]
    if args.pages:
        pages = [s for s in page_stories(args.pages) if is_english(s[0].text)]
        sets["real pages"] = [(s[0].key, s, summarizer.summarize([s])[0]) for s in pages]

    print("| label check | " + " | ".join(f"{k} ({c})" for k, c in _sizes(sets)) + " |")
    print("| --- |" + " --- |" * len(sets))
    shares = {name: check_shares(results) for name, results in sets.items()}
    for check in [c for c in next(iter(shares.values())) if not c.startswith("_")]:
        print(f"| {check} | " + " | ".join(f"{s[check]:.0%}" for s in shares.values()) + " |")

    pages_results = sets.get("real pages", [])
    if args.sample:
        print("\npage\tbullet\tlabel\tapt\tsha\tnote")
        for key, _, q in pages_results[: args.sample]:
            for n, b in enumerate(q.bullets, 1):  # type: ignore[attr-defined]
                print(f"{key}\t{n}\t{b.label}\t?\t{text_sha(b.text)}\t{b.text}")
    if args.judged:
        by_key = {
            (key, n): b
            for key, _, q in pages_results
            for n, b in enumerate(q.bullets, 1)  # type: ignore[attr-defined]
        }
        apt = judged = stale = 0
        by_set: dict[str, list[int]] = {}
        with args.judged.open(encoding="utf-8") as handle:
            lines = (line for line in handle if not line.startswith("#"))
            rows = [r for r in csv.DictReader(lines, delimiter="\t") if r.get("page")]
        for row in rows:
            b = by_key.get((row["page"], int(row["bullet"])))
            if b is None or b.label != row["label"] or text_sha(b.text) != row["sha"]:
                stale += 1
                continue
            judged += 1
            apt += row["apt"].strip().lower() == "yes"
            tally = by_set.setdefault(row.get("set") or "unsplit", [0, 0])
            tally[0] += row["apt"].strip().lower() == "yes"
            tally[1] += 1
            if args.show_judged:
                print(f"{row['apt']:>3}  [{b.label}] {b.text}  {row.get('note', '')}")
        print(
            f"\nhand-judged apt: {apt}/{judged} = {apt / judged:.0%}"
            if judged
            else "\nhand-judged apt: no current judgements"
        )
        for name, (yes, n) in sorted(by_set.items()):
            print(f"  of which {name} pages: {yes}/{n} = {yes / n:.0%}")
        print(f"stale judgements (the code now gives another bullet or label): {stale}")
    return 0


def sentence_report(args: argparse.Namespace) -> int:
    """The --sentences mode: each sentence's label, checks, and the judged apt share."""
    from digest.config import SummarizerSettings
    from digest.summarize import ModelSummarizer
    from digest.summarize.labels import LABEL_CHECKS, label_problems

    sentences = news_sentences(args.sentences, args.sentence_set)
    summarizer = ModelSummarizer(SummarizerSettings(), args.cache_dir)
    labels = label_sentences(summarizer, sentences)
    counts: collections.Counter[str] = collections.Counter()
    for (_, text), label in zip(sentences, labels, strict=True):
        problems = label_problems(label, text, outlets={"newswire"})
        counts.update(problems)
        counts["all checks"] += bool(problems)
    print(f"{args.sentence_set} sentences: {len(sentences)}, one label each")
    for check in (*LABEL_CHECKS, "all checks"):
        print(f"{check:<15} {1 - counts[check] / len(sentences):.0%}")
    if args.sample:
        print("\nrow\tlabel\tapt\tsha\tnote")
        for (row, text), label in list(zip(sentences, labels, strict=True))[: args.sample]:
            print(f"{row}\t{label}\t?\t{text_sha(text)}\t{text}")
    if args.judged:
        current = {
            (str(row), label, text_sha(text))
            for (row, text), label in zip(sentences, labels, strict=True)
        }
        with args.judged.open(encoding="utf-8") as handle:
            lines = (line for line in handle if not line.startswith("#"))
            rows = [r for r in csv.DictReader(lines, delimiter="\t") if r.get("row")]
        wanted = {str(row) for row, _ in sentences}
        rows = [r for r in rows if r["row"] in wanted]
        fresh = [r for r in rows if (r["row"], r["label"], r["sha"]) in current]
        apt = sum(r["apt"].strip().lower() == "yes" for r in fresh)
        print(
            f"\nhand-judged apt: {apt}/{len(fresh)} = {apt / len(fresh):.0%}"
            if fresh
            else "\nhand-judged apt: no current judgements"
        )
        print(f"judgements of other labels (another code's, or stale): {len(rows) - len(fresh)}")
        if args.show_judged:
            for r in fresh:
                print(f"{r['apt']:>3}  {r['row']:>5} [{r['label']}]  {r.get('note', '')}")
    return 0


def _sizes(sets: dict[str, list[tuple[str, object, object]]]) -> list[tuple[str, str]]:
    return [
        (name, f"{len(r)} stories, {sum(len(q.bullets) for _, _, q in r)} labels")  # type: ignore[attr-defined]
        for name, r in sets.items()
    ]


if __name__ == "__main__":
    raise SystemExit(main())
