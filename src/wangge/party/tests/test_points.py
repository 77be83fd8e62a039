"""Points: rules as data, once per source, manual entries with a reason, branch ranking."""

from __future__ import annotations

import pytest

from wangge.accounts.tests.factories import make_user
from wangge.core.exceptions import PermissionDenied, ValidationError
from wangge.party.choices import PointEvent
from wangge.party.models import PointEntry, PointRule
from wangge.party.selectors import points_balance, points_ranking
from wangge.party.services import points_adjust, points_award

from .factories import make_member

pytestmark = pytest.mark.django_db


def test_rules_are_data_and_a_source_earns_once(pw, tree):
    member = make_member(pw.branch(tree.grids[0]))
    e = points_award(
        member=member,
        event=PointEvent.COMPLETE_ORDER,
        source_type="order",
        source_id="1",
        reason="完成",
    )
    assert e is not None and e.points == 10
    assert (
        points_award(
            member=member,
            event=PointEvent.COMPLETE_ORDER,
            source_type="order",
            source_id="1",
            reason="完成",
        )
        is None
    )
    PointRule.objects.filter(event=PointEvent.COMPLETE_ORDER).update(points=12)
    points_award(
        member=member,
        event=PointEvent.COMPLETE_ORDER,
        source_type="order",
        source_id="2",
        reason="完成",
    )
    assert points_balance(member) == 22
    PointRule.objects.filter(event=PointEvent.COMPLETE_ORDER).update(active=False)
    assert (
        points_award(
            member=member,
            event=PointEvent.COMPLETE_ORDER,
            source_type="order",
            source_id="3",
            reason="完成",
        )
        is None
    )


def test_manual_adjustments_need_the_permission_and_a_reason(pw, tree):
    member = make_member(pw.branch(tree.grids[0]))
    secretary = make_user("s", role="community_secretary", region=tree.grids[0])
    worker = make_user("w", role="grid_worker", region=tree.grids[0])
    with pytest.raises(PermissionDenied):
        points_adjust(actor=worker, member=member, points=5, reason="表现好")
    with pytest.raises(ValidationError, match="事由"):
        points_adjust(actor=secretary, member=member, points=5, reason="")
    with pytest.raises(ValidationError, match="非零"):
        points_adjust(actor=secretary, member=member, points=0, reason="x")
    points_adjust(actor=secretary, member=member, points=-3, reason="无故缺席主题党日")
    assert points_balance(member) == -3
    assert PointEntry.objects.get(member=member).reason == "无故缺席主题党日"


def test_ranking_per_branch(pw, tree):
    branch = pw.branch(tree.grids[0])
    a, b, _c = (make_member(branch, name=n) for n in ("甲", "乙", "丙"))
    make_member(pw.branch(tree.grids[1]), name="外支部")
    for k, m in enumerate([a, b, b]):
        points_award(
            member=m,
            event=PointEvent.ATTEND_ACTIVITY,
            source_type="activity",
            source_id=str(k),
            reason="x",
        )
    ranking = points_ranking(branch)
    assert [(r["member"].person.name, r["points"]) for r in ranking] == [
        ("乙", 10),
        ("甲", 5),
        ("丙", 0),
    ]
