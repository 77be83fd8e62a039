"""Points (积分): entries from rules (data) and audited manual adjustments; never a balance edit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core.audit import audit_log
from wangge.core.exceptions import ValidationError

from ..choices import PointEvent
from ..models import PartyMember, PointEntry, PointRule
from ..perms import ADJUST_POINTS
from .common import require_at, text

MAX_ADJUST = 1000
# The rules migration 0002 installs (kept here too: a flushed test database or a fresh demo
# needs them without re-running migrations).
DEFAULT_RULES = [
    ("ATTEND", PointEvent.ATTEND_ACTIVITY, "参加组织生活", 5),
    ("ORDER-DONE", PointEvent.COMPLETE_ORDER, "完成服务订单", 10),
    ("ORDER-5STAR", PointEvent.RATED_FIVE, "服务获五星好评", 5),
    ("DUAL-REPORT", PointEvent.DUAL_REPORT, "到社区报到", 10),
]


def point_rules_ensure_defaults() -> int:
    """Create the default rules that are missing (existing rules are left as edited)."""
    created = 0
    for code, event, name, points in DEFAULT_RULES:
        _rule, made = PointRule.objects.get_or_create(
            event=event, defaults={"code": code, "name": name, "points": points}
        )
        created += int(made)
    return created


@transaction.atomic
def points_award(
    *,
    member: PartyMember,
    event: str,
    source_type: str,
    source_id: str,
    reason: str,
    now: datetime | None = None,
    actor: Any = None,
) -> PointEntry | None:
    """Add the points the active rule for ``event`` gives, once per (member, event, source).
    ``None`` when no active rule exists or the source already earned them."""
    rule = PointRule.objects.filter(event=event, active=True).first()
    if rule is None or rule.points == 0:
        return None
    if PointEntry.objects.filter(
        member=member, event=event, source_type=source_type, source_id=source_id
    ).exists():
        return None
    entry = PointEntry.objects.create(
        member=member,
        rule=rule,
        event=event,
        points=rule.points,
        reason=reason[:255],
        source_type=source_type,
        source_id=source_id,
        actor=actor if getattr(actor, "pk", None) else None,
        created_at=now or timezone.now(),
    )
    audit_log(
        actor=actor,
        action="party.points_award",
        obj=member,
        after={"event": event, "points": rule.points, "source": f"{source_type}:{source_id}"},
    )
    return entry


@transaction.atomic
def points_adjust(
    *, actor: Any, member: PartyMember, points: int, reason: str, now: datetime | None = None
) -> PointEntry:
    """A manual entry (奖励/扣减) with a reason, by someone holding ``party.adjust_points``."""
    require_at(actor, ADJUST_POINTS, member.region_path)
    reason = text(reason, field="reason", label=_("事由"), limit=255)
    try:
        value = int(points)
    except (TypeError, ValueError):
        value = 0
    if value == 0 or abs(value) > MAX_ADJUST:
        raise ValidationError(
            _("调整分值须为非零整数，绝对值不超过%(n)d。") % {"n": MAX_ADJUST},
            errors={"points": ["range"]},
        )
    entry = PointEntry.objects.create(
        member=member,
        event=PointEvent.MANUAL,
        points=value,
        reason=reason,
        actor=actor if getattr(actor, "pk", None) else None,
        created_at=now or timezone.now(),
    )
    audit_log(
        actor=actor,
        action="party.points_adjust",
        obj=member,
        after={"points": value, "reason": reason},
    )
    return entry
