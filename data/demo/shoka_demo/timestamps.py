"""Dates and times of the demo library: Japan Standard Time, and days stored compactly as numbers.

Every timestamp is derived from the reference date, none from a clock, so that the same seed and reference date
give the same rows.
"""

from __future__ import annotations

import datetime

JST = datetime.timezone(datetime.timedelta(hours=9), "JST")
EPOCH = datetime.date(1940, 1, 1)
_EPOCH_ORDINAL = EPOCH.toordinal()


def day_number(day: datetime.date) -> int:
    """Days since 1940-01-01, small enough for an unsigned 16-bit array until 2119."""
    return day.toordinal() - _EPOCH_ORDINAL


def date_of(number: int) -> datetime.date:
    return datetime.date.fromordinal(number + _EPOCH_ORDINAL)


def at_local_time(day: datetime.date, hour: int, minute: int = 0, second: int = 0) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=JST)
