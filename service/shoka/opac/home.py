"""The OPAC top page: the search box, new arrivals and the service points with their closed days."""

from __future__ import annotations

import msgspec
from litestar import Request, get
from litestar.response import Template

from shoka.web.i18n import request_language
from shoka.web.pages import page

NEW_ARRIVALS_SHOWN = 10
# New arrivals read only the newest copies (the item_acquired index), never every copy: the top page is the
# busiest page of the OPAC and must cost the same at 5M copies as at 5k. Several copies of one title share a
# date, so a few hundred copies always yield ten titles.
RECENT_COPIES_SCANNED = 500


class NewArrival(msgspec.Struct, frozen=True):
    bib_id: int
    title: str
    title_reading: str | None
    authors: str
    acquired_on: str


class ServicePointSummary(msgspec.Struct, frozen=True):
    code: str
    name: str
    address: str
    closed_weekdays: list[int]


@get("/", include_in_schema=False)
async def opac_home(request: Request) -> Template:
    language = request_language(request)
    async with request.app.state.pools.public.connection() as connection:
        arrivals_rows = await (await connection.execute(
            """SELECT b.id, b.title, b.title_reading,
                      coalesce((SELECT string_agg(a->>'name', '、') FROM jsonb_array_elements(b.authors) a), ''),
                      to_char(latest.acquired_on, 'YYYY-MM-DD')
               FROM (SELECT bib_id, max(acquired_on) AS acquired_on
                     FROM (SELECT bib_id, acquired_on FROM item
                           WHERE acquired_on IS NOT NULL AND status <> 'withdrawn'
                           ORDER BY acquired_on DESC LIMIT %s) recent
                     GROUP BY bib_id) latest
               JOIN bib b ON b.id = latest.bib_id AND NOT b.is_withdrawn
               ORDER BY latest.acquired_on DESC, b.id DESC LIMIT %s""",
            [RECENT_COPIES_SCANNED, NEW_ARRIVALS_SHOWN])).fetchall()
        point_rows = await (await connection.execute(
            f"""SELECT sp.code, sp.name_{'en' if language == 'en' else 'ja'}, sp.address,
                       coalesce(array_agg(w.iso_weekday ORDER BY w.iso_weekday)
                                FILTER (WHERE w.iso_weekday IS NOT NULL), '{{}}')
                FROM service_point sp LEFT JOIN calendar_weekly_closure w ON w.service_point_id = sp.id
                WHERE sp.is_active GROUP BY sp.id ORDER BY sp.sort_order, sp.id""")).fetchall()
    arrivals = [NewArrival(*row) for row in arrivals_rows]
    service_points = [ServicePointSummary(*row) for row in point_rows]
    return await page(request, "home.html", new_arrivals=arrivals, service_points=service_points)
