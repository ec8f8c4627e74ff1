"""The engine replica each service process holds: derived state rebuilt from PostgreSQL and kept current from
the outbox (STYLE.md, "Where things live")."""
