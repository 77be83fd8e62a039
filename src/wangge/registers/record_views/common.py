"""Shared helpers of the record pages: permissions, the form page, lists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext

from wangge.accounts.permissions import has_perm_at
from wangge.core.exceptions import NotFound, WanggeError
from wangge.web.forms import add_domain_error

from ..links import record_url

VIEW_PERSON = "registers.view_person"
ADD_PERSON = "registers.add_person"
CHANGE_PERSON = "registers.change_person"
VIEW_HOUSEHOLD, CHANGE_HOUSEHOLD = "registers.view_household", "registers.change_household"
VIEW_BUILDING, CHANGE_BUILDING = "registers.view_building", "registers.change_building"
VIEW_HOUSE, CHANGE_HOUSE = "registers.view_house", "registers.change_house"
VIEW_ORG, CHANGE_ORG = "registers.view_organisation", "registers.change_organisation"
VIEW_COMPONENT, CHANGE_COMPONENT = "registers.view_component", "registers.change_component"
GRID_NOT_FOUND = "网格代码不存在或不在您的管辖范围内"


def require_change(user: Any, perm: str, obj: Any) -> None:
    """An object the user may see but not change answers 404 on its edit page, like one
    outside the area."""
    if not has_perm_at(user, perm, obj.region_path):
        raise NotFound(gettext("记录不存在或不在您的管辖范围内"))


def form_error(form: Any, exc: WanggeError) -> None:
    """A refused grid goes on the grid field; other errors on their fields or on top."""
    grid_refused = isinstance(exc, NotFound) and exc.message == gettext(GRID_NOT_FOUND)
    if grid_refused and "grid" in form.fields:
        form.add_error("grid", exc.message)
        return
    add_domain_error(form, exc)


def form_page(
    request: HttpRequest,
    form: Any,
    save: Callable[[], Any],
    *,
    title: str,
    back: str,
    done: str,
    note: str = "",
) -> HttpResponse:
    """Render ``form``; on a valid POST call ``save`` (one service) and go to the record."""
    if request.method == "POST" and form.is_valid():
        try:
            obj = save()
        except WanggeError as exc:
            form_error(form, exc)
        else:
            messages.success(request, done)
            return redirect(record_url(obj))
    return render(
        request,
        "registers/form.html",
        {"form": form, "title": title, "back": back, "note": note},
    )


def grid_initial(request: HttpRequest) -> dict[str, Any]:
    return {"grid": request.GET.get("grid", "")}


def page_of(request: HttpRequest, qs: Any, size: int = 50) -> Any:
    return Paginator(qs, size).get_page(request.GET.get("page"))


def query_of(request: HttpRequest, *keys: str) -> tuple[dict[str, str], str]:
    values = {k: request.GET.get(k, "").strip() for k in keys}
    return values, urlencode({k: v for k, v in values.items() if v})
