"""Countdowns count what the limit counts: working time for 工作时/工作日 limits (statutory
holidays, 调休 and weekends excluded), the clock for continuous-hour (urgent) limits."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.test import Client

from wangge.cases.choices import CaseState, TimeUnit, Urgency
from wangge.cases.models import CalendarOverride, Case, Department, SubTask
from wangge.cases.templatetags.cases_ui import countdown, step_unit

from .factories import make_case

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
WH, WD, HOUR = TimeUnit.WORK_HOUR.value, TimeUnit.WORK_DAY.value, TimeUnit.HOUR.value


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def text(due, now, unit=""):
    return countdown(due, now, unit)["text"]


def test_over_a_weekend_only_working_hours_are_left():
    # Friday 2026-11-20 17:00 → Monday 11:00: 1 h on Friday + 3 h on Monday.
    assert text(at(2026, 11, 23, 11, 0), at(2026, 11, 20, 17, 0), WH) == "剩余4工作时"
    assert text(at(2026, 11, 23, 11, 0), at(2026, 11, 21, 10, 0), WH) == "剩余3工作时"
    # The clock would say 2 days 18 hours; an urgent case's continuous limit shows just that.
    assert text(at(2026, 11, 23, 11, 0), at(2026, 11, 20, 17, 0), HOUR) == "剩余2天18小时"


def test_over_national_day_overdue_counts_working_hours():
    # Due 30 September 17:00; 8 October 09:30 is 1 h + 1.5 h of working time later (1–7 Oct off).
    due = at(2026, 9, 30, 17, 0)
    c = countdown(due, at(2026, 10, 8, 9, 30), WD)
    assert (c["text"], c["overdue"]) == ("已超时2工作时", True)
    assert text(due, at(2026, 10, 8, 8, 20), WH) == "已超时1工作时"
    assert text(due, at(2026, 9, 30, 17, 45), WH) == "已超时45分钟"
    # Past the deadline during the holiday, but no working time since: due, not "N hours late".
    assert text(at(2026, 9, 30, 18, 0), at(2026, 10, 3, 12, 0), WH) == "已到期"
    # Before the holiday: 1 工作日 from 30 Sep 18:30 ends 8 Oct 18:00, a full 工作日 left.
    assert text(at(2026, 10, 8, 18, 0), at(2026, 9, 30, 18, 30), WD) == "剩余1工作日"
    assert text(at(2026, 10, 9, 10, 0), at(2026, 9, 30, 18, 30), WD) == "剩余1工作日2工作时"


def test_a_local_calendar_override_is_respected():
    # The deployment makes Monday 23 Nov a local holiday: Friday 17:00 → Tuesday 11:00 is 4 h.
    CalendarOverride.objects.create(date=at(2026, 11, 23, 0, 0).date(), is_workday=False)
    assert text(at(2026, 11, 24, 11, 0), at(2026, 11, 20, 17, 0), WH) == "剩余4工作时"


def test_working_countdowns_are_not_ticked_by_the_clock_in_the_browser():
    html = Template("{% load cases_ui %}{% countdown due now unit %}").render(
        Context({"due": at(2026, 11, 23, 11, 0), "now": at(2026, 11, 20, 17, 0), "unit": WH})
    )
    assert "剩余4工作时" in html and "data-due" not in html and "working" in html
    html = Template("{% load cases_ui %}{% countdown due now unit %}").render(
        Context({"due": at(2026, 11, 23, 11, 0), "now": at(2026, 11, 20, 17, 0), "unit": HOUR})
    )
    assert "data-due=" in html


def test_the_unit_follows_the_cases_current_step_and_urgency(world):
    case = make_case(world, state=CaseState.IN_PROGRESS)  # 暴露垃圾: handling in 4 工作时
    assert step_unit(case) == WH
    # An urgent case's handling step runs on continuous hours (as intake and transitions freeze
    # it in Case.deadlines).
    urgent = make_case(
        world,
        state=CaseState.IN_PROGRESS,
        urgency=Urgency.URGENT,
        deadlines={"handle": {"due": "2030-01-01T00:00:00+08:00", "limit": 24, "unit": HOUR}},
    )
    assert step_unit(urgent) == HOUR
    dept = Department.objects.create(code="CD-T", name="测试部门", region=world.tree.streets[0])
    sub = SubTask.objects.create(case=case, department=dept, role="lead", state="pending")
    assert step_unit(sub) == WH
    assert step_unit(make_case(world, state=CaseState.CLOSED)) == ""


def test_pages_show_working_time_left(world):
    case = make_case(world, state=CaseState.IN_PROGRESS)
    # Due next Monday 11:00, seen from the previous Friday 17:00 → 4 工作时 (not 2 days 18 h).
    Case.objects.filter(pk=case.pk).update(due_at=at(2030, 11, 25, 11, 0))
    client = Client()
    client.force_login(world.dispatcher)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'class="countdown working"' in html and "工作时" in html
    html = client.get("/cases/?state=open").content.decode()
    assert 'class="countdown working"' in html
    html = Client().get(f"/track/{case.tracking_code}").content.decode()
    assert 'class="countdown working"' in html


def test_countdowns_and_phone_messages_have_english_translations():
    from django.utils import translation

    with translation.override("en"):
        assert text(at(2026, 9, 30, 17, 0), at(2026, 10, 8, 9, 30), WD) == (
            "Overdue by 2 working hours"
        )
        assert "4 working hours" in text(at(2026, 11, 23, 11, 0), at(2026, 11, 20, 17, 0), WH)
        assert (
            translation.gettext("验证码不正确，还可尝试%(n)d次。")
            == "Wrong code; %(n)d tries left."
        )
