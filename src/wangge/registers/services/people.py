"""People and households: the person row builder (shared with the API and the Excel import),
registration, updates of plain fields, identifiers, flags and special groups."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.accounts.permissions import has_perm_at
from wangge.core.audit import audit_log
from wangge.core.exceptions import Conflict, PermissionDenied, ValidationError
from wangge.geo.models import Region

from .. import crypto
from ..choices import IdType, Relation, SensitiveGroup, Sex
from ..identity import facts_from_resident_id, validate_id_number, validate_phone
from ..models import FLAG_COLUMNS, House, Household, Person
from .common import (
    P_ID,
    P_PHONE,
    P_SENSITIVE,
    _audit_values,
    _refuse_unknown,
    choice_value,
    grid_for_write,
    id_hash,
    id_hashes,
    parse_date,
    person_sensitive,
    phone_hash,
    require_at,
    sensitive_counts_apply,
)

# --- people -------------------------------------------------------------------------------------


def clean_sensitive(groups: Any) -> dict[str, dict[str, Any]]:
    """``{"correction": {"since": "2024-01-01"}}`` or a list of group values/labels."""
    result: dict[str, dict[str, Any]] = {}
    if not groups:
        return result
    items = groups.items() if isinstance(groups, dict) else ((g, {}) for g in groups)
    for key, info in items:
        group = choice_value(SensitiveGroup, key)
        since = parse_date((info or {}).get("since")) if isinstance(info, dict) else None
        result[group] = {"since": since.isoformat()} if since else {}
    return result


PERSON_PLAIN_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "ethnicity",
    "registered_address",
    "current_address",
    "registration_matches",
    "relation",
    "arrival_date",
    "residence_permit_until",
    "disability_grade",
    *FLAG_COLUMNS.values(),
)


def build_person(
    *,
    grid: Region | None,
    name: str,
    id_type: str = IdType.RESIDENT_ID,
    id_number: str,
    sex: str | None = None,
    birth_date: date | None = None,
    ethnicity: str = "",
    phone: str = "",
    registered_address: str = "",
    current_address: str = "",
    registration_matches: bool = True,
    relation: str = "",
    flags: dict[str, bool] | None = None,
    flag_since: dict[str, str] | None = None,
    arrival_date: date | None = None,
    residence_permit_until: date | None = None,
    disability_grade: str = "",
    sensitive: dict[str, dict[str, Any]] | None = None,
) -> Person:
    """Validate one person's fields and return an unsaved Person with identifiers encrypted.

    Raises ``ValidationError`` with ``errors`` keyed by field; shared by the service, the API
    and the Excel import so all three accept and refuse exactly the same input."""
    errors: dict[str, list[str]] = {}

    def check(field: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except ValidationError as exc:
            errors.setdefault(field, []).append(exc.message)
            return None

    name = (name or "").strip()
    if not name:
        errors.setdefault("name", []).append(_("必填"))
    elif len(name) > 64:
        errors.setdefault("name", []).append(_("姓名过长"))
    number = check("id_number", validate_id_number, id_type, id_number)
    if number and id_type == IdType.RESIDENT_ID:
        id_birth, id_sex = facts_from_resident_id(number)
        if birth_date and birth_date != id_birth:
            errors.setdefault("birth_date", []).append(_("出生日期与身份证号码不一致"))
        if sex and sex != Sex.UNKNOWN and sex != id_sex:
            errors.setdefault("sex", []).append(_("性别与身份证号码不一致"))
        birth_date, sex = id_birth, id_sex
    if sex and sex not in Sex.values:
        errors.setdefault("sex", []).append(_("不是有效的选项"))
    if relation and relation not in Relation.values:
        errors.setdefault("relation", []).append(_("不是有效的选项"))
    if birth_date and birth_date > timezone.localdate():
        errors.setdefault("birth_date", []).append(_("出生日期不能晚于今天"))
    clean_phone = check("phone", validate_phone, phone) if phone else ""
    if errors:
        raise ValidationError(_("人员信息有误"), errors=errors)
    assert number is not None
    flags = flags or {}
    person = Person(
        grid=grid,
        region_path=grid.path if grid is not None else "",
        name=name,
        id_type=id_type,
        id_number_enc=crypto.encrypt(number, P_ID),
        id_number_hash=id_hash(number),
        sex=sex or Sex.UNKNOWN,
        birth_date=birth_date,
        ethnicity=ethnicity,
        phone_enc=crypto.encrypt(clean_phone or "", P_PHONE),
        phone_hash=phone_hash(clean_phone) if clean_phone else "",
        registered_address=registered_address,
        current_address=current_address,
        registration_matches=registration_matches,
        relation=relation,
        flag_since=flag_since or {},
        arrival_date=arrival_date,
        residence_permit_until=residence_permit_until,
        disability_grade=disability_grade,
        sensitive_enc=crypto.encrypt_json(sensitive or {}, P_SENSITIVE),
    )
    for flag, column in FLAG_COLUMNS.items():
        setattr(person, column, bool(flags.get(flag, False)))
    return person


@transaction.atomic
def person_create(
    *,
    actor: Any,
    grid: Region | str,
    household: Household | None = None,
    house: House | None = None,
    **fields: Any,
) -> Person:
    """Register one person in ``grid``. The ID number must be new (de-duplication by blind
    index); special groups need ``registers.view_sensitive``."""
    grid = grid_for_write(actor, grid, "registers.add_person")
    sensitive = clean_sensitive(fields.pop("sensitive", None))
    if sensitive and not has_perm_at(actor, "registers.view_sensitive", grid.path):
        raise PermissionDenied(_("您无权登记特殊人群信息"))
    person = build_person(grid=grid, sensitive=sensitive, **fields)
    if Person.objects.filter(id_number_hash__in=id_hashes(fields["id_number"])).exists():
        raise Conflict(_("该证件号码已登记"), errors={"id_number": [str(_("该证件号码已登记"))]})
    for related in (household, house):
        if related is not None:
            require_at(actor, "registers.add_person", related.region_path)
    person.household = household
    person.house = house
    person.created_by = actor if getattr(actor, "pk", None) else None
    person.save(force_insert=True)
    sensitive_counts_apply(grid, set(), set(sensitive))
    audit_log(actor=actor, action="registers.person.create", obj=person, after=person_audit(person))
    return person


def person_audit(person: Person) -> dict[str, Any]:
    """What the audit log records of a person: never an identifier, never a special group."""
    return {
        "grid": person.grid.code if person.grid_id else None,
        "name": person.name,
        "id_type": person.id_type,
        "flags": person.flags(),
        "household": person.household_id,
        "house": person.house_id,
    }


@transaction.atomic
def person_update(
    *, actor: Any, person: Person, version: int | None = None, **changes: Any
) -> Person:
    """Change plain fields, identifiers (re-validated, re-hashed), flags or special groups."""
    person = Person.objects.select_for_update().select_related("grid").get(pk=person.pk)
    require_at(actor, "registers.change_person", person.region_path)
    if person.erased_at:
        raise Conflict(_("该人员的个人信息已删除，不能修改"))
    if version is not None and version != person.version:
        raise Conflict(_("记录已被他人修改，请刷新后重试"))
    before = person_audit(person)
    flag_columns = set(FLAG_COLUMNS.values())
    current = {f: getattr(person, f) for f in PERSON_PLAIN_FIELDS if f not in flag_columns}
    current["flags"] = {flag: getattr(person, col) for flag, col in FLAG_COLUMNS.items()}
    current["flag_since"] = person.flag_since
    current["id_type"] = person.id_type
    current["id_number"] = crypto.decrypt(person.id_number_enc, P_ID)
    current["phone"] = crypto.decrypt(person.phone_enc, P_PHONE)
    old_sensitive = person_sensitive(person)
    sensitive = old_sensitive
    if "sensitive" in changes:
        if not has_perm_at(actor, "registers.view_sensitive", person.region_path):
            raise PermissionDenied(_("您无权修改特殊人群信息"))
        sensitive = clean_sensitive(changes.pop("sensitive"))
    grid = person.grid
    if "grid" in changes:
        grid = grid_for_write(actor, changes.pop("grid"), "registers.change_person")
    for key in ("household", "house"):
        if key in changes:
            related = changes.pop(key)
            if related is not None:
                require_at(actor, "registers.change_person", related.region_path)
            setattr(person, key, related)
    unknown = set(changes) - set(current)
    if unknown:
        raise ValidationError(_("不能修改的字段: {fields}").format(fields=", ".join(unknown)))
    if "id_number" in changes or "id_type" in changes:
        # Birth date and sex follow a new resident ID unless given explicitly.
        for derived in ("birth_date", "sex"):
            if derived not in changes:
                current[derived] = None
    merged = {**current, **changes}
    merged["flags"] = {**current["flags"], **(changes.get("flags") or {})}
    fresh = build_person(grid=grid, sensitive=sensitive, **merged)
    if (
        fresh.id_number_hash != person.id_number_hash
        and Person.objects.filter(id_number_hash__in=id_hashes(merged["id_number"]))
        .exclude(pk=person.pk)
        .exists()
    ):
        raise Conflict(_("该证件号码已登记"), errors={"id_number": [str(_("该证件号码已登记"))]})
    for field in (*PERSON_PLAIN_FIELDS, "flag_since", "id_type", "id_number_hash", "phone_hash"):
        setattr(person, field, getattr(fresh, field))
    if merged["id_number"] != current["id_number"] or merged["id_type"] != current["id_type"]:
        person.id_number_enc = fresh.id_number_enc
    if merged["phone"] != current["phone"]:
        person.phone_enc = fresh.phone_enc
    if sensitive != old_sensitive:
        person.sensitive_enc = fresh.sensitive_enc
    old_grid = person.grid
    person.grid = grid
    person.region_path = grid.path
    person.version += 1
    person.save()
    if old_grid.pk != grid.pk:
        sensitive_counts_apply(old_grid, set(old_sensitive), set())
        sensitive_counts_apply(grid, set(), set(sensitive))
    else:
        sensitive_counts_apply(grid, set(old_sensitive), set(sensitive))
    audit_log(
        actor=actor,
        action="registers.person.update",
        obj=person,
        before=before,
        after={
            **person_audit(person),
            "identifiers_changed": sorted(
                k for k in ("id_number", "phone") if merged[k] != current[k]
            ),
            "sensitive_changed": sensitive != old_sensitive,
        },
    )
    return person


# --- households ---------------------------------------------------------------------------------
@transaction.atomic
def household_create(
    *,
    actor: Any,
    grid: Region | str,
    household_no: str,
    house: House | None = None,
    address: str = "",
    is_collective: bool = False,
) -> Household:
    grid = grid_for_write(actor, grid, "registers.add_person")
    household_no = (household_no or "").strip()
    if not household_no or len(household_no) > 32:
        raise ValidationError(_("户号无效"), errors={"household_no": [str(_("户号无效"))]})
    if Household.objects.filter(household_no=household_no).exists():
        raise Conflict(_("户号已存在"), errors={"household_no": [str(_("户号已存在"))]})
    household = Household.objects.create(
        grid=grid,
        region_path=grid.path,
        household_no=household_no,
        house=house,
        address=address or (house.address if house else ""),
        is_collective=is_collective,
    )
    audit_log(actor=actor, action="registers.household.create", obj=household)
    return household


HOUSEHOLD_FIELDS = ("household_no", "address", "is_collective")


@transaction.atomic
def household_update(*, actor: Any, household: Household, **changes: Any) -> Household:
    """Change a household's number, address, collective flag, house or grid."""
    household = Household.objects.select_for_update().select_related("grid").get(pk=household.pk)
    require_at(actor, "registers.change_household", household.region_path)
    _refuse_unknown(changes, {*HOUSEHOLD_FIELDS, "house", "grid"})
    before = {**_audit_values(household, HOUSEHOLD_FIELDS), "house": household.house_id}
    before["grid"] = household.grid.code
    update: list[str] = []
    if "household_no" in changes:
        number = str(changes["household_no"] or "").strip()
        if not number or len(number) > 32:
            raise ValidationError(_("户号无效"), errors={"household_no": [str(_("户号无效"))]})
        if (
            number != household.household_no
            and Household.objects.filter(household_no=number).exists()
        ):
            raise Conflict(_("户号已存在"), errors={"household_no": [str(_("户号已存在"))]})
        household.household_no = number
        update.append("household_no")
    if "address" in changes:
        address = str(changes["address"] or "").strip()
        if len(address) > 255:
            raise ValidationError(_("住址过长"), errors={"address": [str(_("住址过长"))]})
        household.address = address
        update.append("address")
    if "is_collective" in changes:
        household.is_collective = bool(changes["is_collective"])
        update.append("is_collective")
    if "house" in changes:
        house = changes["house"]
        if house is not None:
            require_at(actor, "registers.view_house", house.region_path)
        household.house = house
        update.append("house")
    if "grid" in changes:
        grid = grid_for_write(actor, changes["grid"], "registers.change_household")
        household.grid = grid
        household.region_path = grid.path
        update += ["grid", "region_path"]
    household.save(update_fields=[*dict.fromkeys(update), "updated_at"])
    after = {**_audit_values(household, HOUSEHOLD_FIELDS), "house": household.house_id}
    after["grid"] = household.grid.code
    audit_log(
        actor=actor, action="registers.household.update", obj=household, before=before, after=after
    )
    return household
