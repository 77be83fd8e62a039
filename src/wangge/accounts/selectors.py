from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from wangge.core.exceptions import NotFound

from .models import ApiToken, Role, RoleAssignment, User
from .permissions import path_filter, scope_paths


def user_list_for_user(actor: Any, perm: str = "accounts.view_user") -> QuerySet[User]:
    """Users holding at least one grant inside the actor's area (superusers: everyone)."""
    paths = scope_paths(actor, perm)
    if paths is None:
        return User.objects.all().order_by("username")
    if not paths:
        return User.objects.none()
    ids = RoleAssignment.objects.filter(path_filter("region__path", paths)).values("user_id")
    return User.objects.filter(pk__in=ids).order_by("username")


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
