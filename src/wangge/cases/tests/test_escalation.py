from __future__ import annotations

import os
import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection
from django.utils import timezone

from wangge.cases.choices import CaseState, HandlingLevel, SubTaskRole, SubTaskState
from wangge.cases.models import Case, Escalation, Notification, SubTask, Supervision
from wangge.cases.services import case_escalate_overdue, case_supervise
from wangge.core.exceptions import PermissionDenied
from wangge.core.periodic import periodic_jobs

from .factories import make_case

pytestmark = pytest.mark.django_db


def overdue_case(world, **kw):
    """A grid-level case whose 4-working-hour handling limit passed long ago."""
    filed = timezone.now() - timedelta(days=40)
    kw.setdefault("state", CaseState.IN_PROGRESS)
    case = make_case(world, now=filed, assignee=world.worker, **kw)
    case.handling_level = HandlingLevel.GRID
    case.save(update_fields=["handling_level"])
    return case


def test_an_overdue_case_climbs_one_rung_per_pass_and_supervisors_are_told(world):
    case = overdue_case(world)
    now = case.due_at + timedelta(minutes=5)
    report = case_escalate_overdue(now=now)
    assert report.escalated == 1
    esc = Escalation.objects.get(case=case)
    assert (esc.from_level, esc.to_level, esc.region) == (
        HandlingLevel.GRID,
        HandlingLevel.COMMUNITY,
        world.tree.communities[0],
    )
    sup = Supervision.objects.get(escalation=esc)
    told = {r["id"] for r in sup.recipients}
    assert {world.secretary.pk, world.worker.pk} <= told
    assert "督办" in sup.message
    assert Notification.objects.filter(recipient=world.secretary, kind="supervision").count() == 1
    case.refresh_from_db()
    assert case.escalation_level == HandlingLevel.COMMUNITY


def test_running_the_pass_twice_changes_nothing_the_second_time(world):
    case = overdue_case(world)
    now = case.due_at + timedelta(minutes=5)
    case_escalate_overdue(now=now)
    again = case_escalate_overdue(now=now)
    assert again.escalated == 0
    assert Escalation.objects.filter(case=case).count() == 1
    assert Supervision.objects.filter(case=case).count() == 1


def test_the_ladder_goes_grid_community_street_district_and_stops(world):
    case = overdue_case(world)
    now = timezone.now()  # weeks past due: every rung's waiting time has passed
    for _ in range(5):
        case_escalate_overdue(now=now)
    levels = list(Escalation.objects.filter(case=case).values_list("to_level", flat=True))
    assert levels == [HandlingLevel.COMMUNITY, HandlingLevel.STREET, HandlingLevel.DISTRICT]
    regions = [e.region for e in Escalation.objects.filter(case=case)]
    assert regions == [world.tree.communities[0], world.tree.streets[0], world.tree.county]


def test_one_rung_per_deadline_is_enforced_by_the_database(world):
    case = overdue_case(world)
    case_escalate_overdue(now=case.due_at + timedelta(minutes=1))
    esc = Escalation.objects.get(case=case)
    with pytest.raises(IntegrityError):
        Escalation.objects.create(
            case=case,
            step=esc.step,
            due_at=esc.due_at,
            from_level="grid",
            to_level=esc.to_level,
            created_at=timezone.now(),
        )


def test_a_reminder_goes_out_once_at_three_quarters_of_the_allowed_time(world):
    case = make_case(world, state=CaseState.IN_PROGRESS, assignee=world.worker)
    assert case.step_started_at < case.remind_at < case.due_at
    assert case_escalate_overdue(now=case.remind_at - timedelta(minutes=1)).reminded == 0
    assert case_escalate_overdue(now=case.remind_at + timedelta(minutes=1)).reminded == 1
    assert case_escalate_overdue(now=case.remind_at + timedelta(minutes=2)).reminded == 0
    assert Notification.objects.filter(recipient=world.worker, kind="reminder").count() == 1


def test_who_is_reminded_is_decided_as_before_while_the_sql_uses_only_remind_at(world):
    from wangge.cases.choices import OPEN_STATES
    from wangge.cases.services.escalation import _due_for_reminder

    now = timezone.now()
    hour = timedelta(hours=1)
    situations = {
        "due soon": (CaseState.IN_PROGRESS, now - hour, now + hour),
        "overdue, never reminded": (CaseState.IN_PROGRESS, now - 2 * hour, now - hour),
        "closed": (CaseState.CLOSED, now - hour, now + hour),
        "reminder later": (CaseState.ACCEPTED, now + hour, now + 2 * hour),
        "no reminder": (CaseState.DISPATCHED, None, now + hour),
        "due soon, reported": (CaseState.REPORTED, now - hour, now + 2 * hour),
    }
    cases = {}
    for name, (state, remind_at, due_at) in situations.items():
        case = make_case(world, state=state, assignee=world.worker)
        Case.objects.filter(pk=case.pk).update(remind_at=remind_at, due_at=due_at)
        cases[name] = case.pk
    # The condition as the pass wrote it in SQL before (remind_at ≤ now < due_at, open).
    before = set(
        Case.objects.filter(remind_at__lte=now, due_at__gt=now, state__in=OPEN_STATES).values_list(
            "pk", flat=True
        )
    )
    assert before == {cases["due soon"], cases["due soon, reported"]}
    assert case_escalate_overdue(now=now).reminded == 2
    told = set(Notification.objects.filter(kind="reminder").values_list("case_id", flat=True))
    assert told == before
    # The SQL holds only the indexed term, so SQLite cannot prefer case_state_due.
    plan = _due_for_reminder(now).explain()
    if connection.vendor == "sqlite":
        assert "remind_at" in plan and "case_state_due" not in plan, plan


def test_suspended_and_closed_cases_are_not_escalated(world):
    overdue_case(world, state=CaseState.SUSPENDED, due_at=None)
    c = overdue_case(world)
    Case.objects.filter(pk=c.pk).update(state=CaseState.CLOSED)
    assert case_escalate_overdue().escalated == 0


def test_an_overdue_whistle_subtask_is_supervised_once(world):
    case = make_case(world, state=CaseState.IN_PROGRESS, department=world.dept)
    SubTask.objects.create(
        case=case,
        department=world.dept2,
        role=SubTaskRole.CO,
        state=SubTaskState.PENDING,
        due_at=timezone.now() - timedelta(hours=1),
    )
    assert case_escalate_overdue().escalated == 1
    assert case_escalate_overdue().escalated == 0
    assert Notification.objects.filter(recipient=world.dept2_user, kind="supervision").count() == 1
    assert Supervision.objects.filter(case=case, level="department").count() == 1


def test_a_supervisor_can_issue_a_manual_supervision_notice(world):
    case = make_case(world, state=CaseState.IN_PROGRESS, assignee=world.worker)
    sup = case_supervise(actor=world.dispatcher, case=case, message="请今天内处理")
    assert sup.recipients == [{"id": world.worker.pk, "name": str(world.worker)}]
    with pytest.raises(PermissionDenied):
        case_supervise(actor=world.outsider, case=case, message="x")


def test_the_scan_is_a_periodic_job_and_a_command():
    assert "cases.escalate_overdue" in [j.name for j in periodic_jobs()]
    out = StringIO()
    call_command("cases", "escalate", stdout=out)
    assert '"escalated": 0' in out.getvalue()


@pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="needs PostgreSQL")
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_scans_at_once_escalate_once(tree):
    from .factories import make_world

    world = make_world(tree)
    case = overdue_case(world)
    now = case.due_at + timedelta(minutes=5)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def scan() -> None:
        try:
            barrier.wait()
            case_escalate_overdue(now=now)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert Escalation.objects.filter(case=case).count() == 1
    assert Supervision.objects.filter(case=case).count() == 1
