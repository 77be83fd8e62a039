"""``case_transition``: the one service that moves a case through the workflow table."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.accounts.models import User
from wangge.core import events
from wangge.core.audit import audit_log
from wangge.core.exceptions import (
    Conflict,
    InvalidTransition,
    PermissionDenied,
    ValidationError,
)

from ..choices import (
    AttachmentKind,
    CaseState,
    RequestKind,
    RequestStatus,
    Step,
    SubTaskRole,
    SubTaskState,
    TimeUnit,
)
from ..deadlines import WorkCalendar, advance, elapsed, limit_duration, load_calendar
from ..models import (
    Case,
    CaseRequest,
    Department,
    MatterType,
    SubTask,
    Suspension,
)
from ..routing import route_case
from ..workflow import TRANSITIONS, Transition
from .common import add_event, may_act, rules_for, step_fields, step_limit
from .intake import _metres

MAX_REASON = 500
MAX_RESULT = 2000


def _state_label(state: str) -> str:
    return str(CaseState(state).label)


def _text(data: dict[str, Any], key: str, limit: int = MAX_REASON) -> str:
    value = str(data.get(key) or "").strip()
    if len(value) > limit:
        raise ValidationError(
            _("%(f)s不能超过%(n)d个字符。") % {"f": key, "n": limit}, errors={key: ["too_long"]}
        )
    return value


def _require(t: Transition, data: dict[str, Any]) -> None:
    missing = [
        f
        for f in t.requires
        if data.get(f) in (None, "", []) or (isinstance(data[f], str) and not data[f].strip())
    ]
    if missing:
        labels = {
            "reason": _("理由"),
            "result": _("处置结果"),
            "score": _("评分"),
            "lead": _("牵头单位"),
            "duplicate_of": _("主案件"),
            "extra_limit": _("延长时限"),
        }
        raise ValidationError(
            _("请填写%(f)s。") % {"f": "、".join(str(labels.get(m, m)) for m in missing)},
            errors={m: ["required"] for m in missing},
        )


def _snapshot(case: Case) -> dict[str, Any]:
    return {
        "state": case.state,
        "version": case.version,
        "assignee": case.assignee_id,
        "department": case.department_id,
        "due_at": case.due_at,
    }


def _user(pk: Any, case: Case) -> User:
    """An active user who serves the case's area (no work handed to strangers)."""
    from ..selectors import user_serves_case

    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not user_serves_case(user, case):
        raise ValidationError(
            _("处置人员不存在或不负责该事件所在区域。"), errors={"assignee": ["not_found"]}
        )
    return user


def _department(pk: Any, case: Case) -> Department:
    """An active department serving the case's area (its region is the grid or above it)."""
    from ..selectors import departments_for_case

    dept = departments_for_case(case).filter(pk=pk).first()
    if dept is None:
        raise ValidationError(
            _("部门不存在或不负责该事件所在区域。"), errors={"department": ["not_found"]}
        )
    return dept


def _pending_request(case: Case, kind: str | None = None) -> CaseRequest:
    qs = case.requests.filter(status=RequestStatus.PENDING)
    if kind:
        qs = qs.filter(kind=kind)
    req = qs.first()
    if req is None:
        raise ValidationError(_("没有待审批的申请。"), errors={"request": ["none_pending"]})
    return req


class _Ctx:
    def __init__(self, case: Case, actor: Any, data: dict[str, Any], now: datetime):
        self.case = case
        self.actor = actor
        self.data = data
        self.now = now
        self.updates: dict[str, Any] = {}
        self.after: list[Any] = []  # callables run after the guarded UPDATE succeeded
        self.note = ""
        self.event_data: dict[str, Any] = {}
        self.new_step = False  # start the target state's step clock afresh
        # When set, the new step's deadline counts from here instead of now (reclassify keeps
        # the time already spent on the step).
        self.step_start: datetime | None = None
        self.calendar: WorkCalendar = load_calendar()


def _assign(ctx: _Ctx, *, required: bool) -> None:
    data = ctx.data
    if data.get("assignee"):
        user = _user(data["assignee"], ctx.case)
        ctx.updates["assignee_id"] = user.pk
        ctx.event_data["assignee"] = user.pk
    elif required or data.get("department"):
        ctx.updates["assignee_id"] = None
    if data.get("department"):
        dept = _department(data["department"], ctx.case)
        ctx.updates["department_id"] = dept.pk
        ctx.event_data["department"] = dept.pk
    elif data.get("assignee"):
        ctx.updates["department_id"] = None
    if required and not (data.get("assignee") or data.get("department")):
        raise ValidationError(_("请选择处置人员或部门。"), errors={"assignee": ["required"]})


def _apply(action: str, ctx: _Ctx) -> None:
    case, data, now = ctx.case, ctx.data, ctx.now
    u = ctx.updates
    if action == "accept":
        u["accepted_at"] = now
        if data.get("matter_type") or data.get("urgency"):
            _reclassify(ctx)
        ctx.new_step = True
    elif action == "reclassify":
        _reclassify_accepted(ctx)
    elif action in ("reject", "cancel"):
        u["ended_at"] = now
        ctx.note = _text(data, "reason")
    elif action == "merge":
        target = Case.objects.filter(pk=data["duplicate_of"]).first()
        if (
            target is None
            or target.pk == case.pk
            or target.state
            in (
                CaseState.MERGED,
                CaseState.CANCELLED,
                CaseState.REJECTED,
            )
        ):
            raise ValidationError(
                _("主案件不存在或不可合并。"), errors={"duplicate_of": ["invalid"]}
            )
        u["duplicate_of_id"] = target.pk
        u["ended_at"] = now
        ctx.event_data["duplicate_of"] = target.tracking_code
        ctx.after.append(
            lambda: add_event(
                case=target,
                actor=ctx.actor,
                action="merged_in",
                note=_("合并了重复件 %(c)s") % {"c": case.tracking_code},
                now=now,
            )
        )
    elif action == "dispatch":
        if data.get("assignee") or data.get("department"):
            _assign(ctx, required=False)
        u["dispatched_at"] = now
        ctx.new_step = True
    elif action == "reassign":
        _assign(ctx, required=True)
        ctx.note = _text(data, "reason")
        u["claimed_at"] = None
    elif action == "whistle":
        _whistle(ctx)
    elif action == "claim":
        if case.assignee_id is None and getattr(ctx.actor, "pk", None):
            u["assignee_id"] = ctx.actor.pk
        u["claimed_at"] = now
    elif action == "return":
        ctx.note = _text(data, "reason")
        u.update(assignee_id=None, department_id=None, claimed_at=None, dispatched_at=None)
        ctx.new_step = True
    elif action == "handle":
        open_subtasks = case.subtasks.exclude(state=SubTaskState.HANDLED).count()
        if open_subtasks:
            raise ValidationError(
                _("还有%(n)d个联合处置子任务未办结。") % {"n": open_subtasks},
                errors={"subtasks": ["open"]},
            )
        if not case.attachments.filter(kind=AttachmentKind.AFTER).exists():
            raise ValidationError(_("请上传处置后照片。"), errors={"photos": ["required"]})
        u["result"] = _text(data, "result", MAX_RESULT)
        u["handled_at"] = now
        if data.get("checkin_lon") is not None and data.get("checkin_lat") is not None:
            try:
                lon, lat = float(data["checkin_lon"]), float(data["checkin_lat"])
            except (TypeError, ValueError) as exc:
                raise ValidationError(_("签到位置无效。"), errors={"checkin": ["invalid"]}) from exc
            u.update(checkin_lon=lon, checkin_lat=lat)
            # Kept for the verifier and for assessment; a far check-in is shown, not refused.
            ctx.event_data["checkin_distance_m"] = round(_metres(case.lon, case.lat, lon, lat))
        ctx.new_step = True
    elif action == "verify":
        u["verified_at"] = now
        ctx.note = _text(data, "note")
    elif action == "verify_fail":
        ctx.note = _text(data, "reason")
        u.update(rework_count=F("rework_count") + 1, handled_at=None)
        ctx.new_step = True
    elif action == "close":
        u["closed_at"] = now
        ctx.note = _text(data, "note")
    elif action == "rate":
        try:
            score = int(data["score"])
        except (TypeError, ValueError):
            score = 0
        if not 1 <= score <= 5:
            raise ValidationError(_("评分须为1至5分。"), errors={"score": ["range"]})
        u.update(rating=score, rating_reason=_text(data, "reason"), rated_at=now)
        ctx.event_data["score"] = score  # kept in the timeline; a reopen clears the case's rating
    elif action == "reopen":
        ctx.note = _text(data, "reason")
        u.update(
            reopen_count=F("reopen_count") + 1,
            closed_at=None,
            verified_at=None,
            handled_at=None,
            rated_at=None,
            rating=None,
            rating_reason="",
        )
        ctx.new_step = True
    elif action in ("request_suspend", "request_extend"):
        _request(ctx, RequestKind.SUSPEND if action == "request_suspend" else RequestKind.EXTEND)
    elif action == "approve_suspend":
        req = _pending_request(case, RequestKind.SUSPEND)
        _decide(ctx, req, RequestStatus.APPROVED)
        unit = _current_unit(case)
        remaining = elapsed(now, case.due_at, unit, ctx.calendar) if case.due_at else timedelta(0)
        u.update(suspended_from=case.state, due_at=None, remind_at=None)
        ctx.after.append(
            lambda: Suspension.objects.create(
                case=case,
                request=req,
                started_at=now,
                remaining_seconds=int(remaining.total_seconds()),
            )
        )
    elif action == "approve_extend":
        req = _pending_request(case, RequestKind.EXTEND)
        _decide(ctx, req, RequestStatus.APPROVED)
        extra = limit_duration(req.extra_limit or 0, req.extra_unit or TimeUnit.WORK_DAY)
        base = case.due_at or now
        new_due = advance(base, extra, req.extra_unit or TimeUnit.WORK_DAY, ctx.calendar)
        deadlines = dict(case.deadlines)
        if case.step in deadlines:
            deadlines[case.step] = {
                **deadlines[case.step],
                "due": new_due.isoformat(),
                "extended": True,
            }
        u.update(due_at=new_due, deadlines=deadlines, escalation_level="", remind_at=None)
        ctx.event_data.update(old_due=base.isoformat(), new_due=new_due.isoformat())
    elif action == "deny_request":
        req = _pending_request(case)
        ctx.note = _text(data, "reason")
        _decide(ctx, req, RequestStatus.DENIED)
    elif action == "resume":
        suspension = case.suspensions.filter(ended_at__isnull=True).first()
        remaining = timedelta(seconds=suspension.remaining_seconds if suspension else 0)
        unit = _current_unit(case)
        new_due = advance(now, remaining, unit, ctx.calendar)
        u.update(due_at=new_due, suspended_from="", escalation_level="")
        if case.step in case.deadlines:
            u["deadlines"] = {
                **case.deadlines,
                case.step: {**case.deadlines[case.step], "due": new_due.isoformat()},
            }
        if suspension is not None:
            ctx.after.append(
                lambda: Suspension.objects.filter(pk=suspension.pk).update(ended_at=now)
            )
    else:  # pragma: no cover - the table and this function are kept in step by the tests
        raise InvalidTransition(action)


def _current_unit(case: Case) -> str:
    info = case.deadlines.get(case.step) or {}
    return str(info.get("unit") or TimeUnit.WORK_HOUR)


def _reclassify(ctx: _Ctx) -> None:
    """Staff confirm or change the matter type / urgency on accepting; rules and route follow."""
    case, data, u = ctx.case, ctx.data, ctx.updates
    matter_type = case.matter_type
    if data.get("matter_type"):
        matter_type = MatterType.objects.filter(code=data["matter_type"], active=True).first()
        if matter_type is None:
            raise ValidationError(_("事项类型不存在。"), errors={"matter_type": ["unknown"]})
    rules = rules_for(matter_type)
    urgency = data.get("urgency") or case.urgency
    if urgency not in rules["urgency_levels"]:
        raise ValidationError(_("该事项不支持所选紧急程度。"), errors={"urgency": ["invalid"]})
    route = route_case(matter_type=matter_type, rules=rules, grid=case.grid)
    u.update(
        matter_type_id=matter_type.pk if matter_type else None,
        matter_version_id=matter_type.current_version_id if matter_type else None,
        rules=rules,
        urgency=urgency,
        handling_level=route.level,
        handling_region_id=route.region.pk if route.region else None,
        department_id=route.department.pk if route.department else None,
        routing_reasons=route.reasons,
    )
    ctx.event_data["matter_type"] = matter_type.code if matter_type else None


def _reclassify_accepted(ctx: _Ctx) -> None:
    """A dispatcher changes the matter type after 受理: rules, route and the running step's
    deadline follow the new type. The deadline counts from when the step started (no fresh
    clock for a reclassified case). Work already dispatched keeps its handler (change it with
    改派); an accepted case takes the new route's department."""
    case, data = ctx.case, ctx.data
    old_code = case.matter_type.code if case.matter_type else None
    if str(data["matter_type"]).strip() == old_code and not data.get("urgency"):
        raise ValidationError(_("事项类型未改变。"), errors={"matter_type": ["unchanged"]})
    _reclassify(ctx)
    if case.state != CaseState.ACCEPTED:
        ctx.updates.pop("department_id", None)
    ctx.note = _text(ctx.data, "reason")
    ctx.event_data["from_matter_type"] = old_code
    ctx.new_step = True
    ctx.step_start = case.step_started_at


def _whistle(ctx: _Ctx) -> None:
    case, data, now = ctx.case, ctx.data, ctx.now
    lead = _department(data["lead"], case)
    co = [_department(pk, case) for pk in (data.get("co") or []) if int(pk) != lead.pk]
    instructions = _text(data, "instructions", MAX_RESULT)
    rules = case.rules
    limit, unit = step_limit(rules, Step.HANDLE, case.urgency)
    from ..deadlines import due_at

    due = due_at(now, limit, unit, ctx.calendar)
    ctx.updates.update(department_id=lead.pk, assignee_id=None, dispatched_at=now)
    if case.state != CaseState.IN_PROGRESS:
        ctx.new_step = True
    ctx.event_data.update(lead=lead.pk, co=[d.pk for d in co])
    existing = set(case.subtasks.values_list("department_id", flat=True))

    def create() -> None:
        for dept, role in [(lead, SubTaskRole.LEAD), *[(d, SubTaskRole.CO) for d in co]]:
            if dept.pk in existing:
                continue
            SubTask.objects.create(
                case=case,
                department=dept,
                role=role,
                state=SubTaskState.PENDING,
                due_at=due,
                instructions=instructions,
            )

    ctx.after.append(create)


def _request(ctx: _Ctx, kind: str) -> None:
    case, data = ctx.case, ctx.data
    if case.requests.filter(status=RequestStatus.PENDING).exists():
        raise ValidationError(_("已有待审批的申请。"), errors={"request": ["pending"]})
    reason = _text(data, "reason")
    extra_limit = extra_unit = None
    if kind == RequestKind.EXTEND:
        try:
            extra_limit = int(data["extra_limit"])
        except (TypeError, ValueError):
            extra_limit = 0
        extra_unit = data.get("extra_unit") or TimeUnit.WORK_DAY
        if extra_limit <= 0 or extra_unit not in TimeUnit.values:
            raise ValidationError(_("延长时限须为正整数。"), errors={"extra_limit": ["invalid"]})
    ctx.note = reason
    ctx.event_data.update(kind=kind, extra_limit=extra_limit, extra_unit=extra_unit)
    ctx.after.append(
        lambda: CaseRequest.objects.create(
            case=case,
            kind=kind,
            status=RequestStatus.PENDING,
            reason=reason,
            extra_limit=extra_limit,
            extra_unit=extra_unit or "",
            requested_by=ctx.actor if getattr(ctx.actor, "pk", None) else None,
            requested_at=ctx.now,
        )
    )


def _decide(ctx: _Ctx, req: CaseRequest, status: str) -> None:
    actor = ctx.actor if getattr(ctx.actor, "pk", None) else None
    if actor is not None and req.requested_by_id == actor.pk and not actor.is_superuser:
        raise PermissionDenied(_("不能审批自己提交的申请。"))
    ctx.event_data.update(request=req.pk, kind=req.kind, decision=status)

    def save() -> None:
        CaseRequest.objects.filter(pk=req.pk).update(
            status=status, decided_by=actor, decided_at=ctx.now, decision_note=ctx.note
        )

    ctx.after.append(save)


@transaction.atomic
def case_transition(
    *,
    actor: Any,
    case: Case,
    action: str,
    expected_version: int,
    now: datetime | None = None,
    **data: Any,
) -> Case:
    """Apply ``action`` to ``case`` per the workflow table.

    Checks permission in the case's area (403), the state (409 ``InvalidTransition``), required
    fields (422), then writes with ``UPDATE … WHERE id=? AND version=?``: a stale
    ``expected_version`` raises ``Conflict`` (409) and nothing is written. Writes a timeline entry
    and an audit record; notifications go out after commit."""
    t = TRANSITIONS.get(action)
    if t is None:
        raise ValidationError(_("未知操作：%(a)s") % {"a": action}, errors={"action": [action]})
    if not may_act(actor, case, t):
        raise PermissionDenied(_("您无权对该事件执行“%(a)s”。") % {"a": t.label})
    if case.state not in t.sources:
        raise InvalidTransition(
            _("事件当前状态为“%(s)s”，不能执行“%(a)s”。")
            % {"s": _state_label(case.state), "a": t.label}
        )
    if int(expected_version) != case.version:
        raise Conflict(_("事件已被他人更新，请刷新后重试。"))
    _require(t, data)
    now = now or timezone.now()
    ctx = _Ctx(case, actor, data, now)
    previous = copy.copy(case)  # what event subscribers compare against
    _apply(action, ctx)
    before = _snapshot(case)
    target = t.target or case.state
    if action == "resume":
        target = case.suspended_from or CaseState.IN_PROGRESS
    updates = ctx.updates
    updates["state"] = target
    if ctx.new_step:
        updates.update(
            step_fields(
                state=target,
                rules=updates.get("rules", case.rules),
                urgency=updates.get("urgency", case.urgency),
                now=ctx.step_start or now,
                calendar=ctx.calendar,
                deadlines=case.deadlines,
            )
        )
    elif target in (
        CaseState.CLOSED,
        CaseState.RATED,
        CaseState.REJECTED,
        CaseState.MERGED,
        CaseState.CANCELLED,
    ):
        updates.update(step="", due_at=None, remind_at=None, escalation_level="")
    updates["version"] = F("version") + 1
    updates["updated_at"] = now
    written = Case.objects.filter(pk=case.pk, version=int(expected_version)).update(**updates)
    if written != 1:
        raise Conflict(_("事件已被他人更新，请刷新后重试。"))
    for fn in ctx.after:
        fn()
    case.refresh_from_db()
    add_event(
        case=case,
        actor=actor,
        action=action,
        from_state=before["state"],
        to_state=case.state,
        note=ctx.note,
        public_text=str(t.public_text) if t.public_text else "",
        data=ctx.event_data,
        now=now,
    )
    events.emit("case.transitioned", case=case, previous=previous, action=action, actor=actor)
    audit_log(  # last write: on PostgreSQL it holds the audit chain head until COMMIT
        actor=actor,
        action=f"cases.{action}",
        obj=case,
        before=before,
        after={**_snapshot(case), **({"note": ctx.note} if ctx.note else {})},
    )
    from .notify import after_transition

    transaction.on_commit(lambda: after_transition(case.pk, action, getattr(actor, "pk", None)))
    return case
