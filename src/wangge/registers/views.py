"""Registers pages (namespace ``registers``): people (masked, reveal with a reason), Excel
import with dry run, row report and progress, exports, grid profile, due visits and the
民情地图. Each view parses input, calls one selector or service, and renders."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from wangge.accounts.permissions import has_perm_anywhere, has_perm_at
from wangge.core.exceptions import NotFound, PermissionDenied, WanggeError
from wangge.geo.selectors import access_region
from wangge.web.views import perm_anywhere

from .choices import ComponentStatus, DuplicatePolicy, ImportKind, PersonFlag, SensitiveGroup
from .jobs import can_import, import_job_create, people_export, register_export
from .selectors import (
    PersonFilters,
    access_import_job,
    access_person,
    can_reveal,
    grid_profile,
    import_jobs_for_user,
    overdue_visits_for_user,
    person_dict,
    person_list_for_user,
)
from .services import person_reveal

VIEW_PERSON = "registers.view_person"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@perm_anywhere(VIEW_PERSON)
@require_GET
def people(request: HttpRequest) -> HttpResponse:
    filters = PersonFilters(
        grid=request.GET.get("grid") or None,
        q=request.GET.get("q") or None,
        flag=request.GET.get("flag") or None,
    )
    qs = person_list_for_user(request.user, filters)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    rows = [person_dict(p, request.user) for p in page.object_list]
    query = {k: v for k, v in vars(filters).items() if v}
    return render(
        request,
        "registers/people.html",
        {
            "page": page,
            "rows": rows,
            "filters": filters,
            "flags": PersonFlag.choices,
            "querystring": urlencode(query),
            "may_export": has_perm_anywhere(request.user, "registers.export_person"),
            "may_add": has_perm_anywhere(request.user, "registers.add_person"),
        },
    )


@perm_anywhere(VIEW_PERSON)
@require_GET
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = access_person(request.user, pk)
    data = person_dict(person, request.user)
    return render(
        request,
        "registers/person_detail.html",
        {
            "person": person,
            "data": data,
            "may_reveal": can_reveal(request.user, person) and not person.erased_at,
            "may_edit": not person.erased_at
            and has_perm_at(request.user, "registers.change_person", person.region_path),
            "group_labels": dict(SensitiveGroup.choices),
            "flag_labels": dict(PersonFlag.choices),
            "visits": person.visits.select_related("visitor")[:20],
        },
    )


@perm_anywhere(VIEW_PERSON)
@require_POST
def person_reveal_view(request: HttpRequest, pk: int) -> HttpResponse:
    """HTMX: the unmasked identifiers, after the reason was recorded in the audit log."""
    person = access_person(request.user, pk)
    context: dict[str, Any] = {"person": person}
    try:
        context["revealed"] = person_reveal(
            actor=request.user, person=person, reason=request.POST.get("reason", "")
        )
    except PermissionDenied as exc:
        raise HttpForbidden from exc
    except WanggeError as exc:
        context["error"] = exc.message
    return render(request, "registers/partials/reveal.html", context)


# --- import / export ----------------------------------------------------------------------------
@perm_anywhere("registers.import_registers")
def imports(request: HttpRequest) -> HttpResponse:
    kinds = [(k, label) for k, label in ImportKind.choices if can_import(request.user, k)]
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            job = import_job_create(
                actor=request.user,
                kind=request.POST.get("kind", ""),
                file_name=(upload.name or "") if upload else "",
                content=upload.read() if upload else b"",
                dry_run=request.POST.get("mode") != "import",
                on_duplicate=request.POST.get("on_duplicate", DuplicatePolicy.ERROR),
            )
        except PermissionDenied as exc:
            raise HttpForbidden from exc
        except WanggeError as exc:
            messages.error(request, exc.message)
        else:
            return redirect("registers:import_job", pk=job.pk)
    return render(
        request,
        "registers/imports.html",
        {
            "kinds": kinds,
            "policies": DuplicatePolicy.choices,
            "jobs": import_jobs_for_user(request.user)[:20],
        },
    )


@perm_anywhere("registers.import_registers")
@require_GET
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    from .excel.writer import template_bytes

    if kind not in ImportKind.values:
        raise Http404
    response = HttpResponse(template_bytes(kind), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="template-{kind}.xlsx"'
    return response


@perm_anywhere("registers.import_registers")
@require_GET
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    job = access_import_job(request.user, pk)
    htmx = request.headers.get("HX-Request") == "true"
    template = "registers/partials/job_status.html" if htmx else "registers/job.html"
    return render(request, template, {"job": job})


@perm_anywhere(VIEW_PERSON)
@require_GET
def export(request: HttpRequest, kind: str) -> HttpResponse:
    try:
        if kind == ImportKind.PEOPLE:
            data, _n = people_export(
                actor=request.user, filters=PersonFilters(grid=request.GET.get("grid") or None)
            )
        elif kind in ImportKind.values:
            data, _n = register_export(
                actor=request.user, kind=kind, grid=request.GET.get("grid") or None
            )
        else:
            raise Http404
    except PermissionDenied as exc:
        raise HttpForbidden from exc
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{kind}.xlsx"'
    return response


# --- grid profile, visits, map ------------------------------------------------------------------
@perm_anywhere(VIEW_PERSON)
@require_GET
def profile(request: HttpRequest, code: str) -> HttpResponse:
    region = access_region(request.user, code)
    data = grid_profile(request.user, region)
    return render(
        request,
        "registers/profile.html",
        {
            "region": region,
            "profile": data,
            "flag_labels": dict(PersonFlag.choices),
            "group_labels": dict(SensitiveGroup.choices),
            "status_labels": dict(ComponentStatus.choices),
        },
    )


@perm_anywhere(VIEW_PERSON)
@require_GET
def due_visits(request: HttpRequest) -> HttpResponse:
    page = Paginator(overdue_visits_for_user(request.user), 50).get_page(request.GET.get("page"))
    rows = [person_dict(p, request.user) for p in page.object_list]
    return render(request, "registers/due_visits.html", {"page": page, "rows": rows})


@perm_anywhere(VIEW_PERSON)
@require_GET
def people_map(request: HttpRequest) -> HttpResponse:
    from django.conf import settings

    return render(
        request,
        "registers/map.html",
        {
            "layers_url": reverse("registers:map_layers"),
            "map_tile_url": settings.MAP_TILE_URL,
            "map_tile_attribution": settings.MAP_TILE_ATTRIBUTION,
            "map_tile_subdomains": settings.MAP_TILE_SUBDOMAINS or "abc",
        },
    )


@perm_anywhere(VIEW_PERSON)
@require_GET
def map_layers(request: HttpRequest) -> JsonResponse:
    """GeoJSON layers of the 民情地图 for the caller's area; only what the role may see:
    households with elderly living alone (points at their house), component status points,
    hazard houses, and special groups as per-grid counts (individuals never leave the server).
    """
    from .map import map_layers_for_user

    try:
        data = map_layers_for_user(request.user, request.GET.get("grid") or None)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return JsonResponse(data)
