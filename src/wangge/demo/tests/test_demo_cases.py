"""The demo's departments and case history, on the small city (~200 cases)."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from wangge.accounts.models import User
from wangge.cases.choices import OPEN_STATES, CaseState, HandlingLevel, Source
from wangge.cases.models import (
    Case,
    CaseEvent,
    Department,
    Escalation,
    MatterRoute,
    MatterType,
    Supervision,
)
from wangge.cases.routing import responsible_department
from wangge.cases.services.escalation import case_escalate_overdue
from wangge.core.audit import audit_verify
from wangge.core.models import AuditRecord
from wangge.demo.cases import CASES_SMALL, CLIENT_KEY_PREFIX, full_calendar, generate
from wangge.demo.city import DEFAULT_SEED, plan_city
from wangge.demo.departments import DEPT_LOGIN_DEPARTMENT, plan_departments
from wangge.demo.services import demo_load
from wangge.geo.choices import Level
from wangge.geo.locator import locate
from wangge.geo.models import Region

pytestmark = pytest.mark.django_db

TERMINAL = (CaseState.REJECTED, CaseState.MERGED, CaseState.CANCELLED)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the live cases upload an after-photo


@pytest.fixture(autouse=True)
def _fresh_indexes():
    """The locator and classifier cache per process; each test has a new database."""
    from wangge.cases import classify
    from wangge.geo import locator

    locator.reset()
    classify.reset()
    yield
    locator.reset()
    classify.reset()


@pytest.fixture
def loaded() -> datetime:
    """The small demo with its history; returns an instant just before it was built."""
    before = timezone.now()
    demo_load(small=True)
    return before


def generated():
    return Case.objects.filter(client_key__startswith=f"{CLIENT_KEY_PREFIX}{DEFAULT_SEED}-")


def test_the_small_demo_files_a_year_of_cases_across_states_channels_and_matters(loaded):
    cases = generated()
    assert cases.count() == CASES_SMALL
    assert Case.objects.filter(client_key__startswith=f"{CLIENT_KEY_PREFIX}live-").count() == 3
    states = set(cases.values_list("state", flat=True))
    assert {CaseState.CLOSED, CaseState.RATED, CaseState.REJECTED} <= states
    assert len(set(cases.values_list("source", flat=True))) >= 4
    assert len(set(cases.values_list("matter_type", flat=True))) >= 20
    oldest = min(cases.values_list("reported_at", flat=True))
    assert (timezone.now() - oldest).days >= 300
    ratings = list(cases.exclude(rating=None).values_list("rating", flat=True))
    assert ratings and sum(r >= 4 for r in ratings) / len(ratings) > 0.7
    record = AuditRecord.objects.get(action="demo.load")
    assert record.after["cases"] == CASES_SMALL + 3
    assert record.after["departments"] == Department.objects.count()


def test_lifecycle_timestamps_follow_each_other_and_match_the_state(loaded):
    order = ["reported_at", "accepted_at", "dispatched_at", "handled_at", "verified_at"]
    order += ["closed_at", "rated_at"]
    for case in generated():
        stamps = [getattr(case, name) for name in order if getattr(case, name) is not None]
        assert stamps == sorted(stamps), case.tracking_code
        assert case.created_at == case.reported_at
        if case.state in (CaseState.CLOSED, CaseState.RATED):
            assert case.closed_at and case.verified_at and case.handled_at and case.accepted_at
            assert case.due_at is None and case.step == ""
        if case.state == CaseState.RATED:
            assert 1 <= case.rating <= 5
        if case.state in TERMINAL:
            assert case.ended_at and case.due_at is None and case.closed_at is None
        if case.state == CaseState.MERGED:
            assert case.duplicate_of is not None
        if case.state in OPEN_STATES:
            assert case.due_at is not None and case.closed_at is None
            # The same instant (stored with the offset the calendar worked in: +08:00 or UTC).
            due = datetime.fromisoformat(case.deadlines[case.step]["due"])
            assert due == case.due_at, (case.deadlines[case.step]["due"], case.due_at)
        if case.state == CaseState.SUSPENDED:
            assert case.due_at is None and case.suspensions.filter(ended_at=None).exists()
        assert case.tracking_code.startswith(
            timezone.localtime(case.reported_at).strftime("%y%m%d")
        )


def test_the_timeline_replays_to_the_case_state(loaded):
    for case in generated().prefetch_related("events"):
        events = list(case.events.all())
        assert events[0].action == "report" and events[0].created_at == case.reported_at
        assert case.tracking_code in events[0].public_text
        changes = [e for e in events[1:] if e.to_state]  # "merged_in" is a note, no change
        state = CaseState.REPORTED
        for event in changes:
            assert event.from_state == state, (case.tracking_code, event.action)
            state = event.to_state
        assert state == case.state
        assert case.updated_at == (changes[-1] if changes else events[0]).created_at
    merged = generated().filter(state=CaseState.MERGED).select_related("duplicate_of")
    for case in merged:
        notes = case.duplicate_of.events.filter(action="merged_in")
        assert notes.filter(note__contains=case.tracking_code).exists()


def test_every_case_is_filed_on_the_active_grid_the_locator_finds(loaded):
    for case in Case.objects.select_related("grid"):
        assert case.grid.is_active
        assert case.grid.level == Level.GRID
        assert case.region_path == case.grid.path
        path = locate(case.lon, case.lat).path  # the located leaf may be a micro-grid
        assert next(r for r in reversed(path) if r.level == Level.GRID).pk == case.grid_id


def test_overdue_cases_carry_their_escalations_and_a_scan_now_adds_none(loaded):
    overdue = Case.objects.filter(state__in=OPEN_STATES, due_at__lte=loaded).exclude(
        handling_level=HandlingLevel.DISTRICT
    )
    for case in overdue:
        assert case.escalations.filter(due_at=case.due_at).exists(), case.tracking_code
        assert case.escalation_level
    for escalation in Escalation.objects.select_related("supervision", "case"):
        assert escalation.created_at >= escalation.due_at
        assert escalation.supervision.case_id == escalation.case_id
        assert escalation.case.tracking_code in escalation.supervision.message
    assert Escalation.objects.exists() and Supervision.objects.exists()
    assert case_escalate_overdue(now=loaded).escalated == 0


def test_every_hinted_matter_routes_to_a_department_of_that_name(loaded):
    plan = plan_city(DEFAULT_SEED, small=True)
    hints = {p.code: p.hints for p in plan_departments(plan)}
    grid = Region.objects.filter(level=Level.GRID).first()
    for mt in MatterType.objects.exclude(department_hint=""):
        assert MatterRoute.objects.filter(matter_type=mt).exists(), mt.code
        dept = responsible_department(mt, grid)
        assert dept is not None and mt.department_hint in hints[dept.code], mt.code
    police = MatterType.objects.get(code="92001")  # 治安隐患 → the street's 派出所
    assert responsible_department(police, grid).name == "白洋湾派出所"


def test_the_dept_login_and_one_handler_per_department_are_members(loaded):
    assert User.objects.get(username="dept").departments.get().code == DEPT_LOGIN_DEPARTMENT
    for department in Department.objects.all():
        assert department.members.filter(is_active=True).exists(), department.name
    assert Case.objects.filter(department__code=DEPT_LOGIN_DEPARTMENT).exists()


def test_a_few_cases_went_through_the_real_services(loaded):
    live = Case.objects.filter(client_key__startswith=f"{CLIENT_KEY_PREFIX}live-")
    rated = live.get(state=CaseState.RATED)
    assert rated.rating == 5 and rated.reporter.username == "resident"
    assert [e.action for e in rated.events.all()] == [
        "report",
        "accept",
        "dispatch",
        "claim",
        "handle",
        "verify",
        "close",
        "rate",
    ]
    assert live.get(self_resolved=True).state == CaseState.CLOSED
    open_case = live.get(state=CaseState.IN_PROGRESS)
    assert open_case.department.code == DEPT_LOGIN_DEPARTMENT
    assert open_case.assignee.username == "dept"
    assert AuditRecord.objects.filter(action="cases.rate", object_id=str(rated.pk)).exists()


def test_generation_is_deterministic_for_a_seed_and_an_instant():
    demo_load(small=True, cases=False)
    assert not Case.objects.exists()
    plan = plan_city(DEFAULT_SEED, small=True)
    now = timezone.now()
    from wangge.cases.deadlines import load_calendar

    calendar = full_calendar(load_calendar(), now.date() - timedelta(days=400), now.date())

    def run() -> list[tuple]:
        plans = generate(plan=plan, count=50, seed=DEFAULT_SEED, now=now, calendar=calendar)
        return [
            (
                p.case.tracking_code,
                p.case.state,
                p.case.reported_at,
                p.case.matter_type_id,
                p.case.grid_id,
                p.case.due_at,
                p.case.closed_at,
                [(e.action, e.created_at) for e in p.events],
            )
            for p in plans
        ]

    assert run() == run()


def test_no_cases_skips_the_history_and_force_rebuilds_it_without_doubling(loaded):
    first = Case.objects.count()
    demo_load(small=True, force=True)
    assert Case.objects.count() == first
    assert Department.objects.count() == len(plan_departments(plan_city(DEFAULT_SEED, small=True)))
    assert list(audit_verify()) == []
    out = StringIO()
    call_command("demo", "--small", "--force", "--no-cases", stdout=out)
    assert not Case.objects.exists() and not CaseEvent.objects.exists()
    assert "职能部门" in out.getvalue()
    assert Case.objects.filter(source=Source.PATROL).count() == 0
    assert Case.objects.filter(due_at__lt=F("reported_at")).count() == 0
