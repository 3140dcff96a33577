"""The shipped keep/delete classifier over MiniLM (slow: loads the model, offline)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from digest.summarize.compress import WEIGHTS_FILE, render, tokenize
from digest.summarize.compress_model import load_compressor

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]

SENTENCES = [
    "Westbrook quarterback Tomas Arlen will miss three to five weeks after suffering a "
    "knee injury against Lindale, according to coach Ray Marlow.",
    "The Senate did not pass the $1.2 trillion spending bill on Friday, leaving federal "
    "agencies without funding for the weekend.",
    "About 40,000 customers lost power in northern Norland on Sunday as Norland Power shut "
    "off lines to prevent wildfires, said Dana Whitcombe, the utility's senior director.",
    "In a sharp change of policy, the United States will send anti-personnel land mines "
    "to its ally, two officials said.",
    "Shares of Home Depot fell 5% in early trading after the retailer cut its sales forecast "
    "for the year.",
    "Police said no one was injured in the fire, which broke out shortly after midnight.",
    "Tata Motors has launched 10 new trucks in its Prima range .",
    "",
]


@pytest.fixture(scope="module")
def compressor():
    assert WEIGHTS_FILE.is_file(), "the shipped weights must be in the repo"
    return load_compressor("minilm")


def kept(compressor, sentence: str) -> list[str]:
    tokens, mask = compressor.compress_with_mask(sentence)
    return [t.text for t, k in zip(tokens, mask, strict=True) if k]


def test_the_model_shortens_and_only_deletes(compressor) -> None:
    out = compressor.compress(SENTENCES)
    assert len(out) == len(SENTENCES) and out[-1] == ""
    for source, short in zip(SENTENCES[:-1], out[:-1], strict=True):
        src = [t.text for t in tokenize(source)]
        got = [t.text for t in tokenize(short)]
        it = iter(src)
        assert all(any(x == y for y in it) for x in got), (source, short)
        assert 3 <= len(got) <= len(src)
    total_in = sum(len(s.split()) for s in SENTENCES)
    total_out = sum(len(s.split()) for s in out)
    assert total_out < 0.8 * total_in  # it compresses, not copies
    # The attributions go.
    assert "Marlow" not in out[0] and "Whitcombe" not in out[2]


def test_negation_survives(compressor) -> None:
    words = kept(compressor, SENTENCES[1])
    assert "not" in words and "pass" in words
    assert "no" in kept(compressor, SENTENCES[5])


def test_numbers_and_quantities_survive(compressor) -> None:
    assert {"40,000", "customers"} <= set(kept(compressor, SENTENCES[2]))
    words = kept(compressor, SENTENCES[4])
    assert "5%" in words and "fell" in words
    assert "10" in kept(compressor, SENTENCES[6])


def test_names_survive_whole(compressor) -> None:
    words = kept(compressor, SENTENCES[0])
    assert "Arlen" in words and "miss" in words
    assert "Home" in kept(compressor, SENTENCES[4]) and "Depot" in kept(compressor, SENTENCES[4])


def test_a_sentence_compresses_the_same_alone_and_in_any_batch(compressor) -> None:
    batch = compressor.compress(SENTENCES)
    alone = [compressor.compress([s])[0] for s in SENTENCES]
    reversed_batch = compressor.compress(SENTENCES[::-1])[::-1]
    with_long = compressor.compress([s + " " + SENTENCES[0] for s in SENTENCES[:1]] + SENTENCES)
    assert batch == alone == reversed_batch == with_long[1:]


def test_tokenised_and_plain_input_keep_the_same_words(compressor) -> None:
    plain = SENTENCES[4]
    spaced = " ".join(t.text for t in tokenize(plain))
    a, b = compressor.masks([plain, spaced])
    assert [t.text for t in a[0]] == [t.text for t in b[0]]
    assert render(*a) != render(*b) or a[1] == b[1]


def _digest_compress(
    tmp_path: Path, lines: list[str], *args: str
) -> subprocess.CompletedProcess[str]:
    """`digest compress ARGS` as a process, the lines on its stdin; it must exit 0."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "digest", "compress", *args],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def test_digest_compress_cli_runs_the_model_from_stdin(tmp_path: Path) -> None:
    lines = SENTENCES[:3] + [""] + SENTENCES[3:5]
    proc = _digest_compress(tmp_path, lines)
    out = proc.stdout.split("\n")
    assert len(out) == len(lines) + 1 and out[3] == "" and out[-1] == ""
    assert out[:3] == load_compressor("minilm").compress(SENTENCES[:3])
    assert "using the rule-based compressor" not in proc.stderr


@pytest.fixture(scope="module")
def checked(compressor):
    from digest.summarize.compress_model import CheckedCompressor

    return CheckedCompressor(compressor)


def test_the_checked_compressor_keeps_what_the_clause_needs_and_still_shortens(checked) -> None:
    from digest.summarize.compress import RuleCompressor

    out = checked.compress(SENTENCES)
    assert out[-1] == ""
    assert {"not", "pass"} <= set(kept(checked, SENTENCES[1]))
    assert {"40,000", "customers", "lost"} <= set(kept(checked, SENTENCES[2]))
    assert {"5%", "fell", "Home", "Depot"} <= set(kept(checked, SENTENCES[4]))
    assert {"no", "injured"} <= set(kept(checked, SENTENCES[5]))
    rules = RuleCompressor().compress(SENTENCES)
    assert sum(len(s.split()) for s in out) < sum(len(s.split()) for s in rules)
    # Each output is the classifier's or the rules' compression of its sentence, never another.
    model = [o for o in out[:-1] if o in compressor_outputs(checked)]
    assert len(model) + sum(o in rules for o in out[:-1]) >= len(out) - 1
    assert sum(checked.counts.values()) >= len(SENTENCES) - 1


def compressor_outputs(checked) -> set[str]:
    """Every compression the classifier proposes for SENTENCES, at each threshold tried."""
    from digest.summarize.compress import render, repair, tokenize

    found = set()
    for s in SENTENCES[:-1]:
        toks = tokenize(s)
        [p] = checked.model.probabilities([toks])
        for t in (checked.model.threshold, *checked.thresholds):
            found.add(render(toks, repair(toks, [v >= t for v in p], [float(v) for v in p])))
    return found


def test_digest_compress_checked_gives_the_checked_compressors_output(
    tmp_path: Path, checked
) -> None:
    lines = SENTENCES[:-1]
    proc = _digest_compress(tmp_path, lines, "--compressor", "checked")
    assert proc.stdout.split("\n")[:-1] == checked.compress(lines)
    assert "using the rule-based compressor" not in proc.stderr


def test_the_shipped_weights_are_small_and_adapt_the_encoder() -> None:
    import json

    from safetensors import safe_open

    assert WEIGHTS_FILE.stat().st_size <= 3_000_000
    with safe_open(str(WEIGHTS_FILE), framework="pt") as f:
        config = json.loads(f.metadata()["config"])
        dtypes = {str(f.get_slice(k).get_dtype()) for k in f.keys()}
    assert dtypes == {"F16"}
    assert config["encoder"]["lora_layers"] and 0 < config["threshold"] < 1


def test_the_bfloat16_encoder_decides_as_the_float32_one_does(compressor) -> None:
    # A digest runs the encoder in bfloat16 where the CPU has it (dtype "auto"); the head was
    # trained on float32 states. Its keep/delete decisions must stay those of float32 on nearly
    # every word of real sentences (the tests above, which check that numbers, names and
    # negations survive, run it in the dtype a digest uses).
    from digest.summarize.compress_model import CheckedCompressor
    from digest.summarize.text import split_sentences

    sentences = [
        s
        for path in sorted((ROOT / "tests" / "data" / "articles").glob("*.txt"))
        if path.name != "french.txt"
        for s in split_sentences(path.read_text())
        if len(s.split()) >= 6
    ]
    assert len(sentences) >= 60
    f32 = load_compressor("minilm", dtype="float32")
    b16 = load_compressor("minilm", dtype="bfloat16")
    for a, b in [(f32, b16), (CheckedCompressor(f32), CheckedCompressor(b16))]:
        masks_a, masks_b = a.masks(sentences), b.masks(sentences)
        words = sum(len(m) for _, m in masks_a)
        pairs = [(m, n) for (_, m), (_, n) in zip(masks_a, masks_b, strict=True)]
        agree = sum(x == y for m, n in pairs for x, y in zip(m, n, strict=True))
        same = sum(m == n for m, n in pairs)
        assert agree >= 0.99 * words
        assert same >= 0.9 * len(sentences)
