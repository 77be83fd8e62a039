"""Components (城市部件): the row builder (shared with the Excel import), registration, status
changes and updates."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core.audit import audit_log
from wangge.core.exceptions import Conflict, ValidationError
from wangge.geo.models import Region

from ..choices import ComponentStatus
from ..identity import validate_component_identifier
from ..models import Component
from .common import (
    _audit_values,
    _refuse_unknown,
    choice_value,
    grid_for_write,
    parse_float,
    require_at,
)


# --- components ---------------------------------------------------------------------------------
def county_code_of(grid: Region) -> str:
    """The 6-digit county code above a grid (the first 6 digits of its statistical code)."""
    return grid.code[:6] if len(grid.code) >= 6 and grid.code[:6].isdigit() else ""


def build_component(
    *,
    grid: Region,
    identifier: str,
    class_code: str,
    class_name: str,
    lon: Any,
    lat: Any,
    name: str = "",
    address: str = "",
    status: str = ComponentStatus.INTACT,
    managing_department: str = "",
    owner_unit: str = "",
    maintenance_unit: str = "",
) -> Component:
    errors: dict[str, list[str]] = {}

    def check(field: str, fn: Any, *args: Any, **kw: Any) -> Any:
        try:
            return fn(*args, **kw)
        except ValidationError as exc:
            errors.setdefault(field, []).append(exc.message)
            return None

    class_code = str(class_code or "").strip()
    ident = check(
        "identifier",
        validate_component_identifier,
        str(identifier or "").strip(),
        class_code,
        county_code_of(grid),
    )
    if not str(class_name or "").strip():
        errors["class_name"] = [str(_("必填"))]
    lon_v = check("lon", parse_float, lon, -180, 180)
    lat_v = check("lat", parse_float, lat, -90, 90)
    if lon_v is None and "lon" not in errors:
        errors["lon"] = [str(_("必填"))]
    if lat_v is None and "lat" not in errors:
        errors["lat"] = [str(_("必填"))]
    status_v = check("status", choice_value, ComponentStatus, status, default="intact")
    if errors:
        raise ValidationError(_("部件信息有误"), errors=errors)
    return Component(
        grid=grid,
        region_path=grid.path,
        identifier=ident,
        class_code=class_code,
        class_name=str(class_name).strip(),
        name=name,
        address=address,
        lon=lon_v,
        lat=lat_v,
        status=status_v,
        managing_department=managing_department,
        owner_unit=owner_unit,
        maintenance_unit=maintenance_unit,
    )


@transaction.atomic
def component_create(*, actor: Any, grid: Region | str, **fields: Any) -> Component:
    grid = grid_for_write(actor, grid, "registers.change_component")
    component = build_component(grid=grid, **fields)
    if Component.objects.filter(identifier=component.identifier).exists():
        raise Conflict(_("部件标识码已存在"), errors={"identifier": [str(_("已存在"))]})
    component.save(force_insert=True)
    audit_log(actor=actor, action="registers.component.create", obj=component)
    return component


@transaction.atomic
def component_set_status(
    *, actor: Any, component: Component, status: str, note: str = ""
) -> Component:
    component = Component.objects.select_for_update().get(pk=component.pk)
    require_at(actor, "registers.change_component", component.region_path)
    new = choice_value(ComponentStatus, status)
    if new == component.status:
        return component
    before = {"status": component.status}
    component.status = new
    component.status_changed_at = timezone.now()
    component.save(update_fields=["status", "status_changed_at", "updated_at"])
    audit_log(
        actor=actor,
        action="registers.component.status",
        obj=component,
        before=before,
        after={"status": new, "note": note[:200]},
    )
    return component


COMPONENT_FIELDS = (
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


@transaction.atomic
def component_update(*, actor: Any, component: Component, **changes: Any) -> Component:
    """Change a component's fields or grid (the identifier is re-validated against the grid's
    county); its status changes only through ``component_set_status`` (with a reason)."""
    comp = Component.objects.select_for_update().select_related("grid").get(pk=component.pk)
    require_at(actor, "registers.change_component", comp.region_path)
    _refuse_unknown(changes, {*COMPONENT_FIELDS, "grid"})
    grid = comp.grid
    if "grid" in changes:
        grid = grid_for_write(actor, changes.pop("grid"), "registers.change_component")
    current = _audit_values(comp, COMPONENT_FIELDS)
    merged = {**current, **changes}
    for field, limit in (
        ("class_name", 64),
        ("name", 100),
        ("address", 255),
        ("managing_department", 100),
        ("owner_unit", 100),
        ("maintenance_unit", 100),
    ):
        merged[field] = str(merged[field] or "").strip()
        if len(merged[field]) > limit:
            raise ValidationError(_("部件信息有误"), errors={field: [str(_("内容过长"))]})
    fresh = build_component(grid=grid, status=comp.status, **merged)
    if (
        fresh.identifier != comp.identifier
        and Component.objects.filter(identifier=fresh.identifier).exists()
    ):
        raise Conflict(_("部件标识码已存在"), errors={"identifier": [str(_("已存在"))]})
    before = {**current, "grid": comp.grid.code}
    update = [f for f in COMPONENT_FIELDS if getattr(fresh, f) != getattr(comp, f)]
    for field in update:
        setattr(comp, field, getattr(fresh, field))
    if grid.pk != comp.grid_id:
        comp.grid = grid
        comp.region_path = grid.path
        update += ["grid", "region_path"]
    comp.save(update_fields=[*update, "updated_at"])
    audit_log(
        actor=actor,
        action="registers.component.update",
        obj=comp,
        before=before,
        after={**_audit_values(comp, COMPONENT_FIELDS), "grid": comp.grid.code},
    )
    return comp
