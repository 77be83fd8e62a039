"""Pages. Each view parses input, calls one selector or service and renders.

Rules every view follows:
* anonymous users are sent to the login page (``login_required``);
* a page needs its permission somewhere in the user's grants, else 403 (``perm_anywhere``);
* a single object is loaded through an ``access_*`` helper: missing or out of area is 404;
* domain errors from services become form errors or messages, never 500s.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from wangge.accounts import selectors as account_selectors
from wangge.accounts import services as account_services
from wangge.accounts.permissions import has_perm_anywhere, has_perm_at
from wangge.accounts.roles import MANAGE_USERS, VIEW_AUDIT, VIEW_GEO, VIEW_USERS
from wangge.core.exceptions import NotFound, PermissionDenied, ValidationError, WanggeError
from wangge.core.selectors import health_status
from wangge.geo import selectors as geo_selectors
from wangge.geo.exporters import feature_collection
from wangge.geo.models import Region

from . import forms
from .mapcrs import transform_collection
from .navigation import navigation_for
from .selectors import audit_actions_for_user, audit_list_for_user

View = Callable[..., HttpResponse]


def perm_anywhere(perm: str) -> Callable[[View], View]:
    """Signed in (else login redirect) and holding ``perm`` somewhere (else 403)."""

    def decorator(view: View) -> View:
        @wraps(view)
        @login_required
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not has_perm_anywhere(request.user, perm):
                raise HttpForbidden
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404(exc.message) from exc

        return wrapped

    return decorator


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers and a worker beat recently; 503 otherwise."""
    status = health_status()
    return JsonResponse(status, status=200 if status["ok"] else 503)


# --- Home -------------------------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "grants": account_services.user_roles_summary(user),  # type: ignore[arg-type]
        "abilities": [i for i in navigation_for(user, request.path) if i["description"]],
        "roots": geo_selectors.region_roots_for_user(user).order_by("code")[:20],
    }
    return render(request, "web/home.html", context)


# --- Regions ----------------------------------------------------------------------------------


def _with_child_counts(qs: Any) -> Any:
    return qs.annotate(n_children=Count("children", filter=Q(children__is_active=True)))


@perm_anywhere(VIEW_GEO)
def region_index(request: HttpRequest) -> HttpResponse:
    roots = _with_child_counts(geo_selectors.region_roots_for_user(request.user)).order_by("code")
    return render(request, "web/region_index.html", {"roots": roots})


@perm_anywhere(VIEW_GEO)
def region_detail(request: HttpRequest, code: str) -> HttpResponse:
    user = request.user
    region = geo_selectors.access_region(user, code)
    children = _with_child_counts(geo_selectors.region_children(user, region))
    totals = geo_selectors.region_children(user, region).aggregate(
        households=Sum("households"), population=Sum("population")
    )
    geojson_url = reverse("web:region_geojson", args=[region.code])
    if settings.MAP_TILE_CRS not in ("", "wgs84"):
        geojson_url += "?" + urlencode({"crs": settings.MAP_TILE_CRS})
    context = {
        "region": region,
        "children_totals": totals,
        "ancestors": geo_selectors.region_visible_ancestors(user, region),
        "children": children,
        "staff": account_selectors.region_staff(user, region),
        # Large areas read better in km² (two decimals); small grids stay in m².
        "area_km2": round(region.area_m2 / 1e6, 2)
        if region.area_m2 and region.area_m2 >= 100_000
        else None,
        "may_view_users": has_perm_at(user, VIEW_USERS, region.path),
        "geojson_url": geojson_url,
        "map_tile_url": settings.MAP_TILE_URL,
        "map_tile_attribution": settings.MAP_TILE_ATTRIBUTION,
        # e.g. "01234567" for 天地图's t0–t7 hosts; Leaflet's default "abc" otherwise.
        "map_tile_subdomains": getattr(settings, "MAP_TILE_SUBDOMAINS", "") or "abc",
    }
    return render(request, "web/region_detail.html", context)


@perm_anywhere(VIEW_GEO)
@require_GET
def region_children_partial(request: HttpRequest, code: str) -> HttpResponse:
    """HTMX: the children of one node, for lazy expansion of the tree."""
    region = geo_selectors.access_region(request.user, code)
    children = _with_child_counts(geo_selectors.region_children(request.user, region))
    return render(request, "web/partials/region_children.html", {"children": children})


@perm_anywhere(VIEW_GEO)
@require_GET
def region_geojson(request: HttpRequest, code: str) -> JsonResponse:
    """The region and its visible children as a GeoJSON FeatureCollection for the page map.

    WGS-84 unless ``?crs=gcj02`` (tiles from 高德, 腾讯) or ``bd09`` (百度). Each feature carries
    the URL of its page so the map can navigate on click."""
    user = request.user
    region = geo_selectors.access_region(user, code)
    children = geo_selectors.region_children(user, region).select_related("parent")
    data = feature_collection([region, *children], name=region.code)
    for feature in data["features"]:
        props = feature["properties"]
        props["url"] = reverse("web:region", args=[feature["id"]])
        props["is_self"] = feature["id"] == region.code
        props["level_label"] = Region(level=props["level"]).get_level_display()
    crs = request.GET.get("crs", "wgs84").lower()
    try:
        data = transform_collection(data, crs)
    except ValueError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse(data, content_type="application/geo+json")


@perm_anywhere(VIEW_GEO)
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:64]
    results = geo_selectors.region_search(request.user, query) if query else []
    template = "web/partials/search_results.html" if request.htmx else "web/search.html"  # type: ignore[attr-defined]
    return render(request, template, {"q": query, "results": results})


# --- Users and grants -------------------------------------------------------------------------


@perm_anywhere(VIEW_USERS)
def user_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:64]
    qs = account_selectors.user_list_with_grants(request.user)
    if query:
        qs = qs.filter(
            Q(username__icontains=query)
            | Q(display_name__icontains=query)
            | Q(mobile__startswith=query)
        )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "q": query,
        "may_manage": has_perm_anywhere(request.user, MANAGE_USERS),
    }
    return render(request, "web/user_list.html", context)


def _user_detail_context(request: HttpRequest, target: Any, **extra: Any) -> dict[str, Any]:
    actor = request.user
    may_manage = has_perm_anywhere(actor, MANAGE_USERS)
    context: dict[str, Any] = {
        "target": target,
        "grants": account_selectors.assignments_visible_to(actor, target),
        "may_manage": may_manage,
        "tokens": account_selectors.tokens_of(target) if may_manage else [],
        "grant_form": forms.GrantForm(),
        "token_form": forms.TokenForm(),
    }
    context.update(extra)
    return context


@perm_anywhere(VIEW_USERS)
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    target = account_selectors.access_user(request.user, pk)
    return render(request, "web/user_detail.html", _user_detail_context(request, target))


@perm_anywhere(MANAGE_USERS)
def user_create(request: HttpRequest) -> HttpResponse:
    form = forms.UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            region = geo_selectors.access_region(request.user, data["region_code"])
            user = account_services.user_create_with_role(
                actor=request.user,
                username=data["username"],
                password=data["password"],
                display_name=data["display_name"],
                mobile=data["mobile"] or None,
                title=data["title"],
                role=data["role"],
                region=region,
            )
        except NotFound:
            form.add_error("region_code", _("区域不存在或不在您的管辖范围内。"))
        except WanggeError as exc:
            forms.add_domain_error(form, exc)
        else:
            messages.success(request, _("已创建用户 %(name)s。") % {"name": user})
            return redirect("web:user", pk=user.pk)
    return render(request, "web/user_form.html", {"form": form})


@perm_anywhere(MANAGE_USERS)
@require_POST
def grant_create(request: HttpRequest, pk: int) -> HttpResponse:
    target = account_selectors.access_user(request.user, pk, MANAGE_USERS)
    form = forms.GrantForm(request.POST)
    if form.is_valid():
        try:
            region = geo_selectors.access_region(request.user, form.cleaned_data["region_code"])
            account_services.role_assign(
                actor=request.user, user=target, role=form.cleaned_data["role"], region=region
            )
        except NotFound:
            form.add_error("region_code", _("区域不存在或不在您的管辖范围内。"))
        except WanggeError as exc:
            forms.add_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("已授予 %(role)s @ %(region)s。")
                % {"role": form.cleaned_data["role"].name, "region": region.name},
            )
            return redirect("web:user", pk=target.pk)
    context = _user_detail_context(request, target, grant_form=form)
    return render(request, "web/user_detail.html", context, status=422)


@perm_anywhere(MANAGE_USERS)
@require_POST
def grant_revoke(request: HttpRequest, pk: int, assignment_pk: int) -> HttpResponse:
    assignment = account_selectors.access_assignment(request.user, assignment_pk)
    if assignment.user_id != pk:
        raise Http404
    try:
        account_services.role_revoke(actor=request.user, assignment=assignment)
    except PermissionDenied as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("已撤销 %(role)s @ %(region)s。")
            % {"role": assignment.role.name, "region": assignment.region.name},
        )
    return redirect("web:user", pk=pk)


@perm_anywhere(MANAGE_USERS)
@require_POST
def user_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    active = request.POST.get("active") == "1"
    try:
        target, region_path = account_selectors.access_user_to_manage(request.user, pk)
        if target.pk == request.user.pk and not active:
            raise ValidationError(_("不能停用自己的账号。"))
        account_services.user_set_active(
            actor=request.user, user=target, active=active, region_path=region_path
        )
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("账号已启用。") if active else _("账号已停用。"))
    return redirect("web:user", pk=pk)


@perm_anywhere(MANAGE_USERS)
@require_POST
def token_create(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        target, _path = account_selectors.access_user_to_manage(request.user, pk)
    except PermissionDenied as exc:
        messages.error(request, exc.message)
        return redirect("web:user", pk=pk)
    form = forms.TokenForm(request.POST)
    if not form.is_valid():
        context = _user_detail_context(request, target, token_form=form)
        return render(request, "web/user_detail.html", context, status=422)
    token, secret = account_services.api_token_create(
        actor=request.user, user=target, name=form.cleaned_data["name"]
    )
    # The secret is shown on this response only; it is never stored or shown again.
    context = _user_detail_context(request, target, new_token=token, new_secret=secret)
    response = render(request, "web/user_detail.html", context)
    response["Cache-Control"] = "no-store"
    return response


@perm_anywhere(MANAGE_USERS)
@require_POST
def token_revoke(request: HttpRequest, pk: int, token_pk: int) -> HttpResponse:
    try:
        target, _path = account_selectors.access_user_to_manage(request.user, pk)
    except PermissionDenied as exc:
        messages.error(request, exc.message)
        return redirect("web:user", pk=pk)
    token = account_selectors.tokens_of(target).filter(pk=token_pk, revoked_at=None).first()
    if token is None:
        raise Http404
    account_services.api_token_revoke(actor=request.user, token=token)
    messages.success(request, _("令牌 %(name)s 已撤销。") % {"name": token.name})
    return redirect("web:user", pk=pk)


# --- Audit ------------------------------------------------------------------------------------


@perm_anywhere(VIEW_AUDIT)
def audit_list(request: HttpRequest) -> HttpResponse:
    form = forms.AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = audit_list_for_user(request.user, **{k: v for k, v in filters.items() if v})
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "querystring": query.urlencode(),
        "actions": audit_actions_for_user(request.user),
        "verify_result": request.session.pop("audit_verify_result", None),
    }
    return render(request, "web/audit_list.html", context)


@login_required
@require_POST
def audit_verify(request: HttpRequest) -> HttpResponse:
    """Superusers only: the whole chain spans every area."""
    if not request.user.is_superuser:
        raise HttpForbidden
    from wangge.core.audit import audit_verify as verify_chain

    problems = [
        {"seq": p.seq, "kind": p.kind, "detail": p.detail} for p in list(verify_chain())[:100]
    ]
    request.session["audit_verify_result"] = {"ok": not problems, "problems": problems}
    return redirect("web:audit")
