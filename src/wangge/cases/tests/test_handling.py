"""The loop as people walk it: who may act, 吹哨报到, suspension and extension, photos."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from wangge.cases.choices import CaseState, RequestStatus, SubTaskState
from wangge.cases.models import Case, CaseRequest, Department, Notification, SubTask
from wangge.cases.services import attachment_add, case_transition, subtask_transition
from wangge.core.exceptions import PermissionDenied, ValidationError

from .factories import JPEG, PNG, make_case

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def act(actor, case, action, **data):
    case.refresh_from_db()
    return case_transition(
        actor=actor, case=case, action=action, expected_version=case.version, **data
    )


def test_the_whole_loop_from_report_to_rating(world, django_capture_on_commit_callbacks):
    resident = world.nobody
    case = make_case(world, state=CaseState.REPORTED, reporter=resident)
    act(world.secretary, case, "accept")
    with django_capture_on_commit_callbacks(execute=True):
        act(world.secretary, case, "dispatch", assignee=world.worker.pk)
    assert Notification.objects.filter(recipient=world.worker, kind="assigned").exists()
    act(world.worker, case, "claim")
    attachment_add(actor=world.worker, case=case, kind="after", content=PNG)
    act(world.worker, case, "handle", result="已清理干净", checkin_lon=120.61, checkin_lat=31.32)
    act(world.worker2, case, "verify")
    act(world.secretary, case, "close")
    done = act(resident, case, "rate", score=4, reason="很及时")
    assert (done.state, done.rating, done.version) == (CaseState.RATED, 4, 8)
    assert [e.action for e in done.events.all()] == [
        "accept",
        "dispatch",
        "claim",
        "handle",
        "verify",
        "close",
        "rate",
    ]


def test_permissions_follow_role_and_area(world):
    case = make_case(world, state=CaseState.ACCEPTED)
    with pytest.raises(PermissionDenied):
        act(world.worker, case, "dispatch", assignee=world.worker.pk)  # workers do not dispatch
    with pytest.raises(PermissionDenied):
        act(world.outsider, case, "dispatch")  # another street
    with pytest.raises(PermissionDenied):
        act(world.nobody, case, "cancel", reason="x")
    act(world.dispatcher, case, "dispatch", assignee=world.worker.pk)
    with pytest.raises(PermissionDenied):
        act(world.worker2, case, "claim")  # assigned to someone else
    with pytest.raises(PermissionDenied):
        act(world.dept_user, case, "claim")  # not their department's case
    act(world.worker, case, "claim")


def test_department_staff_act_through_membership(world):
    case = make_case(world, state=CaseState.DISPATCHED, department=world.dept)
    with pytest.raises(PermissionDenied):
        act(world.dept2_user, case, "claim")
    assert act(world.dept_user, case, "claim").assignee == world.dept_user


def test_a_return_needs_a_reason_and_goes_back_to_dispatch(world):
    case = make_case(world, state=CaseState.DISPATCHED, assignee=world.worker)
    with pytest.raises(ValidationError):
        act(world.worker, case, "return")
    back = act(world.worker, case, "return", reason="不属于本网格")
    assert back.state == CaseState.ACCEPTED and back.assignee is None and back.step == "dispatch"


def test_handling_needs_an_after_photo_and_a_result(world):
    case = make_case(world, state=CaseState.IN_PROGRESS, assignee=world.worker)
    with pytest.raises(ValidationError) as exc:
        act(world.worker, case, "handle", result="好了")
    assert "照片" in exc.value.message
    attachment_add(actor=world.worker, case=case, kind="after", content=JPEG)
    with pytest.raises(ValidationError):
        act(world.worker, case, "handle")
    assert act(world.worker, case, "handle", result="好了").state == CaseState.HANDLED


def test_failed_verification_is_rework_and_a_reopen_counts_too(world):
    case = make_case(world, state=CaseState.HANDLED, assignee=world.worker)
    back = act(world.worker2, case, "verify_fail", reason="还有垃圾")
    assert (back.state, back.rework_count) == (CaseState.IN_PROGRESS, 1)
    Case.objects.filter(pk=case.pk).update(state=CaseState.RATED, rating=1)
    again = act(world.secretary, case, "reopen", reason="群众不满意")
    assert (again.state, again.reopen_count, again.rating) == (CaseState.IN_PROGRESS, 1, None)


def test_rating_is_one_to_five_by_the_reporter_or_staff_in_area(world):
    case = make_case(world, state=CaseState.CLOSED, reporter=world.nobody)
    with pytest.raises(ValidationError):
        act(world.nobody, case, "rate", score=6)
    with pytest.raises(PermissionDenied):
        act(world.outsider, case, "rate", score=3)
    assert act(world.worker, case, "rate", score=3).rating == 3


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"GIF89a" + b"\0" * 20, "not_image"), (b"", "empty"), (PNG + b"\0" * 2048, "too_large")],
)
def test_uploads_must_be_small_images(world, settings, content, problem):
    settings.CASE_ATTACHMENT_MAX_BYTES = 1024
    case = make_case(world, state=CaseState.IN_PROGRESS)
    with pytest.raises(ValidationError) as exc:
        attachment_add(actor=world.worker, case=case, kind="before", content=content)
    assert exc.value.errors["file"] == [problem]
    assert not case.attachments.exists()


def test_whistle_calls_several_departments_and_the_case_waits_for_all(
    world, django_capture_on_commit_callbacks
):
    case = make_case(world, state=CaseState.ACCEPTED)
    with django_capture_on_commit_callbacks(execute=True):
        act(
            world.dispatcher,
            case,
            "whistle",
            lead=world.dept.pk,
            co=[world.dept2.pk],
            instructions="联合整治",
        )
    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS and case.department == world.dept
    lead, co = SubTask.objects.filter(case=case).order_by("role")
    assert (lead.role, co.role) == ("co", "lead") or (lead.role, co.role) == ("lead", "co")
    subtasks = {s.department_id: s for s in SubTask.objects.filter(case=case)}
    assert set(subtasks) == {world.dept.pk, world.dept2.pk}
    assert all(s.due_at for s in subtasks.values())
    assert Notification.objects.filter(recipient=world.dept2_user, kind="assigned").exists()
    mine = subtasks[world.dept2.pk]
    with pytest.raises(PermissionDenied):
        subtask_transition(actor=world.dept_user, subtask=mine, action="accept", expected_version=1)
    subtask_transition(
        actor=world.dept2_user,
        subtask=mine,
        action="return",
        expected_version=1,
        reason="不属于本部门职责",
    )
    mine.refresh_from_db()
    assert mine.state == SubTaskState.RETURNED
    subtask_transition(actor=world.dept2_user, subtask=mine, action="accept", expected_version=2)
    subtask_transition(
        actor=world.dept2_user,
        subtask=mine,
        action="handle",
        expected_version=3,
        result="管线已修复",
    )
    attachment_add(actor=world.dept_user, case=case, kind="after", content=PNG)
    with pytest.raises(ValidationError):  # the lead's own part is still open
        act(world.dept_user, case, "handle", result="完成")
    lead_task = subtasks[world.dept.pk]
    subtask_transition(
        actor=world.dept_user, subtask=lead_task, action="accept", expected_version=1
    )
    subtask_transition(
        actor=world.dept_user,
        subtask=lead_task,
        action="handle",
        expected_version=2,
        result="路面已恢复",
    )
    assert act(world.dept_user, case, "handle", result="联合处置完成").state == CaseState.HANDLED


def test_suspension_stops_the_clock_and_resuming_gives_back_the_time_left(world):
    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=SH)  # Monday
    case = make_case(world, state=CaseState.IN_PROGRESS, assignee=world.worker, now=t0)
    assert case.due_at == datetime(2026, 11, 23, 15, 0, tzinfo=SH)  # 3h before lunch, 1h after
    case_transition(
        actor=world.worker,
        case=case,
        action="request_suspend",
        expected_version=1,
        reason="等待产权单位确认",
        now=t0 + timedelta(hours=1),
    )
    case.refresh_from_db()
    with pytest.raises(PermissionDenied):  # nobody approves their own request
        case_transition(actor=world.worker, case=case, action="approve_suspend", expected_version=2)
    case_transition(
        actor=world.secretary,
        case=case,
        action="approve_suspend",
        expected_version=2,
        now=t0 + timedelta(hours=1),
    )
    case.refresh_from_db()
    assert case.state == CaseState.SUSPENDED and case.due_at is None
    assert CaseRequest.objects.get(case=case).status == RequestStatus.APPROVED
    later = datetime(2026, 11, 30, 9, 0, tzinfo=SH)  # a week later, 3 working hours were left
    case_transition(
        actor=world.secretary, case=case, action="resume", expected_version=3, now=later
    )
    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS
    assert case.due_at == datetime(2026, 11, 30, 12, 0, tzinfo=SH)


def test_an_approved_extension_moves_the_deadline(world):
    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=SH)
    case = make_case(world, state=CaseState.IN_PROGRESS, assignee=world.worker, now=t0)
    case_transition(
        actor=world.worker,
        case=case,
        action="request_extend",
        expected_version=1,
        reason="需采购配件",
        extra_limit=1,
        extra_unit="work_day",
    )
    case.refresh_from_db()
    with pytest.raises(ValidationError):  # one pending request at a time
        case_transition(
            actor=world.worker, case=case, action="request_suspend", expected_version=2, reason="x"
        )
    case_transition(actor=world.dispatcher, case=case, action="approve_extend", expected_version=2)
    case.refresh_from_db()
    assert case.due_at == datetime(2026, 11, 24, 15, 0, tzinfo=SH)  # 15:00 + 8 working hours
    assert case.deadlines["handle"]["extended"]


def test_a_denied_request_leaves_the_deadline(world):
    case = make_case(world, state=CaseState.IN_PROGRESS, assignee=world.worker)
    due = case.due_at
    act(world.worker, case, "request_extend", reason="x", extra_limit=2)
    after = act(world.secretary, case, "deny_request", reason="时限足够")
    assert after.due_at == due
    assert CaseRequest.objects.get(case=case).status == RequestStatus.DENIED


def test_queues_for_screens_are_scoped(world):
    from wangge.cases.selectors import (
        case_counts_by_state,
        case_map_points,
        case_requests_pending_for_user,
        subtasks_for_user,
    )

    case = make_case(world, state=CaseState.IN_PROGRESS, assignee=world.worker)
    make_case(world, grid=world.other_grid)
    act(world.worker, case, "request_extend", reason="等配件", extra_limit=1)
    assert [r.case_id for r in case_requests_pending_for_user(world.secretary)] == [case.pk]
    assert not case_requests_pending_for_user(world.outsider).exists()
    assert case_counts_by_state(world.secretary) == {"in_progress": 1}
    assert [p["id"] for p in case_map_points(world.worker)] == [case.pk]
    SubTask.objects.create(case=case, department=world.dept, role="lead", state="pending")
    assert subtasks_for_user(world.dept_user).count() == 1


def test_a_check_in_records_its_distance_from_the_case(world):
    case = make_case(world, state=CaseState.IN_PROGRESS, assignee=world.worker)
    attachment_add(actor=world.worker, case=case, kind="after", content=PNG)
    act(
        world.worker,
        case,
        "handle",
        result="好了",
        checkin_lon=case.lon,
        checkin_lat=case.lat + 0.001,
    )
    event = case.events.get(action="handle")
    assert 100 <= event.data["checkin_distance_m"] <= 120


def test_work_is_never_handed_to_people_or_departments_outside_the_area(world):
    from wangge.accounts.tests.factories import make_user

    stranger = make_user("stranger_worker", role="grid_worker", region=world.other_grid)
    far_dept = Department.objects.create(code="FAR", name="外区城管", region=world.tree.streets[1])
    case = make_case(world, state=CaseState.ACCEPTED)
    with pytest.raises(ValidationError) as exc:
        act(world.dispatcher, case, "dispatch", assignee=stranger.pk)
    assert exc.value.errors == {"assignee": ["not_found"]}
    with pytest.raises(ValidationError):
        act(world.dispatcher, case, "whistle", lead=world.dept.pk, co=[far_dept.pk])
    case.refresh_from_db()
    assert case.state == CaseState.ACCEPTED and case.assignee is None
    assert not SubTask.objects.filter(case=case).exists()
    assert (
        act(world.dispatcher, case, "dispatch", assignee=world.worker.pk).assignee == world.worker
    )
