"""PostgreSQL, the system of record: where the database is, its schema, and the connection pools."""

import msgspec
from psycopg.types.json import set_json_dumps, set_json_loads

# json and jsonb go in and out through msgspec: the same documents (jsonb keeps no formatting) at a fraction of
# the standard library's cost, which the counter pays on every event and operation-log entry it writes.
set_json_dumps(msgspec.json.encode)
set_json_loads(msgspec.json.decode)
