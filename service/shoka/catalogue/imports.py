"""`shoka import marc` and `shoka import aozora`: bulk catalogue imports, all-or-nothing or skip-and-report.

An import parses every file first. Rejected records are reported with file, record number and reason;
then either nothing is written (the default, all-or-nothing) or the good records are written and the rest
skipped (`--skip-rejects`). Writing happens in one transaction with the outbox events and an operation-log
entry, so an import is visible to search as a whole or not at all, and re-running it updates in place.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path

import msgspec
import psycopg

from shoka.audit import Actor, record_operation_sync
from shoka.catalogue.aozora_list import AozoraReject, diff_aozora, read_aozora_list
from shoka.catalogue.bib_rows import (
    E_TEXT,
    MATERIAL_TYPE_OF_MARC,
    append_bib_events,
    bib_row_from_aozora,
    bib_row_from_marc,
    ensure_material_types,
    upsert_bib_rows,
)
from shoka.catalogue.marc_records import MarcReject, read_marc

WRITE_BATCH = 2000


class MarcFileSummary(msgspec.Struct, frozen=True):
    file_name: str
    file_format: str
    records: int
    rejects: list[MarcReject]


class MarcImportReport(msgspec.Struct, frozen=True):
    files: list[MarcFileSummary]
    added: int
    updated: int
    rejected: int
    written: bool
    dry_run: bool

    @property
    def refused(self) -> bool:
        """All-or-nothing import with rejects: nothing was written."""
        return not self.dry_run and not self.written and self.rejected > 0


def import_marc_files(database_url: str, paths: Sequence[str | os.PathLike[str]], *, dry_run: bool,
                      skip_rejects: bool, actor: Actor, now: dt.datetime) -> MarcImportReport:
    summaries, rows = [], []
    for path in paths:
        result = read_marc(Path(path), file_name=str(path))
        summaries.append(MarcFileSummary(file_name=str(path), file_format=str(result.file_format),
                                         records=len(result.records), rejects=list(result.rejects)))
        rows.extend(bib_row_from_marc(parsed) for parsed in result.records)
    rejected = sum(len(summary.rejects) for summary in summaries)
    with psycopg.connect(database_url) as connection, connection.cursor() as cursor:
        keyed = [(row.control_source, row.control_number) for row in rows if row.control_number]
        existing = 0
        if keyed:
            cursor.execute("""SELECT count(*) FROM bib b JOIN unnest(%s::text[], %s::text[]) AS k(source, number)
                              ON b.control_source IS NOT DISTINCT FROM k.source AND b.control_number = k.number""",
                           [[source for source, _ in keyed], [number for _, number in keyed]])
            existing = cursor.fetchone()[0]
        if dry_run or (rejected and not skip_rejects):
            return MarcImportReport(files=summaries, added=len(rows) - existing, updated=existing, rejected=rejected,
                                    written=False, dry_run=dry_run)
        ensure_material_types(cursor, list(MATERIAL_TYPE_OF_MARC.values()))
        changed_ids: list[int] = []
        added = 0
        for start in range(0, len(rows), WRITE_BATCH):
            results = upsert_bib_rows(cursor, rows[start:start + WRITE_BATCH], match_on="control_number", now=now)
            changed_ids.extend(bib_id for bib_id, _ in results)
            added += sum(1 for _, inserted in results if inserted)
        record_operation_sync(cursor, actor, "catalogue.import_marc", "bib", None, {
            "files": [summary.file_name for summary in summaries], "added": added,
            "updated": len(rows) - added, "rejected": rejected})
        append_bib_events(cursor, changed_ids)
        connection.commit()
    return MarcImportReport(files=summaries, added=added, updated=len(rows) - added, rejected=rejected,
                            written=True, dry_run=False)


class AozoraImportReport(msgspec.Struct, frozen=True):
    list_format: str
    encoding: str
    works: int
    added: int
    changed: int
    withdrawn: int
    unchanged: int
    rejects: list[AozoraReject]
    written: bool


def import_aozora_list(database_url: str, path: str | os.PathLike[str], *, dry_run: bool, actor: Actor,
                       now: dt.datetime) -> AozoraImportReport:
    """The yearly refresh: upsert by 作品ID; works no longer listed are withdrawn (kept, hidden from search)."""
    result = read_aozora_list(Path(path), file_name=str(path))
    with psycopg.connect(database_url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT aozora_work_id, aozora_fingerprint FROM bib "
                       "WHERE aozora_work_id IS NOT NULL AND NOT is_withdrawn")
        existing = {work_id: fingerprint or "" for work_id, fingerprint in cursor.fetchall()}
        diff = diff_aozora(existing, result.works)
        # A row we could not read is not a withdrawal: keep those works as they are.
        unreadable = {reject.work_id for reject in result.rejects if reject.work_id is not None}
        withdrawn = [work_id for work_id in diff.withdrawn if work_id not in unreadable]
        report = AozoraImportReport(
            list_format=str(result.list_format), encoding=result.encoding, works=len(result.works),
            added=len(diff.added), changed=len(diff.changed), withdrawn=len(withdrawn),
            unchanged=len(diff.unchanged), rejects=list(result.rejects), written=not dry_run)
        if dry_run:
            return report
        ensure_material_types(cursor, [E_TEXT])
        rows = [bib_row_from_aozora(upsert.work, upsert.fingerprint) for upsert in [*diff.added, *diff.changed]]
        changed_ids = []
        for start in range(0, len(rows), WRITE_BATCH):
            results = upsert_bib_rows(cursor, rows[start:start + WRITE_BATCH], match_on="aozora_work_id", now=now)
            changed_ids.extend(bib_id for bib_id, _ in results)
        if withdrawn:
            cursor.execute("UPDATE bib SET is_withdrawn = true, updated_at = %s WHERE aozora_work_id = ANY(%s) "
                           "RETURNING id", [now, withdrawn])
            changed_ids.extend(row[0] for row in cursor.fetchall())
        record_operation_sync(cursor, actor, "catalogue.import_aozora", "bib", None, {
            "file": str(path), "added": report.added, "changed": report.changed, "withdrawn": report.withdrawn,
            "rejected": len(result.rejects)})
        append_bib_events(cursor, changed_ids)
        connection.commit()
    return report
