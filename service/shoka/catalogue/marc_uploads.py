"""MARC files uploaded on the cataloguing screen: kept between the preview and the confirmation, then imported
through `shoka import marc`'s own code (``imports.import_marc_files``).

The upload is stored under ``$SHOKA_HOME/uploads/marc-import/<sha256>/`` and named by its SHA-256 on the
confirmation form, so the import reads exactly the bytes that were previewed (the hash is checked again before
it runs). Files are removed after the import or a cancel, and any left over for a day are swept away with the
next upload.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import time
from pathlib import Path

import msgspec

from shoka.audit import Actor
from shoka.catalogue.imports import MarcImportReport, import_marc_files
from shoka.catalogue.marc_records import MarcReject, read_marc
from shoka.errors import InvalidRequest, NotFound

MARC_UPLOAD_LIMIT_BYTES = 32 * 1024 * 1024
UPLOAD_FOLDER = Path("uploads") / "marc-import"
PENDING_SECONDS = 24 * 3600
PREVIEW_RECORDS = 20
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_UNSAFE_NAME_CHARACTERS = re.compile(r"[^\w.\-]+")


class PendingUpload(msgspec.Struct, frozen=True):
    sha256: str
    file_name: str
    size: int
    path: Path


class PreviewRecord(msgspec.Struct, frozen=True):
    record_number: int
    control_number: str | None
    title: str
    responsibility: str | None
    year: int | None


class ImportPreview(msgspec.Struct, frozen=True):
    upload: PendingUpload
    file_format: str
    records: int
    added: int
    updated: int
    rejects: list[MarcReject]
    first_records: list[PreviewRecord]


def store_upload(home: Path, data: bytes, file_name: str, *, now: float | None = None) -> PendingUpload:
    if not data:
        raise InvalidRequest("ファイルが空です。/ The file is empty.", code="empty_file")
    if len(data) > MARC_UPLOAD_LIMIT_BYTES:
        raise InvalidRequest(f"ファイルが大きすぎます（上限 {MARC_UPLOAD_LIMIT_BYTES // 1024 // 1024} MB）。大きなファイルは "
                             f"`shoka import marc` で取り込んでください。/ The file is larger than "
                             f"{MARC_UPLOAD_LIMIT_BYTES // 1024 // 1024} MB; import it with `shoka import marc`.",
                             code="file_too_large")
    _sweep(home, now if now is not None else time.time())
    sha256 = hashlib.sha256(data).hexdigest()
    folder = home / UPLOAD_FOLDER / sha256
    folder.mkdir(parents=True, exist_ok=True)
    name = _UNSAFE_NAME_CHARACTERS.sub("_", Path(file_name or "upload.mrc").name)[:100] or "upload.mrc"
    path = folder / name
    if not path.exists():
        partial = folder / f".{name}.partial"
        partial.write_bytes(data)
        partial.replace(path)
    return PendingUpload(sha256=sha256, file_name=name, size=len(data), path=path)


def pending_upload(home: Path, sha256: str) -> PendingUpload:
    """The upload named on a confirmation form, checked to be the very bytes that were previewed."""
    folder = home / UPLOAD_FOLDER / sha256
    files = sorted(path for path in folder.iterdir() if not path.name.startswith(".")) if (
        _SHA256.match(sha256) and folder.is_dir()) else []
    if len(files) != 1:
        raise NotFound("取込ファイルが見つかりません（取込済み・取消済み、または1日以上前のものです）。もう一度アップロードしてください。"
                       "/ The uploaded file is gone (imported, cancelled or older than a day); upload it again.",
                       code="upload_not_found")
    data = files[0].read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        discard_upload(home, sha256)
        raise NotFound("取込ファイルが変わっています。もう一度アップロードしてください。/ The uploaded file changed; upload it again.",
                       code="upload_changed")
    return PendingUpload(sha256=sha256, file_name=files[0].name, size=len(data), path=files[0])


def discard_upload(home: Path, sha256: str) -> None:
    if _SHA256.match(sha256):
        shutil.rmtree(home / UPLOAD_FOLDER / sha256, ignore_errors=True)


def preview_upload(upload: PendingUpload, database_url: str, *, actor: Actor) -> ImportPreview:
    """A dry run of the import (the same reading, rejects and counts) and the first records' titles."""
    report = import_marc_files(database_url, [upload.path], dry_run=True, skip_rejects=False, actor=actor,
                               now=dt.datetime.now(dt.timezone.utc))
    read = read_marc(upload.path, file_name=upload.file_name)
    summary = report.files[0]
    first = [PreviewRecord(record_number=parsed.record_number, control_number=parsed.control_number,
                           title=" ".join([parsed.title, *parsed.title_parts]), responsibility=parsed.responsibility,
                           year=parsed.year) for parsed in read.records[:PREVIEW_RECORDS]]
    return ImportPreview(upload=upload, file_format=summary.file_format, records=summary.records, added=report.added,
                         updated=report.updated, rejects=list(read.rejects), first_records=first)


def import_upload(home: Path, upload: PendingUpload, database_url: str, *, skip_rejects: bool, actor: Actor,
                  now: dt.datetime) -> MarcImportReport:
    """The import itself (one transaction, outbox events, operation log); the file is removed once written."""
    report = import_marc_files(database_url, [upload.path], dry_run=False, skip_rejects=skip_rejects, actor=actor,
                               now=now)
    if report.written:
        discard_upload(home, upload.sha256)
    return report


def _sweep(home: Path, now: float) -> None:
    root = home / UPLOAD_FOLDER
    if not root.is_dir():
        return
    for folder in root.iterdir():
        try:
            if now - folder.stat().st_mtime > PENDING_SECONDS:
                shutil.rmtree(folder, ignore_errors=True)
        except FileNotFoundError:
            continue  # another worker swept it a moment ago
