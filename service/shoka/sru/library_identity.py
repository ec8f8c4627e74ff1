"""How this library names itself to other systems (SRU explain, OpenSearch, federated results): the first
active service point (the central library in catalogue order), or "local" before any is configured; and the
names of its service points."""

from __future__ import annotations

from dataclasses import dataclass

FALLBACK_NAME = "local"


@dataclass(frozen=True)
class LibraryName:
    ja: str
    en: str

    def in_language(self, language: str) -> str:
        return self.en if language == "en" else self.ja


async def local_library_name(pool) -> LibraryName:
    async with pool.connection() as connection:
        row = await (await connection.execute(
            "SELECT name_ja, name_en FROM service_point WHERE is_active ORDER BY sort_order, id LIMIT 1")).fetchone()
    if row is None:
        return LibraryName(FALLBACK_NAME, FALLBACK_NAME)
    return LibraryName(row[0], row[1])


async def service_point_names(pool) -> dict[str, LibraryName]:
    """Each service point's code with its names, for showing availability by branch name."""
    async with pool.connection() as connection:
        rows = await (await connection.execute("SELECT code, name_ja, name_en FROM service_point")).fetchall()
    return {code: LibraryName(name_ja, name_en) for code, name_ja, name_en in rows}
