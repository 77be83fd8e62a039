"""What one case contributes to the rollups: a vector of measures and the rollup keys it counts
under. Both the incremental handlers and the rebuild call these functions, so the two cannot
drift apart (the property test in tests/test_rollups.py checks it).

A case counts in the cohort of the day (and month) it was **reported**, Asia/Shanghai time;
docs/indicators.md explains why and what each measure means."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from wangge.cases.choices import OPEN_STATES, CaseState, HandlingLevel
from wangge.cases.deadlines import SHANGHAI, WorkCalendar

from .choices import Dim, Grain

MEASURES: tuple[str, ...] = (
    "reported",
    "filed",
    "rejected",
    "merged",
    "cancelled",
    "open",
    "suspended",
    "handled",
    "handled_on_time",
    "reworked",
    "closed",
    "closed_on_time",
    "self_resolved",
    "first_time",
    "rated",
    "satisfied",
    "response_n",
    "response_seconds",
    "handle_n",
    "handle_seconds",
    "dispatches",
    "misdispatches",
)
M = {name: i for i, name in enumerate(MEASURES)}
N = len(MEASURES)

# Timeline actions that send a case to a handler, and those that show the dispatch was wrong.
DISPATCH_ACTIONS = frozenset({"dispatch", "reassign", "whistle"})
MISDISPATCH_ACTIONS = frozenset({"return", "reassign"})

_OPEN = frozenset(str(s) for s in OPEN_STATES)
_CLOSED = frozenset({CaseState.CLOSED.value, CaseState.RATED.value})
SATISFIED_FROM = 4  # a rating of 4 or 5 (of 5) counts as satisfied

Key = tuple[str, date, int, str, str]  # grain, bucket, region id, dim, value


@functools.cache
def _statutory_workday(day: date) -> bool:
    return WorkCalendar(overrides={}).is_workday(day)


class WorkClock:
    """Working seconds between instants in O(1): a cumulative count per day (built lazily
    around the days asked for) plus the working part of the day. Same answers as
    ``WorkCalendar.between`` (tested), fast enough to rebuild millions of cases."""

    MARGIN = 400  # days built around the first day asked for

    def __init__(self, calendar: WorkCalendar) -> None:
        self.calendar = calendar
        self.tz = calendar.tz
        self.periods = [
            (a.hour * 3600 + a.minute * 60 + a.second, b.hour * 3600 + b.minute * 60 + b.second)
            for a, b in calendar.periods
        ]
        self.day_seconds = sum(b - a for a, b in self.periods)
        self._anchor: date | None = None
        self._cum: list[int] = [0]  # working seconds from the anchor to the start of day i
        self._workday: list[bool] = []

    def _is_workday(self, day: date) -> bool:
        if day in self.calendar.overrides:
            return bool(self.calendar.overrides[day])
        return _statutory_workday(day)

    def _build(self, first: date, days: int) -> None:
        self._anchor = first
        self._workday = [self._is_workday(first + timedelta(days=i)) for i in range(days)]
        self._cum = [0]
        for work in self._workday:
            self._cum.append(self._cum[-1] + (self.day_seconds if work else 0))

    def _index(self, day: date) -> int:
        if self._anchor is None or day < self._anchor:
            first = day - timedelta(days=self.MARGIN)
            last = self._anchor + timedelta(days=len(self._workday)) if self._anchor else day
            self._build(first, (max(last, day) - first).days + self.MARGIN)
        assert self._anchor is not None
        index = (day - self._anchor).days
        while len(self._workday) <= index:
            work = self._is_workday(self._anchor + timedelta(days=len(self._workday)))
            self._workday.append(work)
            self._cum.append(self._cum[-1] + (self.day_seconds if work else 0))
        return index

    def ordinal(self, instant: datetime) -> float:
        """Working seconds from the anchor day to ``instant``."""
        local = instant.astimezone(self.tz)
        index = self._index(local.date())
        total = float(self._cum[index])
        if self._workday[index]:
            tod = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
            for a, b in self.periods:
                if tod > a:
                    total += min(tod, b) - a
        return total

    def between(self, start: datetime, end: datetime) -> int:
        """Whole working seconds from ``start`` to ``end`` (0 when ``end`` is earlier)."""
        if end <= start:
            return 0
        a = self.ordinal(start)  # may move the anchor back; ``end`` only extends forward
        b = self.ordinal(end)
        return max(0, round(b - a))


@dataclass
class CaseFacts:
    """The fields of a case the measures depend on, plus three counts from its history."""

    reported_at: datetime
    region_path: str
    grid_id: int
    matter_type_id: int | None
    source: str
    state: str
    department_id: int | None
    assignee_id: int | None
    accepted_at: datetime | None
    dispatched_at: datetime | None
    handled_at: datetime | None
    verified_at: datetime | None
    rating: int | None
    rework_count: int
    reopen_count: int
    self_resolved: bool
    handling_level: str
    deadlines: Mapping[str, Any]
    # From the history (timeline events / suspension periods), not the case row:
    dispatches: int = 0
    misdispatches: int = 0
    suspended_seconds: int = 0  # working time suspended between dispatch and handling


FACT_FIELDS = (
    "reported_at",
    "region_path",
    "grid_id",
    "matter_type_id",
    "source",
    "state",
    "department_id",
    "assignee_id",
    "accepted_at",
    "dispatched_at",
    "handled_at",
    "verified_at",
    "rating",
    "rework_count",
    "reopen_count",
    "self_resolved",
    "handling_level",
    "deadlines",
)


def facts_of(case: Any, **history: int) -> CaseFacts:
    """Facts of a ``Case`` instance (or anything with the same attributes)."""
    values: dict[str, Any] = {f: getattr(case, f) for f in FACT_FIELDS}
    values.update(history)
    return CaseFacts(**values)


def _due(deadlines: Mapping[str, Any], step: str) -> datetime | None:
    info = deadlines.get(step) if deadlines else None
    raw = info.get("due") if isinstance(info, Mapping) else None
    if not raw:
        return None
    return datetime.fromisoformat(str(raw))


def _on_time(done: datetime | None, due: datetime | None) -> bool:
    return done is not None and (due is None or done <= due)


def vector(f: CaseFacts, clock: WorkClock) -> list[int]:
    """The case's measures (see docs/indicators.md for each one's definition)."""
    v = [0] * N
    state = f.state
    sent_back = (f.rework_count or 0) + (f.reopen_count or 0)
    v[M["reported"]] = 1
    v[M["filed"]] = int(
        f.accepted_at is not None and state not in (CaseState.MERGED, CaseState.CANCELLED)
    )
    v[M["rejected"]] = int(state == CaseState.REJECTED)
    v[M["merged"]] = int(state == CaseState.MERGED)
    v[M["cancelled"]] = int(state == CaseState.CANCELLED)
    v[M["open"]] = int(state in _OPEN)
    v[M["suspended"]] = int(state == CaseState.SUSPENDED)
    ever_handled = f.handled_at is not None or sent_back > 0
    handled_on_time = _on_time(f.handled_at, _due(f.deadlines, "handle"))
    v[M["handled"]] = int(ever_handled)
    v[M["handled_on_time"]] = int(handled_on_time)
    v[M["reworked"]] = int(ever_handled and sent_back > 0)
    closed = state in _CLOSED
    v[M["closed"]] = int(closed)
    verify_due = _due(f.deadlines, "verify")
    v[M["closed_on_time"]] = int(
        closed
        and handled_on_time
        and (f.verified_at is None or verify_due is None or f.verified_at <= verify_due)
    )
    v[M["self_resolved"]] = int(
        closed and (bool(f.self_resolved) or f.handling_level == HandlingLevel.GRID)
    )
    v[M["first_time"]] = int(closed and sent_back == 0)
    v[M["rated"]] = int(f.rating is not None)
    v[M["satisfied"]] = int(f.rating is not None and f.rating >= SATISFIED_FROM)
    if v[M["filed"]]:
        v[M["response_n"]] = 1
        v[M["response_seconds"]] = clock.between(f.reported_at, f.accepted_at)  # type: ignore[arg-type]
    if f.dispatched_at is not None and f.handled_at is not None:
        v[M["handle_n"]] = 1
        v[M["handle_seconds"]] = max(
            0, clock.between(f.dispatched_at, f.handled_at) - f.suspended_seconds
        )
    v[M["dispatches"]] = f.dispatches
    v[M["misdispatches"]] = f.misdispatches
    return v


def ancestor_ids(region_path: str) -> list[int]:
    return [int(p) for p in region_path.strip("/").split("/") if p]


def local_day(instant: datetime) -> date:
    return instant.astimezone(SHANGHAI).date()


def keys(f: CaseFacts) -> list[Key]:
    """The rollup rows a case counts in: per ancestor region (grid up to the root) a day total
    and month rows (total, type, source, state, department, worker); per grid a day × type row
    (hotspots and forecasts)."""
    day = local_day(f.reported_at)
    month = day.replace(day=1)
    mt = str(f.matter_type_id or 0)
    out: list[Key] = [(Grain.DAY, day, f.grid_id, Dim.TYPE, mt)]
    for region in ancestor_ids(f.region_path):
        out.append((Grain.DAY, day, region, Dim.TOTAL, ""))
        out.append((Grain.MONTH, month, region, Dim.TOTAL, ""))
        out.append((Grain.MONTH, month, region, Dim.TYPE, mt))
        out.append((Grain.MONTH, month, region, Dim.SOURCE, f.source))
        out.append((Grain.MONTH, month, region, Dim.STATE, f.state))
        if f.department_id:
            out.append((Grain.MONTH, month, region, Dim.DEPT, str(f.department_id)))
        if f.assignee_id:
            out.append((Grain.MONTH, month, region, Dim.WORKER, str(f.assignee_id)))
    return [(str(g), b, r, str(d), v) for g, b, r, d, v in out]


def add_into(target: dict[Key, list[int]], f: CaseFacts, clock: WorkClock, sign: int = 1) -> None:
    vec = vector(f, clock)
    for key in keys(f):
        row = target.get(key)
        if row is None:
            target[key] = [sign * x for x in vec]
        else:
            for i, x in enumerate(vec):
                row[i] += sign * x


def delta(before: CaseFacts | None, after: CaseFacts, clock: WorkClock) -> dict[Key, list[int]]:
    """Rows to add (non-zero only) when a case goes from ``before`` to ``after``."""
    out: dict[Key, list[int]] = {}
    if before is not None:
        add_into(out, before, clock, -1)
    add_into(out, after, clock, 1)
    return {k: v for k, v in out.items() if any(v)}


def suspended_within(
    periods: Iterable[tuple[datetime, datetime | None]],
    start: datetime | None,
    end: datetime | None,
    clock: WorkClock,
) -> int:
    """Working seconds of the suspension ``periods`` that fall between ``start`` and ``end``."""
    if start is None or end is None:
        return 0
    total = 0
    for s, e in periods:
        lo, hi = max(s, start), min(e or end, end)
        total += clock.between(lo, hi)
    return total


def month_starts(start: date, end: date) -> Sequence[date]:
    """First days of the months that overlap [start, end)."""
    out: list[date] = []
    m = start.replace(day=1)
    while m < end:
        out.append(m)
        m = (m.replace(day=28) + timedelta(days=4)).replace(day=1)
    return out


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)
