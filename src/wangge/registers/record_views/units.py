"""Pages of organisations (组织) and components (物)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from wangge.accounts.permissions import has_perm_anywhere, has_perm_at
from wangge.core.exceptions import WanggeError
from wangge.web.views import perm_anywhere

from ..choices import ComponentStatus, OrgKind
from ..forms import (
    ComponentForm,
    ComponentStatusForm,
    OrganisationForm,
)
from ..links import record_url
from ..selectors import (
    access_component,
    access_organisation,
    component_cases_for_user,
    component_list_for_user,
    organisation_list_for_user,
    organisation_masked_phone,
)
from ..services import (
    COMPONENT_FIELDS,
    ORGANISATION_FIELDS,
    component_create,
    component_set_status,
    component_update,
    organisation_create,
    organisation_update,
)
from .common import (
    CHANGE_COMPONENT,
    CHANGE_ORG,
    VIEW_COMPONENT,
    VIEW_ORG,
    form_page,
    grid_initial,
    page_of,
    query_of,
    require_change,
)


# --- 组织: organisations ------------------------------------------------------------------------
@perm_anywhere(VIEW_ORG)
@require_GET
def organisations(request: HttpRequest) -> HttpResponse:
    q, querystring = query_of(request, "grid", "q", "kind")
    qs = organisation_list_for_user(request.user, q["grid"] or None)
    if q["q"]:
        code = q["q"].upper()
        qs = qs.filter(Q(name__contains=q["q"]) | Q(credit_code=code))
    if q["kind"]:
        qs = qs.filter(kind=q["kind"])
    page = page_of(request, qs)
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
    form = OrganisationForm(request.POST or None, user=request.user, initial=grid_initial(request))
    return form_page(
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
    require_change(request.user, CHANGE_ORG, org)
    initial = {f: getattr(org, f) for f in (*ORGANISATION_FIELDS, "is_active")}
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

    return form_page(
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
    q, querystring = query_of(request, "grid", "status", "q")
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
            "page": page_of(request, qs),
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
    form = ComponentForm(request.POST or None, user=request.user, initial=grid_initial(request))
    return form_page(
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
    require_change(request.user, CHANGE_COMPONENT, component)
    initial = {f: getattr(component, f) for f in COMPONENT_FIELDS}
    initial["grid"] = component.grid.code
    form = ComponentForm(request.POST or None, user=request.user, initial=initial, creating=False)

    def save() -> Any:
        changes = _component_fields(form)
        if form.cleaned_data["grid"] != component.grid.code:
            changes["grid"] = form.cleaned_data["grid"]
        return component_update(actor=request.user, component=component, **changes)

    return form_page(
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
    require_change(request.user, CHANGE_COMPONENT, component)
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
