"""The store: all SQL, one domain per mixin (see the package's modules).

    StoreBase          storage/base.py          engine, transactions, write lock, open + migrate
    FeedsMixin         storage/feeds.py         fetch state, validators, polls, next poll
    ItemsMixin         storage/items.py         items, matches, digest candidates, pruning
    DestinationsMixin  storage/destinations.py  destinations, subscriptions, deliveries
    OutboxMixin        storage/outbox.py        messages to send
    VectorsMixin       storage/vectors.py       matched items' embeddings, per model
    LeasesMixin        storage/leases.py        several workers: leases, digest ticks
    WorkersMixin       storage/workers.py       several workers: who runs, heartbeats
    StoriesMixin       storage/stories.py       story identity, story cards, readers' verdicts

The tables are in storage/schema.py, the rows callers read in storage/rows.py (re-exported
here), the SQLite-only fast paths in storage/sqlite_bulk.py and the migrations in
storage/migrations/.
"""

from __future__ import annotations

from policywire.storage.destinations import DestinationsMixin
from policywire.storage.feeds import FeedsMixin
from policywire.storage.items import ItemsMixin
from policywire.storage.leases import LeasesMixin
from policywire.storage.outbox import OutboxMixin
from policywire.storage.rows import DestinationRow, FeedRow, FeedState, OutboxRow
from policywire.storage.stories import StoriesMixin
from policywire.storage.vectors import VectorsMixin
from policywire.storage.workers import WorkersMixin

__all__ = ["DestinationRow", "FeedRow", "FeedState", "OutboxRow", "Store"]


class Store(
    FeedsMixin,
    ItemsMixin,
    DestinationsMixin,
    OutboxMixin,
    VectorsMixin,
    LeasesMixin,
    WorkersMixin,
    StoriesMixin,
):
    """The only place that talks SQL. Open with `await Store.open(url)`."""
