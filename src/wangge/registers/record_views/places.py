"""Pages of buildings and houses (地), with the tenants of a house."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from wangge.accounts.permissions import has_perm_anywhere, has_perm_at
from wangge.core.exceptions import ValidationError, WanggeError
from wangge.web.forms import add_domain_error
from wangge.web.views import perm_anywhere

from ..choices import Hazard, RentalStatus
from ..forms import (
    BuildingForm,
    HouseForm,
    TenancyEndForm,
    TenancyForm,
)
from ..links import record_url
from ..selectors import (
    access_building,
    access_house,
    access_tenancy,
    building_list_for_user,
    house_list_for_user,
    household_list_for_user,
    in_region,
    person_dict,
    person_list_for_user,
    tenancies_for_user,
)
from ..services import (
    building_create,
    building_update,
    house_create,
    house_update,
    tenancy_add,
    tenancy_end,
)
from .common import (
    CHANGE_BUILDING,
    CHANGE_HOUSE,
    VIEW_BUILDING,
    VIEW_HOUSE,
    form_page,
    grid_initial,
    page_of,
    query_of,
    require_change,
)


# --- 地: buildings and houses -------------------------------------------------------------------
@perm_anywhere(VIEW_BUILDING)
@require_GET
def buildings(request: HttpRequest) -> HttpResponse:
    q, querystring = query_of(request, "grid", "q")
    qs = in_region(building_list_for_user(request.user), q["grid"]).annotate(n=Count("houses"))
    if q["q"]:
        qs = qs.filter(Q(code__startswith=q["q"]) | Q(name__contains=q["q"]))
    return render(
        request,
        "registers/buildings.html",
        {
            "page": page_of(request, qs.order_by("code")),
            "q": q,
            "querystring": querystring,
            "may_add": has_perm_anywhere(request.user, CHANGE_BUILDING),
        },
    )


@perm_anywhere(VIEW_BUILDING)
@require_GET
def building_detail(request: HttpRequest, pk: int) -> HttpResponse:
    building = access_building(request.user, pk)
    houses = house_list_for_user(request.user).filter(building=building)
    return render(
        request,
        "registers/building_detail.html",
        {
            "building": building,
            "houses": houses[:500],
            "may_edit": has_perm_at(request.user, CHANGE_BUILDING, building.region_path),
            "may_add_house": has_perm_at(request.user, CHANGE_HOUSE, building.region_path),
        },
    )


def _building_fields(form: Any) -> dict[str, Any]:
    d = form.cleaned_data
    return {k: d[k] for k in ("code", "name", "address", "floors", "build_year", "lon", "lat")}


@perm_anywhere(CHANGE_BUILDING)
def building_new(request: HttpRequest) -> HttpResponse:
    form = BuildingForm(request.POST or None, user=request.user, initial=grid_initial(request))
    return form_page(
        request,
        form,
        lambda: building_create(
            actor=request.user, grid=form.cleaned_data["grid"], **_building_fields(form)
        ),
        title=gettext("登记楼栋"),
        back=reverse("registers:buildings"),
        done=gettext("已登记。"),
    )


@perm_anywhere(CHANGE_BUILDING)
def building_edit(request: HttpRequest, pk: int) -> HttpResponse:
    building = access_building(request.user, pk)
    require_change(request.user, CHANGE_BUILDING, building)
    initial = {f: getattr(building, f) for f in ("code", "name", "address", "floors", "build_year")}
    initial.update(grid=building.grid.code, lon=building.lon, lat=building.lat)
    form = BuildingForm(request.POST or None, user=request.user, initial=initial)

    def save() -> Any:
        changes = _building_fields(form)
        if form.cleaned_data["grid"] != building.grid.code:
            changes["grid"] = form.cleaned_data["grid"]
        return building_update(actor=request.user, building=building, **changes)

    return form_page(
        request,
        form,
        save,
        title=gettext("修改楼栋：%(name)s") % {"name": building.name},
        back=record_url(building),
        done=gettext("已保存。"),
    )


@perm_anywhere(VIEW_HOUSE)
@require_GET
def houses(request: HttpRequest) -> HttpResponse:
    q, querystring = query_of(request, "grid", "q", "rental_status", "hazard")
    qs = house_list_for_user(request.user, q["grid"] or None)
    if q["q"]:
        qs = qs.filter(Q(code__startswith=q["q"]) | Q(address__contains=q["q"]))
    if q["rental_status"]:
        qs = qs.filter(rental_status=q["rental_status"])
    if q["hazard"] == "any":
        qs = qs.exclude(hazards=[])
    return render(
        request,
        "registers/houses.html",
        {
            "page": page_of(request, qs),
            "q": q,
            "querystring": querystring,
            "rental_choices": RentalStatus.choices,
            "may_add": has_perm_anywhere(request.user, CHANGE_HOUSE),
        },
    )


@perm_anywhere(VIEW_HOUSE)
@require_GET
def house_detail(request: HttpRequest, pk: int) -> HttpResponse:
    house = access_house(request.user, pk)
    may_edit = has_perm_at(request.user, CHANGE_HOUSE, house.region_path)
    return render(
        request,
        "registers/house_detail.html",
        {
            "house": house,
            "hazard_labels": [str(dict(Hazard.choices).get(h, h)) for h in house.hazards],
            "tenancies": tenancies_for_user(request.user, house),
            "households": household_list_for_user(request.user).filter(house=house),
            "residents": [
                person_dict(p, request.user)
                for p in person_list_for_user(request.user).filter(house=house)[:100]
            ],
            "may_edit": may_edit,
            "tenancy_form": TenancyForm(user=request.user) if may_edit else None,
        },
    )


def _house_initial(house: Any) -> dict[str, Any]:
    fields = ("code", "unit", "floor", "room", "use", "area_m2", "ownership", "owner_name")
    initial = {f: getattr(house, f) for f in fields}
    initial.update(
        building_code=house.building.code,
        rental_status=house.rental_status,
        hazards=house.hazards,
        hazard_note=house.hazard_note,
    )
    return initial


@perm_anywhere(CHANGE_HOUSE)
def house_new(request: HttpRequest) -> HttpResponse:
    form = HouseForm(
        request.POST or None,
        user=request.user,
        initial={"building_code": request.GET.get("building", "")},
    )
    return form_page(
        request,
        form,
        lambda: house_create(actor=request.user, **form.service_fields()),
        title=gettext("登记房屋"),
        back=reverse("registers:houses"),
        done=gettext("已登记。"),
    )


@perm_anywhere(CHANGE_HOUSE)
def house_edit(request: HttpRequest, pk: int) -> HttpResponse:
    house = access_house(request.user, pk)
    require_change(request.user, CHANGE_HOUSE, house)
    form = HouseForm(request.POST or None, user=request.user, initial=_house_initial(house))

    def save() -> Any:
        changes = form.service_fields()
        if changes["building"].pk == house.building_id:
            changes.pop("building")
        return house_update(actor=request.user, house=house, **changes)

    return form_page(
        request,
        form,
        save,
        title=gettext("修改房屋：%(address)s") % {"address": house.address},
        back=record_url(house),
        done=gettext("已保存。"),
    )


@perm_anywhere(CHANGE_HOUSE)
@require_POST
def tenancy_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    house = access_house(request.user, pk)
    require_change(request.user, CHANGE_HOUSE, house)
    form = TenancyForm(request.POST, user=request.user)
    if form.is_valid():
        d = form.cleaned_data
        try:
            tenancy_add(
                actor=request.user,
                house=house,
                person=d["tenant"],
                start_date=d["start_date"],
                end_date=d["end_date"],
                note=d["note"],
            )
        except WanggeError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, gettext("已登记租户。"))
            return redirect(record_url(house))
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))
    return redirect(record_url(house))


@perm_anywhere(CHANGE_HOUSE)
@require_POST
def tenancy_end_view(request: HttpRequest, pk: int, tenancy_pk: int) -> HttpResponse:
    house = access_house(request.user, pk)
    require_change(request.user, CHANGE_HOUSE, house)
    tenancy = access_tenancy(request.user, house, tenancy_pk)
    form = TenancyEndForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(gettext("日期格式错误(应为 YYYY-MM-DD)"))
        tenancy_end(actor=request.user, tenancy=tenancy, end_date=form.cleaned_data["end_date"])
    except WanggeError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, gettext("已退租。"))
    return redirect(record_url(house))
