"""Helpers shared by the page tests and the permission matrix."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.test import Client

from wangge.accounts.models import Role, User


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def role_pk(code: str) -> int:
    """A role's pk; ``"viewer"`` is a test role holding only geo.view_region, which an area
    admin may always grant (system roles gain permissions as apps land)."""
    if code == "viewer":
        role, created = Role.objects.get_or_create(code="viewer", defaults={"name": "只读查看"})
        if created:
            role.permissions.set(
                [Permission.objects.get(content_type__app_label="geo", codename="view_region")]
            )
        return role.pk
    return Role.objects.get(code=code).pk
