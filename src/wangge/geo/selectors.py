"""Reads of the region tree, always scoped to the user."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from wangge.accounts.permissions import scope_paths
from wangge.core.exceptions import NotFound

from .models import PATH_SEP, Region


def region_list_for_user(user: Any, action: str = "view") -> QuerySet[Region]:
    return Region.objects.restrict(user, action).filter(is_active=True)


def access_region(user: Any, code_or_pk: str | int, action: str = "view") -> Region:
    """Load one region by code (or primary key) or answer NotFound when missing or out of area."""
    qs = Region.objects.restrict(user, action).select_related("parent")
    key = str(code_or_pk)
    region = qs.filter(code=key).first()
    if region is None and key.isdigit() and len(key) < 6:
        region = qs.filter(pk=int(key)).first()
    if region is None:
        raise NotFound("region")
    return region


def region_roots_for_user(user: Any, action: str = "view") -> QuerySet[Region]:
    """The highest regions the user may see: where their grants start."""
    paths = scope_paths(user, f"geo.{action}_region")
    if paths is None:
        return Region.objects.filter(parent__isnull=True, is_active=True)
    return Region.objects.filter(path__in=paths, is_active=True)


def region_ancestors(region: Region) -> list[Region]:
    ids = region.ancestor_ids()[:-1]
    by_id = {r.pk: r for r in Region.objects.filter(pk__in=ids)}
    return [by_id[i] for i in ids if i in by_id]


def region_visible_ancestors(user: Any, region: Region) -> list[Region]:
    """Breadcrumb: only the ancestors the user may open."""
    visible = set(
        region_list_for_user(user).filter(pk__in=region.ancestor_ids()).values_list("pk", flat=True)
    )
    return [r for r in region_ancestors(region) if r.pk in visible]


def region_children(user: Any, region: Region) -> QuerySet[Region]:
    return region_list_for_user(user).filter(parent=region).order_by("code")


def region_subtree(user: Any, region: Region) -> QuerySet[Region]:
    return region_list_for_user(user).filter(path__startswith=region.path)


def region_search(user: Any, query: str, limit: int = 50) -> QuerySet[Region]:
    query = query.strip()
    if not query:
        return Region.objects.none()
    qs = region_list_for_user(user)
    if query.isdigit():
        qs = qs.filter(code__startswith=query)
    else:
        qs = qs.filter(Q(name__icontains=query))
    return qs.order_by("depth", "code")[:limit]


def region_path_names(region: Region) -> list[dict[str, Any]]:
    return [r.summary() for r in [*region_ancestors(region), region]]


def split_path(path: str) -> list[int]:
    return [int(p) for p in path.strip(PATH_SEP).split(PATH_SEP) if p]
