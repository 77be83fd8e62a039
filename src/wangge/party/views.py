"""Party pages: the branch dashboard, the resident's 点单, the phone view of a member or
resident (我的), the order list with batch dispatch, one order with its matching explanations
and actions, 双报到 decisions and activity sign-in."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.db import transaction
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wangge.accounts.models import RoleAssignment
from wangge.accounts.permissions import has_perm_anywhere, has_perm_at
from wangge.core.exceptions import NotFound, WanggeError

from . import selectors as sel
from .choices import OrderState, Specialty
from .forms import ExchangeForm, OrderForm, TeamForm, VolunteerForm, add_domain_error
from .models import PointEntry
from .perms import (
    ADD_ORDER,
    APPROVE_DUAL,
    CHANGE_VOLUNTEER,
    DISPATCH,
    VIEW_MEMBER,
    VIEW_ORDER,
    VIEW_VOLUNTEER,
)
from .services import (
    activity_check_in,
    dual_report_transition,
    order_candidates,
    order_transition,
    person_of_user,
    service_match_batch,
    service_order_create,
    timebank_spend_self,
    volunteer_register_self,
    volunteer_team_add,
    volunteer_team_create,
)
from .services.orders import may_act
from .workflow import EVENT_LABELS, TRANSITIONS

View = Callable[..., HttpResponseBase]


def party_page(*perms: str) -> Callable[[View], View]:
    """Signed in (else the login page); holding one of ``perms`` somewhere (else 403) when
    any are named; ``NotFound`` (missing or out of area) answers 404."""

    def decorator(view: View) -> View:
        @wraps(view)
        @login_required
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if perms and not any(has_perm_anywhere(request.user, p) for p in perms):
                raise HttpForbidden
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404(exc.message) from exc

        return wrapped

    return decorator


def _next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return default


# --- branch dashboard --------------------------------------------------------------------
@party_page(VIEW_MEMBER)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    branches = list(sel.branches_for_user(user)[:300])
    branch = None
    if request.GET.get("branch"):
        branch = sel.access_party_org(user, request.GET["branch"])
    elif branches:
        branch = branches[0]
    context: dict[str, Any] = {"branches": branches, "branch": branch}
    if branch is not None:
        members = list(
            sel.member_list_for_user(user, branch=branch)
            .filter(is_active=True)
            .annotate(total=Sum("points__points"))[:200]
        )
        context.update(
            figures=sel.branch_dashboard(branch),
            members=members,
            ranking=sel.points_ranking(branch, limit=10),
            activities=list(branch.activities.order_by("-starts_at")[:10]),
            orders=list(sel.order_list_for_user(user, open_only=True).filter(branch=branch)[:20]),
        )
    if has_perm_anywhere(user, APPROVE_DUAL):
        context["dual_pending"] = list(sel.dual_reports_for_user(user, state="requested")[:50])
    context["coverage"] = sel.coverage_report(user, limit=50)
    return render(request, "party/dashboard.html", context)


# --- 点单 ----------------------------------------------------------------------------------
@party_page()
def order_new(request: HttpRequest) -> HttpResponse:
    """群众点单: a phone page with large text and few fields."""
    staff = has_perm_anywhere(request.user, ADD_ORDER)
    form = OrderForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            start, end = form.window()
            region = None
            if staff and data.get("lon") is None:
                grant = (
                    RoleAssignment.objects.filter(
                        user_id=request.user.pk or 0,
                        role__permissions__codename="add_serviceorder",
                    )
                    .select_related("region")
                    .order_by("-region__depth")
                    .first()
                )
                region = grant.region if grant else None
            try:
                with transaction.atomic():
                    order = service_order_create(
                        actor=request.user,
                        category=data["category"],
                        description=data["description"],
                        window_start=start,
                        window_end=end,
                        address=data.get("address") or "",
                        lon=data.get("lon"),
                        lat=data.get("lat"),
                        region=region,
                        contact_name=data.get("contact_name") or "",
                        contact_phone=data.get("contact_phone") or "",
                    )
                    if data.get("pay_minutes") and not staff:
                        timebank_spend_self(
                            actor=request.user,
                            minutes=data["pay_minutes"],
                            reason=_("点单 %(c)s 用时间支付") % {"c": order.code},
                            order=order,
                        )
            except WanggeError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("点单成功！订单号 %(c)s，支部会尽快为您派单。") % {"c": order.code},
                )
                target = "party:order_detail" if staff else "party:me"
                return redirect(reverse(target, args=[order.pk]) if staff else reverse(target))
    person = None if staff else person_of_user(request.user)
    account = sel.time_account_of(person.pk) if person else None
    context = {"form": form, "staff": staff, "balance": account.balance if account else 0}
    return render(request, "party/order_new.html", context, status=status)


# --- 我的 (phone view) ---------------------------------------------------------------------
@party_page()
@require_GET
def me(request: HttpRequest) -> HttpResponse:
    user = request.user
    member = sel.my_member(user)
    volunteer = sel.my_volunteer(user)
    person = person_of_user(user)
    account = sel.time_account_of(person.pk) if person else None
    tasks = list(
        sel.orders_for_helper(user).exclude(state=OrderState.CANCELLED).order_by("-updated_at")[:30]
    )
    context: dict[str, Any] = {
        "member": member,
        "volunteer": volunteer,
        "requested": list(sel.orders_requested_by(user).order_by("-created_at")[:30]),
        "tasks": tasks,
        "account": account,
        "statement": sel.time_statement(account, limit=20),
        "points": sel.points_balance(member) if member else None,
        "point_entries": list(PointEntry.objects.filter(member=member)[:20]) if member else [],
        "dual_reports": list(member.dual_reports.select_related("community")) if member else [],
        "activities": list(member.branch.activities.order_by("-starts_at")[:5]) if member else [],
        "exchange_form": ExchangeForm(),
    }
    return render(request, "party/me.html", context)


@party_page()
@require_POST
def time_exchange(request: HttpRequest) -> HttpResponse:
    """用时间兑换服务: spend saved minutes (double entry; refused when the balance is short)."""
    form = ExchangeForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, str(errors[0]))
        return redirect("party:me")
    try:
        t = timebank_spend_self(
            actor=request.user,
            minutes=form.cleaned_data["minutes"],
            reason=form.cleaned_data["reason"],
        )
    except WanggeError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已兑换%(m)d分钟。") % {"m": t.minutes})
    return redirect("party:me")


# --- volunteers -----------------------------------------------------------------------------
@party_page()
def volunteer_register(request: HttpRequest) -> HttpResponse:
    """志愿者注册: a signed-in resident registers with their own community."""
    volunteer = sel.my_volunteer(request.user)
    form = VolunteerForm(request.POST or None)
    status = 200
    if request.method == "POST" and volunteer is None:
        status = 422
        if form.is_valid():
            try:
                volunteer_register_self(
                    actor=request.user,
                    specialties=form.cleaned_data["specialties"],
                    availability=form.availability(),
                    capacity=form.cleaned_data["capacity"],
                )
            except WanggeError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("注册成功！感谢您加入志愿服务。"))
                return redirect("party:me")
    context = {"form": form, "volunteer": volunteer}
    return render(request, "party/volunteer_register.html", context, status=status)


@party_page(VIEW_VOLUNTEER)
@require_GET
def volunteer_list(request: HttpRequest) -> HttpResponse:
    """The branch's volunteers and teams in its area."""
    user = request.user
    context = {
        "volunteers": list(sel.volunteer_list_for_user(user)[:500]),
        "teams": list(sel.team_list_for_user(user)[:200]),
        "can_change": has_perm_anywhere(user, CHANGE_VOLUNTEER),
        "team_form": TeamForm(),
        "regions": _team_regions(user),
    }
    return render(request, "party/volunteers.html", context)


def _team_regions(user: Any) -> list[Any]:
    grants = (
        RoleAssignment.objects.filter(
            user_id=user.pk or 0, role__permissions__codename="change_volunteer"
        )
        .select_related("region")
        .order_by("region__path")
    )
    return [g.region for g in grants]


@party_page(CHANGE_VOLUNTEER)
@require_POST
def team_create(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST)
    regions = {str(r.pk): r for r in _team_regions(request.user)}
    region = regions.get(request.POST.get("region", ""))
    if region is None:
        raise Http404
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, str(errors[0]))
        return redirect("party:volunteers")
    try:
        team = volunteer_team_create(
            actor=request.user,
            name=form.cleaned_data["name"],
            region=region,
            description=form.cleaned_data["description"],
        )
    except WanggeError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已建立志愿服务队“%(n)s”。") % {"n": team.name})
    return redirect("party:volunteers")


@party_page(CHANGE_VOLUNTEER)
@require_POST
def volunteer_team(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a volunteer to a team of the area."""
    volunteer = sel.access_volunteer(request.user, pk)
    team = sel.access_team(request.user, request.POST.get("team", ""))
    try:
        volunteer_team_add(actor=request.user, team=team, volunteer=volunteer)
    except WanggeError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("已将%(v)s加入%(t)s。") % {"v": volunteer.person.name, "t": team.name}
        )
    return redirect("party:volunteers")


# --- orders ------------------------------------------------------------------------------
@party_page(VIEW_ORDER)
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state") or ""
    qs = sel.order_list_for_user(
        request.user, state=state if state in OrderState.values else None, open_only=not state
    )
    context = {
        "orders": list(qs.order_by("due_at", "created_at")[:200]),
        "counts": sel.order_counts_by_state(request.user),
        "state": state,
        "states": OrderState.choices,
        "can_dispatch": has_perm_anywhere(request.user, DISPATCH),
    }
    return render(request, "party/orders.html", context)


@party_page(DISPATCH)
@require_POST
def order_match(request: HttpRequest) -> HttpResponse:
    """One batch matching pass over the open orders of the user's dispatch area."""
    s = service_match_batch(actor=request.user)
    messages.success(
        request,
        _("批量派单：%(o)d个待派订单，派出%(a)d个，%(u)d个暂无合适人选。")
        % {"o": s.orders, "a": s.assigned, "u": s.unassigned},
    )
    return redirect("party:orders")


@party_page()
@require_GET
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    order = sel.access_order(user, pk)
    can_dispatch = has_perm_at(user, DISPATCH, order.region_path)
    actions = [
        a
        for a, t in TRANSITIONS.items()
        if order.state in t.sources and may_act(user, order, t) and a not in ("assign", "reassign")
    ]
    ranked: list[Any] = []
    excluded: list[Any] = []
    if can_dispatch and order.state in (
        OrderState.POSTED,
        OrderState.ASSIGNED,
        OrderState.ACCEPTED,
    ):
        ranked, excluded = order_candidates(order)
    context = {
        "order": order,
        "events": list(order.events.order_by("created_at", "id")),
        "actions": actions,
        "can_dispatch": can_dispatch,
        "assign_action": "assign" if order.state == OrderState.POSTED else "reassign",
        "ranked": ranked[:10],
        "excluded": excluded[:10],
        "show_contact": can_dispatch
        or has_perm_at(user, ADD_ORDER, order.region_path)
        or (order.helper is not None and order.helper.user_id == user.pk),
        "labels": EVENT_LABELS,
        "category": Specialty(order.category).label,
    }
    return render(request, "party/order_detail.html", context)


@party_page()
@require_POST
def order_act(request: HttpRequest, pk: int) -> HttpResponse:
    order = sel.access_order(request.user, pk)
    action = request.POST.get("action", "")
    data: dict[str, Any] = {
        k: request.POST.get(k)
        for k in ("helper", "reason", "result", "score", "comment", "lon", "lat")
        if request.POST.get(k) not in (None, "")
    }
    try:
        version = int(request.POST.get("version") or 0)
    except ValueError:
        version = 0
    try:
        order_transition(
            actor=request.user, order=order, action=action, expected_version=version, **data
        )
    except WanggeError as exc:
        messages.error(request, exc.message)
    else:
        label = TRANSITIONS[action].label
        messages.success(request, _("已%(a)s。") % {"a": label})
    return redirect(_next(request, reverse("party:order_detail", args=[order.pk])))


# --- 双报到 and activities ------------------------------------------------------------------
@party_page()
@require_POST
def dual_report_act(request: HttpRequest, pk: int) -> HttpResponse:
    report = sel.access_dual_report(request.user, pk)
    try:
        dual_report_transition(
            actor=request.user,
            report=report,
            action=request.POST.get("action", ""),
            expected_version=int(request.POST.get("version") or 0),
            note=request.POST.get("note", ""),
        )
    except (WanggeError, ValueError) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
    else:
        messages.success(request, _("报到申请已处理。"))
    return redirect(_next(request, reverse("party:dashboard")))


@party_page()
def activity_checkin(request: HttpRequest, pk: int) -> HttpResponse:
    """The page a QR code opens: the member confirms, or signs in by location."""
    activity = sel.access_activity(request.user, pk)
    member = sel.my_member(request.user)
    if request.method == "POST":
        if member is None:
            raise HttpForbidden
        method = "location" if request.POST.get("lon") else "qr"
        try:
            activity_check_in(
                actor=request.user,
                activity=activity,
                member=member,
                method=method,
                code=request.POST.get("code", ""),
                lon=float(request.POST["lon"]) if request.POST.get("lon") else None,
                lat=float(request.POST["lat"]) if request.POST.get("lat") else None,
            )
        except (WanggeError, ValueError) as exc:
            messages.error(request, getattr(exc, "message", str(exc)))
        else:
            messages.success(request, _("签到成功。"))
            return redirect("party:me")
    context = {"activity": activity, "member": member, "code": request.GET.get("code", "")}
    return render(request, "party/activity_checkin.html", context)
