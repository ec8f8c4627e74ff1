"""The operation log screens (/staff/audit, administrators only): search by time range (Japan time), actor,
action prefix, record and source address, newest first, 100 rows a page; the same search as CSV
(GET /staff/audit.csv, see shoka.audit_export); and the chain verification button (改ざん検査,
POST /staff/audit/verify, see shoka.audit_chain).

The search fields are query parameters, so a search is a link that can be bookmarked or sent to a colleague.
`since` and `until` take a date or a date and time in Japan time; `until` includes the day or minute it names.
Paging is keyset on id: `before` (older rows) and `after` (newer rows). Searching, exporting and verifying are
themselves logged ("audit.read", "audit.export", "audit.verify").
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.response import Stream, Template

from shoka.audit import record_operation
from shoka.audit_chain import verify_operation_log_chain
from shoka.audit_export import export_file_name, operation_log_csv
from shoka.audit_query import ActionMatch, LogOrder, OperationLogFilter, search_operation_log
from shoka.auth.roles import ADMIN_ONLY
from shoka.clock import LIBRARY_TIME_ZONE, utc_now
from shoka.errors import InvalidRequest, ShokaError
from shoka.staff.access import STAFF_SESSION, staff_actor, staff_area
from shoka.staff.pages import staff_page
from shoka.staff.sessions import StaffSession

ADMIN_AREA = {"guards": [staff_area(ADMIN_ONLY)], "dependencies": STAFF_SESSION, "include_in_schema": False}
ROWS_PER_PAGE = 100
SEARCH_FIELDS = ("since", "until", "actor", "action", "entity", "entity_id", "address")


def japan_time_bound(field: str, text: str, *, upper: bool) -> dt.datetime | None:
    """A search bound typed in Japan time: `2026-04-01`, `2026-04-01T09:30` or with seconds. An upper bound
    includes the whole day, minute or second it names (it is returned exclusive, one unit later)."""
    text = text.strip()
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(f"{field}: 日時は 2026-04-01 または 2026-04-01T09:30 の形で入力してください。/ "
                             "Enter a date like 2026-04-01 or a date and time like 2026-04-01T09:30.",
                             code="invalid_time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LIBRARY_TIME_ZONE)
    if not upper:
        return moment
    date_only, to_the_minute = len(text) == 10, len(text) == 16
    return moment + (dt.timedelta(days=1) if date_only else dt.timedelta(minutes=1) if to_the_minute
                     else dt.timedelta(seconds=1))


def _search_values(request: Request) -> dict[str, str]:
    return {name: (request.query_params.get(name) or "").strip() for name in SEARCH_FIELDS}


def _filter_from(values: dict[str, str]) -> OperationLogFilter:
    return OperationLogFilter(
        since=japan_time_bound("since", values["since"], upper=False),
        until=japan_time_bound("until", values["until"], upper=True),
        actor=values["actor"] or None, action=values["action"] or None, action_match=ActionMatch.PREFIX,
        entity=values["entity"] or None, entity_id=values["entity_id"] or None,
        source_address=values["address"] or None)


def _cursor(request: Request, name: str) -> int | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return None
    if not text.isdigit():
        raise InvalidRequest(f"{name}: ページ位置は数字です。/ The page position must be a number.",
                             code="invalid_cursor")
    return int(text)


def _link(path: str, values: dict[str, str], **extra: int) -> str:
    pairs = [(name, value) for name, value in values.items() if value]
    pairs += [(name, str(value)) for name, value in extra.items()]
    return f"{path}?{urlencode(pairs)}" if pairs else path


def _compact(detail: dict) -> str:
    return json.dumps(detail, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _japan_time(moment: dt.datetime) -> str:
    return moment.astimezone(LIBRARY_TIME_ZONE).strftime("%Y-%m-%d %H:%M:%S")


async def _audit_page(request: Request, staff: StaffSession, values: dict[str, str], *, entries: list, error: str = "",
                      status_code: int = 200, **links: str) -> Template:
    return await staff_page(request, "staff/audit.html", staff, status_code=status_code, values=values, error=error,
                            entries=entries, compact=_compact, japan_time=_japan_time, link=_link,
                            **{"newer_link": "", "older_link": "", "newest_link": "", "csv_link": "", **links})


@get("/staff/audit", **ADMIN_AREA)
async def audit_search(request: Request, staff: StaffSession) -> Template:
    values = _search_values(request)
    try:
        log_filter = _filter_from(values)
        before_id, after_id = _cursor(request, "before"), _cursor(request, "after")
    except ShokaError as refusal:
        return await _audit_page(request, staff, values, entries=[], error=refusal.message,
                                 status_code=int(refusal.status_code))
    # Going back towards newer rows reads oldest first from `after` and turns the page round.
    toward_newer = after_id is not None and before_id is None
    async with request.app.state.pools.staff.connection() as connection, connection.transaction():
        page = await search_operation_log(connection, log_filter, limit=ROWS_PER_PAGE,
                                          order=LogOrder.OLDEST_FIRST if toward_newer else LogOrder.NEWEST_FIRST,
                                          after_id=after_id, before_id=before_id)
        async with connection.cursor() as cursor:
            await record_operation(cursor, staff_actor(request, staff), "audit.read", "operation_log", None,
                                   {"filter": log_filter.describe(), "before": before_id, "after": after_id})
    entries = list(reversed(page.entries)) if toward_newer else page.entries
    has_newer = bool(entries) and (page.more if toward_newer else before_id is not None)
    has_older = bool(entries) and (toward_newer or page.more)
    return await _audit_page(
        request, staff, values, entries=entries,
        newer_link=_link("/staff/audit", values, after=entries[0].id) if has_newer else "",
        older_link=_link("/staff/audit", values, before=entries[-1].id) if has_older else "",
        newest_link=_link("/staff/audit", values) if before_id is not None or after_id is not None else "",
        csv_link=_link("/staff/audit.csv", values))


@get("/staff/audit.csv", **ADMIN_AREA)
async def audit_export(request: Request, staff: StaffSession) -> Stream:
    log_filter = _filter_from(_search_values(request))
    async with request.app.state.pools.staff.connection() as connection:
        async with connection.transaction(), connection.cursor() as cursor:
            await record_operation(cursor, staff_actor(request, staff), "audit.export", "operation_log", None,
                                   {"filter": log_filter.describe(), "format": "csv"})
    return Stream(operation_log_csv(request.app.state.pools.staff, log_filter),
                  media_type="text/csv; charset=utf-8",
                  headers={"Content-Disposition": f'attachment; filename="{export_file_name(utc_now())}"',
                           "Cache-Control": "no-store"})


@post("/staff/audit/verify", **ADMIN_AREA)
async def audit_verify(request: Request, staff: StaffSession) -> Template:
    async with request.app.state.pools.staff.connection() as connection:
        report = await verify_operation_log_chain(connection)
        async with connection.transaction(), connection.cursor() as cursor:
            await record_operation(cursor, staff_actor(request, staff), "audit.verify", "operation_log", None,
                                   report.as_detail())
    return await staff_page(request, "staff/audit_verify.html", staff, status_code=200, report=report,
                            checked_at=_japan_time(utc_now()))


AUDIT_ROUTES = [audit_search, audit_export, audit_verify]
