"""Service orders: 群众点单 (create), the workflow (派单 → 接单 → 签到 → 完成 → 评单), and the
escalation of orders nobody dispatched or accepted in time."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.accounts.models import RoleAssignment
from wangge.accounts.permissions import has_perm_anywhere, has_perm_at
from wangge.core.audit import audit_log
from wangge.core.exceptions import Conflict, InvalidTransition, PermissionDenied, ValidationError
from wangge.geo.choices import Level
from wangge.geo.models import Region
from wangge.registers.models import Person

from ..choices import (
    OrderState,
    OrgKind,
    OrgStatus,
    PointEvent,
    Specialty,
    TransferKind,
)
from ..models import PartyMember, PartyOrg, ServiceOrder, ServiceOrderEvent, Volunteer
from ..perms import ADD_ORDER, DISPATCH
from ..workflow import MAX_ESCALATION, TRANSITIONS, WAIT_HOURS, Transition, Who
from .common import actor_name, actor_pk, metres, text

MAX_WINDOW_DAYS = 14
MAX_AHEAD_DAYS = 60
MAX_SERVICE_MINUTES = 8 * 60
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def branch_for_region(region: Region, *, on: datetime | None = None) -> PartyOrg | None:
    """The party organisation that dispatches orders in ``region``: the deepest active one bound
    to the region or an ancestor — on the same region a 网格党支部 before a temporary/joint/
    floating branch in force, before committees."""
    day = timezone.localdate(on or timezone.now())
    ids = region.ancestor_ids() or [region.pk]
    orgs = [
        o
        for o in PartyOrg.objects.filter(region_id__in=ids, status=OrgStatus.ACTIVE)
        .exclude(kind=OrgKind.BUILDING_GROUP)
        .select_related("region")
        if o.is_active_on(day)
    ]
    if not orgs:
        return None
    preference: dict[str, int] = {
        OrgKind.GRID_BRANCH: 0,
        OrgKind.TEMPORARY_BRANCH: 1,
        OrgKind.JOINT_BRANCH: 2,
        OrgKind.FLOATING_BRANCH: 3,
        OrgKind.COMMUNITY_COMMITTEE: 4,
        OrgKind.STREET_COMMITTEE: 5,
    }
    return min(orgs, key=lambda o: (-o.region.depth, preference.get(o.kind, 9), o.pk))


def _new_code(now: datetime) -> str:
    day = timezone.localtime(now).strftime("%Y%m%d")
    for _attempt in range(20):
        code = "FW" + day + "".join(secrets.choice(CODE_ALPHABET) for _ in range(5))
        if not ServiceOrder.objects.filter(code=code).exists():
            return code
    raise Conflict(_("订单号生成失败，请重试。"))  # pragma: no cover - 32^5 per day


def _resident_region(actor: Any) -> Region | None:
    """Where a resident without a location lives: the region of their (deepest) role grant."""
    grant = (
        RoleAssignment.objects.filter(user=actor)
        .select_related("region")
        .order_by("-region__depth")
        .first()
    )
    return grant.region if grant else None


def _grid_of(region: Region) -> Region:
    if region.level == Level.MICRO_GRID and region.parent_id:
        return Region.objects.get(pk=region.parent_id)
    return region


def add_event(
    *,
    order: ServiceOrder,
    actor: Any,
    action: str,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> ServiceOrderEvent:
    return ServiceOrderEvent.objects.create(
        order=order,
        created_at=now or timezone.now(),
        actor_id=actor_pk(actor),
        actor_name=actor_name(actor),
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=note[:500],
        data=data or {},
    )


def _snapshot(o: ServiceOrder) -> dict[str, Any]:
    return {
        "state": o.state,
        "version": o.version,
        "member": o.member_id,
        "volunteer": o.volunteer_id,
        "rating": o.rating,
        "escalation_level": o.escalation_level,
    }


@transaction.atomic
def service_order_create(
    *,
    actor: Any,
    category: str,
    description: str,
    window_start: datetime,
    window_end: datetime,
    address: str = "",
    lon: float | None = None,
    lat: float | None = None,
    crs: str = "wgs84",
    region: Region | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    requester_person: Person | None = None,
    now: datetime | None = None,
) -> ServiceOrder:
    """群众点单: a resident orders a service for themself, or staff holding
    ``party.add_serviceorder`` order it for a resident of their area. The order is located
    (point → grid, else the given region, else the resident's own community) and handed to the
    branch that serves it, which has ``WAIT_HOURS['posted']`` hours to dispatch it."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(_("请先登录。"))
    now = now or timezone.now()
    staff = has_perm_anywhere(actor, ADD_ORDER)
    if category not in Specialty.values:
        raise ValidationError(_("请选择服务类别。"), errors={"category": ["invalid"]})
    description = text(description, field="description", label=_("需求描述"), limit=1000)
    address = text(address, field="address", label=_("服务地址"), limit=255, required=False)
    if window_end <= window_start:
        raise ValidationError(
            _("期望结束时间须晚于开始时间。"), errors={"window_end": ["before_start"]}
        )
    if window_end <= now:
        raise ValidationError(_("期望时间已经过去。"), errors={"window_end": ["past"]})
    if window_end - window_start > timedelta(days=MAX_WINDOW_DAYS):
        raise ValidationError(
            _("期望时间段不能超过%(n)d天。") % {"n": MAX_WINDOW_DAYS},
            errors={"window_end": ["too_long"]},
        )
    if window_start - now > timedelta(days=MAX_AHEAD_DAYS):
        raise ValidationError(
            _("只能预约%(n)d天内的服务。") % {"n": MAX_AHEAD_DAYS},
            errors={"window_start": ["too_far"]},
        )
    wlon = wlat = None
    located: Region | None = None
    if lon is not None and lat is not None:
        from wangge.geo.crs import check_lon_lat, normalize_crs, to_wgs84
        from wangge.geo.locator import locate

        try:
            canonical = normalize_crs(crs)
            check_lon_lat(float(lon), float(lat))
        except (ValueError, TypeError) as exc:
            raise ValidationError(_("位置坐标无效。"), errors={"lon": ["invalid"]}) from exc
        wlon, wlat = to_wgs84(float(lon), float(lat), canonical)
        result = locate(wlon, wlat)
        if result.region is None:
            raise ValidationError(_("该位置不在任何网格内。"), errors={"lon": ["outside"]})
        located = result.region
    target = located or region or (None if staff else _resident_region(actor))
    if target is None:
        raise ValidationError(_("请提供服务地点。"), errors={"lon": ["required"]})
    target = _grid_of(target)
    if staff:
        if not has_perm_at(actor, ADD_ORDER, target.path):
            raise ValidationError(
                _("该地点不在您的管辖范围内。"), errors={"region": ["outside_area"]}
            )
        contact_name = text(contact_name, field="contact_name", label=_("联系人"), limit=64)
    else:
        if requester_person is not None:
            raise PermissionDenied(_("居民只能为自己点单。"))
        contact_name = text(
            contact_name or actor.get_full_name() or actor.get_username(),
            field="contact_name",
            label=_("联系人"),
            limit=64,
        )
        contact_phone = contact_phone or (getattr(actor, "mobile", "") or "")
    contact_phone = text(
        contact_phone, field="contact_phone", label=_("联系电话"), limit=32, required=False
    )
    branch = branch_for_region(target, on=now)
    if branch is None:
        raise ValidationError(
            _("该区域尚未建立党组织，暂不能点单。"), errors={"region": ["no_branch"]}
        )
    order = ServiceOrder.objects.create(
        code=_new_code(now),
        state=OrderState.POSTED,
        category=category,
        description=description,
        window_start=window_start,
        window_end=window_end,
        address=address or target.name,
        lon=wlon,
        lat=wlat,
        region=target,
        region_path=target.path,
        branch=branch,
        requester=None if staff else actor,
        requester_person=requester_person,
        contact_name=contact_name,
        contact_phone=contact_phone,
        posted_by=actor,
        due_at=now + timedelta(hours=WAIT_HOURS[OrderState.POSTED]),
        created_at=now,
    )
    add_event(order=order, actor=actor, action="post", to_state=order.state, now=now)
    audit_log(actor=actor, action="party.order_post", obj=order, after=_snapshot(order))
    _notify_dispatchers(order, _("新的群众点单：%(c)s") % {"c": order.code})
    return order


# --- the workflow ------------------------------------------------------------------------------
def may_act(actor: Any, order: ServiceOrder, t: Transition) -> bool:
    if actor is None:
        return True  # the system (batch matching, escalation)
    if not getattr(actor, "is_active", False):
        return False
    if actor.is_superuser:
        return True
    for who in t.who:
        if who == Who.DISPATCHER and has_perm_at(actor, DISPATCH, order.region_path):
            return True
        if who == Who.HELPER:
            helper = order.helper
            if helper is not None and helper.user_id == actor.pk:
                return True
        if who == Who.REQUESTER and (
            order.requester_id == actor.pk or has_perm_at(actor, ADD_ORDER, order.region_path)
        ):
            return True
    return False


def resolve_helper(value: Any) -> PartyMember | Volunteer:
    """A helper from a model instance or a key ``member:<id>`` / ``volunteer:<id>``."""
    if isinstance(value, PartyMember | Volunteer):
        return value
    kind, _sep, pk = str(value or "").partition(":")
    model: Any = {"member": PartyMember, "volunteer": Volunteer}.get(kind)
    helper = model.objects.filter(pk=pk, is_active=True).first() if model and pk.isdigit() else None
    if helper is None:
        raise ValidationError(_("服务人员不存在。"), errors={"helper": ["not_found"]})
    return helper


@dataclass
class _Ctx:
    order: ServiceOrder
    actor: Any
    data: dict[str, Any]
    now: datetime
    updates: dict[str, Any]
    note: str = ""
    event_data: dict[str, Any] | None = None


def _assign(ctx: _Ctx) -> None:
    from .matching import explain_pair

    helper = resolve_helper(ctx.data.get("helper"))
    ranked = explain_pair(ctx.order, helper)
    if not ranked.eligible:
        raise ValidationError(
            _("不能派给%(n)s：%(why)s")
            % {"n": helper.person.name, "why": "、".join(ranked.excluded_because)},
            errors={"helper": ranked.excluded_because},
        )
    is_member = isinstance(helper, PartyMember)
    ctx.updates.update(
        member_id=helper.pk if is_member else None,
        volunteer_id=None if is_member else helper.pk,
        assigned_at=ctx.now,
        accepted_at=None,
        match_score=round(ranked.score, 2),
        match_explanation=ranked.as_dict(),
        escalation_level=0,
        due_at=ctx.now + timedelta(hours=WAIT_HOURS[OrderState.ASSIGNED]),
    )
    ctx.event_data = {"helper": ranked.helper.key, "score": round(ranked.score, 1)}


def _apply(action: str, ctx: _Ctx) -> None:
    o, data, now, u = ctx.order, ctx.data, ctx.now, ctx.updates
    if action in ("assign", "reassign"):
        if action == "reassign":
            ctx.note = text(data.get("reason"), field="reason", label=_("理由"), limit=500)
        _assign(ctx)
    elif action == "decline":
        ctx.note = text(data.get("reason"), field="reason", label=_("理由"), limit=500)
        ctx.event_data = {"helper": _helper_key(o)}
        u.update(
            member_id=None,
            volunteer_id=None,
            assigned_at=None,
            match_score=None,
            match_explanation={},
            declines=F("declines") + 1,
            escalation_level=0,
            due_at=now + timedelta(hours=WAIT_HOURS[OrderState.POSTED]),
        )
    elif action == "accept":
        u.update(accepted_at=now, due_at=None, escalation_level=0)
    elif action == "check_in":
        u["checkin_at"] = now
        if data.get("lon") is not None and data.get("lat") is not None and o.lon is not None:
            try:
                lon, lat = float(data["lon"]), float(data["lat"])
            except (TypeError, ValueError) as exc:
                raise ValidationError(_("签到位置无效。"), errors={"lon": ["invalid"]}) from exc
            ctx.event_data = {"distance_m": round(metres(o.lon, o.lat or 0.0, lon, lat))}
    elif action == "check_out":
        ctx.note = text(data.get("result"), field="result", label=_("服务情况"), limit=1000)
        started = o.checkin_at or now
        minutes = max(1, math.ceil((now - started).total_seconds() / 60))
        minutes = min(minutes, MAX_SERVICE_MINUTES)
        u.update(checkout_at=now, completed_at=now, result=ctx.note, service_minutes=minutes)
        ctx.event_data = {"minutes": minutes}
    elif action == "rate":
        try:
            score = int(data.get("score"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            score = 0
        if not 1 <= score <= 5:
            raise ValidationError(_("评分须为1至5分。"), errors={"score": ["range"]})
        comment = text(
            data.get("comment"), field="comment", label=_("评价"), limit=500, required=False
        )
        u.update(rating=score, rating_comment=comment, rated_at=now)
        ctx.event_data = {"score": score}
        ctx.note = comment
    elif action == "cancel":
        ctx.note = text(data.get("reason"), field="reason", label=_("理由"), limit=500)
        u.update(cancelled_at=now, due_at=None)


def _helper_key(o: ServiceOrder) -> str:
    if o.member_id:
        return f"member:{o.member_id}"
    if o.volunteer_id:
        return f"volunteer:{o.volunteer_id}"
    return ""


@transaction.atomic
def order_transition(
    *,
    actor: Any,
    order: ServiceOrder,
    action: str,
    expected_version: int,
    now: datetime | None = None,
    **data: Any,
) -> ServiceOrder:
    """Apply ``action`` per the workflow table: permission (403), state (409), input (422), then
    ``UPDATE … WHERE version=?`` (a stale version is a 409 and nothing is written). Timeline
    entry, audit record and notices in the same transaction; completing pays the helper's
    minutes into the time bank and points; a five-star rating adds points."""
    t = TRANSITIONS.get(action)
    if t is None:
        raise ValidationError(_("未知操作：%(a)s") % {"a": action}, errors={"action": [action]})
    if not may_act(actor, order, t):
        raise PermissionDenied(_("您无权对该订单执行“%(a)s”。") % {"a": t.label})
    if order.state not in t.sources:
        raise InvalidTransition(
            _("订单当前状态为“%(s)s”，不能执行“%(a)s”。")
            % {"s": OrderState(order.state).label, "a": t.label}
        )
    if int(expected_version) != order.version:
        raise Conflict(_("订单已被他人更新，请刷新后重试。"))
    now = now or timezone.now()
    ctx = _Ctx(order=order, actor=actor, data=data, now=now, updates={})
    before = _snapshot(order)
    helper_before = order.helper
    _apply(action, ctx)
    ctx.updates.update(state=t.target, version=F("version") + 1, updated_at=now)
    written = ServiceOrder.objects.filter(pk=order.pk, version=int(expected_version)).update(
        **ctx.updates
    )
    if written != 1:
        raise Conflict(_("订单已被他人更新，请刷新后重试。"))
    order.refresh_from_db()
    add_event(
        order=order,
        actor=actor,
        action=action,
        from_state=before["state"],
        to_state=order.state,
        note=ctx.note,
        data=ctx.event_data,
        now=now,
    )
    audit_log(
        actor=actor,
        action=f"party.order_{action}",
        obj=order,
        before=before,
        after={**_snapshot(order), **({"note": ctx.note} if ctx.note else {})},
    )
    _after(action, order, actor, now, helper_before)
    return order


def _after(action: str, order: ServiceOrder, actor: Any, now: datetime, helper_before: Any) -> None:
    from wangge.cases.choices import NotificationKind
    from wangge.cases.notifications import notify

    helper = order.helper
    if action in ("assign", "reassign") and helper is not None and helper.user_id:
        notify(
            recipients=[helper.user],
            kind=NotificationKind.ASSIGNED,
            title=_("新的服务订单：%(c)s %(cat)s")
            % {"c": order.code, "cat": Specialty(order.category).label},
            body=order.description[:200],
        )
    if (
        action == "reassign"
        and helper_before is not None
        and helper_before.user_id
        and helper_before != helper
    ):
        notify(
            recipients=[helper_before.user],
            kind=NotificationKind.STATE,
            title=_("服务订单已改派：%(c)s") % {"c": order.code},
        )
    if action == "cancel":
        from .selfservice import refund_order_payments

        refund_order_payments(order=order, actor=actor)
    if action == "decline":
        _notify_dispatchers(order, _("党员拒单，请重新派单：%(c)s") % {"c": order.code})
    if action == "check_out":
        from .points import points_award
        from .timebank import account_for_org, account_for_person, timebank_transfer

        assert helper is not None and order.branch is not None
        timebank_transfer(
            actor=actor,
            debit=account_for_org(order.branch),
            credit=account_for_person(helper.person),
            minutes=order.service_minutes,
            kind=TransferKind.SERVICE,
            reason=_("服务订单%(c)s") % {"c": order.code},
            order=order,
            now=now,
        )
        if order.member_id:
            points_award(
                member=order.member,  # type: ignore[arg-type]
                event=PointEvent.COMPLETE_ORDER,
                source_type="order",
                source_id=str(order.pk),
                reason=_("完成服务订单%(c)s") % {"c": order.code},
                now=now,
            )
        if order.requester_id:
            notify(
                recipients=[order.requester],
                kind=NotificationKind.CLOSED,
                title=_("服务已完成，请评价：%(c)s") % {"c": order.code},
            )
    if action == "rate" and order.rating == 5 and order.member_id:
        from .points import points_award

        points_award(
            member=order.member,  # type: ignore[arg-type]
            event=PointEvent.RATED_FIVE,
            source_type="order",
            source_id=str(order.pk),
            reason=_("服务订单%(c)s获五星好评") % {"c": order.code},
            now=now,
        )


def _notify_dispatchers(order: ServiceOrder, title: str, level: int = 0) -> None:
    from wangge.cases.choices import NotificationKind
    from wangge.cases.notifications import notify, users_with_perm_above

    ids = order.region.ancestor_ids()
    index = max(0, len(ids) - 1 - level)
    rung = order.region if index == len(ids) - 1 else Region.objects.get(pk=ids[index])
    recipients = users_with_perm_above(rung, DISPATCH)
    notify(
        recipients=recipients,
        kind=NotificationKind.SUPERVISION if level else NotificationKind.ASSIGNED,
        title=title,
        body=order.description[:200],
    )


# --- escalation --------------------------------------------------------------------------------
@transaction.atomic
def service_order_escalate_due(*, now: datetime | None = None) -> dict[str, int]:
    """Escalate every order still waiting to be dispatched or accepted past its time: one rung
    up (branch → community → street → district), a new wait, a timeline entry, an audit record
    and a 督办 notice to the dispatchers of that rung. Each order moves under its version, so a
    concurrent dispatch wins and the escalation of that order is skipped."""
    now = now or timezone.now()
    due = list(
        ServiceOrder.objects.filter(
            state__in=list(WAIT_HOURS),
            due_at__lt=now,
            escalation_level__lt=MAX_ESCALATION,
        ).select_related("region")[:1000]
    )
    escalated = 0
    for order in due:
        level = order.escalation_level + 1
        written = ServiceOrder.objects.filter(pk=order.pk, version=order.version).update(
            escalation_level=level,
            due_at=now + timedelta(hours=WAIT_HOURS[order.state]),
            version=F("version") + 1,
            updated_at=now,
        )
        if written != 1:
            continue
        escalated += 1
        order.refresh_from_db()
        add_event(
            order=order,
            actor=None,
            action="escalate",
            from_state=order.state,
            to_state=order.state,
            data={"level": level},
            now=now,
        )
        audit_log(
            actor=None,
            action="party.order_escalate",
            obj=order,
            after={"level": level, "state": order.state},
        )
        what = _("待派单") if order.state == OrderState.POSTED else _("待接单")
        _notify_dispatchers(
            order,
            _("服务订单超时%(w)s（第%(n)d级催办）：%(c)s")
            % {"w": what, "n": level, "c": order.code},
            level=level,
        )
    return {"scanned": len(due), "escalated": escalated}
