"""The service-order lifecycle: 点单 → 派单 → 接单 → 签到 → 完成 → 评单, the workflow table,
optimistic locking, escalation, and what completion pays (minutes, points)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from wangge.accounts.tests.factories import make_user
from wangge.cases.models import Notification
from wangge.core.exceptions import Conflict, InvalidTransition, PermissionDenied, ValidationError
from wangge.core.models import AuditRecord
from wangge.party.choices import OrderState
from wangge.party.models import ServiceOrder
from wangge.party.selectors import points_balance, time_account_of
from wangge.party.services import order_transition, service_order_escalate_due, timebank_check
from wangge.party.workflow import TRANSITIONS

from .factories import make_member, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(pw, tree):
    grid = tree.grids[0]
    return {
        "grid": grid,
        "resident": make_user("ayi", role="resident", region=grid),
        "secretary": make_user("shuji", role="community_secretary", region=grid),
        "gridworker": make_user("wgy", role="grid_worker", region=grid),
        "member": make_member(pw.branch(grid), username="dangyuan", specialties=["repair"]),
    }


def _act(order, actor, action, **data):
    return order_transition(
        actor=actor, order=order, action=action, expected_version=order.version, **data
    )


def test_the_whole_loop_pays_minutes_and_points(people):
    p = people
    order = make_order(p["grid"], actor=p["resident"])
    assert order.state == OrderState.POSTED and order.requester == p["resident"]
    assert order.branch.region == p["grid"]
    # The secretary was told about the new order.
    assert Notification.objects.filter(
        recipient=p["secretary"], title__contains=order.code
    ).exists()
    order = _act(order, p["secretary"], "assign", helper=f"member:{p['member'].pk}")
    assert order.state == OrderState.ASSIGNED and order.member == p["member"]
    assert order.match_explanation["parts"][0]["key"] == "specialty"
    assert Notification.objects.filter(
        recipient=p["member"].user, title__contains=order.code
    ).exists()
    start = timezone.now()
    order = _act(order, p["member"].user, "accept", now=start)
    order = _act(order, p["member"].user, "check_in", now=start + timedelta(minutes=5))
    order = _act(
        order,
        p["member"].user,
        "check_out",
        result="已更换水龙头",
        now=start + timedelta(minutes=95),
    )
    assert order.state == OrderState.COMPLETED and order.service_minutes == 90
    account = time_account_of(p["member"].person_id)
    assert account is not None and account.balance == 90
    assert points_balance(p["member"]) == 10
    order = _act(order, p["resident"], "rate", score=5, comment="很及时")
    assert order.state == OrderState.RATED and order.rating == 5
    assert points_balance(p["member"]) == 15
    assert timebank_check().ok
    actions = list(order.events.order_by("id").values_list("action", flat=True))
    assert actions == ["post", "assign", "accept", "check_in", "check_out", "rate"]
    assert (
        AuditRecord.objects.filter(
            object_id=str(order.pk), action__startswith="party.order_"
        ).count()
        == 6
    )


def test_every_illegal_state_is_refused_with_nothing_changed(people):
    p = people
    for action, t in TRANSITIONS.items():
        for state in OrderState.values:
            if state in t.sources:
                continue
            order = make_order(p["grid"], actor=p["resident"])
            ServiceOrder.objects.filter(pk=order.pk).update(state=state)
            order.refresh_from_db()
            with pytest.raises(InvalidTransition):
                order_transition(
                    actor=None,
                    order=order,
                    action=action,
                    expected_version=order.version,
                    helper=f"member:{p['member'].pk}",
                    reason="x",
                    result="x",
                    score=5,
                )
            order.refresh_from_db()
            assert order.state == state and order.version == 1


def test_only_the_assigned_member_accepts_and_only_the_requester_rates(people, pw, tree):
    p = people
    other = make_member(pw.branch(p["grid"]), username="other", specialties=["repair"])
    order = make_order(p["grid"], actor=p["resident"])
    order = _act(order, p["secretary"], "assign", helper=p["member"])
    with pytest.raises(PermissionDenied):
        _act(order, other.user, "accept")
    with pytest.raises(PermissionDenied):
        _act(order, p["resident"], "accept")
    order = _act(order, p["member"].user, "accept")
    order = _act(order, p["member"].user, "check_in")
    order = _act(order, p["member"].user, "check_out", result="修好了")
    with pytest.raises(PermissionDenied):
        _act(order, other.user, "rate", score=1)
    # A grid worker may rate for an elderly resident who cannot.
    order = _act(order, p["gridworker"], "rate", score=4)
    assert order.rating == 4


def test_a_resident_cannot_dispatch_and_another_street_cannot_see_it(people, tree):
    p = people
    order = make_order(p["grid"], actor=p["resident"])
    with pytest.raises(PermissionDenied):
        _act(order, p["resident"], "assign", helper=p["member"])
    far = make_user("far", role="community_secretary", region=tree.streets[1])
    with pytest.raises(PermissionDenied):
        _act(order, far, "assign", helper=p["member"])


def test_declining_needs_a_reason_and_returns_the_order_to_the_branch(people):
    p = people
    order = make_order(p["grid"], actor=p["resident"])
    order = _act(order, p["secretary"], "assign", helper=p["member"])
    with pytest.raises(ValidationError, match="理由"):
        _act(order, p["member"].user, "decline")
    order = _act(order, p["member"].user, "decline", reason="今天出差")
    assert order.state == OrderState.POSTED and order.member is None and order.declines == 1
    assert Notification.objects.filter(recipient=p["secretary"], title__contains="拒单").exists()


def test_a_stale_version_is_a_conflict(people):
    p = people
    order = make_order(p["grid"], actor=p["resident"])
    stale = ServiceOrder.objects.get(pk=order.pk)
    _act(order, p["secretary"], "assign", helper=p["member"])
    with pytest.raises(Conflict):
        order_transition(
            actor=p["secretary"], order=stale, action="cancel", expected_version=1, reason="x"
        )
    stale.refresh_from_db()
    assert stale.state == OrderState.ASSIGNED


def test_assigning_an_ineligible_helper_is_refused_with_the_reason(people, pw, tree):
    p = people
    lawyer = make_member(pw.branch(p["grid"]), specialties=["law"])
    order = make_order(p["grid"], actor=p["resident"])
    with pytest.raises(ValidationError, match="特长不符"):
        _act(order, p["secretary"], "assign", helper=lawyer)
    far = make_member(pw.branch(tree.grids[-1]), specialties=["repair"])
    with pytest.raises(ValidationError, match="不在服务社区"):
        _act(order, p["secretary"], "assign", helper=far)
    busy = make_member(pw.branch(p["grid"]), specialties=["repair"], capacity=0)
    with pytest.raises(ValidationError, match="上限"):
        _act(order, p["secretary"], "assign", helper=busy)
    order.refresh_from_db()
    assert order.state == OrderState.POSTED and order.version == 1


def test_bad_orders_are_refused_and_nothing_is_created(people):
    p = people
    now = timezone.now()
    with pytest.raises(ValidationError, match="服务类别"):
        make_order(p["grid"], actor=p["resident"], category="flying")
    with pytest.raises(ValidationError, match="已经过去"):
        make_order(p["grid"], actor=p["resident"], start=now - timedelta(days=2))
    with pytest.raises(ValidationError, match="需求描述"):
        make_order(p["grid"], actor=p["resident"], description="  ")
    assert ServiceOrder.objects.count() == 0


def test_a_resident_without_a_location_orders_in_their_own_area(people):
    p = people
    order = make_order(p["grid"], actor=p["resident"], at_centre=False)
    assert order.region == p["grid"] and order.lon is None


def test_unaccepted_orders_escalate_up_the_ladder(people, tree):
    p = people
    community_sec = make_user("cs", role="community_secretary", region=tree.communities[0])
    street_sec = make_user("ss", role="street_dispatcher", region=tree.streets[0])
    order = make_order(p["grid"], actor=p["resident"])
    assert service_order_escalate_due() == {"scanned": 0, "escalated": 0}
    later = timezone.now() + timedelta(hours=5)  # 4 h to dispatch
    assert service_order_escalate_due(now=later) == {"scanned": 1, "escalated": 1}
    order.refresh_from_db()
    assert order.escalation_level == 1 and order.state == OrderState.POSTED
    assert Notification.objects.filter(recipient=community_sec, title__contains="第1级").exists()
    assert service_order_escalate_due(now=later) == {"scanned": 0, "escalated": 0}
    # Dispatched, but not accepted within 2 hours: the clock restarts at the assignment.
    order = _act(order, p["secretary"], "assign", helper=p["member"], now=later)
    assert order.escalation_level == 0
    even_later = later + timedelta(hours=3)
    service_order_escalate_due(now=even_later)
    order.refresh_from_db()
    assert order.escalation_level == 1
    service_order_escalate_due(now=even_later + timedelta(hours=3))
    order.refresh_from_db()
    assert order.escalation_level == 2
    assert Notification.objects.filter(recipient=street_sec, title__contains="第2级").exists()
    assert list(order.events.filter(action="escalate").values_list("data__level", flat=True)) == [
        1,
        1,
        2,
    ]
    # Accepting stops the clock.
    order = _act(order, p["member"].user, "accept")
    assert order.due_at is None
    assert service_order_escalate_due(now=even_later + timedelta(days=3))["escalated"] == 0
