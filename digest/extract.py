"""Turn an article page (or a feed entry's own HTML) into an Article's plain text and metadata.

Pure: HTML in, records out. trafilatura finds the article body and its metadata; lxml turns
feed summaries into plain paragraphs. Paragraphs are separated by blank lines everywhere.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import logging
import multiprocessing
import re
import unicodedata
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from datetime import datetime

import trafilatura
from lxml import etree
from lxml import html as lxml_html

from .clock import as_utc
from .config import ExtractSettings
from .errors import ExtractError
from .models import Article, FeedItem
from .runtime import usable_cpus
from .text import whitespace_word_count
from .urls import canonical_url, host_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtractedPage:
    """What an article page says about itself, as plain text and metadata."""

    title: str | None
    text: str  # paragraphs separated by blank lines
    author: str | None
    published: datetime | None  # aware, UTC
    site_name: str | None
    canonical_url: str | None
    language: str | None


# ---------------------------------------------------------------------------------------------
# Feed HTML -> plain text

_BLOCK_TAGS = frozenset(
    "address article aside blockquote caption dd div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table td th tr ul".split()
)
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "svg", "head")
# Lines that feeds append to every entry; they are not part of the story.
_BOILERPLATE = re.compile(
    r"^(?:the post .{1,300} appeared first on .{1,200}"
    r"|(?:continue reading|read more|read the full (?:story|article)|more\.{3}|\[?…\]?)"
    r"[\s\w:.,»→›…\"'’-]{0,80})$",
    re.IGNORECASE,
)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v\xa0]*\n")

# Sentences that pages put around (and inside) the article and that are never the story:
# reprint and copyright notices, newsletter and subscription prompts, "click here", photo
# credits, "this article first appeared", "read more", share prompts, cookie notices, ads.
# A sentence that matches is dropped; a paragraph left with nothing is dropped.
_PAGE_BOILERPLATE = re.compile(
    r"presentation-ready cop|\breprint(?:s|ing|ed)?\b|\bwithout (?:prior |written )?permission\b"
    r"|\bcopyright\b|©|\ball rights reserved"
    r"|may not be (?:re)?published,? broadcast|\bsign(?:ing)? up (?:for|to|here|now|today)\b"
    r"|\bnewsletters?\b|\bsubscribe (?:to|now|today|for|here)\b|\bsubscribers? (?:only|can)\b"
    r"|\bsubscription (?:offer|required)|\bdelivered (?:straight |directly )?to your inbox"
    r"|\benter your email|\bclick here\b|\btap here\b|\b(?:photo|image|picture|video)s?"
    r"\s*(?:by|credit|courtesy|:)|\bcredit:|\bgetty images\b|\bshutterstock\b|/\s*ap photo\b"
    r"|\breuters/|\b(?:this|the) (?:article|story|post) (?:first |originally )?appeared"
    r"|\boriginally (?:appeared|published) (?:on|in|at)\b|\bappeared first on\b"
    r"|^read (?:more|next|also)\b|\bread more\s*(?::|»|›|→|about|here|at)|\bcontinue reading\b"
    r"|\bread the full (?:story|article)\b|\bshare (?:this|on|via)\b"
    r"|\b(?:follow|like) us on\b|\bwe use cookies\b|\bcookie (?:policy|settings|notice)"
    r"|\baccept (?:all )?cookies\b|\bprivacy policy\b|\bterms of (?:use|service)\b"
    r"|^advertisement$|\badvertise with\b|\bcontact us at\b"
    r"|\bdownload (?:the |our )?[\w ]{0,30}\bapps?\b|\bfor the latest (?:stories|news|updates)\b"
    r"|\bsupport (?:our|independent) journalism\b|\bbecome a (?:member|subscriber)\b"
    r"|\bcomments? (?:are|is) closed\b|\bleave a (?:comment|reply)\b|\blog ?in to\b",
    re.IGNORECASE,
)
# Latin lookalikes from other scripts ("Аdvеrtіѕе" in Cyrillic) that some sites use so that
# their promos slip past filters; matched as the letters they imitate.
_CONFUSABLES = str.maketrans("АВЕКМНОРСТХаеорсухіјѕԁӏ", "ABEKMHOPCTXaeopcyxijsdl")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[\"“‘'(]?[A-Z0-9])")
_REPEAT_MIN_CHARS = 20  # shorter repeats ("Advertisement", "Share") are left to the patterns
SITE_REPEAT_PAGES = 3  # a paragraph on this many pages of one site is the site's, not a story's


# Paragraphs that are no prose of the article: a reference list's entries ("27. Shaughnessy KK
# et al. Minocycline-induced ... J Am Acad Dermatol. 2010;62(2):315-8."), and photo captions
# that carry their picture's tag ("The team training ahead of a match. (FILE)").
_REFERENCE_ENTRY = re.compile(
    r"^(?:[-*•]\s*)?(?:\[?\d{1,3}[.)\]]\s+)?[A-Z][a-z][\w'’-]*(?:\s[A-Z][a-z][\w'’-]*)?\s"
    r"[A-Z]{1,3}(?:-[A-Z]{1,2})?(?:,|\s+et al\b)"
    r"|\bet al\.,?\s+[A-Z]"
    r"|\b(?:19|20)\d\d\s*;\s*\d+\s*(?:\(\d+\))?\s*:\s*\d+|\bdoi:\s*10\.\d|\bdoi\.org/10\."
)
_CAPTION_TAG = re.compile(
    r"\((?:file|file photo|photo|pictured|inset|left|right|above|below|top|bottom|front|"
    r"centre|center|background|foreground|l-r|from left)(?:[^()]{0,40})\)\s*$",
    re.IGNORECASE,
)


def is_reference_or_caption(paragraph: str) -> bool:
    """True for a reference-list entry or a tagged photo caption: not the article's prose."""
    text = paragraph.strip()
    return bool(_REFERENCE_ENTRY.search(text) or _CAPTION_TAG.search(text))


def is_boilerplate(sentence: str) -> bool:
    """True when the sentence is a page's furniture (reprints, newsletters, credits ...)."""
    return bool(_PAGE_BOILERPLATE.search(sentence.translate(_CONFUSABLES).strip()))


def drop_boilerplate(paragraphs: Sequence[str]) -> list[str]:
    """The paragraphs without their boilerplate sentences, reference entries and tagged
    captions; emptied paragraphs go."""
    out = []
    for paragraph in paragraphs:
        if is_reference_or_caption(paragraph):
            continue
        if not is_boilerplate(paragraph):
            out.append(paragraph)
            continue
        kept = [s for s in _SENTENCE_END.split(paragraph) if not is_boilerplate(s)]
        if kept and sum(len(s.split()) for s in kept) >= 6:
            out.append(" ".join(kept))
    return out


def _paragraphs(text: str) -> list[str]:
    out = []
    for chunk in _PARAGRAPH_BREAK.split(text):
        paragraph = " ".join(chunk.split())
        if paragraph and not _BOILERPLATE.match(paragraph):
            out.append(paragraph)
    return out


def html_to_text(html: str) -> str:
    """Feed summary HTML -> plain text, paragraphs separated by blank lines."""
    if not html or not html.strip():
        return ""
    if "<" not in html:
        return "\n\n".join(_paragraphs(html_lib.unescape(html)))
    try:
        root = lxml_html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        # Markup lxml cannot read at all: drop anything tag-shaped and keep the words.
        return "\n\n".join(_paragraphs(html_lib.unescape(re.sub(r"<[^>]*>", " ", html))))
    etree.strip_elements(root, *_DROP_TAGS, with_tail=False)
    pieces: list[str] = []
    # iterwalk, not recursion: hostile markup can nest deeper than Python's stack.
    for event, element in etree.iterwalk(root, events=("start", "end", "comment", "pi")):
        if event in ("comment", "pi"):
            pieces.append(element.tail or "")  # the comment goes, the text after it stays
            continue
        tag = element.tag
        if event == "start":
            if tag in _BLOCK_TAGS:
                pieces.append("\n\n")
            elif tag == "br":
                pieces.append("\n")
            pieces.append(element.text or "")
        else:
            if tag in _BLOCK_TAGS:
                pieces.append("\n\n")
            if element is not root:
                pieces.append(element.tail or "")
    return "\n\n".join(_paragraphs("".join(pieces)))


# ---------------------------------------------------------------------------------------------
# Article pages

_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
_LANG = re.compile(
    r"""<html\b[^>]*?\blang\s*=\s*["']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*)""", re.I
)


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    for fmt in (_DATE_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return as_utc(parsed)  # a page that gives no offset: read it as UTC
    return None


def _language(html: bytes | str) -> str | None:
    head = html[:20_000]
    if isinstance(head, bytes):
        head = head.decode("ascii", errors="ignore")
    match = _LANG.search(head)
    return match.group(1).replace("_", "-").lower() if match else None


def _same_words(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return " ".join(re.findall(r"\w+", s.casefold()))

    return norm(a) == norm(b)


def _run_trafilatura(
    html: bytes | str, url: str | None, favor_precision: bool, include_tables: bool
) -> object | None:
    return trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        favor_precision=favor_precision,
        include_comments=False,
        include_tables=include_tables,
        include_images=False,
        include_links=False,
        # Only dates the page states about itself: the extensive search also finds copyright
        # years and dates of related links. The feed's own date is preferred anyway.
        date_extraction_params={
            "outputformat": _DATE_FORMAT,
            "extensive_search": False,
            "original_date": True,
        },
    )


def extract_page(
    html: bytes | str,
    url: str | None = None,
    *,
    favor_precision: bool = False,
    min_words: int = 20,
    include_tables: bool = False,
) -> ExtractedPage:
    """Article text and metadata of one page; ExtractError when no usable text is found.

    `favor_precision` makes trafilatura drop more borderline blocks. It is off by default: on
    the fixtures it lost live-blog posts and removed no boilerplate (eval/extraction.py).
    When the precise pass finds nothing, a default pass is tried before giving up. Fewer
    than `min_words` words is "nothing usable" (cookie walls, paywalls, index pages). Tables
    are left out by default: on pages laid out with tables they swallow the whole page,
    navigation included, as one run-on row.
    """
    where = url or "page"
    if not html or not (html.strip() if isinstance(html, str) else html.strip()):
        raise ExtractError(f"{where}: the page is empty")
    try:
        doc = _run_trafilatura(html, url, favor_precision, include_tables)
        if favor_precision and (doc is None or not getattr(doc, "text", None)):
            doc = _run_trafilatura(html, url, False, include_tables)
    except (ValueError, TypeError, etree.LxmlError) as e:  # broken markup trafilatura chokes on
        raise ExtractError(f"{where}: could not read the page: {e}") from e
    if doc is None:
        raise ExtractError(f"{where}: no article text found")
    title = " ".join((getattr(doc, "title", None) or "").split()) or None
    paragraphs = _paragraphs("\n\n".join((getattr(doc, "text", None) or "").splitlines()))
    paragraphs = drop_boilerplate(paragraphs)
    # trafilatura keeps the page's <h1>; the headline is already the title, not body text.
    if paragraphs and title and _same_words(paragraphs[0], title):
        paragraphs = paragraphs[1:]
    text = "\n\n".join(paragraphs)
    found = whitespace_word_count(text)
    if found < min_words:
        raise ExtractError(f"{where}: only {found} words of article text found (need {min_words})")
    hostname = getattr(doc, "hostname", None)
    site_name = " ".join((getattr(doc, "sitename", None) or "").split()) or None
    if site_name and hostname and site_name.lower() in (hostname.lower(), f"www.{hostname}"):
        site_name = None  # a host name is not a site name; the feed title may be better
    page_url = getattr(doc, "url", None)
    return ExtractedPage(
        title=title,
        text=text,
        author=" ".join((getattr(doc, "author", None) or "").split()) or None,
        published=_parse_date(getattr(doc, "date", None)),
        site_name=site_name,
        canonical_url=canonical_url(page_url) if page_url else None,
        language=getattr(doc, "language", None) or _language(html),
    )


# ---------------------------------------------------------------------------------------------
# Many pages at once

# Below this many pages, starting worker processes (each imports trafilatura) costs more than
# it saves. Measured by bench/extraction_f1.py: 2 processes extract 1.3-2.0x faster than one
# on 2 cores; threads do not help (trafilatura holds the GIL).
MIN_PAGES_FOR_PROCESSES = 48
MAX_AUTO_PROCESSES = 4


def auto_processes(cpus: int | None = None) -> int:
    """The CPUs this process may use (affinity and cgroup quota), at most MAX_AUTO_PROCESSES."""
    return max(1, min(cpus or usable_cpus(), MAX_AUTO_PROCESSES))


def _extract_one(job: tuple[bytes, str | None, bool]) -> ExtractedPage | str:
    """One page, or the reason it gave no text (exceptions do not cross processes well)."""
    content, url, favor_precision = job
    try:
        return extract_page(content, url, favor_precision=favor_precision)
    except ExtractError as e:
        return str(e)


def extract_pages(
    pages: Sequence[tuple[bytes, str | None]],
    *,
    favor_precision: bool = False,
    processes: int = 0,
    cpus: int | None = None,
) -> list[ExtractedPage | str]:
    """Extract many (html, url) pages; each result is the page or the reason it failed.

    With `processes` > 1 (0 = one per usable CPU, `cpus` or digest.runtime's, at most 4) and
    enough pages, the work is shared among worker processes started with "forkserver": a clean
    process, never a fork of one that holds model threads or sockets. If the pool breaks (a
    worker killed by the OOM killer, or a page that crashes lxml), what is left goes to a fresh
    pool once; a page left after that is reported as failed (its item keeps the feed's text),
    never retried here.
    """
    jobs = [(content, url, favor_precision) for content, url in pages]
    workers = min(processes or auto_processes(cpus), len(jobs))
    if workers <= 1 or len(jobs) < MIN_PAGES_FOR_PROCESSES:
        return drop_site_repeats([_extract_one(job) for job in jobs], [url for _, url in pages])
    results: list[ExtractedPage | str | None] = [None] * len(jobs)
    for attempt in (1, 2):
        todo = [i for i, r in enumerate(results) if r is None]
        try:
            _extract_in_pool(jobs, todo, results, workers)
            break
        except (BrokenProcessPool, OSError) as e:
            left = sum(r is None for r in results)
            log.warning(
                "extract: a worker process died (%s); %s the other %d pages",
                e or type(e).__name__,
                "retrying" if attempt == 1 else "giving up on",
                left,
            )
    # A page that kills its worker twice is not extracted here, where it could take the whole
    # run (or `digest serve`) down with it: its item keeps the feed's own text.
    done = [
        r if r is not None else f"{url or 'page'}: extraction worker died on this page"
        for r, (_, url, _) in zip(results, jobs, strict=True)
    ]
    return drop_site_repeats(done, [url for _, url in pages])


def drop_site_repeats(
    results: Sequence[ExtractedPage | str], urls: Sequence[str | None]
) -> list[ExtractedPage | str]:
    """The pages without paragraphs that SITE_REPEAT_PAGES or more pages of one site share.

    Text the same on many pages of one site (a promo, a bio box, a standing disclaimer) is
    the site's, not any story's. A page that would be left with nothing keeps its text.
    """
    by_host: dict[str, list[int]] = {}
    for i, (r, url) in enumerate(zip(results, urls, strict=True)):
        if isinstance(r, ExtractedPage):
            by_host.setdefault(host_of(url) or "", []).append(i)
    out = list(results)
    for host, members in by_host.items():
        if not host or len(members) < SITE_REPEAT_PAGES:
            continue
        seen: dict[str, int] = {}
        for i in members:
            page = results[i]
            assert isinstance(page, ExtractedPage)
            for key in {_repeat_key(p) for p in page.text.split("\n\n")}:
                seen[key] = seen.get(key, 0) + 1
        shared = {
            k for k, n in seen.items() if n >= SITE_REPEAT_PAGES and len(k) >= _REPEAT_MIN_CHARS
        }
        if not shared:
            continue
        for i in members:
            page = results[i]
            assert isinstance(page, ExtractedPage)
            kept = [p for p in page.text.split("\n\n") if _repeat_key(p) not in shared]
            if kept and len(kept) < len(page.text.split("\n\n")):
                out[i] = replace(page, text="\n\n".join(kept))
        log.debug("extract: %d paragraphs repeated across %s pages dropped", len(shared), host)
    return out


def _repeat_key(paragraph: str) -> str:
    return " ".join(re.findall(r"\w+", paragraph.casefold()))


def _extract_in_pool(
    jobs: Sequence[tuple[bytes, str | None, bool]],
    todo: Sequence[int],
    results: list[ExtractedPage | str | None],
    workers: int,
) -> None:
    """Extract jobs[i] for i in todo into results[i], in a fresh forkserver pool."""
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(min(workers, len(todo)), mp_context=context) as pool:
        chunk = max(1, min(16, len(todo) // (workers * 4)))
        for i, result in zip(
            todo, pool.map(_extract_one, [jobs[i] for i in todo], chunksize=chunk), strict=True
        ):
            results[i] = result


# ---------------------------------------------------------------------------------------------
# FeedItem (+ page) -> Article


def needs_page(item: FeedItem, settings: ExtractSettings) -> bool:
    """True when the entry is only a teaser and its page should be fetched."""
    if not settings.fetch_pages or not item.url:
        return False
    return whitespace_word_count(html_to_text(item.summary_html)) < settings.teaser_words


def content_hash(text: str) -> str:
    """sha256 of the text with Unicode (NFC) and whitespace normalised."""
    normalised = " ".join(unicodedata.normalize("NFC", text).split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def build_article(
    item: FeedItem,
    page: ExtractedPage | None,
    *,
    feed_title: str | None,
    page_error: str | None = None,
) -> Article:
    """The Article for a feed item, from its page when there is one, else from the feed text.

    The feed's title wins over the page's (page titles carry " | Outlet" suffixes). When the
    page text is shorter than the feed's own text (a paywall, a cookie wall) the feed text is
    kept even though the page was fetched.
    """
    feed_text = html_to_text(item.summary_html)
    if page is None and page_error:
        log.info("using the feed's own text for %s: %s", item.url or item.key, page_error)
    text = feed_text
    if page is not None and whitespace_word_count(page.text) >= whitespace_word_count(feed_text):
        text = page.text
    title = item.title.strip() or (page.title if page and page.title else "") or "(untitled)"
    outlet = (
        (page.site_name if page else None)
        or feed_title
        or item.feed_title
        or host_of(item.url)
        or host_of(page.canonical_url if page else None)
        or host_of(item.feed_url)
        or "unknown"
    )
    published = as_utc(item.published) or (page.published if page else None)
    return Article(
        key=item.key,
        feed_url=item.feed_url,
        url=item.url,
        title=title,
        text=text,
        outlet=outlet,
        content_hash=content_hash(text),
        author=item.author or (page.author if page else None),
        published=published,
        priority=item.priority,
        from_feed_only=page is None,
    )
