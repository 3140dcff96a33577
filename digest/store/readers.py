"""What readers change themselves: email subscriptions, and the Slack app's followed topics,
mutes and reactions, per channel (by ledger destination)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from .db import Database, Row, dt, ts
from .records import FollowRecord, MuteRecord, ReactionRecord, Subscriber


def _follow(r: Row) -> FollowRecord:
    return FollowRecord(
        id=int(r["id"]),
        destination=r["destination"],
        channel_id=r["channel_id"],
        channel_name=r["channel_name"],
        text=r["text"],
        rule=json.loads(r["rule"]),
        created_by=r["created_by"],
    )


class Readers(Database):
    """The `subscribers`, `slack_follows`, `slack_mutes` and `slack_reactions` tables."""

    # --- email subscriptions ------------------------------------------------------------------

    def subscriber_status(self, digest: str, address: str) -> str | None:
        """ "subscribed" / "unsubscribed" as recorded for this address, or None."""
        row = self._one(
            "SELECT status FROM subscribers WHERE digest = ? AND address = ?", (digest, address)
        )
        return None if row is None else str(row["status"])

    def set_subscriber(
        self, digest: str, address: str, status: str, source: str, now: datetime
    ) -> bool:
        """Record an address's status for a digest; True when that changed anything."""
        with self.transaction():
            if self.subscriber_status(digest, address) == status:
                return False
            self._run(
                "INSERT INTO subscribers (digest, address, status, source, changed_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (digest, address) DO UPDATE SET "
                "status = excluded.status, source = excluded.source, "
                "changed_at = excluded.changed_at",
                (digest, address, status, source, ts(now)),
            )
        return True

    def subscribers(self, digest: str | None = None) -> list[Subscriber]:
        """The recorded subscriptions (either status), by digest and address."""
        where, args = ("WHERE digest = ? ", (digest,)) if digest is not None else ("", ())
        rows = self._rows(f"SELECT * FROM subscribers {where}ORDER BY digest, address", args)
        return [
            Subscriber(r["digest"], r["address"], r["status"], r["source"], dt(r["changed_at"]))
            for r in rows
        ]

    def addresses_with_status(self, digest: str, status: str) -> set[str]:
        """The addresses of a digest recorded with this status."""
        rows = self._rows(
            "SELECT address FROM subscribers WHERE digest = ? AND status = ?", (digest, status)
        )
        return {str(r["address"]) for r in rows}

    # --- follows ------------------------------------------------------------------------------

    def add_follow(
        self,
        destination: str,
        *,
        channel_id: str,
        channel_name: str,
        text: str,
        rule: dict[str, object],
        created_by: str,
        now: datetime,
    ) -> FollowRecord:
        """Store a followed topic whose alerts go to `destination`."""
        with self.transaction():
            row = self._one(
                "INSERT INTO slack_follows (channel_id, channel_name, text, rule, created_by, "
                "created_at, destination) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    channel_id,
                    channel_name,
                    text,
                    json.dumps(rule),
                    created_by,
                    ts(now),
                    destination,
                ),
            )
        follow_id = int(row["id"]) if row else 0
        return FollowRecord(
            follow_id, destination, channel_id, channel_name, text, dict(rule), created_by
        )

    def follows(self, destination: str | None = None) -> list[FollowRecord]:
        """The follows of one destination (of all, when None), oldest first."""
        where, args = (
            ("WHERE destination = ? ", (destination,)) if destination is not None else ("", ())
        )
        return [
            _follow(r) for r in self._rows(f"SELECT * FROM slack_follows {where}ORDER BY id", args)
        ]

    def remove_follow(self, follow_id: int) -> None:
        """Forget a follow."""
        with self.transaction():
            self._run("DELETE FROM slack_follows WHERE id = ?", (follow_id,))

    # --- mutes --------------------------------------------------------------------------------

    def add_mute(
        self,
        destination: str,
        *,
        channel_id: str,
        channel_name: str,
        text: str,
        created_by: str,
        now: datetime,
    ) -> MuteRecord:
        """Store a mute for a channel."""
        with self.transaction():
            row = self._one(
                "INSERT INTO slack_mutes (channel_id, channel_name, text, created_by, "
                "created_at, destination) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (channel_id, channel_name, text, created_by, ts(now), destination),
            )
        return MuteRecord(int(row["id"]) if row else 0, destination, text)

    def mutes(self, destination: str) -> list[MuteRecord]:
        """A destination's mutes, oldest first."""
        rows = self._rows(
            "SELECT id, destination, text FROM slack_mutes WHERE destination = ? ORDER BY id",
            (destination,),
        )
        return [MuteRecord(int(r["id"]), r["destination"], r["text"]) for r in rows]

    def remove_mute(self, mute_id: int) -> None:
        """Forget a mute."""
        with self.transaction():
            self._run("DELETE FROM slack_mutes WHERE id = ?", (mute_id,))

    # --- reactions ----------------------------------------------------------------------------

    def record_reaction(
        self,
        destination: str,
        *,
        channel_id: str,
        ts_: str,
        user: str,
        reaction: str,
        vote: int,
        story_ids: Sequence[str],
        now: datetime,
    ) -> None:
        """Record (or replace) one user's reaction on a posted message."""
        with self.transaction():
            self._run(
                'INSERT INTO slack_reactions (channel_id, ts, "user", reaction, vote, story_ids, '
                "created_at, destination) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                'ON CONFLICT (channel_id, ts, "user", reaction) DO UPDATE SET '
                "vote = excluded.vote, story_ids = excluded.story_ids, "
                "created_at = excluded.created_at, destination = excluded.destination",
                (
                    channel_id,
                    ts_,
                    user,
                    reaction,
                    vote,
                    json.dumps(list(story_ids)),
                    ts(now),
                    destination,
                ),
            )

    def remove_reaction(self, *, channel_id: str, ts_: str, user: str, reaction: str) -> bool:
        """Undo a reaction; True when one was recorded."""
        with self.transaction():
            changed = self._run(
                'DELETE FROM slack_reactions WHERE channel_id = ? AND ts = ? AND "user" = ? '
                "AND reaction = ?",
                (channel_id, ts_, user, reaction),
            )
        return changed > 0

    def forget_reactions(self, destination: str) -> int:
        """Clear every reaction of a destination; how many there were."""
        with self.transaction():
            return self._run("DELETE FROM slack_reactions WHERE destination = ?", (destination,))

    def reactions(self, destination: str) -> list[ReactionRecord]:
        """The votes recorded for a destination."""
        rows = self._rows(
            "SELECT destination, vote, story_ids FROM slack_reactions WHERE destination = ? "
            'ORDER BY created_at, ts, "user", reaction',
            (destination,),
        )
        return [
            ReactionRecord(r["destination"], int(r["vote"]), tuple(json.loads(r["story_ids"])))
            for r in rows
        ]

    def reader_destinations(self) -> list[str]:
        """Every destination with a follow, a mute or a reaction, sorted."""
        rows = self._rows(
            "SELECT destination FROM slack_follows UNION SELECT destination FROM slack_mutes "
            "UNION SELECT destination FROM slack_reactions ORDER BY 1"
        )
        return [str(r["destination"]) for r in rows]
