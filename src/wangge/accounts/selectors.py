from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from wangge.core.exceptions import NotFound, PermissionDenied

from .models import ApiToken, Role, RoleAssignment, User
from .permissions import has_perm_at, path_filter, scope_paths


def user_list_for_user(actor: Any, perm: str = "accounts.view_user") -> QuerySet[User]:
    """Users holding at least one grant inside the actor's area (superusers: everyone)."""
    paths = scope_paths(actor, perm)
    if paths is None:
        return User.objects.all().order_by("username")
    if not paths:
        return User.objects.none()
    ids = RoleAssignment.objects.filter(path_filter("region__path", paths)).values("user_id")
    return User.objects.filter(pk__in=ids).order_by("username")


def user_list_with_grants(actor: Any) -> QuerySet[User]:
    """``user_list_for_user`` with each user's grants inside the actor's area prefetched as
    ``visible_grants`` (for list pages; grants elsewhere stay hidden)."""
    paths = scope_paths(actor, "accounts.view_user")
    grants = RoleAssignment.objects.select_related("role", "region").order_by("region__path")
    if paths is not None:
        grants = grants.filter(path_filter("region__path", paths))
    return user_list_for_user(actor).prefetch_related(
        Prefetch("assignments", queryset=grants, to_attr="visible_grants")
    )


def access_user(actor: Any, pk: int, perm: str = "accounts.view_user") -> User:
    user = user_list_for_user(actor, perm).filter(pk=pk).first()
    if user is None:
        raise NotFound("user")
    return user


def role_list() -> QuerySet[Role]:
    return Role.objects.prefetch_related("permissions").order_by("id")


def assignments_visible_to(actor: Any, user: User) -> QuerySet[RoleAssignment]:
    paths = scope_paths(actor, "accounts.view_user")
    qs = user.assignments.select_related("role", "region").order_by("region__path")
    if paths is None:
        return qs
    return qs.filter(path_filter("region__path", paths))


def access_assignment(actor: Any, pk: int) -> RoleAssignment:
    paths = scope_paths(actor, "accounts.manage_users")
    qs = RoleAssignment.objects.select_related("user", "role", "region").filter(pk=pk)
    if paths is not None:
        qs = qs.filter(path_filter("region__path", paths))
    assignment = qs.first()
    if assignment is None:
        raise NotFound("assignment")
    return assignment


def tokens_of(user: User) -> QuerySet[ApiToken]:
    return user.api_tokens.order_by("-created_at")


def region_staff(actor: Any, region: Any) -> QuerySet[RoleAssignment]:
    """Active users' grants on ``region`` itself, or none unless the actor may view users there."""
    if not has_perm_at(actor, "accounts.view_user", region.path):
        return RoleAssignment.objects.none()
    return (
        RoleAssignment.objects.filter(region=region, user__is_active=True)
        .select_related("user", "role")
        .order_by("role_id", "user__username")
    )


def _common_path(paths: list[str]) -> str:
    """Deepest materialized path that contains every path in ``paths`` ("" when none)."""
    split = [p.strip("/").split("/") for p in paths if p]
    common: list[str] = []
    for segments in zip(*split, strict=False):
        if len(set(segments)) != 1:
            break
        common.append(segments[0])
    return "/" + "/".join(common) + "/" if common and split else ""


def access_user_to_manage(actor: Any, pk: int) -> tuple[User, str]:
    """A user the actor may change as a whole (activate, API tokens), with the region path to
    audit the change under.

    NotFound when the user is out of the actor's management area; PermissionDenied when the user
    is a superuser or also holds grants outside it: a user-wide change would reach beyond it."""
    user = access_user(actor, pk, "accounts.manage_users")
    paths = list(user.assignments.values_list("region__path", flat=True))
    manage = scope_paths(actor, "accounts.manage_users")
    if manage is not None and (
        user.is_superuser or any(not any(p.startswith(m) for m in manage) for p in paths)
    ):
        raise PermissionDenied(_("该用户在您的管辖范围之外也有授权，只能由上级管理员进行此操作。"))
    return user, _common_path(paths)
