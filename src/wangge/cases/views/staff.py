"""Staff lists: the dispatcher's queue and map, a handler's tasks, the worker's report form,
department work orders and the notifications list."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wangge.accounts.permissions import has_perm_anywhere
from wangge.core.exceptions import Conflict, WanggeError
from wangge.geo.crs import from_wgs84_np

from .. import notifications as notes
from ..choices import Source
from ..forms import (
    QueueFilterForm,
    SubTaskForm,
    WorkerReportForm,
    add_domain_error,
    read_photos,
)
from ..selectors import (
    CaseFilters,
    access_subtask,
    case_counts_by_state,
    case_list_for_user,
    case_map_points,
    case_requests_pending_for_user,
    case_tasks_for_user,
    department_cases_for_user,
    subtasks_for_user,
    user_area_extent,
)
from ..services import attachment_add, case_create, subtask_transition
from ..services.attachments import atomic_with_files
from .common import (
    ADD_CASE,
    TRANSITION_CASE,
    VIEW_CASE,
    case_staff,
    map_settings,
    safe_next,
    tile_crs,
)

PAGE_SIZE = 20
APPROVE_CASE = "cases.approve_case"


def _filters(form: QueueFilterForm) -> CaseFilters:
    data = form.cleaned_data if form.is_valid() else {}
    overdue = data.get("overdue")
    return CaseFilters(
        state=data.get("state") or None,
        matter_type=data.get("matter_type") or None,
        grid=(data.get("grid") or "").strip() or None,
        overdue=None if overdue in (None, "") else overdue == "1",
        source=data.get("source") or None,
        q=(data.get("q") or "").strip() or None,
    )


@case_staff(VIEW_CASE)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """The dispatcher's queue: filters, pages of 20, counts by state, approvals, a map."""
    form = QueueFilterForm(request.GET or None)
    qs = case_list_for_user(request.user, _filters(form))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context: dict[str, Any] = {
        "form": form,
        "page": page,
        "querystring": query.urlencode(),
        "now": timezone.now(),
    }
    if getattr(request, "htmx", False):
        return render(request, "cases/partials/queue_results.html", context)
    context.update(
        counts=case_counts_by_state(request.user),
        approvals=case_requests_pending_for_user(request.user)[:50]
        if has_perm_anywhere(request.user, APPROVE_CASE)
        else [],
        **map_settings(),
    )
    return render(request, "cases/queue.html", context)


@case_staff(VIEW_CASE)
@require_GET
def queue_map(request: HttpRequest) -> JsonResponse:
    """Open cases in the user's area as points in the map's CRS."""
    points = case_map_points(request.user)
    crs = tile_crs()
    if points and crs != "wgs84":
        lons, lats = from_wgs84_np([p["lon"] for p in points], [p["lat"] for p in points], crs)
        for p, lon, lat in zip(points, lons, lats, strict=True):
            p["lon"], p["lat"] = float(lon), float(lat)
    now = timezone.now()
    for p in points:
        p["overdue"] = bool(p["due_at"] and p["due_at"] < now)
        p["url"] = f"/cases/{p['id']}/"
    return JsonResponse({"points": points, "crs": crs})


@case_staff(TRANSITION_CASE)
@require_GET
def my_tasks(request: HttpRequest) -> HttpResponse:
    tasks = case_tasks_for_user(request.user)
    context = {
        "work": list(tasks["work"][:100]),
        "verify": list(tasks["verify"][:100]),
        "now": timezone.now(),
    }
    return render(request, "cases/my_tasks.html", context)


@case_staff(ADD_CASE)
def worker_report(request: HttpRequest) -> HttpResponse:
    """Report from patrol; with ``on_spot`` the case is filed and closed in one step."""
    form = WorkerReportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                with atomic_with_files():  # the case and its photos, or nothing
                    result = case_create(
                        actor=request.user,
                        source=Source.PATROL,
                        title=data["title"],
                        description=data["description"],
                        lon=data["lon"],
                        lat=data["lat"],
                        crs=data["crs"],
                        address=data["address"],
                        matter_type_code=data["matter_type"] or None,
                        urgency=data["urgency"] or "normal",
                        client_key=data["client_key"],
                        on_spot_result=data["result"] if data["on_spot"] else "",
                    )
                    if result.created:
                        photos = [("before", c) for c in read_photos(data["photos"])]
                        if data["on_spot"]:
                            photos += [("after", c) for c in read_photos(data["after_photos"])]
                        for kind, content in photos:
                            attachment_add(
                                actor=request.user, case=result.case, kind=kind, content=content
                            )
            except WanggeError as exc:
                add_domain_error(form, exc)
            else:
                case = result.case
                if data["on_spot"]:
                    messages.success(
                        request,
                        _("已现场处置并办结，查询码 %(c)s。") % {"c": case.tracking_code},
                    )
                else:
                    messages.success(
                        request, _("已上报，查询码 %(c)s。") % {"c": case.tracking_code}
                    )
                return redirect("cases:detail", pk=case.pk)
    context = {"form": form, "extent": user_area_extent(request.user), **map_settings()}
    return render(request, "cases/worker_report.html", context, status=status)


@case_staff(TRANSITION_CASE)
@require_GET
def work_orders(request: HttpRequest) -> HttpResponse:
    """A department handler's work: 吹哨 sub-tasks and cases assigned to their departments."""
    context = {
        "subtasks": list(subtasks_for_user(request.user).exclude(state="handled")[:100]),
        "done": list(subtasks_for_user(request.user).filter(state="handled")[:20]),
        "cases": list(department_cases_for_user(request.user)[:100]),
        "now": timezone.now(),
    }
    return render(request, "cases/work_orders.html", context)


@case_staff(TRANSITION_CASE)
@require_POST
def subtask_act(request: HttpRequest, pk: int) -> HttpResponse:
    """Accept, return (with reason) or handle (with result and evidence photos) a sub-task."""
    subtask = access_subtask(request.user, pk)
    back = safe_next(request, f"/cases/{subtask.case_id}/")
    form = SubTaskForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("提交的内容无效，请检查后重试。"))
        return redirect(back)
    data = form.cleaned_data
    try:
        if data["expected_version"] != subtask.version:
            raise Conflict(_("该子任务已被他人更新，请刷新后重试。"))
        with atomic_with_files():  # evidence and the step, or nothing
            if data["action"] == "handle":
                for content in read_photos(data["photos"]):
                    attachment_add(
                        actor=request.user, case=subtask.case, kind="after", content=content
                    )
            subtask_transition(
                actor=request.user,
                subtask=subtask,
                action=data["action"],
                expected_version=data["expected_version"],
                reason=data["reason"],
                result=data["result"],
            )
    except WanggeError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已提交。"))
    return redirect(back)


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    qs = notes.notification_list_for_user(request.user)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    # Staff open the case page; a resident with an account follows it on the tracking page.
    staff = has_perm_anywhere(request.user, VIEW_CASE) or has_perm_anywhere(
        request.user, TRANSITION_CASE
    )
    return render(request, "cases/notifications.html", {"page": page, "staff": staff})


@login_required
@require_POST
def notification_read(request: HttpRequest) -> HttpResponse:
    """Mark one (``id``) or all of the user's own notifications read."""
    raw = request.POST.getlist("id")
    ids = [int(i) for i in raw if i.isdigit()] if raw else None
    notes.notification_mark_read(actor=request.user, ids=ids)
    if getattr(request, "htmx", False):
        return HttpResponse(_("已读"))
    return redirect("cases:notifications")
