-- Shoka schema, version 7: the outbox's circulation events are pruned once every replica has them
-- (shoka.replica.retention). One row says how far, so that a replica that fell behind the pruned events knows
-- it must reload its loan state from the tables instead of following the outbox past a hole.
CREATE TABLE outbox_retention (
    only_row        boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    -- Circulation events at or below this seq may be gone.
    pruned_through  bigint NOT NULL DEFAULT 0,
    -- The newest seq when marked_at was taken: everything up to it was committed before then, so once
    -- marked_at is a grace period old those events are at least that old.
    marked_seq      bigint,
    marked_at       timestamptz
);
INSERT INTO outbox_retention DEFAULT VALUES;
GRANT SELECT, UPDATE ON outbox_retention TO shoka_staff;
