"""Keep-token F1 and compression ratio of each compressor on the held-out split of the dev data.

The data is `../shared/data/sentence-compression-dev.csv` (Google's compression pairs); the split
is `compress_data.split_of` (a hash of the sentence), and only its `eval` part is scored here:
the classifier never trains on it. Each compressor runs on the sentences as tokenised in the data
and, with `--plain`, on the same sentences detokenised to plain text (as a page gives them).
Printed per run: pooled keep-token precision/recall/F1, the mean per-sentence F1, the mean
compression ratio (tokens kept / tokens in the source), outputs holding a token the source lacks,
and the time taken.

    python eval/compression.py [--data CSV] [--compressor rules --compressor minilm] [--plain]
    python eval/compression.py --compressor checked   # minilm where it passes the checks
    python eval/compression.py --weights OLD.safetensors   # another classifier, same scoring
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _is_subsequence(small: list[str], big: list[str]) -> bool:
    it = iter(big)
    return all(any(x == y for y in it) for x in small)


def _marks(text: str) -> list[str]:
    """Words and single punctuation marks ("Ltd." is "Ltd", "."): how a reader sees the text."""
    return re.findall(r"\w+|[^\w\s]", text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=ROOT / "../shared/data/sentence-compression-dev.csv"
    )
    parser.add_argument("--split", default="eval", choices=["eval", "val"])
    parser.add_argument(
        "--compressor", action="append", choices=["rules", "minilm", "checked"], help="repeatable"
    )
    parser.add_argument("--dtype", default="float32", choices=["float32", "auto", "bfloat16"])
    parser.add_argument("--plain", action="store_true", help="also run on detokenised text")
    parser.add_argument("--weights", type=Path, default=None, help="another weights file")
    parser.add_argument("--examples", type=int, default=0, help="print this many examples")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from digest.summarize.compress import render
    from digest.summarize.compress_data import detokenize, load_pairs, mask_on, scores
    from digest.summarize.compress_model import load_compressor

    if not args.data.is_file():
        print(f"{args.data}: not found (the dev data lives in ../shared/data)", file=sys.stderr)
        return 1
    pairs = load_pairs(args.data, split=args.split)
    gold = [list(p.keep) for p in pairs]
    print(f"{args.data.name}: {len(pairs)} sentences in the {args.split} split")
    print(
        f"{'compressor':<14} {'input':<9} {'F1':>6} {'P':>6} {'R':>6} {'F1/sent':>8} "
        f"{'ratio':>6} {'foreign':>8} {'seconds':>8}"
    )
    for kind in args.compressor or ["rules", "minilm"]:
        options = {"dtype": args.dtype} if kind != "rules" else {}
        compressor = load_compressor(kind, weights=args.weights, **options)
        forms = [("tokenised", [p.text for p in pairs])]
        if args.plain:
            forms.append(("plain", [detokenize(p.tokens) for p in pairs]))
        for form, inputs in forms:
            compressor.compress(inputs[:2])  # warm: the model loads on first use
            getattr(compressor, "counts", {}).clear()
            t0 = time.perf_counter()
            results = compressor.masks(inputs)
            seconds = time.perf_counter() - t0
            # Which compression each sentence got (the checked compressor only).
            counts = dict(getattr(compressor, "counts", {}))
            outputs = [render(t, m) for t, m in results]
            masks = [
                mask_on(pair, [t.text for t in tokens], mask)
                for pair, (tokens, mask) in zip(pairs, results, strict=True)
            ]
            if form == "tokenised":  # every output word is a source word, in order
                foreign = sum(
                    not _is_subsequence(o.split(), i.split())
                    for o, i in zip(outputs, inputs, strict=True)
                )
            else:  # the same, on words and punctuation marks of the plain text
                foreign = sum(
                    not _is_subsequence(_marks(o), _marks(i))
                    for o, i in zip(outputs, inputs, strict=True)
                )
            s = scores(masks, gold)
            print(
                f"{compressor.name:<14} {form:<9} {s['f1']:>6.3f} {s['precision']:>6.3f} "
                f"{s['recall']:>6.3f} {s['f1_per_sentence']:>8.3f} {s['ratio']:>6.3f} "
                f"{foreign:>8d} {seconds:>8.1f}" + (f"  {counts}" if counts else "")
            )
            for pair, out in list(zip(pairs, outputs, strict=True))[: args.examples]:
                print(f"  source: {pair.text}\n  output: {out}")
                print(
                    "  gold:   "
                    + " ".join(t for t, k in zip(pair.tokens, pair.keep, strict=True) if k)
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
