from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from wangge.cases.choices import TimeUnit
from wangge.cases.deadlines import WorkCalendar, due_at, elapsed, load_calendar
from wangge.cases.models import CalendarOverride

SH = ZoneInfo("Asia/Shanghai")
cal = WorkCalendar()


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def test_the_package_knows_the_2026_national_day_holiday_and_its_make_up_saturday():
    assert chinese_calendar.is_workday(date(2026, 9, 30))
    assert not any(chinese_calendar.is_workday(date(2026, 10, d)) for d in range(1, 8))
    assert chinese_calendar.is_workday(date(2026, 10, 8))
    assert chinese_calendar.is_workday(date(2026, 10, 10))  # 调休: a Saturday worked
    assert date(2026, 10, 10).weekday() == 5


def test_one_working_day_filed_on_the_eve_of_national_day_ends_on_8_october_at_18():
    assert due_at(at(2026, 9, 30, 18, 30), 1, TimeUnit.WORK_DAY, cal) == at(2026, 10, 8, 18, 0)


def test_four_working_hours_filed_friday_17_00_end_monday_11_00():
    # 2026-11-20 is a Friday; one hour left that day, three on Monday morning.
    assert date(2026, 11, 20).weekday() == 4
    assert due_at(at(2026, 11, 20, 17, 0), 4, TimeUnit.WORK_HOUR, cal) == at(2026, 11, 23, 11, 0)


def test_lunch_break_is_not_working_time():
    assert due_at(at(2026, 11, 23, 11, 0), 2, TimeUnit.WORK_HOUR, cal) == at(2026, 11, 23, 15, 0)


def test_a_make_up_saturday_counts_as_a_working_day():
    # Friday 9 October 2026 17:00 + 2 working hours → Saturday 10 October (调休) 09:00.
    assert due_at(at(2026, 10, 9, 17, 0), 2, TimeUnit.WORK_HOUR, cal) == at(2026, 10, 10, 9, 0)


def test_filing_on_a_holiday_starts_the_clock_on_the_next_workday():
    assert due_at(at(2026, 10, 3, 10, 0), 8, TimeUnit.WORK_HOUR, cal) == at(2026, 10, 8, 18, 0)


def test_continuous_hours_ignore_the_calendar():
    assert due_at(at(2026, 10, 1, 10, 0), 4, TimeUnit.HOUR, cal) == at(2026, 10, 1, 14, 0)


def test_fifteen_working_days_skip_weekends():
    # Monday 2 Nov 2026 08:00 + 15 working days: 3 full weeks → Friday 20 Nov 18:00.
    assert due_at(at(2026, 11, 2, 8, 0), 15, TimeUnit.WORK_DAY, cal) == at(2026, 11, 20, 18, 0)


def test_working_time_elapsed_between_two_instants():
    start, end = at(2026, 11, 20, 17, 0), at(2026, 11, 23, 11, 0)
    assert cal.between(start, end) == timedelta(hours=4)
    assert cal.between(end, start) == timedelta(0)
    assert cal.between(at(2026, 9, 30, 18, 30), at(2026, 10, 8, 9, 0)) == timedelta(hours=1)
    assert elapsed(start, end, TimeUnit.HOUR, cal) == end - start


@pytest.mark.parametrize(
    ("start", "hours"),
    [((2026, 9, 30, 18, 30), 8), ((2026, 11, 20, 17, 0), 4), ((2026, 2, 13, 11, 15), 13)],
)
def test_between_inverts_add(start, hours):
    s = at(*start)
    assert cal.between(s, cal.add(s, timedelta(hours=hours))) == timedelta(hours=hours)


@pytest.mark.django_db
def test_local_overrides_beat_the_statutory_calendar():
    CalendarOverride.objects.create(date=date(2026, 11, 23), is_workday=False, note="本地假日")
    CalendarOverride.objects.create(date=date(2026, 11, 22), is_workday=True, note="补班")
    local = load_calendar()
    # Friday 17:00 + 4h: 1h Friday, 3h on the overridden Sunday, none on Monday.
    assert due_at(at(2026, 11, 20, 17, 0), 4, TimeUnit.WORK_HOUR, local) == at(2026, 11, 22, 11, 0)


def test_years_beyond_the_package_fall_back_to_monday_to_friday():
    assert cal.is_workday(date(2030, 1, 7))  # a Monday
    assert not cal.is_workday(date(2030, 1, 5))  # a Saturday


def _between_by_walking(calendar: WorkCalendar, start: datetime, end: datetime) -> timedelta:
    """The plain definition: every working period of every day, cut to [start, end]."""
    total = timedelta(0)
    day = start.astimezone(SH).date()
    while day <= end.astimezone(SH).date():
        for a, b in calendar._segments(day):
            lo, hi = max(a, start), min(b, end)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total


def test_elapsed_working_time_equals_walking_every_period():
    import random

    rnd = random.Random(7)
    base = at(2026, 9, 1, 0, 0)  # over National Day, its 调休 Saturdays and ordinary weekends
    for _ in range(400):
        start = base + timedelta(minutes=rnd.randint(0, 90 * 24 * 60))
        end = start + timedelta(minutes=rnd.randint(-600, 40 * 24 * 60))
        expected = _between_by_walking(cal, start, end) if end > start else timedelta(0)
        assert cal.between(start, end) == expected, (start, end)
