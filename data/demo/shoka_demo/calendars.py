"""Opening calendars: Monday closures, the year end (12/29–1/3), stocktaking weeks, national holidays.

Japanese public libraries open on national holidays. When a holiday falls on the weekly closed day (Monday) the
library opens and closes on the next day that is neither a holiday nor a closed weekday instead; those two facts
are calendar_open_day and calendar_closed_day rows. A university library closes on holidays. Facts are written
for the year before, the year of and the year after the reference date; loan and due dates use the same facts.
"""

from __future__ import annotations

import datetime

from .places import ServicePoint

ANNUAL_CLOSURE = (12, 29, 1, 3, "年末年始休館")
ONE_DAY = datetime.timedelta(days=1)


def _nth_weekday(year: int, month: int, iso_weekday: int, nth: int) -> datetime.date:
    first = datetime.date(year, month, 1)
    offset = (iso_weekday - first.isoweekday()) % 7
    return first + datetime.timedelta(days=offset + 7 * (nth - 1))


def _equinoxes(year: int) -> tuple[datetime.date, datetime.date]:
    # The usual approximation, exact for 1980–2099 (the Cabinet announces the dates a year ahead).
    leap_correction = (year - 1980) // 4
    spring = int(20.8431 + 0.242194 * (year - 1980)) - leap_correction
    autumn = int(23.2488 + 0.242194 * (year - 1980)) - leap_correction
    return datetime.date(year, 3, spring), datetime.date(year, 9, autumn)


def national_holidays(year: int) -> dict[datetime.date, str]:
    """Japan's national holidays of one year under the current law, with substitute and sandwiched days."""
    spring, autumn = _equinoxes(year)
    holidays = {
        datetime.date(year, 1, 1): "元日",
        _nth_weekday(year, 1, 1, 2): "成人の日",
        datetime.date(year, 2, 11): "建国記念の日",
        datetime.date(year, 2, 23): "天皇誕生日",
        spring: "春分の日",
        datetime.date(year, 4, 29): "昭和の日",
        datetime.date(year, 5, 3): "憲法記念日",
        datetime.date(year, 5, 4): "みどりの日",
        datetime.date(year, 5, 5): "こどもの日",
        _nth_weekday(year, 7, 1, 3): "海の日",
        datetime.date(year, 8, 11): "山の日",
        _nth_weekday(year, 9, 1, 3): "敬老の日",
        autumn: "秋分の日",
        _nth_weekday(year, 10, 1, 2): "スポーツの日",
        datetime.date(year, 11, 3): "文化の日",
        datetime.date(year, 11, 23): "勤労感謝の日",
    }
    for day in sorted(holidays):
        if day.isoweekday() == 7:
            substitute = day + ONE_DAY
            while substitute in holidays:
                substitute += ONE_DAY
            holidays[substitute] = "振替休日"
    for day in sorted(holidays):
        between = day + ONE_DAY
        if between + ONE_DAY in holidays and between not in holidays and between.isoweekday() != 7:
            holidays[between] = "国民の休日"
    return dict(sorted(holidays.items()))


def _in_annual_closure(day: datetime.date) -> bool:
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


class LibraryCalendar:
    """The calendar facts of every service point, and whether a service point is open on a day."""

    def __init__(self, points: list[ServicePoint], reference_date: datetime.date) -> None:
        self.points = points
        self.closed_days: dict[tuple[int, datetime.date], tuple[str, str]] = {}
        self.open_days: dict[tuple[int, datetime.date], str] = {}
        years = range(reference_date.year - 1, reference_date.year + 2)
        holidays: dict[datetime.date, str] = {}
        for year in years:
            holidays.update(national_holidays(year))
        for point in points:
            self._add_stocktake(point, years)
            self._add_holidays(point, holidays)
        self._add_adhoc(points, years)
        self._first_day = datetime.date(reference_date.year - 7, 1, 1)
        last_day = datetime.date(reference_date.year + 2, 12, 31)
        self._open_flags = {point.id: self._flags(point, last_day) for point in points}

    def _close(self, point: ServicePoint, day: datetime.date, kind: str, reason: str) -> None:
        if day.isoweekday() in point.weekly_closed or _in_annual_closure(day):
            return
        self.closed_days.setdefault((point.id, day), (kind, reason))

    def _add_stocktake(self, point: ServicePoint, years: range) -> None:
        if point.stocktake is None:
            return
        month, week, days = point.stocktake
        for year in years:
            start = _nth_weekday(year, month, 2, week)  # stocktaking starts on a Tuesday, after the Monday closure
            for offset in range(days):
                self._close(point, start + datetime.timedelta(days=offset), "stocktake", "蔵書点検のため休館")

    def _add_holidays(self, point: ServicePoint, holidays: dict[datetime.date, str]) -> None:
        for day, name in holidays.items():
            if _in_annual_closure(day):
                continue
            if point.closes_on_holidays:
                self._close(point, day, "holiday", f"{name}のため休館")
                continue
            if day.isoweekday() not in point.weekly_closed:
                continue
            self.open_days.setdefault((point.id, day), f"{name}のため開館")
            replacement = day + ONE_DAY
            while replacement in holidays or replacement.isoweekday() in point.weekly_closed:
                replacement += ONE_DAY
            self._close(point, replacement, "holiday", f"{name}の振替休館")

    def _add_adhoc(self, points: list[ServicePoint], years: range) -> None:
        by_code = {point.code: point for point in points}
        for year in years:
            if "central" in by_code:
                self._close(by_code["central"], _nth_weekday(year, 10, 4, 3), "adhoc", "館内設備点検のため臨時休館")
            if "ekiminami" in by_code:
                self._close(by_code["ekiminami"], _nth_weekday(year, 9, 3, 1), "adhoc", "ビル法定点検のため臨時休館")
            if "cuc" in by_code:
                for day in range(10, 21):
                    self._close(by_code["cuc"], datetime.date(year, 8, day), "adhoc", "夏季休業")

    def _rule_open(self, point: ServicePoint, day: datetime.date) -> bool:
        if (point.id, day) in self.open_days:
            return True
        if (point.id, day) in self.closed_days:
            return False
        return day.isoweekday() not in point.weekly_closed and not _in_annual_closure(day)

    def _flags(self, point: ServicePoint, last_day: datetime.date) -> bytearray:
        flags = bytearray((last_day - self._first_day).days + 1)
        day = self._first_day
        for index in range(len(flags)):
            flags[index] = self._rule_open(point, day)
            day += ONE_DAY
        return flags

    def is_open(self, service_point_id: int, day: datetime.date) -> bool:
        index = (day - self._first_day).days
        flags = self._open_flags[service_point_id]
        if 0 <= index < len(flags):
            return bool(flags[index])
        point = next(point for point in self.points if point.id == service_point_id)
        return self._rule_open(point, day)

    def next_open(self, service_point_id: int, day: datetime.date) -> datetime.date:
        """The day itself if open, else the next open day: where a due date on a closed day moves to."""
        for _ in range(400):
            if self.is_open(service_point_id, day):
                return day
            day += ONE_DAY
        raise ValueError(f"service point {service_point_id} has no open day within a year of {day}")

    def previous_open(self, service_point_id: int, day: datetime.date) -> datetime.date:
        for _ in range(400):
            if self.is_open(service_point_id, day):
                return day
            day -= ONE_DAY
        raise ValueError(f"service point {service_point_id} has no open day within a year before {day}")

    # Rows ------------------------------------------------------------------------------------------------------
    def weekly_closure_rows(self):
        for point in self.points:
            for weekday in point.weekly_closed:
                yield (point.id, weekday)

    def annual_closure_rows(self):
        from_month, from_day, to_month, to_day, reason = ANNUAL_CLOSURE
        for index, point in enumerate(self.points, start=1):
            yield (index, point.id, from_month, from_day, to_month, to_day, reason)

    def closed_day_rows(self):
        for (point_id, day), (kind, reason) in sorted(self.closed_days.items()):
            yield (point_id, day, kind, reason)

    def open_day_rows(self):
        for (point_id, day), reason in sorted(self.open_days.items()):
            yield (point_id, day, reason)
