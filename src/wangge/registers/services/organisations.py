"""Organisations: the row builder (shared with the Excel import), registration and updates."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from wangge.core.audit import audit_log
from wangge.core.exceptions import Conflict, ValidationError
from wangge.geo.models import Region

from .. import crypto
from ..choices import OrgKind
from ..identity import validate_credit_code, validate_phone
from ..models import Organisation
from .common import (
    O_PHONE,
    _audit_values,
    _refuse_unknown,
    choice_value,
    grid_for_write,
    parse_float,
    phone_hash,
    require_at,
)


# --- organisations ------------------------------------------------------------------------------
def build_organisation(
    *,
    grid: Region,
    credit_code: str,
    name: str,
    kind: str,
    address: str,
    industry: str = "",
    legal_representative: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    employees: Any = None,
    lon: Any = None,
    lat: Any = None,
) -> Organisation:
    errors: dict[str, list[str]] = {}

    def check(field: str, fn: Any, *args: Any, **kw: Any) -> Any:
        try:
            return fn(*args, **kw)
        except ValidationError as exc:
            errors.setdefault(field, []).append(exc.message)
            return None

    code = check("credit_code", validate_credit_code, credit_code)
    if not str(name or "").strip():
        errors["name"] = [str(_("必填"))]
    if not str(address or "").strip():
        errors["address"] = [str(_("必填"))]
    kind_v = check("kind", choice_value, OrgKind, kind)
    phone = check("contact_phone", validate_phone, contact_phone) if contact_phone else ""
    staff = None
    if employees not in (None, ""):
        staff = check("employees", parse_float, employees, 0, 10_000_000)
    lon_v = check("lon", parse_float, lon, -180, 180)
    lat_v = check("lat", parse_float, lat, -90, 90)
    if errors:
        raise ValidationError(_("单位信息有误"), errors=errors)
    return Organisation(
        grid=grid,
        region_path=grid.path,
        credit_code=code,
        name=str(name).strip(),
        kind=kind_v,
        industry=industry,
        address=str(address).strip(),
        legal_representative=legal_representative,
        contact_name=contact_name,
        contact_phone_enc=crypto.encrypt(phone or "", O_PHONE),
        contact_phone_hash=phone_hash(phone) if phone else "",
        employees=int(staff) if staff is not None else None,
        lon=lon_v if lon_v is not None else grid.center_lon,
        lat=lat_v if lat_v is not None else grid.center_lat,
    )


@transaction.atomic
def organisation_create(*, actor: Any, grid: Region | str, **fields: Any) -> Organisation:
    grid = grid_for_write(actor, grid, "registers.change_organisation")
    org = build_organisation(grid=grid, **fields)
    if Organisation.objects.filter(credit_code=org.credit_code).exists():
        raise Conflict(_("统一社会信用代码已登记"), errors={"credit_code": [str(_("已登记"))]})
    org.save(force_insert=True)
    audit_log(actor=actor, action="registers.organisation.create", obj=org)
    return org


ORGANISATION_FIELDS = (
    "credit_code",
    "name",
    "kind",
    "address",
    "industry",
    "legal_representative",
    "contact_name",
    "employees",
    "lon",
    "lat",
)


@transaction.atomic
def organisation_update(*, actor: Any, organisation: Organisation, **changes: Any) -> Organisation:
    """Change an organisation (credit code re-validated, contact phone re-encrypted only when a
    new one is given), mark it closed (``is_active``) or move it to another grid."""
    org = Organisation.objects.select_for_update().select_related("grid").get(pk=organisation.pk)
    require_at(actor, "registers.change_organisation", org.region_path)
    _refuse_unknown(changes, {*ORGANISATION_FIELDS, "contact_phone", "is_active", "grid"})
    grid = org.grid
    if "grid" in changes:
        grid = grid_for_write(actor, changes.pop("grid"), "registers.change_organisation")
    is_active = changes.pop("is_active", org.is_active)
    current = _audit_values(org, ORGANISATION_FIELDS)
    old_phone = crypto.decrypt(org.contact_phone_enc, O_PHONE)
    merged = {**current, "contact_phone": old_phone, **changes}
    for field, limit in (
        ("name", 200),
        ("address", 255),
        ("industry", 64),
        ("legal_representative", 64),
        ("contact_name", 64),
    ):
        merged[field] = str(merged[field] or "").strip()
        if len(merged[field]) > limit:
            raise ValidationError(_("单位信息有误"), errors={field: [str(_("内容过长"))]})
    fresh = build_organisation(grid=grid, **merged)
    if (
        fresh.credit_code != org.credit_code
        and Organisation.objects.filter(credit_code=fresh.credit_code).exists()
    ):
        raise Conflict(_("统一社会信用代码已登记"), errors={"credit_code": [str(_("已登记"))]})
    before = {**current, "grid": org.grid.code, "is_active": org.is_active}
    update = [f for f in ORGANISATION_FIELDS if getattr(fresh, f) != getattr(org, f)]
    for field in update:
        setattr(org, field, getattr(fresh, field))
    phone_changed = fresh.contact_phone_hash != org.contact_phone_hash
    if phone_changed:
        org.contact_phone_enc = fresh.contact_phone_enc
        org.contact_phone_hash = fresh.contact_phone_hash
        update += ["contact_phone_enc", "contact_phone_hash"]
    if bool(is_active) != org.is_active:
        org.is_active = bool(is_active)
        update.append("is_active")
    if grid.pk != org.grid_id:
        org.grid = grid
        org.region_path = grid.path
        update += ["grid", "region_path"]
    org.save(update_fields=[*update, "updated_at"])
    audit_log(
        actor=actor,
        action="registers.organisation.update",
        obj=org,
        before=before,
        after={
            **_audit_values(org, ORGANISATION_FIELDS),
            "grid": org.grid.code,
            "is_active": org.is_active,
            "contact_phone_changed": phone_changed,
        },
    )
    return org
