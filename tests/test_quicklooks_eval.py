"""eval/quicklooks.py and eval/pages.py measure what they say (fast: no model)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from twins import eval_script

from digest.models import Bullet, QuickLooks

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = ROOT / "tests" / "data" / "articles"


@pytest.fixture(scope="module")
def ev():  # type: ignore[no-untyped-def]
    return eval_script("quicklooks")


def test_facts_covered_counts_each_human_fact_a_bullet_repeats(ev) -> None:  # type: ignore[no-untyped-def]
    reference = [
        "Bridge Closed: Eastvale shut the Cranmore Bridge after inspectors found cracked girders.",
        "Free Ferry: A free ferry will run between Harbour Steps and Millbank.",
    ]
    ours = ["The Cranmore Bridge was closed after inspectors found cracks in its girders."]
    assert ev.facts_covered(ours, reference) == 1
    assert ev.facts_covered([*ours, "A free ferry will run from Harbour Steps."], reference) == 2
    assert ev.facts_covered(["Shares fell 7% on Tuesday."], reference) == 0


def test_the_report_has_every_figure_the_issue_asks_for(ev) -> None:  # type: ignore[no-untyped-def]
    articles = [ev.load_article(ARTICLES / "recall_ledger.txt", False)]
    q = QuickLooks(
        headline="Meridian recalls Calvera",
        bullets=(
            Bullet("Drug Recall", "Meridian Labs is recalling about 2 million bottles.", ("s",)),
            Bullet("Stock Drop", "It fell 7% in New York trading after the announcement.", ("s",)),
        ),
        model="test",
    )
    reference, _ = ev.reference_block((ARTICLES / "recall_quicklooks.txt").read_text())
    r = ev.evaluate(q, articles, reference, 1)
    assert r["mean_words"] == 9 and r["max_words"] == 10
    assert r["unresolved_share"] == 0.5  # "It fell ..." points at nothing
    assert r["facts_covered"] == "1/5"
    assert {"label_clean", "label_grounded", "rouge", "grounding", "redundancy"} <= set(r)


def test_the_pages_eval_flags_boilerplate_and_unresolved_bullets(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    pages = eval_script("pages")
    body = (ARTICLES / "rates_norland.txt").read_text().split("\n\n")
    html = "<html><head><title>Bank of Norland raises rates</title></head><body><article>"
    html += "".join(f"<p>{p}</p>" for p in body[1:]) + "</article></body></html>"
    (tmp_path / "a.html.gz").write_bytes(gzip.compress(html.encode()))
    assert pages.main([str(tmp_path), "--backend", "extractive"]) == 0  # no model in a fast test
    out = capsys.readouterr().out
    assert "pages 1 | bullets" in out and "flagged boilerplate 0" in out
    assert pages.BOILERPLATE.search("To order reprints visit our site.")


def test_facts_within_reach_is_the_ceiling_for_bullets_of_source_words(ev) -> None:  # type: ignore[no-untyped-def]
    articles = [ev.load_article(ARTICLES / "recall_ledger.txt", False)]
    reference = [
        "Drug Recall: Meridian Labs is recalling about 2 million bottles of Calvera.",
        "Moon Landing: Astronauts planted a flag on the lunar surface.",  # in no source
    ]
    assert ev.facts_within_reach(articles, reference) == 1
    every_sentence = [s for a in articles for s in a.text.split(". ")]
    assert ev.facts_covered(every_sentence, reference) <= 1
