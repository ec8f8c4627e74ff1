"""Verifying the operation log's hash chain (改ざん検査): the staff button POST /staff/audit/verify and
`shoka audit verify`.

Each row stores previous_hash (the row_hash of the row before it) and row_hash =
sha256(previous_hash || operation_log_row_content(row)), computed by the database when the row was appended
(migrations 0001 and 0005). The walk reads every row in id order through a server-side cursor, recomputing the
hash with the same SQL function, and stops at the first row that fails:

- `content_changed`: the recomputed hash differs from the stored row_hash: the row's content or its hash was
  changed after it was written;
- `link_broken`: previous_hash is not the row_hash of the row before it (the first row: not empty): a row
  before it was deleted, or the chain was rewritten from there on (a changed row whose hash was recomputed
  shows up here, at the row after it).

A chain cannot show rows cut off its end; the report therefore gives the last id and hash, which an operator can
note elsewhere and compare with the next verification.
"""

from __future__ import annotations

import enum
from typing import Any

import msgspec
from psycopg import AsyncConnection

ROWS_PER_BATCH = 5000

_WALK = """SELECT id, previous_hash, row_hash, sha256(previous_hash || operation_log_row_content(l)) = row_hash
           FROM operation_log l ORDER BY id"""


class ChainProblem(enum.StrEnum):
    CONTENT_CHANGED = "content_changed"
    LINK_BROKEN = "link_broken"


class ChainReport(msgspec.Struct, frozen=True):
    """What a walk found. `rows_checked` counts the rows read, the failing one included; `last_id` and
    `last_hash` are those of the last row found intact (the chain's end when nothing failed)."""

    rows_checked: int
    first_bad_id: int | None = None
    problem: ChainProblem | None = None
    last_id: int | None = None
    last_hash: str = ""

    @property
    def intact(self) -> bool:
        return self.problem is None

    def as_detail(self) -> dict[str, Any]:
        """The report as the detail of the operation log's own `audit.verify` entry."""
        return {"intact": self.intact, "rows_checked": self.rows_checked, "first_bad_id": self.first_bad_id,
                "problem": self.problem.value if self.problem else None, "last_id": self.last_id}

    def describe(self) -> str:
        """One line for the operator (English; the staff screen has its own wording)."""
        if self.intact:
            return (f"operation log chain intact: {self.rows_checked} rows checked, last id {self.last_id}, "
                    f"last hash {self.last_hash or '-'}")
        what = ("its content or hash was changed" if self.problem is ChainProblem.CONTENT_CHANGED
                else "it does not follow the row before it (a row was deleted or the chain rewritten)")
        return (f"operation log chain broken at id {self.first_bad_id}: {what}; "
                f"{self.rows_checked} rows checked")


async def verify_operation_log_chain(connection: AsyncConnection) -> ChainReport:
    """Walk the whole chain in id order (one snapshot); stop at the first row that fails."""
    expected_previous = b""
    rows_checked = 0
    last_id: int | None = None
    async with connection.transaction(), connection.cursor(name="operation_log_chain_walk") as cursor:
        cursor.itersize = ROWS_PER_BATCH
        await cursor.execute(_WALK)
        while rows := await cursor.fetchmany(ROWS_PER_BATCH):
            for entry_id, previous_hash, row_hash, hash_matches in rows:
                rows_checked += 1
                if not hash_matches:
                    return ChainReport(rows_checked, entry_id, ChainProblem.CONTENT_CHANGED, last_id,
                                       expected_previous.hex())
                if bytes(previous_hash) != expected_previous:
                    return ChainReport(rows_checked, entry_id, ChainProblem.LINK_BROKEN, last_id,
                                       expected_previous.hex())
                expected_previous = bytes(row_hash)
                last_id = entry_id
    return ChainReport(rows_checked, last_id=last_id, last_hash=expected_previous.hex())
