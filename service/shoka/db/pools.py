"""Connection pools of the service, one per database role.

The staff pool works as `shoka_staff` (staff pages, API, circulation); the public pool as `shoka_public`, which
cannot read patron personal data (the OPAC's anonymous pages). Both connect with the configured owner URL and
take their role with the connection option `-c role=...`, so a bug in an OPAC query cannot reach what the role
may not read.

The staff pool's connections carry the counter's prepared statements (shoka.db.batches), so psycopg's own
automatic preparing is off on them: it would deallocate them after every ROLLBACK.
"""

from __future__ import annotations

import msgspec
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import tuple_row
from psycopg_pool import AsyncConnectionPool

STAFF_ROLE = "shoka_staff"
PUBLIC_ROLE = "shoka_public"


def url_with_role(database_url: str, role: str) -> str:
    options = conninfo_to_dict(database_url).get("options") or ""
    return make_conninfo(database_url, options=f"{options} -c role={role}".strip())


class DatabasePools(msgspec.Struct):
    staff: AsyncConnectionPool
    public: AsyncConnectionPool

    @classmethod
    def create(cls, database_url: str, *, staff_size: int = 8, public_size: int = 4) -> "DatabasePools":
        def pool(role: str, size: int, **options) -> AsyncConnectionPool:
            return AsyncConnectionPool(url_with_role(database_url, role), min_size=1, max_size=size, open=False,
                                       kwargs={"row_factory": tuple_row, **options}, name=role, timeout=5.0)
        return cls(staff=pool(STAFF_ROLE, staff_size, prepare_threshold=None), public=pool(PUBLIC_ROLE, public_size))

    async def open(self) -> None:
        await self.staff.open(wait=True)
        await self.public.open(wait=True)

    async def close(self) -> None:
        await self.staff.close()
        await self.public.close()
