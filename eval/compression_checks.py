"""How often each check of `compress.compression_problems` fires on gold and model compressions.

A check that names a real fault should fire often on the classifier's bare compressions and
seldom on the human (Google) ones, which are deletions of whole parse subtrees (though they are
not always grammatical: some drop a head noun or leave "a industrial blaze"). Printed per check:
how many gold compressions and how many of the classifier's (at its threshold, after `repair`)
it rejects; `--show NAME` prints examples of the classifier's rejected by it (`--show gold:NAME`
the gold ones), to read whether the check is right.

    python eval/compression_checks.py [--data CSV] [--split val] [--show partial_span]
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=ROOT / "../shared/data/sentence-compression-dev.csv"
    )
    parser.add_argument("--split", default="val", choices=["eval", "val"])
    parser.add_argument("--show", help="a check's name (or gold:NAME): print examples")
    parser.add_argument("--examples", type=int, default=20)
    args = parser.parse_args()

    from digest.summarize.compress import (
        compression_problems,
        render,
        repair,
        rule_mask,
        tokenize,
    )
    from digest.summarize.compress_data import detokenize, load_pairs
    from digest.summarize.compress_model import load_compressor

    pairs = load_pairs(args.data, args.split)
    texts = [detokenize(p.tokens) for p in pairs]
    tokens = [tokenize(t) for t in texts]
    model = load_compressor("minilm")
    probs = model.probabilities(tokens)
    gold_hits: collections.Counter[str] = collections.Counter()
    model_hits: collections.Counter[str] = collections.Counter()
    examples: dict[str, list[str]] = collections.defaultdict(list)
    gold_total = gold_any = model_any = 0
    for pair, toks, p in zip(pairs, tokens, probs, strict=True):
        reference = repair(toks, rule_mask(toks))
        # The gold compression on the plain text's tokens: its words matched left to right.
        gold = tokenize(
            detokenize(tuple(w for w, k in zip(pair.tokens, pair.keep, strict=True) if k))
        )
        mask, j = [False] * len(toks), 0
        for i, tok in enumerate(toks):
            if j < len(gold) and tok.text == gold[j].text:
                mask[i], j = True, j + 1
        if j == len(gold):
            gold_total += 1
            found = set(compression_problems(toks, mask, reference))
            gold_hits.update(found)
            gold_any += bool(found)
            for name in found:
                examples[f"gold:{name}"].append(render(toks, mask))
        keep = [float(v) >= model.threshold for v in p]
        mask = repair(toks, keep, [float(v) for v in p])
        found = set(compression_problems(toks, mask, reference))
        model_hits.update(found)
        model_any += bool(found)
        for name in found:
            examples[name].append(render(toks, mask))
    n = len(pairs)
    print(f"{args.data.name}: {args.split} split, {n} sentences ({gold_total} gold alignable)")
    print(f"{'check':18} {'gold':>12} {'classifier':>12}")
    for name in sorted(set(gold_hits) | set(model_hits)):
        g, m = gold_hits[name], model_hits[name]
        print(f"{name:18} {g:5d} {g / gold_total:6.1%} {m:5d} {m / n:6.1%}")
    print(
        f"{'any':18} {gold_any:5d} {gold_any / gold_total:6.1%} {model_any:5d} {model_any / n:6.1%}"
    )
    if args.show:
        for line in examples.get(args.show, [])[: args.examples]:
            print("  ", line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
