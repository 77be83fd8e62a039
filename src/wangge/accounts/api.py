from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from .services import user_roles_summary

router = Router(tags=["accounts"])


class MeOut(Schema):
    username: str
    display_name: str
    roles: list[dict[str, Any]]


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> Any:
    user: Any = request.user
    return {
        "username": user.username,
        "display_name": user.display_name,
        "roles": user_roles_summary(user),
    }
