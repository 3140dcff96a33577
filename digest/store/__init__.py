"""The state: every read and write of feeds, articles, stories, the ledger, runs, locks, alert
queue, readers' choices and the archive, behind one typed API (`Store`).

Nothing outside this package runs SQL or sees a connection. `Store` holds the shared SQL; a
backend module supplies the database: `sqlite` (the embedded default, a file in the state
folder) or `postgres` (a `postgresql://` URL, shared by several processes or machines).
The clusterer sees only the `StoryIndex` port.

- `migrations`: ordered schema changes, recorded in `_migrations`
- `feeds`, `stories` (articles and stories, the one story write path), `index` (the story
  index the clusterer reads), `summaries`, `ledger` (deliveries, intents, passed over),
  `runs` (runs, locks, serve sessions), `alerts` (the alert queue), `readers` (subscribers,
  follows, mutes, reactions), `archive`
"""

from .api import Store
from .index import StoryIndex
from .migrations import MIGRATIONS
from .postgres import PostgresStore, is_postgres_url
from .records import (
    ArchivedDayCount,
    FeedState,
    FollowRecord,
    FragmentMerge,
    IndexedArticle,
    LedgerEntry,
    LockRecord,
    MuteRecord,
    QueuedAlert,
    ReactionRecord,
    RunRecord,
    StoryHead,
    StoryWrite,
    Subscriber,
)
from .sqlite import DB_NAME, JOURNAL_NAME, SqliteStore, state_error

__all__ = [
    "DB_NAME",
    "JOURNAL_NAME",
    "MIGRATIONS",
    "ArchivedDayCount",
    "FeedState",
    "FollowRecord",
    "FragmentMerge",
    "IndexedArticle",
    "LedgerEntry",
    "LockRecord",
    "MuteRecord",
    "PostgresStore",
    "QueuedAlert",
    "ReactionRecord",
    "RunRecord",
    "SqliteStore",
    "is_postgres_url",
    "Store",
    "StoryHead",
    "StoryIndex",
    "StoryWrite",
    "Subscriber",
    "state_error",
]
