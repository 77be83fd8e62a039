"""Area scoping: a role granted on a region covers its subtree.

Every read goes through :meth:`RestrictedQuerySet.restrict` or an ``access_*`` helper, which
answer "not found" for objects that are missing *or* out of the user's area.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from .models import User

_CACHE_ATTR = "_wangge_scope_cache"
M = TypeVar("M", bound=models.Model)


def _minimal_paths(paths: list[str]) -> list[str]:
    """Drop paths covered by another path in the list (a subtree of a subtree)."""
    result: list[str] = []
    for path in sorted(set(paths)):
        if not any(path.startswith(kept) for kept in result):
            result.append(path)
    return result


def scope_paths(user: Any, perm: str) -> list[str] | None:
    """Region paths where ``user`` holds ``perm`` (``app_label.codename``).

    ``None`` means unrestricted (active superuser); ``[]`` means nowhere."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    if user.is_superuser:
        return None
    cache: dict[str, list[str]] = getattr(user, _CACHE_ATTR, None) or {}
    if perm not in cache:
        from .models import RoleAssignment

        app_label, codename = perm.split(".", 1)
        paths = RoleAssignment.objects.filter(
            user=user,
            role__permissions__content_type__app_label=app_label,
            role__permissions__codename=codename,
        ).values_list("region__path", flat=True)
        cache[perm] = _minimal_paths(list(paths))
        setattr(user, _CACHE_ATTR, cache)
    return cache[perm]


def clear_scope_cache(user: Any) -> None:
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def has_perm_anywhere(user: Any, perm: str) -> bool:
    paths = scope_paths(user, perm)
    return paths is None or bool(paths)


def has_perm_at(user: Any, perm: str, region_path: str) -> bool:
    paths = scope_paths(user, perm)
    return paths is None or any(region_path.startswith(p) for p in paths)


def path_filter(field: str, paths: list[str]) -> Q:
    """``Q`` matching rows whose ``field`` (a materialized path) lies under any of ``paths``."""
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(**{f"{field}__startswith": p})
    return q


class RestrictedQuerySet(models.QuerySet[M]):
    """QuerySet with ``restrict(user, action)`` (after NetBox).

    The model names the materialized-path lookup of the region it belongs to in
    ``scope_path_field`` (e.g. ``"path"`` for Region, ``"region__path"`` for a grid-bound object).
    """

    def restrict(self, user: User | Any, action: str = "view") -> RestrictedQuerySet[M]:
        meta = self.model._meta
        perm = f"{meta.app_label}.{action}_{meta.model_name}"
        paths = scope_paths(user, perm)
        if paths is None:
            return self
        if not paths:
            return self.none()
        field = getattr(self.model, "scope_path_field", "region__path")
        return self.filter(path_filter(field, paths))
