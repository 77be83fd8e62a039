"""Small display helpers for the case pages: countdowns, labels, the unread badge."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from ..choices import CaseState, HandlingLevel, Source, Step, SubTaskRole, SubTaskState, TimeUnit
from ..deadlines import WORKDAY_HOURS, load_calendar
from ..services.common import step_limit
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


WORKING_UNITS = (TimeUnit.WORK_HOUR.value, TimeUnit.WORK_DAY.value)


def _work_span(left: timedelta, unit: str) -> str:
    """Working time as 工作日/工作时 (a 工作日 is 8 工作时), minutes below an hour."""
    minutes = int(left.total_seconds() // 60)
    hours, mins = divmod(minutes, 60)
    days, day_hours = divmod(hours, WORKDAY_HOURS)
    if unit == TimeUnit.WORK_DAY and days:
        if day_hours:
            return _("%(d)d工作日%(h)d工作时") % {"d": days, "h": day_hours}
        return _("%(d)d工作日") % {"d": days}
    if hours:
        if mins:
            return _("%(h)d工作时%(m)d分钟") % {"h": hours, "m": mins}
        return _("%(h)d工作时") % {"h": hours}
    return _("%(m)d分钟") % {"m": mins}


def working_countdown_text(due: datetime, now: datetime, unit: str) -> tuple[str, bool]:
    """(text, overdue) for a deadline counted in working time: the working time left until
    ``due``, or how much working time it is overdue ("已超时N工作时")."""
    calendar = load_calendar()
    if now <= due:
        return _("剩余%(t)s") % {"t": _work_span(calendar.between(now, due), unit)}, False
    over = calendar.between(due, now)
    if over < timedelta(minutes=1):  # past the deadline, but no working time since (night, 休息日)
        return _("已到期"), True
    if over >= timedelta(hours=1):
        return _("已超时%(n)d工作时") % {"n": int(over.total_seconds() // 3600)}, True
    return _("已超时%(m)d分钟") % {"m": int(over.total_seconds() // 60)}, True


@register.inclusion_tag("cases/partials/countdown.html")
def countdown(due: datetime | None, now: datetime | None = None, unit: str = "") -> dict[str, Any]:
    """Time left (or overdue) until ``due``. Limits in 工作时/工作日 (``unit``) count working
    time on the deployment's calendar and are rendered by the server; continuous-hour limits
    (urgent cases) and unknown units count the clock, which the page's script keeps ticking."""
    if due is None:
        return {"due": None}
    now = now or timezone.now()
    if unit in WORKING_UNITS:
        text, overdue = working_countdown_text(due, now, unit)
        return {"due": due, "iso": "", "overdue": overdue, "text": text, "working": True}
    left = (due - now).total_seconds()
    text = (
        _("剩余%(t)s") % {"t": _span(left)} if left >= 0 else _("已超时%(t)s") % {"t": _span(left)}
    )
    return {"due": due, "iso": due.isoformat(), "overdue": left < 0, "text": text}


@register.filter
def step_unit(obj: Any) -> str:
    """The unit of the running deadline: a case's current step (as frozen in
    ``Case.deadlines``), or a 吹哨 sub-task's (the case's handling limit)."""
    from ..models import Case, SubTask

    if isinstance(obj, SubTask):
        case = obj.case
        return step_limit(case.rules or {}, Step.HANDLE, case.urgency)[1] if case.rules else ""
    if isinstance(obj, Case) and obj.step:
        return str((obj.deadlines or {}).get(obj.step, {}).get("unit", ""))
    return ""


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
