-- Shoka schema, version 4: staff web sessions.
-- The staff client's session lives in the database, not in a signed cookie, so that logout, an idle timeout, a
-- disabled account or an administrator's "end all sessions" take effect at once on every worker and machine.
-- The cookie holds a random token; only its sha256 is stored, so a copy of the database opens no session.
CREATE TABLE staff_session (
    token_hash      bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    staff_id        integer NOT NULL REFERENCES staff_account (id) ON DELETE CASCADE,
    -- The service point the desk works at (a counter account only among its own branches).
    working_branch  text NOT NULL REFERENCES service_point (code) ON UPDATE CASCADE,
    source_address  text NOT NULL DEFAULT '',
    started_at      timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    ended_at        timestamptz,
    end_reason      text CHECK (end_reason IN ('logout', 'idle', 'expired', 'revoked', 'account_changed'))
);
CREATE INDEX staff_session_open ON staff_session (staff_id) WHERE ended_at IS NULL;
GRANT SELECT, INSERT, UPDATE, DELETE ON staff_session TO shoka_staff;
