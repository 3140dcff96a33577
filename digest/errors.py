"""The one shallow tree of errors that the CLI turns into one-line messages."""

from __future__ import annotations


class DigestError(Exception):
    """Base for every error a user can act on; `hint` says what to do about it."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class ConfigError(DigestError):
    """The config file is missing, unreadable, or names a key or value that is wrong."""

    hint = "run `digest check-config` to see every problem in the file"


class FetchError(DigestError):
    """A feed or page could not be fetched: network failure, bad status, too big, too slow."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class UnsafeURLError(FetchError):
    """A link was refused before fetching: not http(s), or it points at a private address."""


class FeedParseError(DigestError):
    """Bytes that were fetched as a feed are not a feed that can be read."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class ExtractError(DigestError):
    """No article text could be extracted from a page."""


class ModelError(DigestError):
    """A local model could not be found, assembled or loaded."""


class InferenceError(DigestError):
    """An inference server did not answer usefully: down, too slow, or refused the request."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class StateError(DigestError):
    """The SQLite state is unusable: locked by another process, corrupt, or from a newer version."""


class LeaseLost(StateError):
    """This `digest serve` replica is no longer sure it holds the state's lease, so it stops
    delivering: another replica may be running the same period (digest.lock)."""


class DeliveryError(DigestError):
    """A destination refused or failed a delivery after retries."""

    def __init__(self, destination: str, reason: str) -> None:
        super().__init__(f"{destination}: {reason}")
        self.destination = destination
        self.reason = reason


class DeliveryInDoubt(DeliveryError):
    """The destination received a message but its answer was lost: it may have arrived.

    Not retried in the same run (that could deliver it twice); the pipeline records the doubt
    and the next run decides.
    """

    def __init__(self, destination: str, reason: str, *, reference: str) -> None:
        super().__init__(destination, reason)
        self.reference = reference
