"""Reminders before deadlines, escalation up the ladder when overdue, and 督办 notices.

``case_escalate_overdue`` is safe to run twice at once: each rung of each deadline is one
``Escalation`` row under a unique constraint, inserted in a savepoint; the loser of a race skips.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.accounts.permissions import has_perm_at
from wangge.core import events
from wangge.core.audit import audit_log
from wangge.core.exceptions import PermissionDenied, ValidationError

from ..choices import OPEN_STATES, HandlingLevel, NotificationKind, Step, SubTaskState
from ..deadlines import elapsed, limit_duration, load_calendar
from ..models import Case, Escalation, SubTask, Supervision
from ..notifications import notify, users_with_perm_at
from ..routing import ancestor_at
from ..workflow import DISPATCH, SUPERVISE
from .common import actor_name
from .notify import handlers_of

# grid → community → street → district; a department's work goes to the street command centre.
NEXT_LEVEL = {
    HandlingLevel.GRID: HandlingLevel.COMMUNITY,
    HandlingLevel.COMMUNITY: HandlingLevel.STREET,
    HandlingLevel.DEPARTMENT: HandlingLevel.STREET,
    HandlingLevel.STREET: HandlingLevel.DISTRICT,
}
MIN_RUNG = timedelta(hours=1)


@dataclass
class EscalationReport:
    scanned: int = 0
    escalated: int = 0
    reminded: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"scanned": self.scanned, "escalated": self.escalated, "reminded": self.reminded}


def _recipients(region: Any) -> list[Any]:
    users = list(users_with_perm_at(region, SUPERVISE)) + list(users_with_perm_at(region, DISPATCH))
    seen: set[int] = set()
    return [u for u in users if not (u.pk in seen or seen.add(u.pk))]  # type: ignore[func-returns-value]


def _step_label(step: str) -> str:
    try:
        return str(Step(step).label)
    except ValueError:
        return step


def _escalate_one(case: Case, now: datetime, calendar: Any) -> bool:
    """Climb at most one rung for ``case``'s current deadline; True when a rung was added."""
    assert case.due_at is not None
    current = case.escalation_level or case.handling_level
    target = NEXT_LEVEL.get(current)  # type: ignore[call-overload]
    if target is None:
        return False
    info = case.deadlines.get(case.step) or {}
    unit = str(info.get("unit") or "work_hour")
    rung = max(limit_duration(int(info.get("limit") or 1), unit), MIN_RUNG)
    done = Escalation.objects.filter(case=case, due_at=case.due_at).count()
    if elapsed(case.due_at, now, unit, calendar) < rung * done:
        return False  # the previous rung was told too recently
    region = ancestor_at(case.grid, target)
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                case=case,
                step=case.step,
                due_at=case.due_at,
                from_level=current,
                to_level=target,
                region=region,
                created_at=now,
            )
            Case.objects.filter(pk=case.pk, due_at=case.due_at).update(escalation_level=target)
            message = _(
                "【督办】事件%(c)s“%(t)s”已超过%(s)s时限（%(d)s），已升级至%(l)s，请督促办理。"
            ) % {
                "c": case.tracking_code,
                "t": case.title,
                "s": _step_label(case.step),
                "d": timezone.localtime(case.due_at).strftime("%Y-%m-%d %H:%M"),
                "l": HandlingLevel(target).label,
            }
            told = _recipients(region) + handlers_of(case)
            Supervision.objects.create(
                case=case,
                escalation=escalation,
                level=target,
                region=region,
                message=message,
                recipients=[{"id": u.pk, "name": str(u)} for u in told],
                created_at=now,
            )
            notify(
                recipients=told,
                kind=NotificationKind.SUPERVISION,
                title=message[:200],
                body=message,
                case=case,
                dedupe_key=f"esc:{escalation.pk}",
            )
            audit_log(
                actor=None,
                action="cases.escalate",
                obj=case,
                after={"from": current, "to": target, "due_at": case.due_at, "told": len(told)},
            )
            case.escalation_level = target
            events.emit("case.escalated", case=case, from_level=current, to_level=target)
    except IntegrityError:
        return False  # another scan took this rung
    return True


def _remind(case: Case) -> bool:
    assert case.due_at is not None
    title = _("即将超时：事件%(c)s“%(t)s”须在%(d)s前完成%(s)s。") % {
        "c": case.tracking_code,
        "t": case.title,
        "d": timezone.localtime(case.due_at).strftime("%Y-%m-%d %H:%M"),
        "s": _step_label(case.step),
    }
    with transaction.atomic():
        sent = notify(
            recipients=handlers_of(case),
            kind=NotificationKind.REMINDER,
            title=title[:200],
            case=case,
            dedupe_key=f"remind:{case.pk}:{case.due_at.isoformat()}",
        )
        Case.objects.filter(pk=case.pk, due_at=case.due_at).update(remind_at=None)
    return bool(sent)


def _due_for_reminder(now: datetime) -> QuerySet[Case]:
    """Cases whose reminder time has come, by the ``remind_at`` index alone.

    ``remind_at`` is set only while a case is in a timed step and cleared when the reminder goes
    out, so the rows are few; the caller keeps the open ones not yet overdue. With ``due_at > now``
    and ``state IN (…)`` in the SQL, SQLite (no histograms) plans ``case_state_due`` instead and
    walks every open case with a deadline ahead: 3 s at 1,000,000 open cases for no rows."""
    return (
        Case.objects.filter(remind_at__lte=now)
        .select_related("assignee", "department", "grid", "handling_region")
        .order_by("remind_at", "id")
    )


def case_escalate_overdue(*, now: datetime | None = None, batch: int = 500) -> EscalationReport:
    """One pass: remind cases past 75% of their step, escalate overdue ones one rung."""
    now = now or timezone.now()
    calendar = load_calendar()
    report = EscalationReport()
    for case in _due_for_reminder(now).iterator(chunk_size=batch):
        # The rest of the condition, on the few rows the index gave: still open, not overdue.
        if case.state in OPEN_STATES and case.due_at is not None and case.due_at > now:
            report.reminded += int(_remind(case))
    overdue = (
        Case.objects.filter(due_at__lte=now, state__in=OPEN_STATES)
        .exclude(escalation_level=HandlingLevel.DISTRICT)
        .select_related("assignee", "department", "grid", "handling_region")
        .order_by("due_at")
    )
    for case in overdue.iterator(chunk_size=batch):
        report.scanned += 1
        report.escalated += int(_escalate_one(case, now, calendar))
    late_subtasks = SubTask.objects.filter(
        due_at__lte=now,
        state__in=(SubTaskState.PENDING, SubTaskState.ACCEPTED),
        case__state__in=OPEN_STATES,
    ).select_related("case", "department")
    for subtask in late_subtasks.iterator(chunk_size=batch):
        report.scanned += 1
        report.escalated += int(_supervise_subtask(subtask, now))
    return report


def _supervise_subtask(subtask: SubTask, now: datetime) -> bool:
    """An overdue 吹哨 sub-task: one 督办 notice per deadline to the department and the street."""
    assert subtask.due_at is not None
    case = subtask.case
    street = ancestor_at(case.grid, HandlingLevel.STREET)
    message = _("【督办】%(d)s承办的事件%(c)s“%(t)s”已超过时限（%(due)s），请尽快办理。") % {
        "d": subtask.department.name,
        "c": case.tracking_code,
        "t": case.title,
        "due": timezone.localtime(subtask.due_at).strftime("%Y-%m-%d %H:%M"),
    }
    told = list(subtask.department.members.filter(is_active=True)) + _recipients(street)
    with transaction.atomic():
        sent = notify(
            recipients=told,
            kind=NotificationKind.SUPERVISION,
            title=message[:200],
            body=message,
            case=case,
            dedupe_key=f"subtask:{subtask.pk}:{subtask.due_at.isoformat()}",
        )
        if not sent:
            return False  # told already (or nobody to tell)
        Supervision.objects.create(
            case=case,
            level=HandlingLevel.DEPARTMENT,
            region=street,
            message=message,
            recipients=[{"id": n.recipient_id, "name": str(n.recipient)} for n in sent],
            created_at=now,
        )
    return True


@transaction.atomic
def case_supervise(*, actor: Any, case: Case, message: str) -> Supervision:
    """A supervisor's manual 督办 notice to the case's handlers, recorded with its recipients."""
    if actor is not None and not has_perm_at(actor, SUPERVISE, case.region_path):
        raise PermissionDenied(_("您无权督办该事件。"))
    message = (message or "").strip()
    if not message or len(message) > 500:
        raise ValidationError(_("请填写督办意见（不超过500字）。"), errors={"message": ["invalid"]})
    told = handlers_of(case)
    now = timezone.now()
    supervision = Supervision.objects.create(
        case=case,
        issued_by=actor if getattr(actor, "pk", None) else None,
        level=case.handling_level,
        region=case.handling_region,
        message=message,
        recipients=[{"id": u.pk, "name": str(u)} for u in told],
        created_at=now,
    )
    notify(
        recipients=told,
        kind=NotificationKind.SUPERVISION,
        title=_("【督办】%(c)s %(t)s") % {"c": case.tracking_code, "t": case.title},
        body=message,
        case=case,
        dedupe_key=f"sup:{supervision.pk}",
    )
    audit_log(
        actor=actor,
        action="cases.supervise",
        obj=case,
        after={"message": message, "told": [u.pk for u in told], "by": actor_name(actor)},
    )
    return supervision
