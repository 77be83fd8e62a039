"""吹哨报到 sub-tasks: each called department accepts, returns or handles its own part."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core import events
from wangge.core.audit import audit_log
from wangge.core.exceptions import Conflict, InvalidTransition, PermissionDenied, ValidationError

from ..choices import SubTaskState
from ..models import SubTask
from ..workflow import TRANSITIONS
from .common import add_event, is_department_member, may_act
from .transitions import MAX_RESULT, _text

SUBTASK_TABLE: dict[str, tuple[tuple[str, ...], str]] = {
    "accept": ((SubTaskState.PENDING, SubTaskState.RETURNED), SubTaskState.ACCEPTED),
    "return": ((SubTaskState.PENDING, SubTaskState.ACCEPTED), SubTaskState.RETURNED),
    "handle": ((SubTaskState.ACCEPTED,), SubTaskState.HANDLED),
}


@transaction.atomic
def subtask_transition(
    *,
    actor: Any,
    subtask: SubTask,
    action: str,
    expected_version: int,
    now: datetime | None = None,
    **data: Any,
) -> SubTask:
    """A called department accepts, returns (with reason) or handles (with result) its part.
    The case itself is handled by the lead unit once every sub-task is handled (``handle`` is
    refused while one is open)."""
    if action not in SUBTASK_TABLE:
        raise ValidationError(_("未知操作：%(a)s") % {"a": action}, errors={"action": [action]})
    sources, target = SUBTASK_TABLE[action]
    case = subtask.case
    dispatcher = TRANSITIONS["reassign"]
    if not (
        actor is None
        or getattr(actor, "is_superuser", False)
        or is_department_member(actor, subtask.department_id)
        or may_act(actor, case, dispatcher)
    ):
        raise PermissionDenied(_("您不是该子任务的承办部门人员。"))
    if subtask.state not in sources:
        raise InvalidTransition(
            _("子任务当前状态为“%(s)s”，不能执行该操作。")
            % {"s": SubTaskState(subtask.state).label}
        )
    now = now or timezone.now()
    updates: dict[str, Any] = {"state": target, "version": F("version") + 1}
    if action == "accept":
        updates["accepted_at"] = now
    elif action == "return":
        reason = _text(data, "reason")
        if not reason:
            raise ValidationError(_("请填写理由。"), errors={"reason": ["required"]})
        updates["reason"] = reason
    elif action == "handle":
        result = _text(data, "result", MAX_RESULT)
        if not result:
            raise ValidationError(_("请填写处置结果。"), errors={"result": ["required"]})
        updates.update(result=result, handled_at=now)
    written = SubTask.objects.filter(pk=subtask.pk, version=int(expected_version)).update(**updates)
    if written != 1:
        raise Conflict(_("子任务已被他人更新，请刷新后重试。"))
    subtask.refresh_from_db()
    add_event(
        case=case,
        actor=actor,
        action=f"subtask_{action}",
        note=str(data.get("reason") or data.get("result") or ""),
        data={"department": subtask.department_id, "state": subtask.state},
        now=now,
    )
    audit_log(
        actor=actor,
        action=f"cases.subtask_{action}",
        obj=case,
        after={"subtask": subtask.pk, "department": subtask.department_id, "state": target},
    )
    events.emit("case.subtask", subtask=subtask, action=action, actor=actor)
    from .notify import after_subtask

    transaction.on_commit(lambda: after_subtask(subtask.pk, action))
    return subtask
