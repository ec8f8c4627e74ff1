"""PostgreSQL, the system of record: where the database is, its schema, and the connection pools."""
