-- Shoka schema, version 2: engine replicas report themselves and answer consistency checks (`shoka check`).

-- Every serving process with an engine replica, refreshed by a heartbeat.
CREATE TABLE engine_replica (
    replica_id    text PRIMARY KEY,
    host          text NOT NULL,
    pid           integer NOT NULL,
    started_at    timestamptz NOT NULL,
    heartbeat_at  timestamptz NOT NULL,
    applied_seq   bigint NOT NULL
);

-- A request to compare every live replica with the database, and each replica's answer.
CREATE TABLE replica_check (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    requested_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE replica_check_result (
    check_id      bigint NOT NULL REFERENCES replica_check (id) ON DELETE CASCADE,
    replica_id    text NOT NULL,
    applied_seq   bigint NOT NULL,
    differences   jsonb NOT NULL,
    checked_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (check_id, replica_id)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON engine_replica, replica_check, replica_check_result TO shoka_staff;
