"""The delivery port: rendered messages, the renderer that makes them, the notifier that sends them.

The pipeline renders, notifiers only transport. For each destination, `notifier.renderer`
turns the digest into `Message`s (Slack Block Kit, one email, an HTML file, ...), each naming
the stories it carries and a key that is the same for the same message on a retry; the
pipeline hands them to `notifier.send`, which transports them as they are and reports each
message the destination confirmed through `on_sent(story_ids, reference)`. The pipeline writes
the delivery ledger in `on_sent`, so a crash after message 1 of 3 resends only messages 2 and 3.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from ..clock import as_utc
from ..models import Digest

Body = TypeVar("Body")

OnSent = Callable[[tuple[str, ...], str], None]
"""Called after each confirmed message with its story ids and the destination's reference."""


@dataclass(frozen=True)
class Message(Generic[Body]):
    """One rendered message for one destination, as its notifier transports it."""

    key: str  # the same for the same destination, digest, day, stories and part (a retry)
    story_ids: tuple[str, ...]  # the stories it carries: recorded once it is confirmed
    body: Body  # what goes out: a SlackMessage, an EmailMessage, a LocalPage, ...


class Renderer(Protocol[Body]):
    """Renders a digest into the messages of one destination. Pure: it sends nothing."""

    def render(self, digest: Digest) -> list[Message[Body]]:
        """The digest's messages, in the order they are to be sent (at least one)."""
        ...


class Notifier(Protocol):
    """A destination's transport: sends rendered messages, confirming message by message."""

    key: str  # the destination key, e.g. "slack:#news", "email:a@x,b@y", "local"

    @property
    def renderer(self) -> Renderer[Any]:
        """How this destination's messages are rendered (the pipeline calls it)."""
        ...

    def send(self, messages: Sequence[Message[Any]], on_sent: OnSent) -> None:
        """Transport the messages as they are, calling on_sent after each confirmed one.

        Raises digest.errors.DeliveryError(key, reason) when it gives up.
        """
        ...


class IntentLog(Protocol):
    """The ledger side of a reconciling notifier's posts (the pipeline backs it with the store)."""

    def begin(self, key: str, story_ids: tuple[str, ...]) -> None:
        """Record, before posting, that the message `key` with these stories is going out."""
        ...

    def confirm(self, key: str, story_ids: tuple[str, ...], reference: str) -> None:
        """The destination has the message: record its stories and clear the intent together."""
        ...


@runtime_checkable
class ReconcilingNotifier(Protocol):
    """A Notifier that can tell whether a message of an interrupted run reached the destination."""

    key: str

    @property
    def renderer(self) -> Renderer[Any]:
        """As Notifier.renderer."""
        ...

    def send(
        self, messages: Sequence[Message[Any]], on_sent: OnSent, intents: IntentLog | None = None
    ) -> None:
        """As Notifier.send; with `intents`, each post is bracketed by begin and confirm (which
        replaces on_sent) and carries its message's key, so `find_posted` can recognise it."""
        ...

    def find_posted(
        self, keys: Collection[str], since: datetime, until: datetime | None = None
    ) -> dict[str, str]:
        """Of these message keys, those the destination has (posted between `since` and
        `until`), with their references. When the destination cannot be asked, log one warning
        and return what was found so far: the caller posts the rest again (at-least-once), it
        never fails the run."""
        ...


def delivery_key(destination: str, digest: Digest, story_ids: Sequence[str], part: int) -> str:
    """A key for one message: the same for the same destination, digest, day, stories and part.

    Deterministic, so a retry of a message carries the key of its first attempt; sha256 hex, so
    it reveals nothing of the stories when it travels with the message.
    """
    day = as_utc(digest.generated_at).strftime("%Y-%m-%d")
    # An Update of a story is another message than the story itself, on any day.
    updates = {ds.story.id for ds in digest.stories if ds.is_update}
    items = [f"{sid} {'update' if sid in updates else 'story'}" for sid in story_ids]
    material = "\n".join([destination, digest.name, digest.kind, day, f"part {part}", *items])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def send_digest(notifier: Notifier, digest: Digest, on_sent: OnSent) -> None:
    """Render a digest for a notifier and send it: the two steps of the pipeline's delivery,
    without its ledger (for a command that shows a digest, and for tests)."""
    notifier.send(notifier.renderer.render(digest), on_sent)


__all__ = [
    "IntentLog",
    "Message",
    "Notifier",
    "OnSent",
    "ReconcilingNotifier",
    "Renderer",
    "delivery_key",
    "send_digest",
]
