"""Command centre (一屏观全域), hotspots, assessment results and reports (namespace
``analytics``). Views parse input, call one selector or service and render."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import FileResponse, Http404, HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wangge.accounts.permissions import has_perm_anywhere
from wangge.core.exceptions import NotFound, PermissionDenied, ValidationError

from . import branches
from . import selectors as sel
from .indicators import INDICATORS
from .periods import Period, parse_period

View = Callable[..., HttpResponseBase]


def analytics_staff(perm: str | None) -> Callable[[View], View]:
    """Signed in (else login redirect), holding ``perm`` somewhere (else 403; ``None``: the
    assessment pages, which department staff reach through membership); ``NotFound`` → 404."""

    def decorator(view: View) -> View:
        @wraps(view)
        @login_required
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            allowed = (
                branches.may_view_assessments(request.user)
                if perm is None
                else has_perm_anywhere(request.user, perm)
            )
            if not allowed:
                raise HttpForbidden
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404(exc.message) from exc
            except PermissionDenied as exc:
                raise HttpForbidden(exc.message) from exc

        return wrapped

    return decorator


def _area_and_period(request: HttpRequest, perm: str = sel.VIEW_DASHBOARD) -> tuple[Any, Period]:
    code = request.GET.get("area")
    region = (
        sel.access_area(request.user, code, perm) if code else sel.default_area(request.user, perm)
    )
    if region is None:
        raise NotFound(_("您没有可查看的区域。"))
    try:
        period = parse_period(request.GET.get("period"))
    except ValidationError as exc:
        messages.error(request, exc.message)
        period = parse_period(None)
    return region, period


@require_GET
@analytics_staff(sel.VIEW_DASHBOARD)
def dashboard(request: HttpRequest) -> HttpResponseBase:
    region, period = _area_and_period(request)
    from wangge.cases.views.common import map_settings

    return render(
        request,
        "analytics/dashboard.html",
        {
            "region": region,
            "period": period,
            "crumbs": sel.breadcrumbs(request.user, region),
            "indicators": INDICATORS,
            "data_url": f"{reverse('analytics:data')}?area={region.code}&period={period.label}",
            "map_url": f"{reverse('analytics:map')}?area={region.code}&period={period.label}",
            "hotspots_url": f"{reverse('analytics:hotspots')}?area={region.code}",
            "poll_seconds": _poll_seconds(request),
            **map_settings(),
        },
    )


def _poll_seconds(request: HttpRequest) -> int:
    try:
        return max(1, min(600, int(request.GET.get("poll") or 30)))
    except ValueError:
        return 30


@require_GET
@analytics_staff(sel.VIEW_DASHBOARD)
def dashboard_data(request: HttpRequest) -> HttpResponseBase:
    region, period = _area_and_period(request)
    return JsonResponse(sel.dashboard_data(request.user, region, period))


@require_GET
@analytics_staff(sel.VIEW_DASHBOARD)
def dashboard_map(request: HttpRequest) -> HttpResponseBase:
    region, period = _area_and_period(request)
    return JsonResponse(sel.map_data(region, period), content_type="application/geo+json")


@require_GET
@analytics_staff(sel.VIEW_DASHBOARD)
def hotspots(request: HttpRequest) -> HttpResponseBase:
    from .hotspots import hotspot_data

    region, _period = _area_and_period(request)
    return JsonResponse(hotspot_data(region))


# --- assessments ---------------------------------------------------------------------------


@require_GET
@analytics_staff(None)
def assessments(request: HttpRequest) -> HttpResponseBase:
    from .periods import previous_month

    schemes = list(sel.scheme_list_for_user(request.user))
    runs = list(branches.run_list_for_user(request.user)[:50])
    may_run = has_perm_anywhere(request.user, sel.RUN_ASSESSMENT)
    region = sel.default_area(request.user, sel.VIEW_REPORT)
    return render(
        request,
        "analytics/assessments.html",
        {
            "schemes": schemes,
            "runs": runs,
            "may_run": may_run,
            "last_month": previous_month().label,
            "reports": list(sel.report_list_for_user(request.user)[:30]),
            "may_report": has_perm_anywhere(request.user, sel.VIEW_REPORT),
            "report_region": region,
        },
    )


@require_POST
@analytics_staff(sel.RUN_ASSESSMENT)
def assessment_run(request: HttpRequest) -> HttpResponseBase:
    from .assessment import assessment_request

    scheme = (
        sel.scheme_list_for_user(request.user).filter(code=request.POST.get("scheme", "")).first()
    )
    if scheme is None:
        raise NotFound(_("考核方案不存在或不在您的管辖范围内。"))
    try:
        run = assessment_request(
            actor=request.user, scheme=scheme, period_label=request.POST.get("period", "")
        )
    except ValidationError as exc:
        messages.error(request, exc.message)
        return redirect("analytics:assessments")
    messages.success(request, _("考核计算已提交，完成后可查看结果。"))
    return redirect("analytics:run", pk=run.pk)


@require_GET
@analytics_staff(None)
def run_detail(request: HttpRequest, pk: int) -> HttpResponseBase:
    run = branches.access_run(request.user, pk)
    results = list(branches.result_list_for_user(request.user, run))
    # Each explanation line carries its indicator's definition (a tooltip), 党支部 ones included.
    defs = {code: str(i.definition) for code, i in branches.ALL_BY_CODE.items()}
    rows = [
        {
            "result": r,
            "lines": [
                {"text": d["text"], "definition": defs.get(d["indicator"], "")} for d in r.details
            ],
        }
        for r in results
    ]
    return render(request, "analytics/run_detail.html", {"run": run, "rows": rows})


# --- reports -------------------------------------------------------------------------------


@require_POST
@analytics_staff(sel.VIEW_REPORT)
def report_create(request: HttpRequest) -> HttpResponseBase:
    from .reports import report_request

    region = sel.access_area(request.user, request.POST.get("area"), sel.VIEW_REPORT)
    try:
        report_request(
            actor=request.user,
            region=region,
            period_label=request.POST.get("period", ""),
            fmt_=request.POST.get("format", ""),
        )
    except ValidationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("报告已提交生成，稍后刷新即可下载。"))
    return redirect("analytics:assessments")


@require_GET
@analytics_staff(sel.VIEW_REPORT)
def report_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    from .choices import RunStatus
    from .reports import report_filename

    report = sel.access_report(request.user, pk)
    if report.status != RunStatus.DONE or not report.file:
        raise NotFound(_("报告尚未生成。"))
    return FileResponse(
        report.file.open("rb"), as_attachment=True, filename=report_filename(report)
    )
