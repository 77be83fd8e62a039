"""Shared pieces of the case pages: access decorators, map settings, the public rate limit."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext_lazy as _

from wangge.accounts.permissions import has_perm_anywhere
from wangge.core.exceptions import NotFound

from .. import ratelimit
from ..ratelimit import client_address

View = Callable[..., HttpResponseBase]

VIEW_CASE = "cases.view_case"
ADD_CASE = "cases.add_case"
TRANSITION_CASE = "cases.transition_case"
SUPERVISE_CASE = "cases.supervise_case"
STALE = _("该事件已被他人更新，请刷新后重试。")
PUBLIC_RATE_PER_MINUTE = 10


def case_staff(*perms: str) -> Callable[[View], View]:
    """Signed in (else login redirect), holding any of ``perms`` somewhere (else 403);
    ``NotFound`` (missing or out of area) answers 404."""

    def decorator(view: View) -> View:
        @wraps(view)
        @login_required
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not any(has_perm_anywhere(request.user, p) for p in perms):
                raise HttpForbidden
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404(exc.message) from exc

        return wrapped

    return decorator


def map_settings() -> dict[str, Any]:
    """The same tile settings as the region map; no URL means a plain background."""
    return {
        "map_tile_url": settings.MAP_TILE_URL,
        "map_tile_attribution": settings.MAP_TILE_ATTRIBUTION,
        "map_tile_subdomains": getattr(settings, "MAP_TILE_SUBDOMAINS", "") or "abc",
        "map_crs": tile_crs(),
    }


def tile_crs() -> str:
    """The CRS the map is drawn in: points clicked on it are in this CRS."""
    return (getattr(settings, "MAP_TILE_CRS", "") or "wgs84").lower()


def rate_limited(request: HttpRequest) -> bool:
    """Public submissions per client address per minute (the API's limit and counter)."""
    limit = int(getattr(settings, "CASES_PUBLIC_RATE_PER_MINUTE", PUBLIC_RATE_PER_MINUTE))
    return ratelimit.hit(f"cases:intake:{client_address(request)}", limit=limit, window=60)


def safe_next(request: HttpRequest, default: str) -> str:
    """The posted ``next`` page when it is on this site, else ``default``."""
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return default
