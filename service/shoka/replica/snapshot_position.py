"""Where a database snapshot stands in the outbox, for the derived state built from it (a replica's loan state,
a search index generation, `shoka check`'s comparison): the events after it are what that state lacks.

It is the snapshot's newest event, or how far circulation events are pruned when that is further
(shoka.replica.retention). After a quiet hour every event may be pruned and the outbox left empty or ending
below the pruned horizon; a replica started then from max(seq) alone would find events it never read gone, reload
its loan state from a snapshot that stands no further, and do so again at every round until the next event.
"""

SNAPSHOT_POSITION_SQL = ("SELECT greatest(coalesce((SELECT max(seq) FROM outbox_event), 0), "
                         "coalesce((SELECT pruned_through FROM outbox_retention), 0))")
