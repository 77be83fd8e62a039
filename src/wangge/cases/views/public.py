"""Resident pages, no account needed: report a problem, track it by code, rate it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wangge.accounts.permissions import has_perm_anywhere
from wangge.core.exceptions import NotFound, WanggeError
from wangge.web.mapcrs import transform_collection

from ..choices import OPEN_STATES, CaseState, Source
from ..forms import (
    FeedbackForm,
    PhoneCodeForm,
    ReportForm,
    TrackLookupForm,
    add_domain_error,
    new_client_key,
    read_photos,
)
from ..ratelimit import client_address
from ..selectors import case_public_track, public_grid_extent, public_grid_outlines
from ..services import (
    attachment_add,
    case_create,
    case_phone_code_check,
    case_phone_code_request,
    case_public_feedback,
)
from ..services.attachments import atomic_with_files
from .common import ADD_CASE, map_settings, rate_limited, tile_crs


def _public_actor(request: HttpRequest) -> Any:
    """A signed-in resident is linked as the reporter; staff on this page report as the public
    (their own channel is /cases/new/)."""
    user = request.user
    if user.is_authenticated and not has_perm_anywhere(user, ADD_CASE):
        return user
    return None


@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if rate_limited(request):
            form.add_error(None, _("提交过于频繁，请稍后再试。"))
            status = 429
        elif form.is_valid():
            data = form.cleaned_data
            actor = _public_actor(request)
            try:
                # A wrong code counts a try even though nothing is filed: checked first.
                verification = (
                    case_phone_code_check(phone=data["reporter_phone"], code=data["phone_code"])
                    if data["phone_code"]
                    else None
                )
                with atomic_with_files():  # the case and its photos, or nothing
                    result = case_create(
                        actor=actor,
                        source=Source.RESIDENT,
                        title=data["title"],
                        description=data["description"],
                        lon=data["lon"],
                        lat=data["lat"],
                        crs=data["crs"],
                        address=data["address"],
                        matter_type_code=data["matter_type"] or None,
                        reporter_name=data["reporter_name"],
                        reporter_phone=data["reporter_phone"],
                        client_key=data["client_key"],
                        phone_verification=verification,
                    )
                    if result.created:
                        for content in read_photos(data["photos"]):
                            attachment_add(
                                actor=actor, case=result.case, kind="before", content=content
                            )
            except WanggeError as exc:
                add_domain_error(form, exc)
            else:
                case = result.case
                context = {
                    "case": case,
                    "track_url": reverse("public:track", args=[case.tracking_code]),
                }
                return render(
                    request,
                    "cases/report_done.html",
                    context,
                    status=201 if result.created else 200,
                )
        if status == 200:
            status = 422
    context = {"form": form, "extent": public_grid_extent(), **map_settings()}
    return render(request, "cases/report.html", context, status=status)


@require_POST
def report_phone_code(request: HttpRequest) -> HttpResponse:
    """The report page's "获取验证码": send a code to the phone typed in the form. HTMX gets
    the status line (200, so it is shown); without JavaScript the page comes back with it."""
    form = PhoneCodeForm(request.POST)
    status, ok = 200, False
    if not form.is_valid():
        message, status = str(_("请先填写手机号。")), 422
    else:
        try:
            sent = case_phone_code_request(
                phone=form.cleaned_data["reporter_phone"], client_ip=client_address(request)
            )
        except WanggeError as exc:
            message, status = exc.message, exc.status
        else:
            ok = True
            message = str(
                _("验证码已发送至%(p)s，%(m)d分钟内有效。")
                % {"p": sent.phone, "m": sent.expires_in // 60}
            )
    line = {"code_message": message, "code_sent": ok}
    if getattr(request, "htmx", False):
        return render(request, "cases/partials/phone_code_status.html", line)
    initial = {k: v for k, v in request.POST.items() if k in ReportForm.base_fields}
    initial["client_key"] = initial.get("client_key") or new_client_key()
    context = {
        "form": ReportForm(initial=initial),
        "extent": public_grid_extent(),
        **line,
        **map_settings(),
    }
    return render(request, "cases/report.html", context, status=status)


@require_GET
def report_grids(request: HttpRequest) -> JsonResponse:
    """Grid outlines (name and code only) in a box, drawn in the map's CRS."""
    try:
        west, south, east, north = (float(v) for v in request.GET.get("bbox", "").split(","))
    except ValueError:
        return JsonResponse({"error": "bbox=west,south,east,north"}, status=400)
    if not (west <= east and south <= north):
        return JsonResponse({"error": "bbox=west,south,east,north"}, status=400)
    grids = public_grid_outlines(west=west, south=south, east=east, north=north)
    data = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": g.code,
                "geometry": g.boundary,
                "properties": {"code": g.code, "name": g.name},
            }
            for g in grids
        ],
    }
    response = JsonResponse(
        transform_collection(data, tile_crs()), content_type="application/geo+json"
    )
    response["Cache-Control"] = "public, max-age=300"  # boundaries change rarely
    return response


@require_GET
def track_lookup(request: HttpRequest) -> HttpResponse:
    form = TrackLookupForm(request.GET or None)
    if form.is_valid():
        return redirect("public:track", code=form.cleaned_data["code"].strip().upper())
    return render(request, "cases/track_lookup.html", {"form": form})


def _track_context(code: str, form: FeedbackForm | None = None) -> dict[str, Any]:
    info = case_public_track(code)
    return {
        "info": info,
        "open": info["state"] in OPEN_STATES,
        "may_rate": info["state"] == CaseState.CLOSED,
        "form": form or FeedbackForm(),
    }


@require_GET
def track(request: HttpRequest, code: str) -> HttpResponse:
    try:
        context = _track_context(code)
    except NotFound:
        form = TrackLookupForm(initial={"code": code})
        return render(
            request, "cases/track_lookup.html", {"form": form, "missing": code}, status=404
        )
    return render(request, "cases/track.html", context)


@require_POST
def track_feedback(request: HttpRequest, code: str) -> HttpResponse:
    form = FeedbackForm(request.POST)
    status = 422
    if rate_limited(request):
        form.add_error(None, _("提交过于频繁，请稍后再试。"))
        status = 429
    elif form.is_valid():
        data = form.cleaned_data
        try:
            case = case_public_feedback(
                code=code,
                phone=data["phone"],
                score=data["score"],
                reason=data["reason"],
                reopen=data["reopen"],
            )
        except NotFound:
            form.add_error("phone", _("查询码或手机号不正确，请输入上报时留的手机号。"))
        except WanggeError as exc:
            add_domain_error(form, exc)
        else:
            if case.state == CaseState.IN_PROGRESS:
                messages.success(request, _("已收到您的意见，问题将重新办理。"))
            else:
                messages.success(request, _("感谢您的评价！"))
            return redirect("public:track", code=case.tracking_code)
    try:
        context = _track_context(code, form)
    except NotFound:
        return render(request, "cases/track_lookup.html", {"form": TrackLookupForm()}, status=404)
    return render(request, "cases/track.html", context, status=status)
