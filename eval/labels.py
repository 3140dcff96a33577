"""How often the model's Quick Looks labels survive the checks, and why the rest do not.

Every bullet of the hand-written fixture stories (the 35 events of eval/data/clustering, the
English ones) gets a label from the default model, as `ModelSummarizer` asks for it. Each label
then goes through `labels.clean_label`, as in a digest; a rejected one is replaced by a
rule-based label there. Printed: kept, rejected by reason, one-word labels among the kept, and
examples of each.

    python eval/labels.py [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(os.environ.get("DIGEST_MODEL_CACHE", ROOT / "state" / "models")),
        help="dequantised model cache (env DIGEST_MODEL_CACHE)",
    )
    parser.add_argument("--examples", type=int, default=12)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from bench.summarize import stories
    from digest.config import SummarizerSettings
    from digest.summarize import labels
    from digest.summarize.grounding import ungrounded_in_label
    from digest.summarize.models import load_model
    from digest.summarize.select import plan_story

    model = load_model("gemma-3-270m", args.cache_dir)
    plans = [p for p in (plan_story(s, SummarizerSettings()) for s in stories()) if p.english]
    bullets = [(i, b.text) for i, p in enumerate(plans) for b in p.bullets]
    outputs = model.complete(
        labels.label_prompt_prefix(), [labels.label_prompt_suffix(t) for _, t in bullets], 8
    )

    counts: collections.Counter[str] = collections.Counter()
    examples: dict[str, list[str]] = collections.defaultdict(list)
    taken: dict[int, list[str]] = collections.defaultdict(list)
    for (i, _), raw in zip(bullets, outputs, strict=True):
        plan = plans[i]
        label = labels.clean_label(raw, plan.index, taken[i], plan.topic)
        first = raw.split("\n", 1)[0].strip()
        if label is not None:
            taken[i].append(label)
            reason = "kept, one word" if len(label.split()) == 1 else "kept"
            shown = label
        elif not first:
            reason, shown = "rejected: empty", first
        elif len(first.split()) > labels.MAX_LABEL_WORDS:
            reason, shown = "rejected: too long", first
        elif ungrounded_in_label(labels.title_case(first.strip("\"'*").rstrip(".")), plan.index):
            reason, shown = "rejected: words not in the sources", first
        else:
            reason, shown = "rejected: the story's topic, a repeat or a vague word", first
        counts[reason] += 1
        examples[reason].append(shown)

    total = len(bullets)
    print(f"{len(plans)} stories, {total} bullets, model {model.name}")
    for reason, n in sorted(counts.items()):
        print(f"{reason:<55} {n:>4}  ({n / total:.0%})")
    for reason in sorted(examples):
        print(f"\n{reason}: " + ", ".join(examples[reason][: args.examples]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
