"""Parse feed bytes into FeedItems: RSS 0.9x/1.0/2.0 and Atom (feedparser), JSON Feed 1.1.

Pure: bytes in, records out; the network is never touched here (the link checks take an
injectable resolver). Feeds in the wild are often broken; whatever can be read is kept and every
thing that was wrong becomes one line in `ParsedFeed.problems`.
"""

from __future__ import annotations

import codecs
import hashlib
import html
import json
import logging
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

import feedparser
from lxml import etree
from lxml_html_clean import Cleaner

from .clock import as_utc
from .errors import FeedParseError, UnsafeURLError
from .extract import html_to_text
from .models import FeedItem
from .text import plain_line
from .urls import Resolver, canonical_url, check_link, is_private_url, system_resolve

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ParsedFeed:
    """A feed as read: its title and site, the usable items, and what was wrong with it."""

    title: str | None
    site_url: str | None
    items: tuple[FeedItem, ...]
    problems: tuple[str, ...] = field(default=())  # one line each


# ---------------------------------------------------------------------------------------------
# Text helpers


def _shorten(text: str, words: int = 14) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


def _normalised_for_hash(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def item_key(
    url: str | None, guid: str | None, title: str, text: str, *, feed_url: str | None = None
) -> str:
    """Identity of an item: canonical URL, else "guid:" + GUID, else "sha256:" + content hash.

    GUIDs are only unique within one feed ("1", "42" are common), so when `feed_url` is given
    a GUID that is not itself a URL is scoped to the feed: "guid:<feed url>#<guid>".
    """
    if url:
        canonical = canonical_url(url)
        if canonical:
            return canonical
    guid = (guid or "").strip()
    if guid:
        if feed_url and canonical_url(guid) is None:
            return f"guid:{feed_url}#{guid}"
        return f"guid:{guid}"
    payload = _normalised_for_hash(title) + "\n" + _normalised_for_hash(text)
    return "sha256:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------
# Decoding: done here, not by feedparser, so a wrong declared charset does not become mojibake.

_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*\?>")
_XML_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._:\-]+)["']""")
_CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:\-]+)""", re.IGNORECASE)
# Browsers read these labels as windows-1252 (WHATWG Encoding); real feeds rely on that.
_AS_CP1252 = {"ascii", "us-ascii", "iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "cp819"}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().lower()
    if label in _AS_CP1252:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_bytes(content: bytes, content_type: str | None = None) -> tuple[str, str | None]:
    """Decode feed bytes to text; returns (text, problem line or None).

    Order: byte-order mark; UTF-8 when the bytes are valid UTF-8 (a multi-byte sequence that
    decodes cleanly is almost never an accident, whatever the label says); the charset from
    the Content-Type; the XML declaration; windows-1252 as the last resort.
    """
    for bom, name in _BOMS:
        if content.startswith(bom):
            return content[len(bom) :].decode(name, errors="replace"), None
    http_match = _CHARSET_PARAM.search(content_type or "")
    http_label = http_match.group(1) if http_match else None
    decl = _XML_DECL.match(content)
    xml_match = _XML_ENCODING.search(decl.group(0)) if decl else None
    xml_label = xml_match.group(1).decode("ascii") if xml_match else None
    declared = http_label or xml_label
    declared_codec = _codec(declared)

    if content[:4] in (b"<\x00?\x00", b"\x00<\x00?"):  # UTF-16 without a BOM (XML appendix F)
        name = "utf-16-le" if content[0] == 0x3C else "utf-16-be"
        return content.decode(name, errors="replace"), None

    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        wrong = declared_codec not in (None, "utf-8") and not content.isascii()
        if wrong and declared_codec in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
            wrong = False  # cannot happen for real UTF-16 text; do not blame the label
        problem = f"declared charset {declared} does not match the bytes; read as UTF-8"
        return text, problem if wrong else None

    # Not valid UTF-8 as a whole. A few bad bytes in otherwise good UTF-8 (one broken title) are
    # replaced where they are; the rest of the feed is never re-decoded in another charset.
    as_utf8, good, bad = _decode_counting(content, "utf-8")
    if good >= bad and declared_codec in (None, "utf-8"):
        return as_utf8, _replaced(bad, "UTF-8")
    for codec in (_codec(http_label), _codec(xml_label)):
        if codec and codec != "utf-8":
            decoded, good, bad = _decode_counting(content, codec)
            # A label that fits all but a few bytes is right; one that misfits widely is not.
            if good >= bad * 4:
                return decoded, _replaced(bad, codec)
    if good >= bad:
        return as_utf8, _replaced(bad, "UTF-8")
    problem = (
        f"declared charset {declared} does not match the bytes; read as windows-1252"
        if declared
        else "no charset declared and the bytes are not UTF-8; read as windows-1252"
    )
    return content.decode("cp1252", errors="replace"), problem


def _decode_counting(content: bytes, codec: str) -> tuple[str, int, int]:
    """(text with U+FFFD for undecodable bytes, non-ASCII characters decoded, bad runs)."""
    try:
        text = content.decode(codec, errors="replace")
    except LookupError:
        return "", 0, len(content)
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 127) - bad
    return text, good, bad


def _replaced(bad: int, codec: str) -> str | None:
    if not bad:
        return None
    return f"{bad} byte sequence(s) not valid {codec} were replaced with U+FFFD"


def _as_utf8_xml(text: str) -> bytes:
    """Text re-encoded as UTF-8, its XML declaration saying so."""
    data = text.encode("utf-8")
    decl = _XML_DECL.match(data)
    if decl:
        fixed = _XML_ENCODING.sub(b'encoding="utf-8"', decl.group(0))
        data = fixed + data[decl.end() :]
    return data


# ---------------------------------------------------------------------------------------------
# Parsing

_HTML_START = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*"
    rb"<(?:!doctype\s+html|html|head|body)\b",
    re.IGNORECASE | re.DOTALL,
)


def _looks_like_json(content: bytes, content_type: str | None) -> bool:
    start = content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start in (b"{", b"<"):
        return start == b"{"  # the bytes outvote a Content-Type that is often wrong
    return "json" in (content_type or "").lower()


def _looks_like_html(content: bytes, content_type: str | None) -> bool:
    if _HTML_START.match(content[:4096]):
        return True
    ctype = (content_type or "").lower()
    head = content[:4096].lower()
    return "text/html" in ctype and not any(tag in head for tag in (b"<rss", b"<feed", b"<rdf"))


class _Links:
    """Checks entry links once per host for one feed; remembers what it refused."""

    def __init__(self, feed_url: str, allow_private: bool, resolve: Resolver | None) -> None:
        cache: dict[str, list[str]] = {}
        base = resolve or system_resolve

        def cached(host: str) -> list[str]:
            if host not in cache:
                try:
                    cache[host] = base(host)
                except OSError:
                    cache[host] = []
            return cache[host]

        self.resolve = cached
        self.feed_url = feed_url
        # A feed served from a private address (an intranet feed, the demo) may link to pages
        # there: the operator chose that feed. A public feed may not.
        self.allow_private = allow_private or is_private_url(feed_url, resolve=cached)

    def check(self, link: str | None, title: str, problems: list[str]) -> str | None:
        if not link:
            return None
        link = link.strip()
        try:
            return check_link(link, allow_private=self.allow_private, resolve=self.resolve)
        except UnsafeURLError as e:
            problems.append(f"refused link {_quote(link)} in entry {_quote(title)}: {e.reason}")
            return None


def _quote(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text)


def _to_datetime(parsed: time.struct_time | None) -> datetime | None:
    if parsed is None:
        return None
    try:
        return datetime(*parsed[:6], tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


def _iso_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return as_utc(parsed)  # RFC 3339 requires an offset; assume UTC when absent


@dataclass
class _Entry:
    """An entry as found, before identity, dedup and link checks."""

    title: str
    link: str | None
    guid: str | None
    summary_html: str
    author: str | None
    published: datetime | None
    bad_date: str | None = None


def parse_feed(
    content: bytes,
    feed_url: str,
    *,
    content_type: str | None = None,
    priority: int = 0,
    allow_private: bool = False,
    resolve: Resolver | None = None,
    max_items: int | None = None,
) -> ParsedFeed:
    """Read RSS, Atom or JSON Feed bytes into items; FeedParseError when it is not a feed.

    With `max_items`, only the newest that many entries are read (undated ones after the dated,
    in feed order) and one problem line says how many were skipped. A huge XML feed is cut
    down with lxml before feedparser, which costs about a millisecond per entry.

    Malformed but salvageable feeds give their entries plus a problem line; duplicate GUIDs
    keep the first entry; entry links that are not http(s) or point at private addresses are
    refused (url=None, with a problem line) unless the feed itself is private or
    `allow_private`.
    """
    problems: list[str] = []
    if not content.strip():
        raise FeedParseError(feed_url, "the response is empty, not a feed")
    total = None
    if _looks_like_json(content, content_type):
        title, site_url, entries = _parse_json_feed(content, feed_url, content_type, problems)
    elif _looks_like_html(content, content_type):
        raise FeedParseError(feed_url, _html_reason(content, feed_url))
    else:
        title, site_url, entries, total = _parse_xml_feed(
            content, feed_url, content_type, problems, max_items
        )
    if max_items is not None and len(entries) > max_items:
        total = len(entries)
        entries = _newest(entries, max_items, lambda e: e.published)
    if total is not None and max_items is not None and total > max_items:
        problems.append(
            f"{total} entries: kept the newest {max_items} (fetch.max_items_per_feed), "
            f"skipped {total - max_items} older ones"
        )

    links = _Links(feed_url, allow_private, resolve)
    items: list[FeedItem] = []
    seen_guids: set[str] = set()
    seen_keys: set[str] = set()
    for entry in entries:
        if entry.bad_date:
            problems.append(
                f"unreadable date {_quote(entry.bad_date)} in entry {_quote(entry.title)}"
            )
        if entry.guid:
            if entry.guid in seen_guids:
                problems.append(
                    f"duplicate GUID {_quote(entry.guid)}: dropped entry {_quote(entry.title)}"
                )
                continue
            seen_guids.add(entry.guid)
        url = links.check(entry.link, entry.title, problems)
        text = html_to_text(entry.summary_html)
        key = item_key(url, entry.guid, entry.title, text, feed_url=feed_url)
        if key in seen_keys:
            problems.append(f"duplicate entry {_quote(key)}: dropped entry {_quote(entry.title)}")
            continue
        seen_keys.add(key)
        items.append(
            FeedItem(
                key=key,
                feed_url=feed_url,
                feed_title=title,
                url=url,
                guid=entry.guid,
                title=entry.title,
                summary_html=entry.summary_html,
                author=entry.author,
                published=entry.published,
                priority=priority,
            )
        )
    log.debug("parsed %s: %d items, %d problems", feed_url, len(items), len(problems))
    return ParsedFeed(title=title, site_url=site_url, items=tuple(items), problems=tuple(problems))


def _html_reason(content: bytes, feed_url: str) -> str:
    """Say that this is a web page, and name the feed it advertises if it does."""
    parsed = feedparser.parse(content[:200_000], response_headers={"content-location": feed_url})
    for link in parsed.feed.get("links", []):
        kind = str(link.get("type", "")).lower()
        if link.get("rel") == "alternate" and ("rss" in kind or "atom" in kind or "json" in kind):
            return f"got an HTML page, not a feed (the page names a feed at {link.get('href')})"
    return "got an HTML page, not a feed"


def _title_from_text(title: str, summary_html: str) -> str:
    if title:
        return title
    text = html_to_text(summary_html)
    return _shorten(text) if text else "(untitled)"


def _detail_to_html(detail: Mapping[str, Any] | None) -> str:
    if not detail:
        return ""
    value = str(detail.get("value") or "")
    if str(detail.get("type", "")).lower() == "text/plain":
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", value) if p.strip()]
        return "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return value


def _entry_html(entry: Mapping[str, Any]) -> str:
    """The fullest text the entry carries: content:encoded / atom:content, else the summary."""
    candidates = [_detail_to_html(c) for c in entry.get("content", []) or []]
    candidates.append(_detail_to_html(entry.get("summary_detail")))
    if not any(candidates) and entry.get("summary"):
        candidates.append(str(entry["summary"]))
    return max(candidates, key=lambda h: len(html_to_text(h)), default="")


def _newest(entries: list[Any], limit: int, date: Callable[[Any], datetime | None]) -> list[Any]:
    """The `limit` newest entries, newest first; undated ones after the dated, in feed order."""
    order = sorted(
        range(len(entries)),
        key=lambda i: (date(entries[i]) is None, -_stamp(date(entries[i])), i),
    )
    return [entries[i] for i in order[:limit]]


def _stamp(moment: datetime | None) -> float:
    if moment is None:
        return 0.0
    return as_utc(moment).timestamp()


_ENTRY_TAGS = ("item", "entry")
_DATE_TAGS = ("pubDate", "published", "updated", "date", "issued", "modified")


def _xml_date(element: Any) -> datetime | None:
    for child in element:
        if not isinstance(child.tag, str) or etree.QName(child).localname not in _DATE_TAGS:
            continue
        value = (child.text or "").strip()
        if not value:
            continue
        try:
            return parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            pass
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            continue
    return None


def _newest_xml(data: bytes, limit: int) -> tuple[bytes, int | None]:
    """The feed's XML with only its `limit` newest items or entries, and how many it had.

    Returns the bytes unchanged (and None) when lxml cannot read them: feedparser then reads
    the whole feed, and the cap applies after it.
    """
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return data, None
    found = [
        el
        for el in root.iter()
        if isinstance(el.tag, str) and etree.QName(el).localname in _ENTRY_TAGS
    ]
    if len(found) <= limit:
        return data, None
    keep = {id(el) for el in _newest(found, limit, _xml_date)}
    for el in found:
        if id(el) not in keep and el.getparent() is not None:
            el.getparent().remove(el)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8"), len(found)


def _parse_xml_feed(
    content: bytes,
    feed_url: str,
    content_type: str | None,
    problems: list[str],
    max_items: int | None = None,
) -> tuple[str | None, str | None, list[_Entry], int | None]:
    text, charset_problem = decode_bytes(content, content_type)
    if charset_problem:
        problems.append(charset_problem)
    data = _as_utf8_xml(text)
    total = None
    # Cheap test first: only a feed with more entry tags than the cap is worth a second parse.
    if max_items is not None and data.count(b"<item") + data.count(b"entry") > max_items:
        data, total = _newest_xml(data, max_items)
    parsed = feedparser.parse(
        data,
        # Our own header: the bytes are now UTF-8 XML whatever the server said, and the
        # content-location makes feedparser resolve relative links against the feed URL.
        response_headers={
            "content-type": "application/xml; charset=utf-8",
            "content-location": feed_url,
        },
    )
    version = parsed.get("version", "")
    entries = parsed.get("entries", [])
    if parsed.get("bozo"):
        reason = _one_line(parsed.get("bozo_exception"))
        if not entries:
            raise FeedParseError(feed_url, f"not a valid feed: {reason}")
        problems.append(f"malformed feed, read {len(entries)} entries anyway: {reason}")
    elif not version:
        raise FeedParseError(feed_url, "not a valid feed: no RSS, RDF or Atom root element")

    feed = parsed.get("feed", {})
    title = plain_line(feed.get("title")) or None
    site_url = _http_or_none(feed.get("link"))
    out: list[_Entry] = []
    for entry in entries:
        summary_html = _entry_html(entry)
        entry_title = _title_from_text(plain_line(entry.get("title")), summary_html)
        published = _to_datetime(entry.get("published_parsed") or entry.get("updated_parsed"))
        raw_date = entry.get("published") or entry.get("updated")
        author_detail = entry.get("author_detail") or {}
        author = plain_line(author_detail.get("name") or entry.get("author")) or None
        out.append(
            _Entry(
                title=entry_title,
                link=entry.get("link") or None,
                guid=(str(entry.get("id")).strip() or None) if entry.get("id") else None,
                summary_html=summary_html,
                author=author,
                published=published,
                bad_date=str(raw_date) if raw_date and published is None else None,
            )
        )
    return title, site_url, out, total


def _one_line(value: Any) -> str:
    return " ".join(str(value).split()) or "unknown error"


def _http_or_none(url: Any) -> str | None:
    if isinstance(url, str) and url.strip().lower().startswith(("http://", "https://")):
        return url.strip()
    return None


def _parse_json_feed(
    content: bytes, feed_url: str, content_type: str | None, problems: list[str]
) -> tuple[str | None, str | None, list[_Entry]]:
    text, charset_problem = decode_bytes(content, content_type)
    if charset_problem:
        problems.append(charset_problem)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise FeedParseError(feed_url, f"not a valid JSON Feed: {e}") from None
    if not isinstance(data, dict):
        raise FeedParseError(feed_url, "not a valid JSON Feed: the top level is not an object")
    version = str(data.get("version", ""))
    if not version.startswith("https://jsonfeed.org/version/"):
        if "items" not in data:
            raise FeedParseError(feed_url, "not a valid JSON Feed: no version and no items")
        problems.append("JSON Feed without a jsonfeed.org version; read it anyway")
    raw_items = data.get("items") or []
    if not isinstance(raw_items, list):
        raise FeedParseError(feed_url, "not a valid JSON Feed: items is not a list")
    title = plain_line(_str_or_none(data.get("title"))) or None
    site_url = _http_or_none(data.get("home_page_url"))
    feed_authors = _json_authors(data)
    out: list[_Entry] = []
    for index, raw in enumerate(raw_items):
        if not isinstance(raw, dict):
            problems.append(f"JSON Feed item {index} is not an object; skipped")
            continue
        if raw.get("content_html"):
            summary_html = _sanitize(str(raw["content_html"]))
        elif raw.get("content_text"):
            summary_html = _detail_to_html(
                {"type": "text/plain", "value": str(raw["content_text"])}
            )
        else:
            summary_html = html.escape(str(raw.get("summary") or ""))
        entry_title = _title_from_text(plain_line(_str_or_none(raw.get("title"))), summary_html)
        link = _str_or_none(raw.get("url")) or _str_or_none(raw.get("external_url"))
        raw_date = raw.get("date_published") or raw.get("date_modified")
        published = _iso_datetime(raw_date)
        guid = raw.get("id")
        authors = _json_authors(raw) or feed_authors
        out.append(
            _Entry(
                title=entry_title,
                link=urljoin(feed_url, link) if link else None,
                guid=(str(guid).strip() or None) if guid is not None else None,
                summary_html=summary_html,
                author=", ".join(authors) or None,
                published=published,
                bad_date=str(raw_date) if raw_date and published is None else None,
            )
        )
    return title, site_url, out


def _sanitize(markup: str) -> str:
    """JSON Feed HTML made as safe as feedparser makes RSS/Atom HTML: no script, no handlers."""
    if not markup.strip():
        return ""
    cleaner = Cleaner(
        scripts=True,
        javascript=True,
        style=True,
        comments=True,
        meta=True,
        page_structure=True,
        forms=True,
        embedded=True,
        frames=True,
        safe_attrs_only=True,
    )
    try:
        cleaned = cleaner.clean_html(markup)
    except (ValueError, etree.ParserError):
        return html.escape(html_to_text(markup))
    # lxml wraps fragments in one <div> or <span>; that wrapper is not the feed's markup.
    return re.sub(r"^<(div|span)>(.*)</\1>$", r"\2", cleaned, flags=re.DOTALL)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _json_authors(obj: Mapping[str, Any]) -> list[str]:
    """Author names from JSON Feed 1.1 `authors` or 1.0 `author`."""
    raw: Iterable[Any] = obj.get("authors") or ([obj["author"]] if obj.get("author") else [])
    if not isinstance(raw, list):
        raw = [raw]
    names = []
    for author in raw:
        if isinstance(author, dict):
            name = plain_line(_str_or_none(author.get("name")))
            if name:
                names.append(name)
    return names
