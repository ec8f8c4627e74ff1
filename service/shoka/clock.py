"""The service's clock. The engine never reads a clock (STYLE.md); the service passes it `now` from here."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LIBRARY_TIME_ZONE = ZoneInfo("Asia/Tokyo")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def library_today() -> dt.date:
    """Today's date where the libraries are: due dates and closed days are Japanese calendar days."""
    return dt.datetime.now(LIBRARY_TIME_ZONE).date()
