"""Every legal and illegal (state, action) pair of the workflow table, plus locking."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest
from django.db import connection

from wangge.cases.choices import AttachmentKind, CaseState, RequestKind, RequestStatus
from wangge.cases.models import Attachment, Case, CaseEvent, CaseRequest, Suspension
from wangge.cases.services import case_transition
from wangge.cases.workflow import TRANSITIONS, illegal_pairs, legal_pairs, target_state
from wangge.core.exceptions import Conflict, InvalidTransition
from wangge.core.models import AuditRecord

from .factories import PNG, World, make_case

pytestmark = pytest.mark.django_db


def _prepare(world: World, case: Case, action: str, actor: Any) -> dict[str, Any]:
    """Data and preconditions that make ``action`` valid apart from the state."""
    data: dict[str, Any] = {}
    t = TRANSITIONS[action]
    if "reason" in t.requires:
        data["reason"] = "理由"
    if action == "handle":
        data["result"] = "已清理"
        Attachment.objects.create(
            case=case,
            kind=AttachmentKind.AFTER,
            file="x.png",
            content_type="image/png",
            size=len(PNG),
            sha256="0" * 64,
        )
    if action == "reassign":
        data["assignee"] = world.worker2.pk
    if action == "reclassify":
        data["matter_type"] = "06001"  # from the factory's 06010
    if action == "rate":
        data["score"] = 5
    if action == "merge":
        data["duplicate_of"] = make_case(world).pk
    if action == "whistle":
        data["lead"] = world.dept.pk
        data["co"] = [world.dept2.pk]
    if action == "request_extend":
        data["extra_limit"] = 2
    if action in ("approve_suspend", "approve_extend", "deny_request"):
        kind = RequestKind.EXTEND if action == "approve_extend" else RequestKind.SUSPEND
        CaseRequest.objects.create(
            case=case,
            kind=kind,
            status=RequestStatus.PENDING,
            reason="r",
            extra_limit=1 if kind == RequestKind.EXTEND else None,
            extra_unit="work_day",
            requested_by=world.worker,
            requested_at=case.reported_at,
        )
    if action == "resume":
        Suspension.objects.create(case=case, started_at=case.reported_at, remaining_seconds=3600)
        Case.objects.filter(pk=case.pk).update(suspended_from=CaseState.IN_PROGRESS)
        case.refresh_from_db()
    return data


@pytest.mark.parametrize(("state", "action"), legal_pairs())
def test_every_legal_transition_moves_the_case_and_leaves_a_trail(world, admin_user, state, action):
    case = make_case(world, state=state)
    data = _prepare(world, case, action, admin_user)
    events = CaseEvent.objects.filter(case=case).count()
    audits = AuditRecord.objects.count()
    result = case_transition(
        actor=admin_user, case=case, action=action, expected_version=case.version, **data
    )
    expected = target_state(action, state)
    if action == "resume":
        expected = CaseState.IN_PROGRESS
    assert result.state == expected
    assert result.version == 2
    assert CaseEvent.objects.filter(case=case).count() == events + 1
    assert AuditRecord.objects.filter(action=f"cases.{action}").count() >= 1
    assert AuditRecord.objects.count() > audits
    if expected in (CaseState.CLOSED, CaseState.RATED, CaseState.REJECTED, CaseState.CANCELLED):
        assert result.due_at is None
    if expected == CaseState.SUSPENDED:
        assert result.due_at is None and result.suspensions.filter(ended_at=None).exists()


ILLEGAL_BY_STATE = {
    state: [a for s, a in illegal_pairs() if s == state] for state in CaseState.values
}


@pytest.mark.parametrize("state", list(ILLEGAL_BY_STATE))
def test_every_illegal_transition_is_refused_and_changes_nothing(world, admin_user, state):
    """One case per state, every action the table does not allow from it (all pairs)."""
    case = make_case(world, state=state)
    assert ILLEGAL_BY_STATE[state]
    for action in ILLEGAL_BY_STATE[state]:
        with pytest.raises(InvalidTransition):
            case_transition(actor=admin_user, case=case, action=action, expected_version=1)
        case.refresh_from_db()
        assert (case.state, case.version) == (state, 1), action
    assert not CaseEvent.objects.filter(case=case).exists()


def test_the_table_covers_every_state():
    sources = {s for s, _ in legal_pairs()}
    # Final states have no way out; every other state has at least one action.
    assert sources == set(CaseState.values) - {
        CaseState.REJECTED,
        CaseState.MERGED,
        CaseState.CANCELLED,
    }


def test_a_stale_version_is_a_conflict_and_writes_nothing(world):
    case = make_case(world, state=CaseState.REPORTED)
    first = Case.objects.get(pk=case.pk)
    second = Case.objects.get(pk=case.pk)
    case_transition(actor=world.dispatcher, case=first, action="accept", expected_version=1)
    audits = AuditRecord.objects.count()
    with pytest.raises(Conflict):
        case_transition(
            actor=world.dispatcher, case=second, action="reject", expected_version=1, reason="x"
        )
    case.refresh_from_db()
    assert case.state == CaseState.ACCEPTED and case.version == 2
    assert AuditRecord.objects.count() == audits
    assert CaseEvent.objects.filter(case=case).count() == 1


def test_a_stale_version_loses_even_when_the_object_in_hand_looks_current(world):
    """The guard is the UPDATE … WHERE version=?, not the Python object."""
    case = make_case(world, state=CaseState.REPORTED)
    Case.objects.filter(pk=case.pk).update(version=2)  # someone else wrote in between
    with pytest.raises(Conflict):
        case_transition(actor=world.dispatcher, case=case, action="accept", expected_version=1)
    case.refresh_from_db()
    assert case.state == CaseState.REPORTED and not case.events.exists()


@pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="needs PostgreSQL")
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_handlers_at_once_exactly_one_wins(tree):
    from .factories import make_world

    world = make_world(tree)
    case = make_case(world, state=CaseState.DISPATCHED)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def act(user: Any, action: str) -> None:
        try:
            mine = Case.objects.get(pk=case.pk)
            barrier.wait()
            kwargs = {"reason": "不属于本网格"} if action == "return" else {}
            case_transition(actor=user, case=mine, action=action, expected_version=1, **kwargs)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=(world.worker, "claim")),
        threading.Thread(target=act, args=(world.worker2, "return")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    case.refresh_from_db()
    assert case.version == 2
    assert case.events.count() == 1
    assert AuditRecord.objects.filter(object_type="cases.case", object_id=str(case.pk)).count() == 1
