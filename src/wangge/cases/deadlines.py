"""Working-time arithmetic for case deadlines.

Working periods default to 08:00–12:00 and 14:00–18:00 (Asia/Shanghai); 1 工作日 = 8 工作时.
Workdays follow the statutory calendar with 调休 make-up days (``chinese_calendar``), corrected by
the deployment's :class:`~wangge.cases.models.CalendarOverride` rows; beyond the package's years
Monday–Friday is assumed. Urgent matters use continuous hours (``TimeUnit.HOUR``).
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from time import monotonic
from zoneinfo import ZoneInfo

import chinese_calendar

from .choices import TimeUnit

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_PERIODS: tuple[tuple[time, time], ...] = (
    (time(8, 0), time(12, 0)),
    (time(14, 0), time(18, 0)),
)
WORKDAY_HOURS = 8
MAX_DAYS = 3660  # a bound on the day walk; no limit in a catalogue comes near ten years


@functools.lru_cache(maxsize=16384)
def _statutory_workday(day: date) -> bool:
    """The statutory calendar (holidays, 调休) for one day, cached: ``chinese_calendar`` checks
    its year range with a scan of all its dates on every call."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # years the package does not know yet
        return day.weekday() < 5


@dataclass(frozen=True)
class WorkCalendar:
    periods: tuple[tuple[time, time], ...] = DEFAULT_PERIODS
    tz: ZoneInfo = SHANGHAI
    overrides: Mapping[date, bool] = field(default_factory=dict)

    def is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        return _statutory_workday(day)

    def _segments(self, day: date) -> list[tuple[datetime, datetime]]:
        if not self.is_workday(day):
            return []
        return [
            (datetime.combine(day, a, tzinfo=self.tz), datetime.combine(day, b, tzinfo=self.tz))
            for a, b in self.periods
        ]

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The instant when ``amount`` of working time has passed after ``start``."""
        start = start.astimezone(self.tz)
        remaining = amount
        if remaining <= timedelta(0):
            return start
        day = start.date()
        for _ in range(MAX_DAYS):
            for seg_start, seg_end in self._segments(day):
                begin = max(seg_start, start)
                if begin >= seg_end:
                    continue
                available = seg_end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            day += timedelta(days=1)
        raise ValueError("working time beyond the calendar horizon")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time elapsed from ``start`` to ``end`` (zero when ``end`` is earlier).

        The first and last day are cut to the instants; each whole day between adds its
        working periods when it is a workday (no per-period datetimes for those: countdowns
        call this for every case on a page)."""
        if end <= start:
            return timedelta(0)
        start = start.astimezone(self.tz)
        end = end.astimezone(self.tz)
        first, last = start.date(), end.date()
        if first == last:
            return self._within(first, start, end)
        total = self._within(first, start, None) + self._within(last, None, end)
        full = sum(
            (datetime.combine(first, b) - datetime.combine(first, a) for a, b in self.periods),
            timedelta(0),
        )
        day = first + timedelta(days=1)
        while day < last:
            if self.is_workday(day):
                total += full
            day += timedelta(days=1)
        return total

    def _within(self, day: date, lo: datetime | None, hi: datetime | None) -> timedelta:
        """Working time on ``day`` between ``lo`` and ``hi`` (None: the day's start/end)."""
        total = timedelta(0)
        for seg_start, seg_end in self._segments(day):
            a = seg_start if lo is None else max(seg_start, lo)
            b = seg_end if hi is None else min(seg_end, hi)
            if b > a:
                total += b - a
        return total


# The overrides are read at most once per CHECK_INTERVAL_SECONDS per process (they change a few
# times a year); a change saved or deleted in this process is seen at once (signals below).
CHECK_INTERVAL_SECONDS = 1.0
_calendar_lock = threading.Lock()
_calendar: WorkCalendar | None = None
_calendar_loaded_at = -math.inf


def load_calendar() -> WorkCalendar:
    """The deployment's calendar: statutory days plus local overrides."""
    global _calendar, _calendar_loaded_at
    calendar = _calendar
    if calendar is not None and monotonic() - _calendar_loaded_at < CHECK_INTERVAL_SECONDS:
        return calendar
    from .models import CalendarOverride

    with _calendar_lock:
        overrides = dict(CalendarOverride.objects.values_list("date", "is_workday"))
        _calendar = WorkCalendar(overrides=overrides)
        _calendar_loaded_at = monotonic()
        return _calendar


def invalidate_calendar(**_kwargs: object) -> None:
    """Make the next ``load_calendar`` in this process read the overrides again."""
    global _calendar, _calendar_loaded_at
    with _calendar_lock:
        _calendar = None
        _calendar_loaded_at = -math.inf


def _connect_signals() -> None:
    from django.db.models.signals import post_delete, post_save

    for name, signal in (("save", post_save), ("delete", post_delete)):
        signal.connect(
            invalidate_calendar, sender="cases.CalendarOverride", dispatch_uid=f"wg-cal-{name}"
        )


_connect_signals()


def limit_duration(limit: int, unit: str) -> timedelta:
    """A limit as a duration of working time (or of clock time for ``HOUR``)."""
    if unit == TimeUnit.WORK_DAY:
        return timedelta(hours=limit * WORKDAY_HOURS)
    return timedelta(hours=limit)


def due_at(start: datetime, limit: int, unit: str, calendar: WorkCalendar) -> datetime:
    """Deadline of a step that starts at ``start`` with ``limit`` × ``unit``."""
    if unit == TimeUnit.HOUR:
        return start + timedelta(hours=limit)
    return calendar.add(start, limit_duration(limit, unit))


def elapsed(start: datetime, end: datetime, unit: str, calendar: WorkCalendar) -> timedelta:
    """Time counted against a limit of ``unit`` between two instants."""
    if unit == TimeUnit.HOUR:
        return max(end - start, timedelta(0))
    return calendar.between(start, end)


def advance(instant: datetime, amount: timedelta, unit: str, calendar: WorkCalendar) -> datetime:
    """``instant`` moved forward by ``amount`` counted in ``unit`` (resume, extension)."""
    if unit == TimeUnit.HOUR:
        return instant + amount
    return calendar.add(instant, amount)
