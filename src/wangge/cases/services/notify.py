"""Who is told what after a case or sub-task changes (run after commit)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from wangge.accounts.models import User

from ..choices import CaseState, HandlingLevel, NotificationKind
from ..models import Case, Notification, SubTask
from ..notifications import enqueue_with_commit, notify, users_with_perm_above, users_with_perm_at
from ..workflow import APPROVE, DISPATCH, TRANSITION


def handlers_of(case: Case) -> list[User]:
    """The assignee, else the department's members, else the grid workers of a grid-level case."""
    if case.assignee_id:
        return [case.assignee] if case.assignee and case.assignee.is_active else []
    if case.department_id:
        return list(case.department.members.filter(is_active=True))  # type: ignore[union-attr]
    if case.handling_level == HandlingLevel.GRID:
        return list(users_with_perm_at(case.grid, TRANSITION))
    return list(users_with_perm_at(case.handling_region, DISPATCH))


def reporters_of(case: Case) -> list[tuple[User | None, str]]:
    """The case's reporter and every merged duplicate's reporter (user, or phone for anonymous)."""
    out: list[tuple[User | None, str]] = []
    for c in [case, *case.duplicates.all()]:
        if c.reporter_id:
            out.append((c.reporter, ""))
        elif c.reporter_phone:
            out.append((None, c.reporter_phone))
    return out


def announce_in_background(case_id: int, action: str, actor_id: int | None = None) -> None:
    """Queue :func:`after_transition` as one background task (``tasks.announce_case``), written
    with the current transaction when the task queue lives in the database."""
    from ..tasks import announce_case

    enqueue_with_commit(announce_case, case_id, action, actor_id)


@transaction.atomic
def after_transition(case_id: int, action: str, actor_id: int | None) -> list[Notification]:
    """Notify whoever must know about ``action`` on the case; the notifications created."""
    case = Case.objects.select_related("assignee", "department", "grid", "handling_region").get(
        pk=case_id
    )
    label = f"[{case.tracking_code}] {case.title}"
    if action == "report":
        return notify(
            recipients=users_with_perm_above(case.handling_region or case.grid, DISPATCH),
            kind=NotificationKind.ASSIGNED,
            title=_("新上报待受理：%(t)s") % {"t": label},
            case=case,
        )
    sent: list[Notification] = []
    others = [u for u in handlers_of(case) if u.pk != actor_id]
    if action in ("dispatch", "reassign", "return", "verify_fail", "reopen") and case.state in (
        CaseState.DISPATCHED,
        CaseState.IN_PROGRESS,
    ):
        sent += notify(
            recipients=others,
            kind=NotificationKind.ASSIGNED,
            title=_("新任务：%(t)s") % {"t": label},
            body=_("请在 %(d)s 前处置。") % {"d": case.due_at} if case.due_at else "",
            case=case,
        )
    elif action == "return":
        sent += notify(
            recipients=users_with_perm_above(case.handling_region or case.grid, DISPATCH),
            kind=NotificationKind.STATE,
            title=_("事件被回退：%(t)s") % {"t": label},
            case=case,
        )
    elif action == "whistle":
        members = User.objects.filter(departments__subtasks__case=case, is_active=True).distinct()
        sent += notify(
            recipients=members,
            kind=NotificationKind.ASSIGNED,
            title=_("吹哨报到：%(t)s") % {"t": label},
            case=case,
        )
    elif action == "handle":
        sent += notify(
            recipients=[u for u in users_with_perm_at(case.grid, TRANSITION) if u.pk != actor_id],
            kind=NotificationKind.STATE,
            title=_("待核查：%(t)s") % {"t": label},
            case=case,
        )
    elif action in ("request_suspend", "request_extend"):
        sent += notify(
            recipients=users_with_perm_above(case.handling_region or case.grid, APPROVE),
            kind=NotificationKind.APPROVAL,
            title=_("待审批：%(t)s") % {"t": label},
            case=case,
        )
    elif action == "close":
        for user, phone in reporters_of(case):
            sent += notify(
                recipients=[user],
                address=phone,
                kind=NotificationKind.CLOSED,
                title=_("您反映的问题已办结（查询码 %(c)s）") % {"c": case.tracking_code},
                body=case.result,
                case=case,
            )
    return sent


@transaction.atomic
def after_subtask(subtask_id: int, action: str) -> None:
    subtask = SubTask.objects.select_related("case", "department").get(pk=subtask_id)
    case = subtask.case
    if action in ("return", "handle"):
        recipients: Any = users_with_perm_above(case.handling_region or case.grid, DISPATCH)
        notify(
            recipients=recipients,
            kind=NotificationKind.STATE,
            title=_("%(d)s%(a)s：[%(c)s] %(t)s")
            % {
                "d": subtask.department.name,
                "a": _("退回") if action == "return" else _("已办结"),
                "c": case.tracking_code,
                "t": case.title,
            },
            case=case,
        )
