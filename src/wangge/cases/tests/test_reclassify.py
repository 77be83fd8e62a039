"""A dispatcher changes the matter type after 受理 (reclassify): rules, route and the running
step's deadline follow the new type; dispatched work keeps its handler."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from wangge.cases.choices import CaseState
from wangge.cases.services import case_transition
from wangge.core.exceptions import PermissionDenied, ValidationError
from wangge.core.models import AuditRecord

from .factories import make_case

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
# Monday 2026-11-23 09:00: the step started here.
STARTED = datetime(2026, 11, 23, 9, 0, tzinfo=SH)


def test_the_new_types_limit_counts_from_when_the_step_started(world):
    # 06010 handles in 4 工作时; 06001 (私搭乱建) in 15 工作日, routed to the street.
    case = make_case(world, state=CaseState.IN_PROGRESS, assignee=world.worker, now=STARTED)
    assert case.due_at == datetime(2026, 11, 23, 15, 0, tzinfo=SH)
    later = datetime(2026, 11, 23, 16, 0, tzinfo=SH)
    result = case_transition(
        actor=world.dispatcher,
        case=case,
        action="reclassify",
        expected_version=case.version,
        matter_type="06001",
        reason="实为违建，非垃圾",
        now=later,
    )
    assert result.state == CaseState.IN_PROGRESS and result.matter_type.code == "06001"
    assert result.rules["handle_limit"] == 15 and result.deadlines["handle"]["unit"] == "work_day"
    # 15 工作日 from Monday 09:00 (not from 16:00): ends Friday 2026-12-11 at 09:00 + …
    assert result.step_started_at == STARTED
    assert result.deadlines["handle"]["started"] == STARTED.isoformat()
    assert result.due_at > later
    assert result.handling_level == "street"
    # Dispatched work keeps its handler.
    assert result.assignee_id == world.worker.pk
    event = result.events.get(action="reclassify")
    assert event.data == {"matter_type": "06001", "from_matter_type": "06010"}
    assert event.note == "实为违建，非垃圾"
    assert AuditRecord.objects.filter(action="cases.reclassify").exists()


def test_an_accepted_case_takes_the_new_routes_department(world):
    case = make_case(world, state=CaseState.ACCEPTED)
    result = case_transition(
        actor=world.dispatcher,
        case=case,
        action="reclassify",
        expected_version=case.version,
        matter_type="01001",  # routed to 市政 (dept2) in the county
        reason="井盖问题",
    )
    assert result.department_id == world.dept2.pk and result.handling_level == "department"
    assert result.state == CaseState.ACCEPTED and result.step == "dispatch"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"matter_type": "06010", "reason": "x"}, "事项类型未改变"),
        ({"matter_type": "99999", "reason": "x"}, "事项类型不存在"),
        ({"matter_type": "06001"}, "请填写理由"),
    ],
)
def test_bad_reclassification_is_refused_and_changes_nothing(world, data, message):
    case = make_case(world, state=CaseState.DISPATCHED)
    with pytest.raises(ValidationError, match=message):
        case_transition(
            actor=world.dispatcher,
            case=case,
            action="reclassify",
            expected_version=case.version,
            **data,
        )
    case.refresh_from_db()
    assert case.version == 1 and case.matter_type.code == "06010"
    assert not case.events.exists()


def test_only_dispatchers_may_reclassify(world):
    case = make_case(world, state=CaseState.IN_PROGRESS, assignee=world.worker)
    with pytest.raises(PermissionDenied):
        case_transition(
            actor=world.worker,
            case=case,
            action="reclassify",
            expected_version=case.version,
            matter_type="06001",
            reason="x",
        )


def test_the_case_page_offers_reclassify_with_a_reason(world):
    case = make_case(world, state=CaseState.DISPATCHED)
    client = Client()
    client.force_login(world.dispatcher)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="act-reclassify"' in html and 'value="06001"' in html
    response = client.post(
        f"/cases/{case.pk}/act/",
        {
            "action": "reclassify",
            "expected_version": case.version,
            "matter_type": "06001",
            "reason": "类型有误",
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.matter_type.code == "06001" and case.version == 2
