"""Area scoping: a role granted on a region covers its subtree.

Every read goes through :meth:`RestrictedQuerySet.restrict` or an ``access_*`` helper, which
answer "not found" for objects that are missing *or* out of the user's area.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
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


# The grants of recently seen users, per process, keyed by (user id, grants stamp). The stamp is
# read with the user row (token or session authentication loads it anyway) and replaced by every
# change of the user's grants (see ``grants_changed``), so a hit is always current and a request
# needs no query to know where its user may act. Bounded: cleared when full.
_GRANTS: dict[tuple[int, int], dict[str, list[str]]] = {}
_GRANTS_MAX = 4096
_grants_lock = threading.Lock()


def _load_grants(user_id: int) -> dict[str, list[str]]:
    """Permission → minimal region paths of every role assignment of ``user_id`` (one query)."""
    from .models import RoleAssignment

    by_perm: dict[str, list[str]] = {}
    rows = RoleAssignment.objects.filter(user_id=user_id).values_list(
        "role__permissions__content_type__app_label", "role__permissions__codename", "region__path"
    )
    for app_label, codename, path in rows:
        if codename is not None:  # a role without permissions
            by_perm.setdefault(f"{app_label}.{codename}", []).append(path)
    return {perm: _minimal_paths(paths) for perm, paths in by_perm.items()}


def _cached_grants(user: Any) -> dict[str, list[str]] | None:
    """The user's grants from the process cache, or None when the user object carries no stamp
    (a row loaded with ``only()``/``defer()``; reading it would cost a query of its own)."""
    stamp = user.__dict__.get("grants_stamp")
    if stamp is None or user.pk is None:
        return None
    key = (user.pk, stamp)
    grants = _GRANTS.get(key)
    if grants is None:
        grants = _load_grants(user.pk)
        with _grants_lock:
            if len(_GRANTS) >= _GRANTS_MAX:
                _GRANTS.clear()
            _GRANTS[key] = grants
    return grants


def grants_changed(user_ids: Iterable[int]) -> None:
    """Give the users a new grants stamp: every process's cached grants of theirs stop matching.
    Called (through the model signals in apps.py) whenever a role assignment is saved or
    deleted or a role's permissions change, and by bulk writers that bypass the signals."""
    from .models import User, new_grants_stamp

    ids = sorted(set(user_ids))
    if ids:
        User.objects.filter(pk__in=ids).update(grants_stamp=new_grants_stamp())


def forget_cached_grants() -> None:
    """Drop this process's cached grants (tests; never needed for correctness)."""
    with _grants_lock:
        _GRANTS.clear()


def scope_paths(user: Any, perm: str) -> list[str] | None:
    """Region paths where ``user`` holds ``perm`` (``app_label.codename``).

    ``None`` means unrestricted (active superuser); ``[]`` means nowhere."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    if user.is_superuser:
        return None
    grants = _cached_grants(user)
    if grants is not None:
        return list(grants.get(perm, ()))
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
    """Drop the per-object scope cache (user rows loaded without their grants stamp). The stamp
    itself is renewed, on the object the assignment was written with too, by the signals."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def refresh_grants_stamp(user: Any) -> None:
    """Let a user object that is used again after a change of its grants carry the new stamp."""
    if user is not None and user.pk is not None and "grants_stamp" in user.__dict__:
        from .models import User

        user.grants_stamp = (
            User.objects.filter(pk=user.pk).values_list("grants_stamp", flat=True).first()
        )


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
