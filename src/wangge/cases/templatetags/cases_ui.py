"""Small display helpers for the case pages: countdowns, labels, the unread badge."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from ..choices import CaseState, HandlingLevel, Source, Step, SubTaskRole, SubTaskState, TimeUnit
from ..workflow import TRANSITIONS

register = template.Library()


def _span(seconds: float) -> str:
    minutes = int(abs(seconds) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)d天%(h)d小时") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d小时%(m)d分钟") % {"h": hours, "m": mins}
    return _("%(m)d分钟") % {"m": mins}


@register.inclusion_tag("cases/partials/countdown.html")
def countdown(due: datetime | None, now: datetime | None = None) -> dict[str, Any]:
    """Time left (or overdue) until ``due``; the page's script keeps it ticking."""
    if due is None:
        return {"due": None}
    left = (due - (now or timezone.now())).total_seconds()
    text = (
        _("剩余%(t)s") % {"t": _span(left)} if left >= 0 else _("已超时%(t)s") % {"t": _span(left)}
    )
    return {"due": due, "iso": due.isoformat(), "overdue": left < 0, "text": text}


@register.filter
def state_label(state: str) -> str:
    try:
        return str(CaseState(state).label)
    except ValueError:
        return state


@register.filter
def action_label(action: str) -> str:
    t = TRANSITIONS.get(action)
    if t is not None:
        return str(t.label)
    extra = {
        "report": _("上报"),
        "on_spot": _("现场处置"),
        "merged_in": _("合并重复件"),
        "subtask_accept": _("部门签收"),
        "subtask_return": _("部门退回"),
        "subtask_handle": _("部门办结"),
    }
    return str(extra.get(action, action))


@register.filter
def source_label(source: str) -> str:
    try:
        return str(Source(source).label)
    except ValueError:
        return source


@register.filter
def level_label(level: str) -> str:
    try:
        return str(HandlingLevel(level).label)
    except ValueError:
        return level


@register.filter
def subtask_state_label(state: str) -> str:
    try:
        return str(SubTaskState(state).label)
    except ValueError:
        return state


@register.filter
def subtask_role_label(role: str) -> str:
    try:
        return str(SubTaskRole(role).label)
    except ValueError:
        return role


@register.inclusion_tag("cases/partials/unread_badge.html")
def unread_badge(user: Any) -> dict[str, Any]:
    """The top bar's link to the notifications with the unread count."""
    from ..notifications import notification_unread_count

    if not getattr(user, "is_authenticated", False):
        return {"show": False}
    return {"show": True, "count": notification_unread_count(user)}


@register.filter
def step_label(step: str) -> str:
    try:
        return str(Step(step).label)
    except ValueError:
        return step


@register.filter
def unit_label(unit: str) -> str:
    try:
        return str(TimeUnit(unit).label)
    except ValueError:
        return unit


@register.filter
def local_time(value: str | datetime | None) -> str:
    """An ISO timestamp (as stored in ``Case.deadlines``) in local time, minutes precision."""
    if not value:
        return ""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    except ValueError:
        return str(value)
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
