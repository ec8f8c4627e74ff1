-- Shoka schema, version 5: the operation log's chain follows id order, and the log can be searched by record
-- and by source address.
--
-- Version 1 drew a row's id (an identity default) before the chain lock was taken. Two appenders could then be
-- chained in the opposite order to their ids, and the next row was chained after the highest id, leaving the
-- other row as a dead end that no verifier could tell from a deleted one. The id is now drawn by the chain
-- trigger under the lock (an id given in the INSERT is overwritten): because the lock is held until commit, id
-- order, chain order and commit order of log rows are one order, and verification (shoka.audit_chain) walks
-- the chain by id.
--
-- A transaction under REPEATABLE READ or SERIALIZABLE reads an older snapshot and could miss the latest row,
-- forking the chain; such appends are refused with a message that says so.
ALTER TABLE operation_log ALTER COLUMN id DROP IDENTITY;
CREATE SEQUENCE operation_log_id_seq AS bigint OWNED BY operation_log.id;
SELECT setval('operation_log_id_seq', coalesce((SELECT max(id) FROM operation_log), 0) + 1, false);
GRANT USAGE, SELECT ON SEQUENCE operation_log_id_seq TO shoka_staff;

CREATE OR REPLACE FUNCTION operation_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_hash bytea;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'operation_log rows are appended under READ COMMITTED only (this transaction is %)',
            current_setting('transaction_isolation') USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    -- Serialise appenders: the chain has one order.
    PERFORM pg_advisory_xact_lock(7310001);
    NEW.id := nextval('operation_log_id_seq');
    SELECT row_hash INTO last_hash FROM operation_log ORDER BY id DESC LIMIT 1;
    NEW.previous_hash := coalesce(last_hash, '\x'::bytea);
    NEW.row_hash := sha256(NEW.previous_hash || operation_log_row_content(NEW));
    RETURN NEW;
END
$$;

-- The audit screen finds everything done to one record, or from one desk, newest first (keyset on id).
CREATE INDEX operation_log_entity ON operation_log (entity, entity_id, id);
CREATE INDEX operation_log_source ON operation_log (source_address, id);
