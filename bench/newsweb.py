"""A loopback news web for benchmarks: N feeds x M items, article pages, served on 127.0.0.1.

Everything is generated here, deterministically from a seed: invented outlets, people, places and
events, told in sentences assembled from templates and word lists (no real article text). Some
events are told by several outlets in different words (and a few are syndicated wire copy told in
the same words), so clustering has real work. Pages are realistic in size (600-1,500 words of
body) and carry the boilerplate real pages have: navigation, a cookie banner, a newsletter box,
inline ads and "read more" links, related and most-read lists, captions and a footer, in five
different layouts. The body text of each page is known (`NewsWeb.gold_text`), for extraction F1.

The server speaks HTTP/1.1 with keep-alive, ETag / Last-Modified and 304 on If-None-Match /
If-Modified-Since, for feeds and pages alike. `add_items(k)` publishes k new items between runs;
a feed shows its newest `items_per_feed` items, like real feeds.

Run it as its own process so its CPU time is not charged to the pipeline being measured:

    python -m bench.newsweb --feeds 100 --items 20      # prints the base URL, serves until killed

and add items from outside with `POST /_admin/add?k=50` (answers with the new item count).
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

# --- vocabulary (all invented; combined at random so no two pages read alike) -------------------

FIRST_NAMES = (
    "Amara Bram Celia Dorian Elsbeth Farid Greta Hollis Ines Jonah Kasia Lionel Marisol Nadim "
    "Odile Pavel Quinn Rosalind Soren Tamsin Ulrich Vera Wendell Ximena Yusuf Zelda Anouk Basil "
    "Corin Delphine Emeric Flora Gideon Hanne Ivo Juno Kenji Leontine Mateo Nerys Osric Petra "
    "Rafe Saoirse Tobiah Una Viggo Wren Adaeze Bartholomew Cosima Dmitri Eamon Fenna Gaspard"
).split()
LAST_NAMES = (
    "Abernathy Blackwood Castellane Dunmore Ellery Fairweather Galloway Hargreave Iverson "
    "Jessop Kettering Lindqvist Marchetti Northcote Okonkwo Pemberton Quarrington Rasmussen "
    "Stavros Thackeray Underhill Valdivia Whitcombe Yardley Zielinski Ashgrove Brannock "
    "Calloway Delacroix Esterhazy Fenwick Gorski Holloway Ingram Jankowski Kavanagh Lockridge "
    "Montague Nakashima Oyelaran Prendergast Ravenscroft Sandoval Treadwell Umberfield "
    "Vasquez-Hale Winterbourne Achterberg Bellamy Corrigan Drummond Eastwick Foxhall"
).split()
PLACES = (
    "Port Allenby|Kessington|Marrow Bay|Elderfield|Westhaven|Dunmore Falls|Caldecott|Ravensholm|"
    "Thornbury Cross|Lowmarsh|Brightwater|Hollins Ferry|Saltcombe|Ashby Vale|Greystone|"
    "North Quarry|Fennimore|Oakhurst|Millbrook Heights|Carraway|Pellham|Stonebridge|Wexmoor|"
    "Linden Harbour|Rookwood|Eastmere|Halberd Point|Cinder Hill|Lanark Springs|Maple Reach|"
    "Idlewood|Barrowgate|Sunderby|Quillon|Kestrel Bay|Drayford|Veldt Crossing|Orrin Valley|"
    "Juniper Flats|Wyvern Sound"
).split("|")
OUTLET_NOUNS = (
    "Courier Gazette Herald Ledger Chronicle Dispatch Sentinel Observer Post Tribune Mercury "
    "Examiner Record Bulletin Clarion Star Beacon Register"
).split()
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
MONTHS = "January February March April May June July August September October November".split()

# Verb forms: base, third person present, past, past participle.
VERBS = [
    ("approve", "approves", "approved", "approved"),
    ("announce", "announces", "announced", "announced"),
    ("halt", "halts", "halted", "halted"),
    ("delay", "delays", "delayed", "delayed"),
    ("unveil", "unveils", "unveiled", "unveiled"),
    ("scrap", "scraps", "scrapped", "scrapped"),
    ("expand", "expands", "expanded", "expanded"),
    ("back", "backs", "backed", "backed"),
    ("suspend", "suspends", "suspended", "suspended"),
    ("fund", "funds", "funded", "funded"),
    ("review", "reviews", "reviewed", "reviewed"),
    ("reject", "rejects", "rejected", "rejected"),
]


@dataclass(frozen=True)
class Topic:
    """Words for one beat: who acts, on what, and what people say about it."""

    name: str
    section: str
    orgs: tuple[str, ...]
    roles: tuple[str, ...]
    objects: tuple[tuple[str, str], ...]  # (short headline noun phrase, long phrase)
    units: tuple[str, ...]
    subjects: tuple[str, ...]
    concerns: tuple[str, ...]


TOPICS = (
    Topic(
        "transport",
        "Local",
        (
            "Northgate Rail",
            "the Metro Transit Authority",
            "Harbourline Ferries",
            "the regional roads agency",
            "Skyway Airports",
            "the county bus company",
        ),
        ("transport minister", "chief executive", "network director", "council transport lead"),
        (
            ("tunnel upgrade", "an upgrade of the harbour tunnel"),
            ("tram extension", "a long-promised extension of the tram line"),
            ("ferry timetable", "a new winter timetable for the island ferries"),
            ("bypass plan", "a plan for a bypass around the old town"),
            ("runway project", "the second runway project at the airport"),
            ("fare rise", "an increase in peak-time fares"),
        ),
        ("passengers a day", "bus routes", "kilometres of track", "parking spaces"),
        (
            "commuters",
            "station staff",
            "residents near the line",
            "taxi drivers",
            "the rail unions",
            "cycling groups",
        ),
        (
            "overcrowding at peak hours",
            "the cost of season tickets",
            "noise from night works",
            "repeated signal failures",
            "the state of the rolling stock",
        ),
    ),
    Topic(
        "economy",
        "Business",
        (
            "Calloway Steelworks",
            "the Bank of Wyvern",
            "Orrin Valley Foods",
            "Kestrel Logistics",
            "the chamber of commerce",
            "Fennimore Textiles",
        ),
        ("finance secretary", "chief financial officer", "chief economist", "managing director"),
        (
            ("factory closure", "the closure of its oldest factory"),
            ("rate decision", "a surprise change to its lending rate"),
            ("export deal", "an export deal with three overseas buyers"),
            ("pay settlement", "a two-year pay settlement for its workforce"),
            ("takeover bid", "a takeover bid for a smaller rival"),
            ("jobs plan", "a plan to move hundreds of jobs to the coast"),
        ),
        ("jobs", "million in annual savings", "tonnes of output", "new contracts"),
        (
            "shareholders",
            "small business owners",
            "economists",
            "the unions",
            "pension fund managers",
            "suppliers",
        ),
        (
            "rising energy bills",
            "a slowdown in orders",
            "the strength of the currency",
            "late payments from customers",
            "the shortage of skilled welders",
        ),
    ),
    Topic(
        "health",
        "Health",
        (
            "the Eastmere hospital trust",
            "the regional health board",
            "Greystone Medical Centre",
            "the college of nurses",
            "Linden Pharmaceuticals",
            "the public health office",
        ),
        ("health minister", "medical director", "chief nurse", "head of public health"),
        (
            ("ward closures", "the temporary closure of two surgical wards"),
            ("vaccine rollout", "a faster rollout of the seasonal vaccine"),
            ("waiting list plan", "a plan to cut waiting lists for knee operations"),
            ("clinic opening", "the opening of a walk-in clinic"),
            ("drug trial", "a trial of a new asthma treatment"),
            ("staffing review", "a review of night staffing on children's wards"),
        ),
        ("patients", "beds", "nurses", "appointments a week"),
        (
            "patient groups",
            "junior doctors",
            "pharmacists",
            "carers",
            "family doctors",
            "hospital managers",
        ),
        (
            "long waits in the emergency department",
            "the cost of agency staff",
            "delays in discharging elderly patients",
            "a shortage of midwives",
            "the backlog of routine scans",
        ),
    ),
    Topic(
        "climate",
        "Environment",
        (
            "the coastal flood agency",
            "Brightwater Energy",
            "the national parks service",
            "the water regulator",
            "Saltcombe Wind",
            "the environment department",
        ),
        ("environment secretary", "chief scientist", "head of operations", "park director"),
        (
            ("flood defences", "new flood defences along the estuary"),
            ("wind farm", "an offshore wind farm of forty turbines"),
            ("water restrictions", "restrictions on garden hoses during the dry spell"),
            ("peat restoration", "the restoration of a damaged peat bog"),
            ("solar scheme", "a solar scheme for school roofs"),
            ("river clean-up", "a clean-up of the polluted lower river"),
        ),
        ("homes", "hectares", "megawatts", "litres a day"),
        (
            "farmers",
            "anglers",
            "conservation groups",
            "holiday park owners",
            "ecologists",
            "homeowners on the flood plain",
        ),
        (
            "sewage spills after heavy rain",
            "the pace of coastal erosion",
            "the loss of wading birds",
            "higher water bills",
            "dust from the quarry",
        ),
    ),
    Topic(
        "technology",
        "Technology",
        (
            "Quillon Systems",
            "the data protection office",
            "Halberd Semiconductors",
            "the digital skills agency",
            "Cinder Hill Networks",
            "Pellham Robotics",
        ),
        ("chief technology officer", "digital minister", "founder", "information commissioner"),
        (
            ("chip plant", "a chip packaging plant on the old airfield"),
            ("broadband rollout", "a rural broadband rollout"),
            ("data breach inquiry", "an inquiry into a data breach at a payroll firm"),
            ("app ban", "a ban on a popular messaging app in schools"),
            ("robot trial", "a trial of delivery robots on city pavements"),
            ("coding academy", "a free coding academy for school leavers"),
        ),
        ("customers", "engineers", "households", "devices"),
        (
            "privacy campaigners",
            "software developers",
            "parents",
            "rival firms",
            "teachers",
            "security researchers",
        ),
        (
            "the handling of personal data",
            "outages during peak hours",
            "rising device prices",
            "the lack of local engineers",
            "patchy rural coverage",
        ),
    ),
    Topic(
        "education",
        "Education",
        (
            "the Ashby Vale school board",
            "Kessington University",
            "the exams authority",
            "the teachers' federation",
            "Drayford Academy Trust",
            "the education department",
        ),
        ("education minister", "vice-chancellor", "head teacher", "schools inspector"),
        (
            ("school merger", "the merger of two secondary schools"),
            ("tuition freeze", "a freeze on tuition fees for local students"),
            ("exam reform", "a reform of the final-year exams"),
            ("campus expansion", "a campus expansion on the riverside"),
            ("free meals scheme", "a free school meals scheme"),
            ("phone ban", "a ban on phones in classrooms"),
        ),
        ("pupils", "students", "teaching posts", "classrooms"),
        (
            "parents",
            "students' unions",
            "head teachers",
            "governors",
            "lecturers",
            "school bus operators",
        ),
        (
            "class sizes",
            "crumbling school buildings",
            "the cost of student housing",
            "teacher recruitment",
            "grade inflation",
        ),
    ),
    Topic(
        "courts",
        "Crime & Justice",
        (
            "the Rookwood crown court",
            "the police watchdog",
            "the Eastmere police",
            "the appeal court",
            "the prosecutors' office",
            "the prisons service",
        ),
        ("chief constable", "lead prosecutor", "presiding judge", "prisons inspector"),
        (
            ("fraud trial", "the trial of three former council officials for fraud"),
            ("custody review", "a review of deaths in police custody"),
            ("prison expansion", "the expansion of the women's prison"),
            ("gang crackdown", "a crackdown on gangs dealing on the waterfront"),
            ("sentencing appeal", "an appeal against the sentences in the harbour arson case"),
            ("body camera policy", "a new policy on body-worn cameras"),
        ),
        ("officers", "cases", "prison places", "arrests"),
        (
            "victims' groups",
            "defence lawyers",
            "civil liberties campaigners",
            "shopkeepers",
            "the police federation",
            "local councillors",
        ),
        (
            "the backlog of court cases",
            "overcrowding in cells",
            "response times at night",
            "the cost of legal aid",
            "knife crime among teenagers",
        ),
    ),
    Topic(
        "sport",
        "Sport",
        (
            "Marrow Bay Rovers",
            "the national athletics federation",
            "Stonebridge Cricket Club",
            "the Wexmoor marathon organisers",
            "Thornbury Cross United",
            "the cycling union",
        ),
        ("head coach", "club chairman", "team captain", "sporting director"),
        (
            ("stadium move", "a move to a new stadium by the docks"),
            ("doping ban", "a four-year doping ban for a sprinter"),
            ("coach sacking", "the sacking of its head coach after a losing run"),
            ("record transfer", "a record transfer for a teenage striker"),
            ("course change", "a change to the marathon course"),
            ("youth academy", "a new youth academy"),
        ),
        ("fans", "seats", "points", "runners"),
        (
            "season ticket holders",
            "former players",
            "rival clubs",
            "local pubs",
            "the supporters' trust",
            "commentators",
        ),
        (
            "ticket prices",
            "the state of the pitch",
            "a run of injuries",
            "the club's debts",
            "crowd trouble at away games",
        ),
    ),
)

HEADLINE_TEMPLATES = (
    "{Org} {verb_s} {short} in {place}",
    "{place}: {org} {verb_past} {short}",
    "{Short} {verb_pp} as {org} acts in {place}",
    "{Actor_last} says {org} will {verb} {short}",
    "{Org} to {verb} {short}, {role} {Actor_last} confirms",
    "Why {org} {verb_past} the {place} {short}",
    "{place} {short}: {org} {verb_s} plan after {amount_short}",
)

LEAD_TEMPLATES = (
    "{Org} has {verb_pp} {long} in {place}, {role} {actor} said on {day}, in a decision "
    "that affects about {amount}.",
    "On {day}, {org} {verb_past} {long}, a move that {actor}, its {role}, said would touch "
    "roughly {amount} across {place}.",
    "{Role_cap} {actor} confirmed on {day} that {org} had {verb_pp} {long}, putting some "
    "{amount} in {place} in question.",
    "{long_cap} has been {verb_pp} by {org}, according to {role} {actor}, who told reporters "
    "in {place} on {day} that around {amount} were involved.",
    "In {place}, {org} {verb_past} {long} on {day}. {Role_cap} {actor} said the change "
    "concerned about {amount}.",
)

QUOTE_TEMPLATES = (
    "We looked at every option and this was the one that made sense for {place}",
    "Nobody pretends this is easy, but {concern} could not be ignored any longer",
    "I understand why people are worried, and we will keep listening to {subject}",
    "The numbers speak for themselves: {amount} is not something we can walk away from",
    "This has taken far too long, and I make no apology for moving quickly now",
    "We owe it to {subject} to get this right the first time",
    "There will be difficult months ahead, but the direction is clear",
)

CRITIC_TEMPLATES = (
    "{critic}, a {critic_role} who has followed the issue for years, called the decision "
    "\u201c{adj}\u201d and said {subject} had not been properly consulted.",
    "Not everyone was convinced. {critic}, speaking for {subject}, said the plan did little "
    "about {concern}.",
    "{critic} warned that {concern} would only get worse unless {org} published its "
    "figures in full.",
    "Critics including {critic} argued that {org} had ignored years of complaints about {concern}.",
)
CRITIC_ADJ = (
    "rushed",
    "short-sighted",
    "a missed opportunity",
    "long overdue but timid",
    "baffling",
    "a step in the right direction, at best",
)

NEXT_TEMPLATES = (
    "A final vote is expected in {month}, and {org} has promised a public meeting in "
    "{place} before then.",
    "{Org} said it would publish a detailed timetable by the end of {month}.",
    "The first changes are due to take effect in {month}, subject to a review by the regulator.",
    "{actor_last} is due to appear before a committee of local representatives in {month} "
    "to answer questions on the plan.",
)

OPENERS = (
    "",
    "",
    "",
    "",
    "",
    "Meanwhile, ",
    "Even so, ",
    "For now, ",
    "In recent weeks, ",
    "By some estimates, ",
    "Over the past year, ",
    "At the same time, ",
    "According to people familiar with the talks, ",
    "Privately, ",
    "Since then, ",
    "On the ground, ",
    "In practice, ",
    "Still, ",
    "Earlier this year, ",
    "Locally, ",
    "Behind the scenes, ",
    "Perhaps unsurprisingly, ",
    "By contrast, ",
)
VERB_PHRASES = (
    "have warned about",
    "are still weighing",
    "pushed back against",
    "quietly welcomed",
    "questioned the cost of",
    "raised concerns over",
    "called for an independent review of",
    "asked for more detail on",
    "have lobbied for years over",
    "remain divided on",
    "were briefed on",
    "seem resigned to",
    "have campaigned against",
    "are preparing for",
    "spent months studying",
    "were surprised by",
)
GENERIC_SUBJECTS = (
    "local officials",
    "opposition councillors",
    "analysts",
    "some residents",
    "community leaders",
    "two former ministers",
    "independent experts",
    "neighbouring councils",
    "several charities",
    "business groups",
)
TAILS = (
    "",
    "",
    "",
    " after months of uncertainty",
    " ahead of the winter",
    " despite earlier promises",
    ", citing rising costs",
    " in private meetings",
    ", according to minutes seen by this newspaper",
    " since the spring",
    " without much public debate",
    ", though few expect a quick answer",
    " at a packed meeting in the town hall",
    " in letters to the regulator",
    " long before the latest announcement",
    ", at least in public",
    " on more than one occasion",
    " in a survey last autumn",
    " over the summer",
)
GENERIC_OBJECTS = (
    "the consultation",
    "the timetable",
    "the paperwork involved",
    "next year's budget",
    "the small print",
    "the legal advice",
    "the promised compensation",
    "the independent audit",
    "the wording of the agreement",
    "the public meetings",
    "how the money will be spent",
    "who pays for the changes",
    "the speed of the decision",
    "the role of outside consultants",
    "the impact on nearby streets",
    "the promised jobs",
)
# Sentences built around the event's own people and places, so outlets telling one event share
# its names and numbers while the rest of their wording differs.
EVENT_SENTENCES = (
    "{actor_last} has held the post of {role} since {year}.",
    "{Org} employs several hundred people in and around {place}.",
    "A spokesperson for {org} declined to give further details on {day}.",
    "{critic} said {subject} would hold a meeting of their own in {place}.",
    "The decision was taken at a meeting in {place} that lasted most of {day}.",
    "{actor_last} did not say how long the {short} would take.",
    "People in {place} learned of the {short} from a short statement.",
    "The {short} had been discussed for months before {day}'s announcement.",
    "{Org} said the figure of {amount} was an estimate and could change.",
    "{actor_last} later repeated the figure of {amount} in a radio interview.",
    "Asked whether {org} had considered alternatives, {actor_last} said it had.",
    "In {place}, opinion on the {short} appears evenly divided.",
)
STAT_TEMPLATES = (
    "Figures published last {month} put the total at {n} {unit}, up from {m} a year earlier.",
    "The last comparable review, in {year}, counted {m} {unit}; the latest count is closer to {n}.",
    "Officials say {n} {unit} would be affected in the first phase alone.",
    "That compares with {m} {unit} when the previous plan was drawn up in {year}.",
)
BACKGROUND_TEMPLATES = (
    "The issue has simmered in {place} since at least {year}, when {subject} first "
    "complained about {concern}.",
    "It is not the first time {org} has faced questions over {concern}.",
    "Long before the announcement, {subject} had been pressing for action on {concern}.",
    "The debate has split opinion in {place}, where {concern} has been a recurring theme "
    "at public meetings.",
)
SUBHEADS = (
    "What happens next",
    "A long-running dispute",
    "Costs and benefits",
    "Reaction in {place}",
    "The numbers",
    "How we got here",
    "Who is affected",
    "Questions remain",
    "The view from {place}",
    "A wider pattern",
)

# --- boilerplate --------------------------------------------------------------------------------

NAV = (
    "Home",
    "News",
    "Local",
    "Business",
    "Health",
    "Environment",
    "Technology",
    "Education",
    "Sport",
    "Opinion",
    "Weather",
    "Puzzles",
    "Podcasts",
    "Subscribe",
)
COOKIE_TEXTS = (
    "We and our partners use cookies and similar technologies to personalise content and "
    "ads, to provide social media features and to analyse our traffic. You can change your "
    "choices at any time from the privacy settings page.",
    "This site uses cookies. Some are essential to make the site work; others help us "
    "understand how you use it so that we can improve it. Choose Accept to allow all, or "
    "Manage to pick.",
)
NEWSLETTER = (
    "Get the morning briefing",
    "Sign up for our daily newsletter and get the top "
    "stories from across the region in your inbox before breakfast. No spam, "
    "unsubscribe at any time.",
)
FOOTER_TEXT = (
    "{outlet} is published by {publisher} Media Group. All rights reserved. "
    "Reproduction in whole or in part without permission is prohibited. Our "
    "journalists follow the editors' code of practice; if you have a complaint, "
    "please contact the readers' editor."
)
FOOTER_LINKS = (
    "About us",
    "Contact",
    "Advertise",
    "Careers",
    "Terms of use",
    "Privacy policy",
    "Cookie settings",
    "Accessibility",
    "Sitemap",
    "Archive",
)
LAYOUTS = ("story", "wordpress", "modern", "legacy", "amp")

TINY_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


# --- the model of the news web ------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """One outlet: its feed, its layout and how much its feed tells."""

    index: int
    slug: str
    name: str
    layout: str
    feed_format: str  # "rss" | "atom"
    full_content: bool  # the feed carries the whole article (no page fetch needed)


@dataclass(frozen=True)
class Event:
    """Something that happened; several sites may report it in their own words."""

    index: int
    topic: Topic
    org: str
    actor: str
    role: str
    place: str
    obj: tuple[str, str]
    verb: tuple[str, str, str, str]
    amount: str
    amount_short: str
    day: str
    critic: str
    critic_role: str
    month: str


@dataclass(frozen=True)
class NewsItem:
    """One published article: where it lives, what it says, and its known body text."""

    site: int
    serial: int  # global publication order
    slug: str
    event: int
    title: str
    author: str
    published: datetime
    blocks: tuple[tuple[str, str], ...]  # ("h2" | "p", text): the body, in order
    teaser: str
    wire_of: int | None = None  # serial of the item this one copies (syndicated wire copy)

    @property
    def path(self) -> str:
        """The page's path on the server."""
        return f"/{self.slug}"

    @property
    def words(self) -> int:
        """Words in the body."""
        return sum(len(text.split()) for _, text in self.blocks)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _money_or_count(rng: random.Random, topic: Topic) -> tuple[str, str]:
    n = rng.choice((120, 340, 850, 1200, 2400, 3600, 4800, 7500, 12000, 18500, 26000, 41000))
    n = int(n * rng.uniform(0.8, 1.25)) // 10 * 10
    unit = rng.choice(topic.units)
    return f"{n:,} {unit}", f"{n:,} {unit.split()[0]}"


class NewsWeb:
    """The generated news web: sites, events and items. Deterministic for a given seed."""

    def __init__(
        self,
        feeds: int = 100,
        items_per_feed: int = 20,
        *,
        seed: int = 1,
        now: datetime | None = None,
        full_content_share: float = 0.1,
    ) -> None:
        self.items_per_feed = items_per_feed
        self._rng = random.Random(seed)
        self._seed = seed
        self._now = now or datetime.now(UTC).replace(microsecond=0)
        self._lock = threading.RLock()
        self.sites = self._make_sites(feeds, full_content_share)
        self.events: list[Event] = []
        self.items: list[NewsItem] = []
        self.by_path: dict[str, NewsItem] = {}
        self._site_items: list[list[NewsItem]] = [[] for _ in self.sites]
        self._chrome: dict[int, tuple[str, str, str]] = {}
        # Per-feed version and modification time: bumped when the feed gains an item.
        self.feed_modified: list[datetime] = [self._now - timedelta(days=1) for _ in self.sites]
        self._publish_initial()
        for site, items in enumerate(self._site_items):
            if items:
                self.feed_modified[site] = max(i.published for i in items)

    # --- generation ---------------------------------------------------------------------------

    def _make_sites(self, n: int, full_share: float) -> list[Site]:
        rng = self._rng
        names: list[str] = []
        seen = set()
        while len(names) < n:
            base = rng.choice(PLACES) if rng.random() < 0.7 else rng.choice(("The Daily", "The"))
            name = f"{base} {rng.choice(OUTLET_NOUNS)}"
            if len(seen) >= len(PLACES) * len(OUTLET_NOUNS):
                name = f"{name} {len(names)}"
            if name in seen:
                continue
            seen.add(name)
            names.append(name)
        sites = []
        for i, name in enumerate(names):
            slug = "-".join(name.lower().replace("the ", "").split()) + f"-{i}"
            sites.append(
                Site(
                    index=i,
                    slug=slug,
                    name=name,
                    layout=LAYOUTS[i % len(LAYOUTS)],
                    feed_format="atom" if i % 4 == 3 else "rss",
                    full_content=rng.random() < full_share,
                )
            )
        return sites

    def _new_event(self) -> Event:
        rng = self._rng
        topic = rng.choice(TOPICS)
        amount, amount_short = _money_or_count(rng, topic)
        event = Event(
            index=len(self.events),
            topic=topic,
            org=rng.choice(topic.orgs),
            actor=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            role=rng.choice(topic.roles),
            place=rng.choice(PLACES),
            obj=rng.choice(topic.objects),
            verb=rng.choice(VERBS),
            amount=amount,
            amount_short=amount_short,
            day=rng.choice(DAYS),
            critic=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            critic_role=rng.choice(
                (
                    "campaigner",
                    "councillor",
                    "researcher",
                    "union official",
                    "former adviser",
                    "local business owner",
                )
            ),
            month=rng.choice(MONTHS),
        )
        self.events.append(event)
        return event

    def _coverage(self) -> int:
        """How many outlets tell one event: most tell it alone, some stories run everywhere."""
        r = self._rng.random()
        if r < 0.62:
            return 1
        if r < 0.80:
            return 2
        if r < 0.92:
            return 3
        return self._rng.randint(4, 6)

    def _write(self, event: Event, site: Site, serial: int, published: datetime) -> NewsItem:
        """One outlet's telling of an event: its own headline, order, quotes and filler."""
        rng = random.Random(f"{self._seed}:{event.index}:{site.index}:{serial}")
        t = event.topic
        actor_last = event.actor.split()[-1]
        slots = {
            "org": event.org,
            "Org": _cap(event.org),
            "actor": event.actor,
            "actor_last": actor_last,
            "Actor_last": actor_last,
            "role": event.role,
            "Role_cap": _cap(event.role),
            "place": event.place,
            "short": event.obj[0],
            "Short": _cap(event.obj[0]),
            "long": event.obj[1],
            "long_cap": _cap(event.obj[1]),
            "verb": event.verb[0],
            "verb_s": event.verb[1],
            "verb_past": event.verb[2],
            "verb_pp": event.verb[3],
            "amount": event.amount,
            "amount_short": event.amount_short,
            "day": event.day,
            "critic": event.critic,
            "critic_role": event.critic_role,
            "month": event.month,
        }

        def fill(template: str) -> str:
            local = dict(slots)
            local.update(
                subject=rng.choice(t.subjects),
                concern=rng.choice(t.concerns),
                adj=rng.choice(CRITIC_ADJ),
                year=str(rng.randint(2009, 2022)),
                n=f"{rng.randint(120, 9800):,}",
                m=f"{rng.randint(90, 7000):,}",
                unit=rng.choice(t.units),
                month=rng.choice(MONTHS)
                if "{month}" in template and rng.random() < 0.3
                else event.month,
            )
            return template.format(**local)

        deck: list[str] = []

        def filler() -> str:
            if rng.random() < 0.3:
                # Dealt from a shuffled deck, so one article does not repeat itself.
                if not deck:
                    deck.extend(EVENT_SENTENCES)
                    rng.shuffle(deck)
                return fill(deck.pop())
            subject = rng.choice(t.subjects + GENERIC_SUBJECTS)
            obj = rng.choice(t.concerns + GENERIC_OBJECTS + (f"the {event.obj[0]}",))
            tail = rng.choice(TAILS)
            opener = rng.choice(OPENERS)
            return _cap(f"{opener}{subject} {rng.choice(VERB_PHRASES)} {obj}{tail}.")

        title = fill(rng.choice(HEADLINE_TEMPLATES))
        lead = fill(rng.choice(LEAD_TEMPLATES))
        quote = fill(rng.choice(QUOTE_TEMPLATES))
        said = rng.choice(("said", "told reporters", "said in a statement", "added"))
        blocks: list[tuple[str, str]] = [("p", lead)]
        middle: list[str] = [
            f"\u201c{quote},\u201d {actor_last} {said}.",
            fill(rng.choice(STAT_TEMPLATES)) + " " + fill(rng.choice(STAT_TEMPLATES)),
            fill(rng.choice(BACKGROUND_TEMPLATES)) + " " + " ".join(filler() for _ in range(2)),
            fill(rng.choice(CRITIC_TEMPLATES)) + " " + filler(),
        ]
        rng.shuffle(middle)
        target = rng.randint(600, 1500)
        words = len(lead.split())
        body: list[str] = []
        for para in middle:
            body.append(para)
            words += len(para.split())
        while words < target - 60:
            sentences = [filler() for _ in range(rng.randint(2, 4))]
            if rng.random() < 0.35:
                sentences.insert(rng.randint(0, len(sentences)), fill(rng.choice(STAT_TEMPLATES)))
            if rng.random() < 0.25:
                sentences.append(
                    f"\u201c{fill(rng.choice(QUOTE_TEMPLATES))},\u201d said "
                    f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}, one of the "
                    f"{rng.choice(t.subjects)}."
                )
            para = " ".join(sentences)
            body.insert(rng.randint(1, len(body)), para)
            words += len(para.split())
        body.append(fill(rng.choice(NEXT_TEMPLATES)))
        heads = list(SUBHEADS)
        rng.shuffle(heads)
        for i, para in enumerate(body):
            if i and i % rng.randint(4, 6) == 0 and heads:
                blocks.append(("h2", fill(heads.pop())))
            blocks.append(("p", para))
        teaser_words = lead.split()[: rng.randint(22, 40)]
        teaser = " ".join(teaser_words).rstrip(",.;") + "\u2026"
        author = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        words_slug = "-".join(
            w.strip(":,").lower() for w in title.split()[:8] if w.strip(":,").isalnum()
        )
        slug = f"{site.slug}/{published:%Y/%m/%d}/{words_slug}-{serial}"
        return NewsItem(
            site=site.index,
            serial=serial,
            slug=slug,
            event=event.index,
            title=title,
            author=author,
            published=published,
            blocks=tuple(blocks),
            teaser=teaser,
        )

    def _wire_copy(self, original: NewsItem, site: Site, serial: int, when: datetime) -> NewsItem:
        """The same agency text republished by another outlet under its own URL."""
        slug = f"{site.slug}/{when:%Y/%m/%d}/wire-{original.serial}-{serial}"
        return NewsItem(
            site=site.index,
            serial=serial,
            slug=slug,
            event=original.event,
            title=original.title,
            author="Staff and agencies",
            published=when,
            blocks=original.blocks,
            teaser=original.teaser,
            wire_of=original.serial,
        )

    def _publish(self, plan: list[int], start: datetime, spacing: timedelta) -> list[NewsItem]:
        """Write one item per entry of `plan` (a site index), grouping sites into events."""
        rng = self._rng
        pending = list(plan)
        rng.shuffle(pending)
        made: list[NewsItem] = []
        when = start
        while pending:
            event = self._new_event()
            want = self._coverage()
            sites: list[int] = []
            for s in list(pending):
                if len(sites) >= want:
                    break
                if s not in sites:
                    sites.append(s)
                    pending.remove(s)
            first: NewsItem | None = None
            for s in sites:
                serial = len(self.items)
                site = self.sites[s]
                if first is not None and rng.random() < 0.15:
                    item = self._wire_copy(first, site, serial, when)
                else:
                    item = self._write(event, site, serial, when)
                first = first or item
                self.items.append(item)
                self.by_path[item.path] = item
                self._site_items[s].append(item)
                made.append(item)
                when += spacing
        return made

    def _publish_initial(self) -> None:
        plan = [s.index for s in self.sites for _ in range(self.items_per_feed)]
        total = max(1, len(plan))
        # Spread the first batch over the last 20 hours, so it sits inside any story window.
        spacing = timedelta(seconds=max(1, int(20 * 3600 / total)))
        self._publish(plan, self._now - timedelta(hours=20), spacing)

    def add_items(self, k: int, *, now: datetime | None = None) -> list[NewsItem]:
        """Publish k new items on sites picked at random; their feeds change (new ETag)."""
        with self._lock:
            when = now or max(self._now, max((i.published for i in self.items), default=self._now))
            when += timedelta(seconds=1)
            plan = [self._rng.randrange(len(self.sites)) for _ in range(k)]
            made = self._publish(plan, when, timedelta(seconds=1))
            for site in {i.site for i in made}:
                # Strictly later than before, so If-Modified-Since never hides a change.
                self.feed_modified[site] = max(
                    self.feed_modified[site] + timedelta(seconds=1),
                    max(i.published for i in made),
                )
            return made

    # --- views --------------------------------------------------------------------------------

    def feed_items(self, site: int) -> list[NewsItem]:
        """What the feed shows now: the site's newest items, newest first."""
        with self._lock:
            items = self._site_items[site][-self.items_per_feed :]
        return list(reversed(items))

    def feed_path(self, site: int) -> str:
        """The feed's path on the server."""
        s = self.sites[site]
        return f"/feeds/{s.slug}.{'atom' if s.feed_format == 'atom' else 'xml'}"

    def gold_text(self, item: NewsItem) -> str:
        """The body as a reader sees it: subheadings and paragraphs, blank-line separated."""
        return "\n\n".join(text for _, text in item.blocks)

    def render_feed(self, site: int, base_url: str) -> bytes:
        """The feed document (RSS 2.0 or Atom) as it stands now."""
        s = self.sites[site]
        items = self.feed_items(site)
        home = f"{base_url}/{s.slug}/"
        updated = self.feed_modified[site]
        if s.feed_format == "atom":
            return _atom(s, items, base_url, home, updated)
        return _rss(s, items, base_url, home, updated)

    def chrome(self, site: Site) -> tuple[str, str, str]:
        """The site's inline CSS, script and mega-menu (built once per site)."""
        with self._lock:
            if site.index not in self._chrome:
                self._chrome[site.index] = _chrome(site)
            return self._chrome[site.index]

    def render_page(self, item: NewsItem, base_url: str) -> bytes:
        """The article page: the body inside its site's layout and boilerplate."""
        return _page(self, item, base_url).encode("utf-8")


# --- documents ----------------------------------------------------------------------------------


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _rss(site: Site, items: Sequence[NewsItem], base: str, home: str, updated: datetime) -> bytes:
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>',
        f"<title>{_e(site.name)}</title><link>{_e(home)}</link>",
        f"<description>{_e(site.name)}: news as it happens</description>",
        f"<language>en-gb</language><lastBuildDate>{format_datetime(updated, usegmt=True)}"
        "</lastBuildDate>",
    ]
    for item in items:
        url = base + item.path
        out.append(
            f"<item><title>{_e(item.title)}</title><link>{_e(url)}</link>"
            f'<guid isPermaLink="true">{_e(url)}</guid>'
            f"<pubDate>{format_datetime(item.published, usegmt=True)}</pubDate>"
            f"<dc:creator>{_e(item.author)}</dc:creator>"
            f"<description>{_e(item.teaser)}</description>"
        )
        if site.full_content:
            body = "".join(f"<{tag}>{_e(text)}</{tag}>" for tag, text in item.blocks)
            out.append(f"<content:encoded><![CDATA[{body}]]></content:encoded>")
        out.append("</item>")
    out.append("</channel></rss>\n")
    return "\n".join(out).encode("utf-8")


def _atom(site: Site, items: Sequence[NewsItem], base: str, home: str, updated: datetime) -> bytes:
    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{_e(site.name)}</title><id>{_e(home)}</id>",
        f'<link rel="alternate" href="{_e(home)}"/>',
        f"<updated>{updated.isoformat()}</updated>",
    ]
    for item in items:
        url = base + item.path
        out.append(
            f"<entry><title>{_e(item.title)}</title><id>{_e(url)}</id>"
            f'<link rel="alternate" type="text/html" href="{_e(url)}"/>'
            f"<published>{item.published.isoformat()}</published>"
            f"<updated>{item.published.isoformat()}</updated>"
            f"<author><name>{_e(item.author)}</name></author>"
            f'<summary type="html">{_e(item.teaser)}</summary>'
        )
        if site.full_content:
            body = "".join(f"<{tag}>{_e(text)}</{tag}>" for tag, text in item.blocks)
            out.append(f'<content type="html">{_e(body)}</content>')
        out.append("</entry>")
    out.append("</feed>\n")
    return "\n".join(out).encode("utf-8")


def _chrome(site: Site) -> tuple[str, str, str]:
    """Per-site page weight that real pages carry: inline CSS, a tracking/config script and a
    mega-menu. It makes pages 60-90 KB, as real news pages are, so extraction cost is honest."""
    rng = random.Random(f"chrome:{site.index}")
    rules = []
    for n in range(rng.randint(180, 260)):
        cls = f".{rng.choice(('c', 'u', 'ds', 'gel', 'tw'))}-{n:x}{rng.randint(0, 999)}"
        rules.append(
            f"{cls}{{margin:{rng.randint(0, 32)}px {rng.randint(0, 32)}px;"
            f"color:#{rng.randint(0, 0xFFFFFF):06x};font-size:{rng.randint(11, 28)}px;"
            f"line-height:{rng.uniform(1, 2):.2f}}}"
        )
    style = "<style>" + "".join(rules) + "</style>"
    config = {
        "site": site.slug,
        "adUnits": [
            {"id": f"ad-{n}", "sizes": [[300, 250], [728, 90]], "kw": rng.sample(NAV, 3)}
            for n in range(rng.randint(30, 50))
        ],
        "experiments": {f"exp_{n}": rng.random() < 0.5 for n in range(rng.randint(40, 80))},
        "vendors": [f"vendor-{rng.randint(1000, 9999)}.example" for _ in range(60)],
    }
    script = (
        "<script>window.__SITE_CONFIG__=" + json.dumps(config) + ";(function(){var q=[];"
        "window.track=function(e){q.push(e)};})();</script>"
    )
    menu = []
    for section in NAV:
        links = "".join(
            f'<li><a href="/{site.slug}/{section.lower()}/{rng.choice(PLACES).lower()}">'
            f"{rng.choice(PLACES)}</a></li>"
            for _ in range(rng.randint(6, 12))
        )
        menu.append(f'<li class="mega"><span>{section}</span><ul>{links}</ul></li>')
    mega = f'<nav class="mega-menu" aria-label="All sections"><ul>{"".join(menu)}</ul></nav>'
    return style, script, mega


def _page(web: NewsWeb, item: NewsItem, base: str) -> str:
    """An article page in its site's layout, with the boilerplate around the body."""
    site = web.sites[item.site]
    rng = random.Random(f"page:{item.serial}")
    url = base + item.path
    others = [i for i in web.feed_items(item.site) if i.serial != item.serial] or web.items[:8]
    related = rng.sample(others, min(len(others), rng.randint(4, 7)))
    most_read = rng.sample(web.items, min(len(web.items), 5))
    published = item.published.isoformat()
    nav = "".join(f'<li><a href="/{site.slug}/{n.lower()}">{n}</a></li>' for n in NAV)
    style, script, mega = web.chrome(site)
    ld = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": item.title,
            "datePublished": published,
            "author": {"@type": "Person", "name": item.author},
            "publisher": {"@type": "Organization", "name": site.name},
            "mainEntityOfPage": url,
        }
    )
    head = (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(item.title)} | {_e(site.name)}</title>"
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="description" content="{_e(item.teaser)}">'
        f'<meta property="og:site_name" content="{_e(site.name)}">'
        f'<meta property="og:title" content="{_e(item.title)}">'
        f'<meta property="og:type" content="article">'
        f'<meta property="og:url" content="{_e(url)}">'
        f'<meta property="og:image" content="{base}/static/img/{item.serial}.gif">'
        f'<meta name="author" content="{_e(item.author)}">'
        f'<meta property="article:published_time" content="{published}">'
        f'<link rel="canonical" href="{_e(url)}">'
        f'<link rel="stylesheet" href="/static/site.css">{style}'
        f'<script type="application/ld+json">{ld}</script>'
        f"<script>window.dataLayer=window.dataLayer||[];dataLayer.push({{section:"
        f"'{web.events[item.event].topic.section}'}});</script>{script}"
        f"</head>"
    )
    cookie = (
        f'<div id="cookie-consent" class="cookie-banner" role="dialog"><p>'
        f"{rng.choice(COOKIE_TEXTS)}</p><button>Accept all</button><button>Manage</button></div>"
    )
    header = (
        f'<header class="site-header"><a class="logo" href="/{site.slug}/">{_e(site.name)}</a>'
        f'<nav class="main-nav"><ul>{nav}</ul></nav>'
        f'<form class="search" action="/search"><input name="q" placeholder="Search">'
        f"</form>{mega}</header>"
    )
    crumbs = (
        f'<ol class="breadcrumb"><li><a href="/{site.slug}/">Home</a></li>'
        f'<li><a href="/{site.slug}/news">{_e(web.events[item.event].topic.section)}</a></li></ol>'
    )
    byline = (
        f'<div class="byline">By <a rel="author" href="/{site.slug}/authors/'
        f'{item.author.lower().replace(" ", "-")}">{_e(item.author)}</a> '
        f'<time datetime="{published}">{item.published:%d %B %Y, %H:%M}</time></div>'
    )
    figure = (
        f'<figure class="lead-image"><img src="/static/img/{item.serial}.gif" alt="" '
        f'width="800" height="450"><figcaption>{_e(web.events[item.event].place)} on '
        f"{_e(web.events[item.event].day)}. Photograph: {_e(item.author)} for "
        f"{_e(site.name)}</figcaption></figure>"
    )
    share = (
        '<div class="share"><a href="#">Share on Facebook</a> <a href="#">Share on X</a> '
        '<a href="#">Email</a> <a href="#">Copy link</a></div>'
    )
    # The body: paragraphs with an ad slot and an inline "read more" link between some of them.
    body_parts: list[str] = []
    p_tag = "div" if site.layout == "legacy" else "p"
    for n, (tag, text) in enumerate(item.blocks):
        if tag == "h2":
            body_parts.append(f"<h2>{_e(text)}</h2>")
        else:
            body_parts.append(f"<{p_tag}>{_e(text)}</{p_tag}>")
        if n == 2:
            body_parts.append('<div class="ad-slot" data-ad="mpu"><span>Advertisement</span></div>')
        if n == 5 and related:
            r = related[0]
            body_parts.append(
                f'<p class="read-more"><strong>Read more:</strong> '
                f'<a href="{base + r.path}">{_e(r.title)}</a></p>'
            )
    body = "\n".join(body_parts)
    newsletter = (
        f'<aside class="newsletter"><h3>{NEWSLETTER[0]}</h3><p>{NEWSLETTER[1]}</p>'
        f'<form><input type="email" placeholder="Your email"><button>Sign up</button>'
        f"</form></aside>"
    )
    rel = "".join(f'<li><a href="{base + r.path}">{_e(r.title)}</a></li>' for r in related)
    hot = "".join(f'<li><a href="{base + r.path}">{_e(r.title)}</a></li>' for r in most_read)
    related_html = f'<aside class="related"><h3>Related stories</h3><ul>{rel}</ul></aside>'
    most_read_html = f'<aside class="most-read"><h3>Most read</h3><ol>{hot}</ol></aside>'
    comments = (
        f'<section class="comments"><h3>Comments ({rng.randint(0, 240)})</h3>'
        f"<p>Comments are moderated. Please read our community guidelines before posting."
        f"</p><button>Show comments</button></section>"
    )
    footer_links = "".join(f'<li><a href="/{site.slug}/info">{n}</a></li>' for n in FOOTER_LINKS)
    footer = (
        f'<footer class="site-footer"><ul>{footer_links}</ul><p>'
        f"{FOOTER_TEXT.format(outlet=_e(site.name), publisher=_e(site.name.split()[0]))}"
        f"</p><p>&copy; {item.published.year} {_e(site.name)}</p></footer>"
    )
    h1 = f"<h1>{_e(item.title)}</h1>"
    if site.layout == "story":
        main = (
            f'<main id="main">{crumbs}<article class="story">{h1}{byline}{figure}{share}'
            f'<div class="story-body">{body}</div></article>{newsletter}{related_html}'
            f"{comments}</main><aside class='sidebar'>{most_read_html}</aside>"
        )
    elif site.layout == "wordpress":
        main = (
            f'<div id="page" class="site"><div id="content" class="site-content">'
            f'<div id="primary" class="content-area"><main id="main" class="site-main">'
            f'<article class="post type-post hentry"><header class="entry-header">{h1}'
            f'<div class="entry-meta">{byline}</div></header>{figure}'
            f'<div class="entry-content">{body}{share}</div></article>{related_html}'
            f"{comments}</main></div><div id='secondary' class='widget-area'>{newsletter}"
            f"{most_read_html}</div></div></div>"
        )
    elif site.layout == "modern":
        main = (
            f'<div class="layout"><div class="layout__main">{crumbs}'
            f'<div class="headline-block">{h1}<p class="standfirst">{_e(item.teaser)}</p>'
            f"{byline}</div>{figure}"
            f'<section class="article__body" data-component="text-block">{body}</section>'
            f"{share}{newsletter}</div><div class='layout__rail'>{most_read_html}"
            f"{related_html}</div></div>"
        )
    elif site.layout == "legacy":
        main = (
            f'<table width="100%"><tr><td valign="top" class="col-main">{crumbs}'
            f'<div class="headline">{h1}</div>{byline}{figure}'
            f'<div id="article-text" class="text">{body}</div>{share}{comments}</td>'
            f'<td valign="top" class="col-side">{most_read_html}{related_html}{newsletter}'
            f"</td></tr></table>"
        )
    else:  # "amp": a lean page, text in <article> with few wrappers
        main = f"<main><article>{h1}{byline}{body}</article>{related_html}</main>"
    return f"{head}<body>{cookie}{header}{main}{footer}</body></html>\n"


# --- the server ---------------------------------------------------------------------------------


@dataclass
class ServerStats:
    """What the server answered, for tests and for the benchmark's sanity checks."""

    status: Counter[int] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)  # ("feed" | "page" | ...) + ":" + code
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, kind: str, code: int) -> None:
        """Record one answer (handler threads call this concurrently)."""
        with self._lock:
            self.status[code] += 1
            self.kinds[f"{kind}:{code}"] += 1


def _etag(data: bytes) -> str:
    return '"' + hashlib.sha1(data).hexdigest()[:20] + '"'


def _not_modified(headers: object, etag: str, modified: datetime) -> bool:
    """RFC 9110: If-None-Match decides when present; If-Modified-Since only without it."""
    inm = headers.get("If-None-Match")  # type: ignore[attr-defined]
    if inm is not None:
        tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
        return etag in tags or "*" in tags
    ims = headers.get("If-Modified-Since")  # type: ignore[attr-defined]
    if ims:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return modified.replace(microsecond=0) <= since
    return False


class NewsWebServer:
    """Serves a NewsWeb on 127.0.0.1 from a background thread (use as a context manager)."""

    def __init__(
        self, web: NewsWeb, host: str = "127.0.0.1", port: int = 0, *, latency: float = 0.0
    ) -> None:
        """`latency` seconds are waited before each feed or page answer: loopback answers in
        microseconds, real servers in tens to hundreds of milliseconds, and only with such a
        wait does I/O concurrency show what it is worth."""
        self.web = web
        self.latency = latency
        self.stats = ServerStats()
        self._pages: dict[str, tuple[bytes, str]] = {}
        self._feeds: dict[int, tuple[int, bytes, str]] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle on, the client's delayed ACK
            # adds ~40 ms to every response on a kept-alive connection.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass  # quiet: thousands of requests per run

            def do_GET(self) -> None:  # noqa: N802
                server._handle(self, head=False)

            def do_HEAD(self) -> None:  # noqa: N802
                server._handle(self, head=True)

            def do_POST(self) -> None:  # noqa: N802
                server._admin(self)

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256  # bursts of concurrent page fetches must not be refused

            def handle_error(self, request: object, client_address: object) -> None:
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)  # type: ignore[arg-type]

        self._httpd = Server((host, port), Handler)
        self.host, self.port = self._httpd.server_address[:2]
        self.base_url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> NewsWebServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start serving in the background."""
        self._thread.start()

    def close(self) -> None:
        """Stop serving and free the port."""
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def feed_urls(self) -> list[str]:
        """Every feed's absolute URL, in site order."""
        return [self.base_url + self.web.feed_path(s.index) for s in self.web.sites]

    def url(self, item: NewsItem) -> str:
        """An item's absolute page URL."""
        return self.base_url + item.path

    def prerender(self) -> None:
        """Render every page and feed now, so serving costs no CPU during a measured run."""
        for item in list(self.web.items):
            self.page(item)
        for site in self.web.sites:
            self.feed(site.index)

    def page(self, item: NewsItem) -> tuple[bytes, str]:
        """The page bytes and ETag (rendered once: pages never change)."""
        with self._lock:
            cached = self._pages.get(item.path)
        if cached is None:
            data = self.web.render_page(item, self.base_url)
            cached = (data, _etag(data))
            with self._lock:
                self._pages[item.path] = cached
        return cached

    def feed(self, site: int) -> tuple[bytes, str]:
        """The feed bytes and ETag, re-rendered only when the feed gained items."""
        version = len(self.web._site_items[site])
        with self._lock:
            cached = self._feeds.get(site)
        if cached is None or cached[0] != version:
            data = self.web.render_feed(site, self.base_url)
            cached = (version, data, _etag(data))
            with self._lock:
                self._feeds[site] = cached
        return cached[1], cached[2]

    def _handle(self, h: BaseHTTPRequestHandler, *, head: bool) -> None:
        path = urlsplit(h.path).path
        kind = "page"
        if path.startswith("/_admin/"):
            return self._admin_get(h, path)
        if self.latency:
            time.sleep(self.latency)  # a handler thread of its own: other answers go on
        if path.startswith("/feeds/"):
            kind = "feed"
            slug = path.removeprefix("/feeds/").rsplit(".", 1)[0]
            site = next((s.index for s in self.web.sites if s.slug == slug), None)
            if site is None:
                return self._send(h, 404, b"no such feed\n", "text/plain", kind, head=head)
            data, etag = self.feed(site)
            modified = self.web.feed_modified[site]
            ctype = (
                "application/atom+xml"
                if self.web.sites[site].feed_format == "atom"
                else "application/rss+xml"
            )
        elif path.startswith("/static/"):
            kind = "static"
            if path.endswith(".gif"):
                return self._send(h, 200, TINY_GIF, "image/gif", kind, head=head)
            return self._send(h, 200, b"body{font-family:serif}\n", "text/css", kind, head=head)
        else:
            item = self.web.by_path.get(path)
            if item is None:
                return self._send(h, 404, b"<h1>Not found</h1>\n", "text/html", kind, head=head)
            data, etag = self.page(item)
            modified = item.published
            ctype = "text/html; charset=utf-8"
        headers = {"ETag": etag, "Last-Modified": format_datetime(modified, usegmt=True)}
        if _not_modified(h.headers, etag, modified):
            return self._send(h, 304, b"", None, kind, headers=headers, head=head)
        self._send(h, 200, data, ctype, kind, headers=headers, head=head)

    def _admin_get(self, h: BaseHTTPRequestHandler, path: str) -> None:
        """GET /_admin/stats (answers so far), /_admin/pages (page URLs the feeds list) and
        /_admin/truth (page path -> event number)."""
        if path == "/_admin/stats":
            body = json.dumps(dict(self.stats.kinds)).encode()
        elif path == "/_admin/truth":
            # Which event each page tells: the answer key for clustering quality.
            body = json.dumps({i.path: i.event for i in self.web.items}).encode()
        elif path == "/_admin/pages":
            urls = [
                self.base_url + i.path for s in self.web.sites for i in self.web.feed_items(s.index)
            ]
            body = json.dumps(urls).encode()
        else:
            return self._send(h, 404, b"unknown admin path\n", "text/plain", "admin")
        self._send(h, 200, body, "application/json", "admin")

    def _admin(self, h: BaseHTTPRequestHandler) -> None:
        """POST /_admin/add?k=N publishes N new items (for the benchmark's third run)."""
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        if length:
            h.rfile.read(length)
        if parts.path != "/_admin/add":
            return self._send(h, 404, b"unknown admin path\n", "text/plain", "admin")
        k = int(parse_qs(parts.query).get("k", ["1"])[0])
        made = self.web.add_items(k)
        for item in made:
            self.page(item)
        for site in {i.site for i in made}:
            self.feed(site)
        body = json.dumps({"added": len(made), "paths": [i.path for i in made]}).encode()
        self._send(h, 200, body, "application/json", "admin")

    def _send(
        self,
        h: BaseHTTPRequestHandler,
        code: int,
        data: bytes,
        ctype: str | None,
        kind: str,
        *,
        headers: dict[str, str] | None = None,
        head: bool = False,
    ) -> None:
        self.stats.count(kind, code)
        h.send_response(code)
        if ctype:
            h.send_header("Content-Type", ctype)
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.send_header("Content-Length", "0" if code == 304 else str(len(data)))
        h.end_headers()
        if code != 304 and not head:
            h.wfile.write(data)


@contextmanager
def serve(web: NewsWeb, *, prerender: bool = True) -> Iterator[NewsWebServer]:
    """Serve `web` on a free port of 127.0.0.1 for the duration of the block."""
    server = NewsWebServer(web)
    if prerender:
        server.prerender()
    with server:
        yield server


@dataclass
class ServedWeb:
    """A news web served by a child process: its base URL, feeds and admin calls."""

    base_url: str
    feed_urls: list[str]
    process: subprocess.Popen[str]

    def add_items(self, k: int) -> list[str]:
        """Publish k new items; returns their page URLs."""
        with httpx.Client(timeout=60) as client:
            answer = client.post(f"{self.base_url}/_admin/add?k={k}").json()
        return [self.base_url + p for p in answer["paths"]]

    def stats(self) -> dict[str, int]:
        """Answers given so far by kind and status, e.g. {"feed:304": 100, "page:200": 2000}."""
        with httpx.Client(timeout=60) as client:
            return dict(client.get(f"{self.base_url}/_admin/stats").json())

    def truth(self) -> dict[str, int]:
        """Page path -> the event it tells (pages of one event belong in one story)."""
        with httpx.Client(timeout=60) as client:
            return dict(client.get(f"{self.base_url}/_admin/truth").json())

    def page_urls(self) -> list[str]:
        """Every page URL the feeds list now (what a reader of the feeds would fetch)."""
        with httpx.Client(timeout=60) as client:
            return list(client.get(f"{self.base_url}/_admin/pages").json())


@contextmanager
def serve_process(
    feeds: int, items: int, *, seed: int = 1, latency_ms: float = 0
) -> Iterator[ServedWeb]:
    """Run the news web in its own process (its CPU is not charged to the caller's timings)."""
    root = Path(__file__).resolve().parents[1]
    cmd = [
        sys.executable,
        "-m",
        "bench.newsweb",
        "--feeds",
        str(feeds),
        "--items",
        str(items),
        "--seed",
        str(seed),
        "--latency-ms",
        str(latency_ms),
    ]
    process = subprocess.Popen(cmd, cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"news web did not start (exit code {process.wait()})")
        info = json.loads(line)
        yield ServedWeb(info["base_url"], info["feeds"], process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def main(argv: Sequence[str] | None = None) -> int:
    """Serve a generated news web until killed; print the base URL and feed count on stdout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--items", type=int, default=20, help="items per feed")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0, help="wait before each answer")
    args = parser.parse_args(argv)
    web = NewsWeb(args.feeds, args.items, seed=args.seed)
    server = NewsWebServer(web, port=args.port, latency=args.latency_ms / 1000)
    server.prerender()
    server.start()
    print(json.dumps({"base_url": server.base_url, "feeds": server.feed_urls}), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
