"""Pages of people (人) and households (户)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from wangge.accounts.permissions import has_perm_anywhere, has_perm_at
from wangge.web.views import perm_anywhere

from ..choices import PersonFlag, Relation
from ..forms import (
    HouseholdForm,
    PersonForm,
)
from ..links import record_url
from ..selectors import (
    access_household,
    access_person,
    can_view_sensitive,
    household_list_for_user,
    in_region,
    person_dict,
    person_list_for_user,
    person_masked,
)
from ..services import (
    household_create,
    household_update,
    person_create,
    person_sensitive,
    person_update,
)
from .common import (
    ADD_PERSON,
    CHANGE_HOUSEHOLD,
    CHANGE_PERSON,
    VIEW_HOUSEHOLD,
    form_page,
    grid_initial,
    page_of,
    query_of,
    require_change,
)


# --- 人: people ---------------------------------------------------------------------------------
@perm_anywhere(ADD_PERSON)
def person_new(request: HttpRequest) -> HttpResponse:
    initial = {**grid_initial(request), "household_no": request.GET.get("household", "")}
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

    return form_page(
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
    require_change(request.user, CHANGE_PERSON, person)
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

    return form_page(
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
    q, querystring = query_of(request, "grid", "q")
    qs = in_region(household_list_for_user(request.user), q["grid"]).annotate(n=Count("members"))
    if q["q"]:
        qs = qs.filter(household_no__startswith=q["q"])
    return render(
        request,
        "registers/households.html",
        {
            "page": page_of(request, qs.order_by("household_no")),
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
    form = HouseholdForm(request.POST or None, user=request.user, initial=grid_initial(request))

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

    return form_page(
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
    require_change(request.user, CHANGE_HOUSEHOLD, household)
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

    return form_page(
        request,
        form,
        save,
        title=gettext("修改户信息：%(no)s") % {"no": household.household_no},
        back=record_url(household),
        done=gettext("已保存。"),
    )
