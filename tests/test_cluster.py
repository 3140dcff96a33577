"""The clusterer: each level of sameness, thin evidence, explain, restarts and ranking.

These tests use the hashing twin or an embedder with fixed vectors, so they exercise the
decision logic without loading a model; tests with the real MiniLM are in test_cluster_slow.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from digest.clock import ManualClock
from digest.cluster import Clusterer, rank, story_id_for, story_score
from digest.config import ClusterSettings
from digest.embed import HashingEmbedder
from digest.models import Article, Story
from digest.store import Store

T0 = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)


class FixedEmbedder:
    """Vectors chosen by the test: the first rule whose marker is in the text wins."""

    def __init__(self, rules: Sequence[tuple[str, Sequence[float]]], name: str = "fixed") -> None:
        self.rules = [(m, np.asarray(v, np.float32) / np.linalg.norm(v)) for m, v in rules]
        self.name = name
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        out = []
        for t in texts:
            vec = next((v for m, v in self.rules if m in t), None)
            out.append(vec if vec is not None else np.zeros(len(self.rules[0][1]), np.float32))
        return np.vstack(out) if out else np.zeros((0, 3), np.float32)


def same_vector_embedder() -> FixedEmbedder:
    """Every text gets the same vector: only the evidence can keep articles apart."""
    return FixedEmbedder([("", [1.0, 0.0, 0.0])], name="constant")


def art(
    key: str,
    title: str,
    text: str,
    *,
    outlet: str = "Outlet A",
    published: datetime | None = T0,
    url: str | None = None,
    from_feed_only: bool = False,
) -> Article:
    return Article(
        key=key,
        feed_url=f"https://{outlet.replace(' ', '').lower()}.example/feed",
        url=url if url is not None else key,
        title=title,
        text=text,
        outlet=outlet,
        content_hash=hashlib.sha256(" ".join(text.split()).encode()).hexdigest(),
        published=published,
        from_feed_only=from_feed_only,
    )


QUAKE_A = """\
A magnitude 6.8 earthquake struck off the coast of northern Chile early on Tuesday, killing at
least three people and cutting power to parts of Antofagasta, the disaster agency Senapred said.

The quake hit about 45 kilometres west of Antofagasta at a depth of 38 kilometres, according to
seismologists. A tsunami warning was issued for the coast and lifted two hours later. Copper miner
Codelco halted work at two nearby sites while engineers checked for damage."""

QUAKE_B = """\
Three people died when a 6.8-magnitude quake rattled the Chilean region of Antofagasta before
dawn, officials said, as the copper producer Codelco suspended some operations to inspect its
sites.

Senapred, the national disaster service, said 40,000 homes briefly lost power. A precautionary
tsunami alert for the northern coast was withdrawn after sea levels showed only minor changes, and
schools in the port city will reopen on Wednesday."""

QUAKE_JAPAN = """\
An earthquake of magnitude 5.9 struck off the coast of Fukushima prefecture on Tuesday evening,
the Japan Meteorological Agency said, adding that there was no risk of a tsunami.

The quake, at a depth of 50 kilometres, shook buildings in Tokyo about 240 km to the south. Tokyo
Electric Power said there were no abnormalities at its plants, and bullet trains in the Tohoku
region were halted for safety checks and resumed within an hour."""

RULING_A = """\
A federal appeals court on Wednesday struck down an Ohio law that would have required social media
companies to verify the ages of users and obtain parental consent for anyone under 16, ruling that
it violated the First Amendment. The suit was brought by NetChoice, a trade group. Ohio Attorney
General Dave Yost said he was reviewing the decision and considering an appeal, while Governor
Mike DeWine said he was disappointed by the ruling."""

RULING_B = """\
The Supreme Court ruled on Wednesday that medical device maker Lumen Devices did not infringe
patents held by its rival Arcway Medical, overturning a $410 million jury verdict. Writing for the
majority, Justice Elena Kagan said the lower court had read the patent claims far too broadly.
Arcway had accused Lumen of copying the design of its heart-monitoring implant, and the case now
goes back for a new trial on a narrower reading of the claims."""


def make(store: Store, embedder, clock: ManualClock, window_hours: float = 72) -> Clusterer:
    return Clusterer(store, embedder, ClusterSettings(window_hours=window_hours), clock)


def story_of(store: Store, key: str) -> str | None:
    row = store.conn.execute("SELECT story_id FROM articles WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


# --- identical ----------------------------------------------------------------------------------


def test_same_page_under_another_url_form_is_identical() -> None:
    store = Store.memory()
    c = make(store, HashingEmbedder(), ManualClock(T0 + timedelta(hours=1)))
    first = art("https://news.example/quake", "Strong earthquake shakes northern Chile", QUAKE_A)
    # Another feed links the same page over http, with www. and a tracking parameter.
    again = art(
        "https://www.news.example/quake?utm_source=rss",
        "Chile quake: three dead",
        "Short feed text only.",
        url="http://www.news.example/quake/?utm_source=rss",
        outlet="Aggregator",
    )
    c.add([first])
    c.add([again])
    assert story_of(store, again.key) == story_of(store, first.key) == story_id_for(first.key)
    [reason] = c.explain(story_id_for(first.key))
    assert (reason.article_key, reason.level, reason.score) == (again.key, "identical", 1.0)
    assert "same page: news.example/quake" in reason.evidence


def test_same_text_at_two_urls_is_identical_but_empty_text_is_not() -> None:
    store = Store.memory()
    c = make(store, same_vector_embedder(), ManualClock(T0 + timedelta(hours=1)))
    a = art("https://a.example/1", "Strong earthquake shakes northern Chile", QUAKE_A)
    b = art("https://b.example/2", "Deadly quake hits Chile", QUAKE_A, outlet="Outlet B")
    # Titles too short for the headline level, so only the (shared) empty-text hash could
    # join them.
    empty1 = art("https://a.example/live", "Live: markets", "", from_feed_only=True)
    empty2 = art("https://b.example/live", "Live: politics", "", outlet="Outlet B")
    c.add([a, b, empty1, empty2])
    assert story_of(store, a.key) == story_of(store, b.key)
    assert [m.level for m in c.explain(story_of(store, a.key) or "")] == ["identical"]
    assert "same text" in c.explain(story_of(store, a.key) or "")[0].evidence
    # Two empty bodies have one hash; that is not evidence of anything.
    assert story_of(store, empty1.key) != story_of(store, empty2.key)
    assert "empty text" in c.thin_reasons(empty1.key)


# --- near duplicate -----------------------------------------------------------------------------


def wire_copy(text: str) -> str:
    """A syndicated copy: one sentence reworded, the last one dropped."""
    flat = " ".join(text.split())
    edited = flat.replace("according to seismologists", "seismologists said")
    return edited.rsplit(" Copper miner", 1)[0]


def test_wire_copy_with_small_edits_is_a_near_duplicate() -> None:
    store = Store.memory()
    # Orthogonal vectors: only the text itself can bring these two together.
    emb = FixedEmbedder([("Strong", [1, 0, 0]), ("Chile's", [0, 1, 0])])
    c = make(store, emb, ManualClock(T0 + timedelta(hours=2)))
    original = art("https://wire.example/q", "Strong earthquake shakes northern Chile", QUAKE_A)
    copy = art(
        "https://paper.example/q",
        "Chile's quake kills three",
        wire_copy(QUAKE_A),
        outlet="Paper",
        published=T0 + timedelta(minutes=40),
    )
    c.add([original, copy])
    sid = story_id_for(original.key)
    assert story_of(store, copy.key) == sid
    [reason] = c.explain(sid)
    assert reason.level == "near_duplicate"
    assert 0.5 <= reason.score < 1.0
    assert "MinHash" in reason.evidence and original.key in reason.evidence


def test_near_duplicate_outside_the_window_starts_a_new_story() -> None:
    store = Store.memory()
    clock = ManualClock(T0 + timedelta(hours=1))
    c = make(store, HashingEmbedder(), clock, window_hours=72)
    c.add([art("https://wire.example/q", "Strong earthquake shakes northern Chile", QUAKE_A)])
    clock.now = T0 + timedelta(days=6)
    late = art(
        "https://paper.example/q",
        "Chile's quake kills three",
        wire_copy(QUAKE_A),
        published=T0 + timedelta(days=5, hours=20),
    )
    c.add([late])
    assert story_of(store, late.key) == story_id_for(late.key)


# --- same event ---------------------------------------------------------------------------------


def test_rewrites_with_shared_names_and_figures_are_one_event() -> None:
    store = Store.memory()
    emb = FixedEmbedder([("Strong", [1.0, 0.2, 0.0]), ("Three dead", [1.0, 0.0, 0.2])])
    c = make(store, emb, ManualClock(T0 + timedelta(hours=3)))
    a = art("https://a.example/q", "Strong earthquake shakes northern Chile", QUAKE_A)
    b = art(
        "https://b.example/q",
        "Three dead as quake rattles Antofagasta",
        QUAKE_B,
        outlet="Outlet B",
        published=T0 + timedelta(hours=2),
    )
    stories = c.add([a, b])
    assert len(stories) == 1
    story = stories[0]
    assert story.id == story_id_for(a.key)
    assert story.outlets == ("Outlet A", "Outlet B")
    [reason] = c.explain(story.id)
    assert reason.level == "same_event" and reason.article_key == b.key
    assert "antofagasta" in reason.evidence and "codelco" in reason.evidence
    assert "6.8" in reason.evidence and "2.0 h apart" in reason.evidence


def test_same_topic_different_event_stays_apart_even_with_identical_vectors() -> None:
    store = Store.memory()
    c = make(store, same_vector_embedder(), ManualClock(T0 + timedelta(hours=5)))
    chile = art("https://a.example/chile", "Strong earthquake shakes northern Chile", QUAKE_A)
    japan = art(
        "https://b.example/japan",
        "Magnitude 5.9 quake strikes off Fukushima",
        QUAKE_JAPAN,
        outlet="Outlet B",
        published=T0 + timedelta(hours=4),
    )
    ruling_a = art("https://a.example/ohio", "Appeals court strikes down Ohio law", RULING_A)
    ruling_b = art(
        "https://b.example/lumen",
        "Supreme Court sides with Lumen in patent fight",
        RULING_B,
        outlet="Outlet B",
    )
    c.add([chile, japan, ruling_a, ruling_b])
    ids = {story_of(store, a.key) for a in (chile, japan, ruling_a, ruling_b)}
    assert len(ids) == 4


def test_different_figures_need_a_much_closer_match() -> None:
    store = Store.memory()
    recall = """Norvik Motors is recalling about 120,000 of its Terra electric SUVs because a
    software
    fault can delay regenerative braking, the company told the National Highway Traffic Safety
    Administration. Norvik said it knew of four minor crashes and no injuries linked to the fault,
    and that owners will receive an over-the-air update free of charge starting next week."""
    probe = """The National Highway Traffic Safety Administration opened an investigation into
    whether
    the Norvik Motors recall of Terra SUVs covers every affected vehicle, after receiving 37
    complaints from owners of older models. The agency will examine about 40,000 Terra SUVs that
    were built in 2021 and were left out of this week's recall, and Norvik said it would help."""
    # Close but not near-identical vectors: a follow-up on the same company and product.
    emb = FixedEmbedder([("recalls", [1.0, 0.45, 0.0]), ("probe", [1.0, 0.0, 0.45])])
    c = make(store, emb, ManualClock(T0 + timedelta(days=2)))
    a = art("https://a.example/recall", "Norvik Motors recalls 120,000 Terra SUVs", recall)
    b = art(
        "https://b.example/probe",
        "Regulator opens probe into Norvik recall",
        probe,
        outlet="Outlet B",
        published=T0 + timedelta(days=1),
    )
    c.add([a, b])
    assert story_of(store, a.key) != story_of(store, b.key)


def test_article_joins_story_across_runs_and_explains_why() -> None:
    store = Store.memory()
    clock = ManualClock(T0 + timedelta(hours=1))
    emb = FixedEmbedder([("Strong", [1.0, 0.2, 0.0]), ("Three dead", [1.0, 0.0, 0.2])])
    c = make(store, emb, clock)
    founder = art("https://a.example/q", "Strong earthquake shakes northern Chile", QUAKE_A)
    [first] = c.add([founder])
    clock.now = T0 + timedelta(hours=20)
    later = art(
        "https://b.example/q",
        "Three dead as quake rattles Antofagasta",
        QUAKE_B,
        outlet="Outlet B",
        published=T0 + timedelta(hours=19),
    )
    [story] = c.add([later])
    assert story.id == first.id
    assert [a.key for a in story.articles] == ["https://a.example/q", later.key]
    assert story.first_seen == first.first_seen and story.last_updated == clock.now
    # Only the new article was embedded in the second run: history is read from the store.
    assert len(emb.calls) == 2 and len(emb.calls[1]) == 1


# --- thin evidence ------------------------------------------------------------------------------


THIN_CASES: list[tuple[str, Callable[[], Article], str]] = [
    (
        "teaser",
        lambda: art(
            "https://t.example/teaser",
            "Deadly earthquake hits Antofagasta in Chile",
            "A strong earthquake struck northern Chile near Antofagasta. More to follow.",
            from_feed_only=True,
        ),
        "teaser",
    ),
    ("empty", lambda: art("https://t.example/empty", "Earthquake in Chile: live", ""), "empty"),
    (
        "short title",
        lambda: art("https://t.example/short", "Watch: quake", QUAKE_B.replace("Three", "Four")),
        "short title",
    ),
    (
        "not English",
        lambda: art(
            "https://t.example/es",
            "Sismo de magnitud 6,8 sacude Antofagasta y deja tres fallecidos",
            "Un sismo de magnitud 6,8 sacudió la madrugada de este martes la región de "
            "Antofagasta, en el norte de Chile, y dejó al menos tres personas fallecidas, informó "
            "el Senapred. El epicentro se ubicó a unos 45 kilómetros al oeste de la ciudad, a una "
            "profundidad de 38 kilómetros. La alerta de tsunami fue levantada dos horas después "
            "y Codelco suspendió las faenas en dos de sus operaciones de la zona.",
        ),
        "not English",
    ),
    (
        "press release",
        lambda: art(
            "https://t.example/pr",
            "Codelco Announces Inspection of Two Antofagasta Operations",
            "SANTIAGO, March 4, 2025 /PRNewswire/ -- Codelco today announced inspections at two "
            "operations near Antofagasta after the 6.8 earthquake.\n\nAbout Codelco\n\nCodelco "
            "is the world's largest copper producer, with operations across Chile and a workforce "
            "of thousands of people in the Antofagasta region and beyond.\n\nForward-Looking "
            "Statements\n\nThis press release contains forward-looking statements that involve "
            "risks and uncertainties, and actual results may differ materially.",
        ),
        "press release",
    ),
]


@pytest.mark.parametrize(
    ("case", "make_thin", "reason"), THIN_CASES, ids=[c[0] for c in THIN_CASES]
)
def test_thin_items_never_merge_on_thin_evidence(case, make_thin, reason) -> None:
    store = Store.memory()
    # The same vector for everything: a merge could only come from the evidence rules.
    c = make(store, same_vector_embedder(), ManualClock(T0 + timedelta(hours=3)))
    full = art("https://a.example/q", "Strong earthquake shakes northern Chile", QUAKE_A)
    thin = make_thin()
    c.add([full])
    [story] = c.add([thin])
    assert story.id == story_id_for(thin.key)
    assert story.articles == (thin,) or [a.key for a in story.articles] == [thin.key]
    assert any(reason in r for r in c.thin_reasons(thin.key)), c.thin_reasons(thin.key)
    assert c.thin_reasons(full.key) == ()


def test_nothing_to_compare_stays_its_own_story() -> None:
    store = Store.memory()
    c = make(store, HashingEmbedder(), ManualClock(T0))
    lonely = art("https://t.example/x", "Update", "", published=None)
    [story] = c.add([lonely])
    assert story.id == story_id_for(lonely.key) and len(story.articles) == 1
    assert c.explain(story.id) == []


# --- store, restarts, updates -------------------------------------------------------------------


def test_restart_joins_the_same_story_and_a_delivered_story_is_not_resent(tmp_path) -> None:
    emb_rules = [("Strong", [1.0, 0.2, 0.0]), ("Three dead", [1.0, 0.0, 0.2])]
    clock = ManualClock(T0 + timedelta(hours=1))
    store = Store.open(tmp_path)
    first = art("https://a.example/q", "Strong earthquake shakes northern Chile", QUAKE_A)
    store.add_articles([first], clock.now)
    [story] = make(store, FixedEmbedder(emb_rules), clock).add(store.unclustered_articles())
    store.record_delivery(
        "slack:#news", [story.id], kind="story", digest="d", ref="1", now=clock.now
    )
    delivered_at = clock.now
    store.close()

    # A new process: new store connection, new clusterer, a new outlet reports the event.
    clock.now = T0 + timedelta(hours=9)
    store = Store.open(tmp_path)
    c = make(store, FixedEmbedder(emb_rules), clock)
    later = art(
        "https://b.example/q",
        "Three dead as quake rattles Antofagasta",
        QUAKE_B,
        outlet="Outlet B",
        published=T0 + timedelta(hours=8),
    )
    store.add_articles([later], clock.now)
    [joined] = c.add(store.unclustered_articles())
    assert joined.id == story.id
    assert joined.outlets == ("Outlet A", "Outlet B")
    # The ledger is keyed by story id, so the story is still "delivered" to that destination.
    assert story.id in store.delivered_ids("slack:#news")
    # ...and the pipeline can tell what is new since then, for an Update.
    assert store.article_keys_since(story.id, delivered_at) == [later.key]
    assert store.article_keys_since(story.id, clock.now) == []
    store.close()


def test_adding_the_same_articles_twice_changes_nothing() -> None:
    store = Store.memory()
    c = make(store, HashingEmbedder(), ManualClock(T0 + timedelta(hours=1)))
    a = art("https://a.example/q", "Strong earthquake shakes northern Chile", QUAKE_A)
    assert len(c.add([a])) == 1
    assert c.add([a]) == []
    rows = store.conn.execute("SELECT COUNT(*) FROM cluster_features").fetchone()[0]
    assert rows == 1


def test_switching_embedder_re_embeds_the_window() -> None:
    store = Store.memory()
    clock = ManualClock(T0 + timedelta(hours=1))
    make(store, HashingEmbedder(), clock).add(
        [art("https://a.example/q", "Strong earthquake shakes northern Chile", QUAKE_A)]
    )
    emb = FixedEmbedder([("Strong", [1.0, 0.2, 0.0]), ("Three dead", [1.0, 0.0, 0.2])])
    clock.now = T0 + timedelta(hours=3)
    later = art("https://b.example/q", "Three dead as quake rattles Antofagasta", QUAKE_B)
    [story] = make(store, emb, clock).add([later])
    assert story.id == story_id_for("https://a.example/q")
    models = {r[0] for r in store.conn.execute("SELECT model FROM cluster_features")}
    assert models == {"fixed"}


def test_headline_is_the_most_central_title() -> None:
    store = Store.memory()
    emb = FixedEmbedder(
        [
            ("Odd angle", [0.8, 0.6, 0.0]),
            ("Central", [1.0, 0.05, 0.05]),
            ("Strong", [0.8, 0.0, 0.6]),
        ]
    )
    c = make(store, emb, ManualClock(T0 + timedelta(hours=5)))
    base = QUAKE_A
    stories = c.add(
        [
            art("https://a.example/1", "Strong earthquake shakes northern Chile", base),
            art(
                "https://b.example/2",
                "Central Chile quake report: three dead in Antofagasta",
                QUAKE_B,
                outlet="B",
                published=T0 + timedelta(hours=1),
            ),
            art(
                "https://c.example/3",
                "Odd angle on the Antofagasta quake and Codelco",
                QUAKE_B.replace("Three people", "Three residents"),
                outlet="C",
                published=T0 + timedelta(hours=2),
            ),
        ]
    )
    assert len(stories) == 1
    assert stories[0].headline == "Central Chile quake report: three dead in Antofagasta"


# --- ranking ------------------------------------------------------------------------------------


def story(sid: str, outlets: int, hours_old: float, priority: int = 0) -> Story:
    published = T0 - timedelta(hours=hours_old)
    articles = tuple(
        Article(
            key=f"{sid}-{i}",
            feed_url="f",
            url=None,
            title="t",
            text="",
            outlet=f"outlet {i}",
            content_hash="h",
            published=published,
            priority=priority,
        )
        for i in range(outlets)
    )
    return Story(sid, "t", articles, published, published)


def test_rank_weighs_outlets_recency_and_priority_deterministically() -> None:
    many_old = story("many-old", outlets=4, hours_old=20)
    one_fresh = story("one-fresh", outlets=1, hours_old=1)
    one_old = story("one-old", outlets=1, hours_old=30)
    priority = story("priority", outlets=1, hours_old=30, priority=3)
    twin_a = story("twin-a", outlets=2, hours_old=5)
    twin_b = story("twin-b", outlets=2, hours_old=5)
    ranked = rank([one_old, twin_b, one_fresh, priority, many_old, twin_a], T0)
    # 4 outlets 20 h ago: 2*log2(5) + 3*0.5^(20/12) = 5.59; priority 3 at 30 h: 2 + 3 + 0.53 =
    # 5.53; 2 outlets 5 h ago: 3.17 + 2.25 = 5.42 (equal twins break on id); 1 outlet 1 h: 4.83.
    assert [s.id for s in ranked] == [
        "many-old",
        "priority",
        "twin-a",
        "twin-b",
        "one-fresh",
        "one-old",
    ]
    assert story_score(many_old, T0) > story_score(one_fresh, T0)
    # No hidden cap: every story comes back.
    many = [story(f"s{i:03d}", 1, i) for i in range(150)]
    assert len(rank(many, T0)) == 150


def test_templated_stories_with_other_facts_are_not_wire_copies() -> None:
    store = Store.memory()
    template = (
        "{org} reported quarterly revenue of ${rev} billion on Tuesday, above analysts' average "
        "estimate, helped by strong demand in its largest markets. Net profit rose to ${profit} "
        "million from a year earlier. Chief Executive {ceo} said the company expected growth to "
        "continue through the rest of the year and raised its outlook. Shares rose in extended "
        "trading after the results were published."
    )
    a_text = template.format(org="Norvik Motors", rev="4.2", profit="310", ceo="Lena Vos")
    b_text = template.format(org="Castell Foods", rev="2.7", profit="145", ceo="Maria Lindqvist")
    # Orthogonal vectors: only the near-duplicate level could merge these.
    emb = FixedEmbedder([("Norvik", [1, 0, 0]), ("Castell", [0, 1, 0])])
    c = make(store, emb, ManualClock(T0 + timedelta(hours=1)))
    a = art("https://a.example/norvik-q4", "Norvik Motors beats revenue estimates", a_text)
    b = art("https://b.example/castell-q4", "Castell Foods beats revenue estimates", b_text)
    c.add([a, b])
    assert story_of(store, a.key) != story_of(store, b.key)
    # The same template with the same facts is one text (a copy), and merges.
    copy_text = a_text.replace("Tuesday", "Tue")
    copy = art("https://c.example/norvik", "Norvik tops estimates", copy_text)
    c.add([copy])
    assert story_of(store, copy.key) == story_of(store, a.key)
    assert c.explain(story_of(store, a.key) or "")[0].level == "near_duplicate"
