-- Shoka schema, version 3: idempotency keys for circulation requests.
-- A desk or kiosk that lost the answer to a request (a dropped connection, a crash) sends it again with the
-- same request_id and gets the original answer instead of a second change or a confusing refusal.
CREATE TABLE idempotent_request (
    request_id  text PRIMARY KEY CHECK (length(request_id) BETWEEN 8 AND 64),
    operation   text NOT NULL,
    response    jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idempotent_request_created ON idempotent_request (created_at);
GRANT SELECT, INSERT, DELETE ON idempotent_request TO shoka_staff;
