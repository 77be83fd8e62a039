"""Helpers shared by the case services: rules snapshots, step deadlines, timeline entries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from wangge.accounts.permissions import has_perm_anywhere, has_perm_at

from ..catalogue import DEFAULTS, RULE_FIELDS
from ..choices import STATE_STEP, HandlingLevel, MatterKind, Step, TimeUnit, Urgency
from ..deadlines import WorkCalendar, advance, due_at, limit_duration
from ..models import Case, CaseEvent, MatterType
from ..workflow import DISPATCH, TRANSITION, VIEW, Transition, Who

# A reminder goes out when this share of a step's allowed time has been used.
REMIND_AT_SHARE = 0.75

# Rules used when a case is filed before anyone has classified it.
UNCLASSIFIED_RULES: dict[str, Any] = {
    **DEFAULTS,
    "name": "未分类",
    "group_code": "",
    "group_name": "",
    "kind": MatterKind.SOCIAL.value,
    "default_level": HandlingLevel.COMMUNITY.value,
}


def rules_for(matter_type: MatterType | None) -> dict[str, Any]:
    if matter_type is None:
        return dict(UNCLASSIFIED_RULES)
    if matter_type.current_version is not None:
        return dict(matter_type.current_version.rules)
    return {f: getattr(matter_type, f) for f in RULE_FIELDS}


def step_limit(rules: dict[str, Any], step: str, urgency: str) -> tuple[int, str]:
    """(limit, unit) of ``step``; urgent handling runs on continuous hours."""
    if step == Step.HANDLE and urgency == Urgency.CRITICAL:
        return int(rules.get("critical_handle_hours") or 4), TimeUnit.HOUR.value
    if step == Step.HANDLE and urgency == Urgency.URGENT:
        return int(rules.get("urgent_handle_hours") or 24), TimeUnit.HOUR.value
    return int(rules[f"{step}_limit"]), str(rules[f"{step}_unit"])


def step_fields(
    *,
    state: str,
    rules: dict[str, Any],
    urgency: str,
    now: datetime,
    calendar: WorkCalendar,
    deadlines: dict[str, Any],
) -> dict[str, Any]:
    """Field updates for a case entering the timed step of ``state`` at ``now``."""
    step = STATE_STEP.get(state)  # type: ignore[call-overload]
    if step is None:
        return {
            "step": "",
            "step_started_at": None,
            "due_at": None,
            "remind_at": None,
            "escalation_level": "",
        }
    limit, unit = step_limit(rules, step, urgency)
    due = due_at(now, limit, unit, calendar)
    remind = advance(now, limit_duration(limit, unit) * REMIND_AT_SHARE, unit, calendar)
    deadlines = {
        **deadlines,
        str(step): {
            "due": due.isoformat(),
            "limit": limit,
            "unit": unit,
            "started": now.isoformat(),
        },
    }
    return {
        "step": str(step),
        "step_started_at": now,
        "due_at": due,
        "remind_at": remind,
        "deadlines": deadlines,
        "escalation_level": "",
    }


def add_event(
    *,
    case: Case,
    actor: Any,
    action: str,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    public_text: str = "",
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        created_at=now or timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=actor_name(actor),
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=note,
        public_text=str(public_text)[:255],
        data=data or {},
    )


def actor_name(actor: Any) -> str:
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    return str(actor)[:150]


def is_department_member(actor: Any, department_id: int | None) -> bool:
    if not department_id or not getattr(actor, "pk", None):
        return False
    return actor.departments.filter(pk=department_id).exists()


def may_act(actor: Any, case: Case, t: Transition) -> bool:
    """Whether ``actor`` may take transition ``t`` on ``case`` (state aside)."""
    if actor is None or getattr(actor, "is_superuser", False):
        return actor is None or actor.is_active
    # Area rights need the area-wide view too: department staff hold ``transition_case`` on the
    # region their department serves but act only through membership (below).
    if has_perm_at(actor, t.perm, case.region_path) and has_perm_at(actor, VIEW, case.region_path):
        if t.who != Who.HANDLER or has_perm_at(actor, DISPATCH, case.region_path):
            return True
        # A grid worker may act on grid-level work that is unassigned or theirs.
        if case.department_id is None and case.assignee_id in (None, actor.pk):
            return True
    if t.who == Who.HANDLER and has_perm_anywhere(actor, TRANSITION):
        return case.assignee_id == actor.pk or is_department_member(actor, case.department_id)
    if t.who == Who.REPORTER:
        return case.reporter_id is not None and case.reporter_id == actor.pk
    return False
