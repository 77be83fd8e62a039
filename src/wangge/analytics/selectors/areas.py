"""Areas of the command centre: opening one in the user's scope, its sub-areas and grids."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from wangge.accounts.permissions import has_perm_at, scope_paths
from wangge.core.exceptions import NotFound
from wangge.geo.choices import Level
from wangge.geo.models import Region

VIEW_DASHBOARD = "analytics.view_dashboard"
VIEW_ASSESSMENT = "analytics.view_assessment"
RUN_ASSESSMENT = "analytics.run_assessment"
VIEW_REPORT = "analytics.view_report"

# --- areas ---------------------------------------------------------------------------------


def access_area(user: Any, code: str | None, perm: str = VIEW_DASHBOARD) -> Region:
    """The active region ``code`` if ``user`` holds ``perm`` there (else ``NotFound``)."""
    region = Region.objects.filter(code=str(code or "").strip(), is_active=True).first()
    if region is None or not has_perm_at(user, perm, region.path):
        raise NotFound(_("区域不存在或不在您的管辖范围内。"))
    return region


def default_area(user: Any, perm: str = VIEW_DASHBOARD) -> Region | None:
    """The top of the user's area for ``perm`` (a superuser: the shallowest county or root)."""
    paths = scope_paths(user, perm)
    if paths is None:
        return (
            Region.objects.filter(level=Level.COUNTY, is_active=True)
            .order_by("depth", "code")
            .first()
            or Region.objects.filter(is_active=True).order_by("depth", "code").first()
        )
    if not paths:
        return None
    return Region.objects.filter(path=paths[0]).first()


def breadcrumbs(user: Any, region: Region, perm: str = VIEW_DASHBOARD) -> list[Region]:
    """Ancestors of ``region`` inside the user's area (for drilling back up), then ``region``."""
    ids = region.ancestor_ids()
    ancestors = Region.objects.in_bulk(ids)
    return [
        ancestors[i] for i in ids if i in ancestors and has_perm_at(user, perm, ancestors[i].path)
    ]


def children(region: Region) -> list[Region]:
    """The active sub-areas of ``region``, without their polygons (the map reads those through
    :func:`boundaries`, kept per process)."""
    if region.level == Level.GRID:
        return []
    return list(
        Region.objects.filter(parent=region, is_active=True).defer("boundary").order_by("code")
    )


def grids_under(region: Region) -> QuerySet[Region]:
    if region.level == Level.GRID:
        return Region.objects.filter(pk=region.pk)
    return Region.objects.filter(
        path__startswith=region.path, level=Level.GRID, is_active=True
    ).order_by("code")
