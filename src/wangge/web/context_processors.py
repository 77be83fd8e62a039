from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .navigation import navigation_for


def shell(request: HttpRequest) -> dict[str, Any]:
    return {"nav_items": navigation_for(getattr(request, "user", None), request.path)}
