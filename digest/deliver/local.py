"""Local delivery: the terminal plus an HTML file, and MemoryNotifier, the in-memory twin.

Each notifier here has its renderer beside it (`LocalRenderer`, `MemoryRenderer`); the pipeline
renders, the notifier only writes, prints or keeps what it is given.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ..clock import as_utc
from ..errors import DeliveryError
from ..models import Digest
from ..render import render_html, render_text
from .base import Message, OnSent


@dataclass(frozen=True)
class LocalPage:
    """A digest rendered for the terminal and a file: its HTML, where it goes, and its text."""

    path: Path
    html: str
    text: str


class LocalRenderer:
    """Renders a digest as an HTML page for `<html_dir>/digest-<name>-<stamp>.html` and a text
    for the terminal (plain text unless `render` gives another format)."""

    def __init__(
        self, html_dir: str | os.PathLike[str], render: Callable[[Digest], str] | None = None
    ) -> None:
        self.html_dir = Path(html_dir)
        self._render = render or render_text

    def html_path(self, digest: Digest) -> Path:
        """Where the HTML copy of this digest goes: one file per digest name and minute."""
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", digest.name).lstrip(".") or "digest"
        stamp = as_utc(digest.generated_at).strftime("%Y%m%d-%H%M")
        return self.html_dir / f"digest-{name}-{stamp}.html"

    def render(self, digest: Digest) -> list[Message[LocalPage]]:
        """The one message of a digest, keyed by the file it goes to."""
        path = self.html_path(digest)
        page = LocalPage(path, render_html(digest), self._render(digest))
        return [Message(str(path), tuple(ds.story.id for ds in digest.stories), page)]


class LocalNotifier:
    """Writes a rendered page to its HTML file and prints its text to the terminal.

    The file is created with the process's umask (0644 under the usual 022), like any file a
    command writes: a digest is meant to be opened, shared or served. `last_path` is the file
    the last send wrote, for the CLI to name.
    """

    def __init__(
        self,
        html_dir: str | os.PathLike[str],
        stream: TextIO | None = None,
        *,
        render: Callable[[Digest], str] | None = None,
        key: str = "local",
    ) -> None:
        self.key = key
        self.renderer = LocalRenderer(html_dir, render)
        self._stream = stream
        self.last_path: Path | None = None

    def send(self, messages: Sequence[Message[LocalPage]], on_sent: OnSent) -> None:
        """Write each HTML file, print its text, then confirm its stories with the file path."""
        for message in messages:
            self._write(message.body)
            stream = self._stream or sys.stdout
            text = message.body.text
            stream.write(text if text.endswith("\n") else text + "\n")
            stream.flush()
            self.last_path = message.body.path
            on_sent(message.story_ids, str(message.body.path))

    def _write(self, page: LocalPage) -> None:
        path = page.path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename, so a crash never leaves half a file under the final name.
            # Not mkstemp: its 0600 would make the digest unreadable to anyone else; 0666 here
            # is narrowed by the umask, as for any other file the user's commands write.
            tmp = str(path.parent / f".digest-{secrets.token_hex(8)}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(page.html)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as e:
            raise DeliveryError(self.key, f"cannot write {path}: {e.strerror or e}") from e


@dataclass(frozen=True)
class SentMessage:
    """One message a MemoryNotifier accepted."""

    digest: str
    story_ids: tuple[str, ...]
    reference: str


class MemoryRenderer:
    """The in-memory twin's rendering: the digest itself, its stories cut into messages of
    `stories_per_message` (one empty message for a digest without stories)."""

    def __init__(self, stories_per_message: int = 1) -> None:
        if stories_per_message < 1:
            raise ValueError("stories_per_message must be at least 1")
        self.stories_per_message = stories_per_message

    def render(self, digest: Digest) -> list[Message[Digest]]:
        """One Message per chunk of stories, each carrying the whole digest as its body."""
        ids = [ds.story.id for ds in digest.stories]
        n = self.stories_per_message
        chunks = [tuple(ids[i : i + n]) for i in range(0, len(ids), n)] or [()]
        return [Message(f"part {i}", chunk, digest) for i, chunk in enumerate(chunks, start=1)]


class MemoryNotifier:
    """The in-memory twin of a Notifier: records what it was sent, can be told to fail.

    Stories are sent `stories_per_message` to a message. With `fail_on=N`, the Nth message
    over the notifier's life raises `fail_with` (default: a DeliveryError) instead of being
    confirmed; the messages before it stay confirmed, as with a real destination. It fails
    once, so the same notifier delivers the rest on the next run. While `down` is set, every
    send raises it before anything is recorded: the destination is unreachable.
    """

    def __init__(
        self,
        key: str = "memory",
        *,
        stories_per_message: int = 1,
        fail_on: int | None = None,
        fail_with: BaseException | None = None,
        down: BaseException | None = None,
    ) -> None:
        self.key = key
        self.renderer = MemoryRenderer(stories_per_message)
        self.stories_per_message = stories_per_message
        self.fail_on = fail_on
        self.fail_with = fail_with
        self.down = down
        self.messages: list[SentMessage] = []
        self.digests: list[Digest] = []
        self._count = 0

    @property
    def story_ids(self) -> list[str]:
        """Every story id confirmed so far, in the order sent."""
        return [sid for m in self.messages for sid in m.story_ids]

    def send(self, messages: Sequence[Message[Digest]], on_sent: OnSent) -> None:
        """Record the digest message by message, failing on the configured message."""
        if self.down is not None:
            raise self.down
        for message in messages[:1]:
            self.digests.append(message.body)
        for message in messages:
            self._count += 1
            if self._count == self.fail_on:
                raise self.fail_with or DeliveryError(
                    self.key, f"told to fail on message {self._count}"
                )
            reference = f"{self.key}#{self._count}"
            self.messages.append(SentMessage(message.body.name, message.story_ids, reference))
            on_sent(message.story_ids, reference)


__all__ = [
    "LocalNotifier",
    "LocalPage",
    "LocalRenderer",
    "MemoryNotifier",
    "MemoryRenderer",
    "SentMessage",
]
