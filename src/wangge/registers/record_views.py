"""Create, edit, list and detail pages of the registers (人、地、物、组织): people, households,
buildings, houses with their tenants, organisations and components.

Each page: the permission held somewhere (else 403), the object loaded through its access_*
helper and the change permission checked on its area (else 404), one service call; a domain
error becomes a form error (in the user's language) and nothing is saved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from wangge.accounts.permissions import has_perm_anywhere, has_perm_at
from wangge.core.exceptions import NotFound, ValidationError, WanggeError
from wangge.web.forms import add_domain_error
from wangge.web.views import perm_anywhere

from .choices import ComponentStatus, Hazard, OrgKind, PersonFlag, Relation, RentalStatus
from .forms import (
    BuildingForm,
    ComponentForm,
    ComponentStatusForm,
    HouseForm,
    HouseholdForm,
    OrganisationForm,
    PersonForm,
    TenancyEndForm,
    TenancyForm,
)
from .links import record_url
from .selectors import (
    access_building,
    access_component,
    access_house,
    access_household,
    access_organisation,
    access_person,
    access_tenancy,
    building_list_for_user,
    can_view_sensitive,
    component_cases_for_user,
    component_list_for_user,
    house_list_for_user,
    household_list_for_user,
    in_region,
    organisation_list_for_user,
    organisation_masked_phone,
    person_dict,
    person_list_for_user,
    person_masked,
    tenancies_for_user,
)
from .services import (
    building_create,
    building_update,
    component_create,
    component_set_status,
    component_update,
    house_create,
    house_update,
    household_create,
    household_update,
    organisation_create,
    organisation_update,
    person_create,
    person_sensitive,
    person_update,
    tenancy_add,
    tenancy_end,
)

VIEW_PERSON = "registers.view_person"
ADD_PERSON = "registers.add_person"
CHANGE_PERSON = "registers.change_person"
VIEW_HOUSEHOLD, CHANGE_HOUSEHOLD = "registers.view_household", "registers.change_household"
VIEW_BUILDING, CHANGE_BUILDING = "registers.view_building", "registers.change_building"
VIEW_HOUSE, CHANGE_HOUSE = "registers.view_house", "registers.change_house"
VIEW_ORG, CHANGE_ORG = "registers.view_organisation", "registers.change_organisation"
VIEW_COMPONENT, CHANGE_COMPONENT = "registers.view_component", "registers.change_component"
GRID_NOT_FOUND = "网格代码不存在或不在您的管辖范围内"


def _may_change(user: Any, perm: str, obj: Any) -> None:
    """An object the user may see but not change answers 404 on its edit page, like one
    outside the area."""
    if not has_perm_at(user, perm, obj.region_path):
        raise NotFound(gettext("记录不存在或不在您的管辖范围内"))


def _form_error(form: Any, exc: WanggeError) -> None:
    """A refused grid goes on the grid field; other errors on their fields or on top."""
    grid_refused = isinstance(exc, NotFound) and exc.message == gettext(GRID_NOT_FOUND)
    if grid_refused and "grid" in form.fields:
        form.add_error("grid", exc.message)
        return
    add_domain_error(form, exc)


def _form_page(
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
            _form_error(form, exc)
        else:
            messages.success(request, done)
            return redirect(record_url(obj))
    return render(
        request,
        "registers/form.html",
        {"form": form, "title": title, "back": back, "note": note},
    )


def _grid_initial(request: HttpRequest) -> dict[str, Any]:
    return {"grid": request.GET.get("grid", "")}


def _page(request: HttpRequest, qs: Any, size: int = 50) -> Any:
    return Paginator(qs, size).get_page(request.GET.get("page"))


def _query(request: HttpRequest, *keys: str) -> tuple[dict[str, str], str]:
    values = {k: request.GET.get(k, "").strip() for k in keys}
    return values, urlencode({k: v for k, v in values.items() if v})


# --- 人: people ---------------------------------------------------------------------------------
@perm_anywhere(ADD_PERSON)
def person_new(request: HttpRequest) -> HttpResponse:
    initial = {**_grid_initial(request), "household_no": request.GET.get("household", "")}
    form = PersonForm(
        request.POST or None,
        user=request.user,
        initial=initial,
        sensitive_allowed=has_perm_anywhere(request.user, "registers.view_sensitive"),
    )

    def save() -> Any:
        data = form.service_fields()
        if form.cleaned_data.get("sensitive"):
            data["sensitive"] = form.cleaned_data["sensitive"]
        return person_create(actor=request.user, grid=form.cleaned_data["grid"], **data)

    return _form_page(
        request,
        form,
        save,
        title=gettext("登记人员"),
        back=reverse("registers:people"),
        done=gettext("已登记。"),
        note=gettext("证件号码和电话加密保存，页面上只显示脱敏后的号码。"),
    )


@perm_anywhere(CHANGE_PERSON)
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = access_person(request.user, pk)
    _may_change(request.user, CHANGE_PERSON, person)
    if person.erased_at:
        raise Http404
    masked = person_masked(person)
    sensitive_allowed = can_view_sensitive(request.user, person)
    old_groups = person_sensitive(person) if sensitive_allowed else {}
    initial: dict[str, Any] = {
        "grid": person.grid.code,
        "household_no": person.household.household_no if person.household else "",
        "house_code": person.house.code if person.house else "",
        "flags": [f for f in person.flags() if f != PersonFlag.ADVANCED_AGE],
        "sensitive": sorted(old_groups),
        **{f"since_{k}": v for k, v in (person.flag_since or {}).items()},
    }
    for field in (
        "name",
        "id_type",
        "sex",
        "birth_date",
        "ethnicity",
        "relation",
        "registered_address",
        "current_address",
        "registration_matches",
        "arrival_date",
        "residence_permit_until",
        "disability_grade",
    ):
        initial[field] = getattr(person, field)
    form = PersonForm(
        request.POST or None,
        user=request.user,
        initial=initial,
        sensitive_allowed=sensitive_allowed,
        masked=masked,
    )

    def save() -> Any:
        changes = form.service_fields()
        if form.cleaned_data["grid"] != person.grid.code:
            changes["grid"] = form.cleaned_data["grid"]
        if "sensitive" in form.fields and "sensitive" in form.changed_data:
            changes["sensitive"] = {
                g: old_groups.get(g, {}) for g in form.cleaned_data["sensitive"]
            }
        return person_update(actor=request.user, person=person, **changes)

    return _form_page(
        request,
        form,
        save,
        title=gettext("修改人员信息：%(name)s") % {"name": person.name},
        back=record_url(person),
        done=gettext("已保存。"),
        note=gettext("证件号码和电话不显示原值；留空则保持不变，填写则替换。"),
    )


# --- 户: households -----------------------------------------------------------------------------
@perm_anywhere(VIEW_HOUSEHOLD)
@require_GET
def households(request: HttpRequest) -> HttpResponse:
    q, querystring = _query(request, "grid", "q")
    qs = in_region(household_list_for_user(request.user), q["grid"]).annotate(n=Count("members"))
    if q["q"]:
        qs = qs.filter(household_no__startswith=q["q"])
    return render(
        request,
        "registers/households.html",
        {
            "page": _page(request, qs.order_by("household_no")),
            "q": q,
            "querystring": querystring,
            "may_add": has_perm_anywhere(request.user, ADD_PERSON),
        },
    )


@perm_anywhere(VIEW_HOUSEHOLD)
@require_GET
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    household = access_household(request.user, pk)
    members = person_list_for_user(request.user).filter(household=household)
    return render(
        request,
        "registers/household_detail.html",
        {
            "household": household,
            "members": [person_dict(p, request.user) for p in members],
            "relation_labels": dict(Relation.choices),
            "may_edit": has_perm_at(request.user, CHANGE_HOUSEHOLD, household.region_path),
            "may_add_member": has_perm_at(request.user, ADD_PERSON, household.region_path),
        },
    )


@perm_anywhere(ADD_PERSON)
def household_new(request: HttpRequest) -> HttpResponse:
    form = HouseholdForm(request.POST or None, user=request.user, initial=_grid_initial(request))

    def save() -> Any:
        d = form.cleaned_data
        return household_create(
            actor=request.user,
            grid=d["grid"],
            household_no=d["household_no"],
            house=d["house_code"],
            address=d["address"],
            is_collective=d["is_collective"],
        )

    return _form_page(
        request,
        form,
        save,
        title=gettext("登记户"),
        back=reverse("registers:households"),
        done=gettext("已登记。"),
    )


@perm_anywhere(CHANGE_HOUSEHOLD)
def household_edit(request: HttpRequest, pk: int) -> HttpResponse:
    household = access_household(request.user, pk)
    _may_change(request.user, CHANGE_HOUSEHOLD, household)
    initial = {
        "grid": household.grid.code,
        "household_no": household.household_no,
        "house_code": household.house.code if household.house else "",
        "address": household.address,
        "is_collective": household.is_collective,
    }
    form = HouseholdForm(request.POST or None, user=request.user, initial=initial)

    def save() -> Any:
        d = form.cleaned_data
        changes = {
            "household_no": d["household_no"],
            "house": d["house_code"],
            "address": d["address"],
            "is_collective": d["is_collective"],
        }
        if d["grid"] != household.grid.code:
            changes["grid"] = d["grid"]
        return household_update(actor=request.user, household=household, **changes)

    return _form_page(
        request,
        form,
        save,
        title=gettext("修改户信息：%(no)s") % {"no": household.household_no},
        back=record_url(household),
        done=gettext("已保存。"),
    )


# --- 地: buildings and houses -------------------------------------------------------------------
@perm_anywhere(VIEW_BUILDING)
@require_GET
def buildings(request: HttpRequest) -> HttpResponse:
    q, querystring = _query(request, "grid", "q")
    qs = in_region(building_list_for_user(request.user), q["grid"]).annotate(n=Count("houses"))
    if q["q"]:
        qs = qs.filter(Q(code__startswith=q["q"]) | Q(name__contains=q["q"]))
    return render(
        request,
        "registers/buildings.html",
        {
            "page": _page(request, qs.order_by("code")),
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
    form = BuildingForm(request.POST or None, user=request.user, initial=_grid_initial(request))
    return _form_page(
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
    _may_change(request.user, CHANGE_BUILDING, building)
    initial = {f: getattr(building, f) for f in ("code", "name", "address", "floors", "build_year")}
    initial.update(grid=building.grid.code, lon=building.lon, lat=building.lat)
    form = BuildingForm(request.POST or None, user=request.user, initial=initial)

    def save() -> Any:
        changes = _building_fields(form)
        if form.cleaned_data["grid"] != building.grid.code:
            changes["grid"] = form.cleaned_data["grid"]
        return building_update(actor=request.user, building=building, **changes)

    return _form_page(
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
    q, querystring = _query(request, "grid", "q", "rental_status", "hazard")
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
            "page": _page(request, qs),
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
    return _form_page(
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
    _may_change(request.user, CHANGE_HOUSE, house)
    form = HouseForm(request.POST or None, user=request.user, initial=_house_initial(house))

    def save() -> Any:
        changes = form.service_fields()
        if changes["building"].pk == house.building_id:
            changes.pop("building")
        return house_update(actor=request.user, house=house, **changes)

    return _form_page(
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
    _may_change(request.user, CHANGE_HOUSE, house)
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
    _may_change(request.user, CHANGE_HOUSE, house)
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


# --- 组织: organisations ------------------------------------------------------------------------
@perm_anywhere(VIEW_ORG)
@require_GET
def organisations(request: HttpRequest) -> HttpResponse:
    q, querystring = _query(request, "grid", "q", "kind")
    qs = organisation_list_for_user(request.user, q["grid"] or None)
    if q["q"]:
        code = q["q"].upper()
        qs = qs.filter(Q(name__contains=q["q"]) | Q(credit_code=code))
    if q["kind"]:
        qs = qs.filter(kind=q["kind"])
    page = _page(request, qs)
    return render(
        request,
        "registers/organisations.html",
        {
            "page": page,
            "rows": [(o, organisation_masked_phone(o)) for o in page.object_list],
            "q": q,
            "querystring": querystring,
            "kinds": OrgKind.choices,
            "may_add": has_perm_anywhere(request.user, CHANGE_ORG),
        },
    )


@perm_anywhere(VIEW_ORG)
@require_GET
def organisation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    org = access_organisation(request.user, pk)
    return render(
        request,
        "registers/organisation_detail.html",
        {
            "org": org,
            "contact_phone": organisation_masked_phone(org),
            "party_orgs": _party_orgs(request.user, org),
            "visits": org.visits.select_related("visitor")[:20],
            "may_edit": has_perm_at(request.user, CHANGE_ORG, org.region_path),
        },
    )


def _party_orgs(user: Any, org: Any) -> list[Any] | None:
    """The party organisations in this organisation (the party app points at it), for users
    who may see party organisations; ``None`` without the party app or the permission."""
    from django.apps import apps

    if not apps.is_installed("wangge.party") or not has_perm_anywhere(user, "party.view_partyorg"):
        return None
    model = apps.get_model("party", "PartyOrg")
    return list(model.objects.restrict(user, "view").filter(organisation=org)[:20])


def _organisation_fields(form: Any) -> dict[str, Any]:
    fields = form.service_fields()
    fields.pop("grid")
    return fields


@perm_anywhere(CHANGE_ORG)
def organisation_new(request: HttpRequest) -> HttpResponse:
    form = OrganisationForm(request.POST or None, user=request.user, initial=_grid_initial(request))
    return _form_page(
        request,
        form,
        lambda: organisation_create(
            actor=request.user, grid=form.cleaned_data["grid"], **_organisation_fields(form)
        ),
        title=gettext("登记单位组织"),
        back=reverse("registers:organisations"),
        done=gettext("已登记。"),
        note=gettext("联系电话加密保存，页面上只显示脱敏后的号码。"),
    )


@perm_anywhere(CHANGE_ORG)
def organisation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    org = access_organisation(request.user, pk)
    _may_change(request.user, CHANGE_ORG, org)
    fields = (
        "credit_code",
        "name",
        "kind",
        "industry",
        "address",
        "legal_representative",
        "contact_name",
        "employees",
        "lon",
        "lat",
        "is_active",
    )
    initial = {f: getattr(org, f) for f in fields}
    initial["grid"] = org.grid.code
    form = OrganisationForm(
        request.POST or None,
        user=request.user,
        initial=initial,
        masked_phone=organisation_masked_phone(org),
    )

    def save() -> Any:
        changes = _organisation_fields(form)
        if form.cleaned_data["grid"] != org.grid.code:
            changes["grid"] = form.cleaned_data["grid"]
        return organisation_update(actor=request.user, organisation=org, **changes)

    return _form_page(
        request,
        form,
        save,
        title=gettext("修改单位组织：%(name)s") % {"name": org.name},
        back=record_url(org),
        done=gettext("已保存。"),
        note=gettext("联系电话不显示原值；留空则保持不变，填写则替换。"),
    )


# --- 物: components -----------------------------------------------------------------------------
@perm_anywhere(VIEW_COMPONENT)
@require_GET
def components(request: HttpRequest) -> HttpResponse:
    q, querystring = _query(request, "grid", "status", "q")
    status = q["status"] if q["status"] in ComponentStatus.values else None
    qs = component_list_for_user(request.user, q["grid"] or None, status)
    if q["q"]:
        qs = qs.filter(
            Q(identifier__startswith=q["q"])
            | Q(class_name__contains=q["q"])
            | Q(name__contains=q["q"])
        )
    return render(
        request,
        "registers/components.html",
        {
            "page": _page(request, qs),
            "q": q,
            "querystring": querystring,
            "statuses": ComponentStatus.choices,
            "may_add": has_perm_anywhere(request.user, CHANGE_COMPONENT),
        },
    )


@perm_anywhere(VIEW_COMPONENT)
@require_GET
def component_detail(request: HttpRequest, pk: int) -> HttpResponse:
    component = access_component(request.user, pk)
    may_edit = has_perm_at(request.user, CHANGE_COMPONENT, component.region_path)
    return render(
        request,
        "registers/component_detail.html",
        {
            "component": component,
            "cases": component_cases_for_user(request.user, component),
            "visits": component.visits.select_related("visitor")[:20],
            "may_edit": may_edit,
            "status_form": ComponentStatusForm(initial={"status": component.status})
            if may_edit
            else None,
        },
    )


def _component_fields(form: Any) -> dict[str, Any]:
    fields = dict(form.cleaned_data)
    fields.pop("grid")
    return fields


@perm_anywhere(CHANGE_COMPONENT)
def component_new(request: HttpRequest) -> HttpResponse:
    form = ComponentForm(request.POST or None, user=request.user, initial=_grid_initial(request))
    return _form_page(
        request,
        form,
        lambda: component_create(
            actor=request.user, grid=form.cleaned_data["grid"], **_component_fields(form)
        ),
        title=gettext("登记管理部件"),
        back=reverse("registers:components"),
        done=gettext("已登记。"),
    )


@perm_anywhere(CHANGE_COMPONENT)
def component_edit(request: HttpRequest, pk: int) -> HttpResponse:
    component = access_component(request.user, pk)
    _may_change(request.user, CHANGE_COMPONENT, component)
    fields = (
        "identifier",
        "class_code",
        "class_name",
        "name",
        "address",
        "lon",
        "lat",
        "managing_department",
        "owner_unit",
        "maintenance_unit",
    )
    initial = {f: getattr(component, f) for f in fields}
    initial["grid"] = component.grid.code
    form = ComponentForm(request.POST or None, user=request.user, initial=initial, creating=False)

    def save() -> Any:
        changes = _component_fields(form)
        if form.cleaned_data["grid"] != component.grid.code:
            changes["grid"] = form.cleaned_data["grid"]
        return component_update(actor=request.user, component=component, **changes)

    return _form_page(
        request,
        form,
        save,
        title=gettext("修改管理部件：%(id)s") % {"id": component.identifier},
        back=record_url(component),
        done=gettext("已保存。"),
    )


@perm_anywhere(CHANGE_COMPONENT)
@require_POST
def component_status(request: HttpRequest, pk: int) -> HttpResponse:
    component = access_component(request.user, pk)
    _may_change(request.user, CHANGE_COMPONENT, component)
    form = ComponentStatusForm(request.POST)
    if form.is_valid():
        try:
            component_set_status(
                actor=request.user,
                component=component,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["reason"],
            )
        except WanggeError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, gettext("状态已变更。"))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    return redirect(record_url(component))
