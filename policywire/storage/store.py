"""The store: all SQL, one domain per mixin (see the package's modules).

    StoreBase          storage/base.py          engine, transactions, write lock, open + migrate
    FeedsMixin         storage/feeds.py         fetch state, validators, polls, next poll
    ItemsMixin         storage/items.py         items, matches, digest candidates, pruning
    DestinationsMixin  storage/destinations.py  destinations, subscriptions, deliveries
    OutboxMixin        storage/outbox.py        messages to send
    VectorsMixin       storage/vectors.py       matched items' embeddings, per model

The tables are in storage/schema.py, the rows callers read in storage/rows.py (re-exported
here), the SQLite-only fast paths in storage/sqlite_bulk.py and the migrations in
storage/migrations/.
"""

from __future__ import annotations

from policywire.storage.destinations import DestinationsMixin
from policywire.storage.feeds import FeedsMixin
from policywire.storage.items import ItemsMixin
from policywire.storage.outbox import OutboxMixin
from policywire.storage.rows import DestinationRow, FeedRow, FeedState, OutboxRow
from policywire.storage.vectors import VectorsMixin

__all__ = ["DestinationRow", "FeedRow", "FeedState", "OutboxRow", "Store"]


class Store(FeedsMixin, ItemsMixin, DestinationsMixin, OutboxMixin, VectorsMixin):
    """The only place that talks SQL. Open with `await Store.open(url)`."""
