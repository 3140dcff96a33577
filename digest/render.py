"""Render a Digest for people and machines: Markdown, plain text, email HTML, JSON, Slack.

Every format starts from the same cleaned view of the digest: control characters and bidi
overrides removed from feed text, single-line fields collapsed to one line, and only http(s)
links kept (a `javascript:` or `data:` link is shown as plain text, never as a link). Each format
then escapes for its own syntax: jinja2 autoescape for HTML, backslash escapes for Markdown,
`&amp; &lt; &gt;` for Slack mrkdwn.

Slack layout: the digest is posted as one or more top-level messages in the channel, never in a
thread. The first message opens with a header (digest name and date) and a story count; each
story is a section (headline link and Quick Looks bullets) followed by a context line (outlets
linked to their articles, and the time). When the stories do not fit in one message they are
split between stories, never inside one, and every follow-up message says "part 2 of 3". A
thread would hide the stories behind a click, webhooks cannot post into threads at all, and a
crash between the header and its replies would leave an empty header; with top-level messages
every message carries its own stories, so the delivery ledger confirms a story exactly when the
message carrying it is posted, and a resumed run simply posts the rest.
"""

from __future__ import annotations

import os
import re
import site
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from textwrap import TextWrapper
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
import jinja2.sandbox

from .clock import as_utc, iso_utc
from .errors import ConfigError
from .models import Digest, DigestStory

# --- Slack limits (https://docs.slack.dev/reference/block-kit) --------------------------------

SLACK_MAX_BLOCKS = 50
SLACK_MAX_SECTION_TEXT = 3000
SLACK_MAX_HEADER_TEXT = 150
SLACK_MAX_CONTEXT_ELEMENTS = 10
SLACK_MAX_FALLBACK_TEXT = 3000
# Slack also refuses a message whose blocks hold too much text in total ("msg_blocks_too_long").
# The limit is undocumented (reported near 12,000 characters, sometimes lower), so stay well
# inside it; the count here includes link markup, which makes it conservative.
SLACK_BLOCKS_TEXT_BUDGET = 8000

SUBJECT_MAX_CHARS = 150
# Caps on feed-supplied fields in the shared view, so every format (plain text and Markdown too)
# stays small whatever a feed sends: a 100 KB title is shown as its first few hundred characters.
HEADLINE_MAX_CHARS = 300
TITLE_MAX_CHARS = 300
OUTLET_MAX_CHARS = 80
LABEL_MAX_CHARS = 80
BULLET_MAX_CHARS = 600
PARAGRAPH_MAX_CHARS = 2000
DEEP_LOOK_MAX_PARAGRAPHS = 6
NOTE_MAX_CHARS = 300
JSON_FORMAT_VERSION = 1

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# C0/C1 controls (except tab and newline), DEL, and the bidi embedding/override/isolate marks
# that can make a headline display differently from what it says.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile("\r\n|[\r\n\u2028\u2029\x85\x0b\x0c]")
_SPACES = re.compile(r"[ \t\u00a0]+")


# --- cleaning, links, time ---------------------------------------------------------------------


def clean_line(text: str | None) -> str:
    """One line of display text: no control characters, no line breaks, single spaces."""
    if not text:
        return ""
    text = _LINE_BREAKS.sub(" ", text)
    text = _CONTROL.sub("", text)
    return _SPACES.sub(" ", text).strip()


def clean_block(text: str | None) -> str:
    """Multi-paragraph display text: paragraphs kept (blank line between), controls removed."""
    if not text:
        return ""
    text = _LINE_BREAKS.sub("\n", text)
    text = _CONTROL.sub("", text)
    paragraphs = (
        " ".join(clean_line(line) for line in para.split("\n")).strip()
        for para in re.split(r"\n\s*\n", text)
    )
    return "\n\n".join(p for p in paragraphs if p)


def safe_url(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) link that is safe to show as a link, else None."""
    if not url:
        return None
    url = url.strip()
    if any(ch.isspace() or ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. a malformed IPv6 literal
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    return url


def _ascii_url(url: str) -> str:
    # Percent-encode everything that could end a link in Markdown or Slack markup (spaces,
    # brackets, angle brackets, pipes, quotes) and non-ASCII, keeping existing %XX escapes.
    return quote(url, safe=":/?#[]@!$&'*+,;=%~")


def truncate(text: str, limit: int) -> str:
    """Shorten text to at most `limit` characters, at a word boundary when one is near."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return "…"[:limit]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 0.7:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


def _long_date(moment: datetime) -> str:
    m = as_utc(moment)
    return f"{_DAYS[m.weekday()]} {m.day} {_MONTHS[m.month - 1]} {m.year}"


def _clock(moment: datetime) -> str:
    return f"{as_utc(moment):%H:%M} UTC"


def _short_stamp(moment: datetime) -> str:
    m = as_utc(moment)
    return f"{m.day} {_MONTHS[m.month - 1][:3]}, {m:%H:%M} UTC"


# --- the view every format renders ---------------------------------------------------------------


@dataclass(frozen=True)
class SourceView:
    """One member article as shown: outlet, safe link (or None) and title."""

    outlet: str
    url: str | None
    title: str


@dataclass(frozen=True)
class BulletView:
    """One cleaned Quick Looks bullet."""

    label: str
    text: str


@dataclass(frozen=True)
class StoryView:
    """A story cleaned for display."""

    id: str
    headline: str
    url: str | None
    is_update: bool
    published: datetime
    stamp: str  # "20 Nov, 14:05 UTC"
    outlets: tuple[str, ...]
    bullets: tuple[BulletView, ...]
    deep_look: tuple[str, ...]  # paragraphs
    sources: tuple[SourceView, ...]


@dataclass(frozen=True)
class DigestView:
    """A digest cleaned for display, shared by every template."""

    name: str
    title: str  # "World digest" or "Alert: world"
    kind: str
    reason: str
    date: str  # "Wednesday 20 November 2024"
    time: str  # "07:00 UTC"
    generated_at: str  # ISO 8601
    stories: tuple[StoryView, ...]
    notes: tuple[str, ...]

    @property
    def count_label(self) -> str:
        """`1 story` / `3 stories`."""
        n = len(self.stories)
        return f"{n} {'story' if n == 1 else 'stories'}"


def _host(url: str | None) -> str:
    safe = safe_url(url)
    return (urlsplit(safe).hostname or "") if safe else ""


def _line(text: str | None, limit: int) -> str:
    # Cut before cleaning too: cleaning a 10 MB title only to keep 300 characters is waste.
    return truncate(clean_line((text or "")[: limit * 4]), limit)


def _story_view(ds: DigestStory) -> StoryView:
    story, ql = ds.story, ds.quick_looks
    sources = tuple(
        SourceView(
            outlet=_line(a.outlet, OUTLET_MAX_CHARS) or _host(a.url) or "source",
            url=safe_url(a.url),
            title=_line(a.title, TITLE_MAX_CHARS),
        )
        for a in story.articles
    )
    paragraphs = clean_block((ql.deep_look or "")[: PARAGRAPH_MAX_CHARS * 8]).split("\n\n")
    return StoryView(
        id=story.id,
        headline=_line(ql.headline, HEADLINE_MAX_CHARS)
        or _line(story.headline, HEADLINE_MAX_CHARS)
        or "(untitled)",
        # The article the headline is taken from, so the title shown is the page opened; else
        # the first *safe* link (a lead article with a javascript: link must not hide the rest).
        url=safe_url(ql.url) or next((s.url for s in sources if s.url), None),
        is_update=ds.is_update,
        published=story.published,
        stamp=_short_stamp(story.published),
        outlets=tuple(dict.fromkeys(s.outlet for s in sources)),
        bullets=tuple(
            BulletView(_line(b.label, LABEL_MAX_CHARS), _line(b.text, BULLET_MAX_CHARS))
            for b in ql.bullets
            if clean_line(b.text)
        ),
        deep_look=tuple(truncate(p, PARAGRAPH_MAX_CHARS) for p in paragraphs if p)[
            :DEEP_LOOK_MAX_PARAGRAPHS
        ],
        sources=sources,
    )


def digest_view(digest: Digest) -> DigestView:
    """The cleaned, format-neutral view of a digest that every renderer uses."""
    name = clean_line(digest.name) or "digest"
    if digest.kind == "alert":
        title = f"Alert: {name}"
    else:
        title = f"{name[:1].upper()}{name[1:]} digest"
    return DigestView(
        name=name,
        title=title,
        kind=digest.kind,
        reason=clean_line(digest.reason),
        date=_long_date(digest.generated_at),
        time=_clock(digest.generated_at),
        generated_at=iso_utc(digest.generated_at),
        stories=tuple(_story_view(ds) for ds in digest.stories),
        notes=tuple(n for n in (_line(n, NOTE_MAX_CHARS) for n in digest.notes) if n),
    )


# --- templates -----------------------------------------------------------------------------------


def templates_dir() -> Path:
    """The templates folder: $DIGEST_TEMPLATES_DIR, the source checkout, else the installed copy."""
    env = os.environ.get("DIGEST_TEMPLATES_DIR")
    if env:
        path = Path(env).expanduser()
        if not (path / "digest.html.j2").is_file():
            raise ConfigError(
                f"DIGEST_TEMPLATES_DIR={env}: no digest.html.j2 there",
                hint="point it at a folder holding the digest.*.j2 templates, or unset it",
            )
        return path
    import digest as package  # the package itself, to find a source checkout next to it

    candidates = [
        Path(package.__file__).resolve().parents[1] / "templates",
        # A wheel installs data-files under the environment's prefix; `pip install --user`
        # puts them under the user base instead.
        Path(sys.prefix) / "share" / "digest" / "templates",
        Path(site.USER_BASE or "~/.local").expanduser() / "share" / "digest" / "templates",
    ]
    for path in candidates:
        if (path / "digest.html.j2").is_file():
            return path
    looked = ", ".join(str(p) for p in candidates)
    raise ConfigError(
        f"templates not found (looked in {looked})",
        hint="reinstall digest, or set DIGEST_TEMPLATES_DIR to the templates/ folder",
    )


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def md_escape(text: str) -> str:
    """Escape Markdown syntax (and raw HTML) in feed text with backslashes."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_link(label: str, url: str | None) -> str:
    if not url:
        return md_escape(label)
    return f"[{md_escape(label)}]({_ascii_url(url)})"


def _wrap(text: str, width: int = 76, indent: str = "", hanging: str | None = None) -> str:
    wrapper = TextWrapper(
        width=width,
        initial_indent=indent,
        subsequent_indent=indent if hanging is None else hanging,
        break_long_words=False,  # never break a URL
        break_on_hyphens=False,
    )
    return "\n".join(wrapper.wrap(text)) or indent.rstrip()


def _environment(*, html: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    env.filters["md_link"] = _md_link
    env.filters["wrap"] = _wrap
    return env


def _render(template: str, digest: Digest, *, html: bool = False) -> str:
    view = digest_view(digest)
    try:
        return _environment(html=html).get_template(template).render(d=view)
    except jinja2.TemplateError as e:
        raise ConfigError(f"{templates_dir() / template}: {e}") from e


def render_markdown(digest: Digest) -> str:
    """The digest as Markdown (feed text escaped, only http(s) links)."""
    return _render("digest.md.j2", digest)


def render_text(digest: Digest) -> str:
    """The digest as plain text wrapped at 76 columns (the terminal and the email text part)."""
    return _render("digest.txt.j2", digest)


def render_html(digest: Digest) -> str:
    """The digest as email HTML: inline CSS, 600px table layout, no images, dark-mode safe."""
    return _render("digest.html.j2", digest, html=True)


def render_subject(template: str, digest: Digest) -> str:
    """An email subject from a jinja template: one clean line, at most 150 characters.

    The template sees `digest` (the Digest), `title` ("World digest"), `date`, `count` and
    `count_label` ("1 story", "3 stories"). Control characters
    and line breaks are removed, so no feed text can add a header.
    """
    view = digest_view(digest)
    if digest.kind == "alert" and view.stories:
        # An alert is about one story: its headline is the subject, whatever the digest template.
        headline = digest.stories[0].quick_looks.headline or digest.stories[0].story.headline
        return truncate(clean_line(f"{view.title}: {headline}"), SUBJECT_MAX_CHARS)
    env = jinja2.sandbox.SandboxedEnvironment(autoescape=False, undefined=jinja2.StrictUndefined)
    try:
        raw = env.from_string(template).render(
            digest=digest,
            title=view.title,
            date=view.date,
            count=len(view.stories),
            count_label=view.count_label,
        )
    except jinja2.TemplateError as e:
        raise ConfigError(f"email subject template {template!r}: {e}") from e
    subject = truncate(clean_line(raw), SUBJECT_MAX_CHARS)
    return subject or f"{view.title}, {view.date}"


# --- JSON ----------------------------------------------------------------------------------------


def render_json(digest: Digest, *, explain: bool = False) -> dict[str, Any]:
    """The digest as a JSON-ready dict in the stable, documented format.

    Top level: `version`, `digest`, `kind`, `generated_at`, `reason`, `stories`, `notes`. Each
    story: `id`, `headline`, `url`, `is_update`, `published`, `outlets`, `bullets` (`label`,
    `text`, `sources`), `deep_look`, `sources` (`outlet`, `url`, `title`, one per article) and,
    with `explain`, `merges` (`article`, `level`, `score`, `evidence`) and `model`.
    URLs are http(s) or null.
    """
    view = digest_view(digest)
    stories = []
    for ds, sv in zip(digest.stories, view.stories, strict=True):
        item: dict[str, Any] = {
            "id": sv.id,
            "headline": sv.headline,
            "url": sv.url,
            "is_update": sv.is_update,
            "published": iso_utc(sv.published),
            "outlets": list(sv.outlets),
            "bullets": [
                {
                    "label": _line(b.label, LABEL_MAX_CHARS),
                    "text": _line(b.text, BULLET_MAX_CHARS),
                    "sources": [_line(s, TITLE_MAX_CHARS) for s in b.sources],
                }
                for b in ds.quick_looks.bullets
                if clean_line(b.text)
            ],
            "deep_look": "\n\n".join(sv.deep_look) or None,
            "sources": [{"outlet": s.outlet, "url": s.url, "title": s.title} for s in sv.sources],
        }
        if explain:
            item["model"] = ds.quick_looks.model
            item["merges"] = [
                {
                    "article": m.article_key,
                    "level": m.level,
                    "score": round(float(m.score), 4),
                    "evidence": clean_line(m.evidence),
                }
                for m in ds.story.merges
            ]
        stories.append(item)
    return {
        "version": JSON_FORMAT_VERSION,
        "digest": digest.name,
        "kind": digest.kind,
        "generated_at": view.generated_at,
        "reason": view.reason or None,
        "stories": stories,
        "notes": list(view.notes),
    }


# --- Slack ---------------------------------------------------------------------------------------


def slack_escape(text: str) -> str:
    """Escape `&`, `<`, `>` for Slack mrkdwn, so feed text can never ping or inject a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_link(url: str | None, label: str) -> str:
    """`<url|label>` for an http(s) URL (escaped per Slack's rules), else the escaped label."""
    label = clean_line(label)
    target = safe_url(url)
    if target is None:
        return slack_escape(label)
    target = slack_escape(_ascii_url(target))
    if len(target) > 1500:  # a monster tracking URL would eat the section's 3,000 characters
        return slack_escape(label)
    # Slack ends the URL at the first "|"; one in the label is harmless but some clients and
    # bridges re-parse the text, so show a look-alike instead.
    return f"<{target}|{slack_escape(label.replace('|', '¦')) or target}>"


def _fit(text: str, limit: int) -> str:
    """Slack-escape text and shorten it so the *escaped* form fits in `limit` characters."""
    escaped = slack_escape(text)
    while len(escaped) > limit:
        text = truncate(text, max(1, len(text) - (len(escaped) - limit) - 1))
        escaped = slack_escape(text)
    return escaped


@dataclass(frozen=True)
class SlackMessage:
    """One chat.postMessage call: fallback text, Block Kit blocks, and the stories it carries."""

    text: str  # notification/fallback text (escaped, <= 3000 chars)
    blocks: list[dict[str, Any]]
    story_ids: tuple[str, ...]  # the stories this message carries (for the delivery ledger)


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text)}


def _context(*texts: str) -> dict[str, Any]:
    return {"type": "context", "elements": [_mrkdwn(t) for t in texts[:SLACK_MAX_CONTEXT_ELEMENTS]]}


_DIVIDER: dict[str, Any] = {"type": "divider"}


def _block_text_length(blocks: Iterable[dict[str, Any]]) -> int:
    total = 0
    for block in blocks:
        if "text" in block:
            total += len(block["text"]["text"])
        for element in block.get("elements", ()):
            total += len(element.get("text", ""))
    return total


@dataclass(frozen=True)
class _Limits:
    headline: int
    bullet: int
    bullets: int
    sources: int
    context: int


# Tried in order until a single story fits one message's budget; real stories fit the first.
_STORY_LIMITS = (
    _Limits(headline=250, bullet=450, bullets=10, sources=6, context=1800),
    _Limits(headline=200, bullet=200, bullets=6, sources=4, context=1000),
    _Limits(headline=100, bullet=60, bullets=5, sources=0, context=300),
)


def _pack_sections(lines: Sequence[str]) -> list[dict[str, Any]]:
    """Join lines into as few sections as fit Slack's 3,000 characters each."""
    sections: list[str] = []
    for line in lines:
        if sections and len(sections[-1]) + 1 + len(line) <= SLACK_MAX_SECTION_TEXT:
            sections[-1] += "\n" + line
        else:
            sections.append(line[:SLACK_MAX_SECTION_TEXT])
    return [_section(s) for s in sections]


def _story_blocks(sv: StoryView, limits: _Limits) -> list[dict[str, Any]]:
    headline = truncate(sv.headline, limits.headline)
    head = f"*{slack_link(sv.url, headline)}*"
    if sv.is_update:
        head = f"*Update:* {head}"
    lines = [head]
    for b in sv.bullets[: limits.bullets]:
        text = _fit(b.text, limits.bullet)
        lines.append(f"• *{_fit(b.label, 80)}:* {text}" if b.label else f"• {text}")
    blocks = _pack_sections(lines)

    # Context: each outlet linked to its own article, then the time.
    parts: list[str] = []
    shown = 0
    used = len(sv.stamp) + 20
    for s in sv.sources[: limits.sources]:
        part = slack_link(s.url, truncate(s.outlet, 60))
        if used + len(part) + 3 > limits.context:
            break
        parts.append(part)
        used += len(part) + 3
        shown += 1
    if not parts and sv.outlets:
        part = _fit(truncate(", ".join(sv.outlets), 200), limits.context - used)
        parts.append(part)
        shown = len(sv.sources)
    if len(sv.sources) > shown:
        parts.append(f"+{len(sv.sources) - shown} more")
    parts.append(sv.stamp)
    blocks.append(_context(" · ".join(parts)))
    return blocks


def _intro_blocks(view: DigestView, part: int, parts: int) -> list[dict[str, Any]]:
    if part > 1:
        return [_context(f"*{_fit(view.title, 100)}* · {view.date} · part {part} of {parts}")]
    header = truncate(f"{view.title} · {view.date}", SLACK_MAX_HEADER_TEXT)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": False}}
    ]
    if view.reason:
        blocks.append(_section(f"*Why:* {_fit(view.reason, 1000)}"))
    summary = view.count_label if view.stories else "No new stories since the last digest."
    blocks.append(_context(f"{summary} · {view.time}"))
    return blocks


def _notes_block(notes: Sequence[str]) -> dict[str, Any]:
    shown = [_fit(n, 200) for n in notes[:3]]
    more = f" (and {len(notes) - 3} more)" if len(notes) > 3 else ""
    label = "1 problem" if len(notes) == 1 else f"{len(notes)} problems"
    return _context(f"_{label} during this run{more}:_ " + " · ".join(shown))


def _fallback_text(view: DigestView, stories: Sequence[StoryView], part: int, parts: int) -> str:
    lead = view.title if parts == 1 else f"{view.title} (part {part} of {parts})"
    if not stories:
        raw = f"{lead}: no new stories"
    else:
        n = len(stories)
        raw = f"{lead}: {n} {'story' if n == 1 else 'stories'}: " + " · ".join(
            s.headline for s in stories
        )
    return _fit(raw, SLACK_MAX_FALLBACK_TEXT)


def render_slack(digest: Digest) -> list[SlackMessage]:
    """The digest as Slack Block Kit messages, split between stories to fit Slack's limits.

    Each message has <= 50 blocks, section text <= 3,000 characters, header <= 150, context
    elements <= 10 and a conservative total text budget; a story is never split across
    messages. Only http(s) URLs become links. See the module docstring for the layout.
    """
    view = digest_view(digest)
    # Room every message keeps for its intro (header, reason, count) and the closing notes.
    intro = _intro_blocks(view, 1, 1)
    notes = [_notes_block(view.notes)] if view.notes else []
    block_room = SLACK_MAX_BLOCKS - len(intro) - len(notes)
    text_room = (
        SLACK_BLOCKS_TEXT_BUDGET - _block_text_length(intro) - _block_text_length(notes) - 200
    )

    chunks: list[list[tuple[StoryView, list[dict[str, Any]]]]] = [[]]
    blocks_used = text_used = 0
    for sv in view.stories:
        for limits in _STORY_LIMITS:
            story_blocks = _story_blocks(sv, limits)
            size = _block_text_length(story_blocks)
            if size <= text_room and len(story_blocks) < block_room:
                break
        divider = 1 if chunks[-1] else 0
        if chunks[-1] and (
            blocks_used + divider + len(story_blocks) > block_room or text_used + size > text_room
        ):
            chunks.append([])
            blocks_used = text_used = divider = 0
        chunks[-1].append((sv, story_blocks))
        blocks_used += divider + len(story_blocks)
        text_used += size

    messages = []
    for i, chunk in enumerate(chunks, start=1):
        blocks = _intro_blocks(view, i, len(chunks))
        for j, (_, story_blocks) in enumerate(chunk):
            if j:
                blocks.append(dict(_DIVIDER))
            blocks.extend(story_blocks)
        if i == len(chunks):
            blocks.extend(notes)
        stories = [sv for sv, _ in chunk]
        messages.append(
            SlackMessage(
                text=_fallback_text(view, stories, i, len(chunks)),
                blocks=blocks,
                story_ids=tuple(sv.id for sv in stories),
            )
        )
    return messages


def slack_payloads(messages: Sequence[SlackMessage]) -> list[dict[str, Any]]:
    """Messages as plain dicts (for golden files and `--format slack` style output)."""
    return [{"text": m.text, "blocks": m.blocks, "story_ids": list(m.story_ids)} for m in messages]
