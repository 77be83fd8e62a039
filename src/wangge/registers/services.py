"""Writes of the base registers. Keyword-only, typed, atomic, with an explicit actor and an audit
record; the only code that writes registers tables (imports reuse the row builders below).

Authority is re-checked here on every write: the actor must hold the permission on the region
of the object (or of the grid it goes into). An out-of-area grid is refused exactly like an
unknown one, so nothing leaks.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.accounts.permissions import has_perm_at
from wangge.core.audit import audit_log
from wangge.core.exceptions import Conflict, NotFound, PermissionDenied, ValidationError
from wangge.geo.choices import Level
from wangge.geo.models import Region

from . import crypto
from .choices import (
    ComponentStatus,
    Hazard,
    HouseUse,
    IdType,
    OrgKind,
    Ownership,
    PersonFlag,
    Relation,
    RentalStatus,
    SensitiveGroup,
    Sex,
    VisitKind,
)
from .identity import (
    facts_from_resident_id,
    normalise_id_number,
    validate_component_identifier,
    validate_credit_code,
    validate_id_number,
    validate_phone,
)
from .models import (
    FLAG_COLUMNS,
    Building,
    CarePlan,
    Component,
    House,
    Household,
    Organisation,
    Person,
    SensitiveGroupCount,
    Tenancy,
    Visit,
    VisitPhoto,
)

# Associated-data labels of the encrypted columns (see crypto.encrypt).
P_ID = "person.id_number"
P_PHONE = "person.phone"
P_SENSITIVE = "person.sensitive"
O_PHONE = "organisation.contact_phone"
# Blind-index purposes: the same value hashed for different purposes gives unrelated hashes.
H_ID = "id_number"
H_PHONE = "phone"

GRID_LEVELS = (Level.GRID, Level.MICRO_GRID)
ERASED_NAME = "(已删除)"


# --- helpers ------------------------------------------------------------------------------------
def grid_for_write(actor: Any, grid: Region | str, perm: str) -> Region:
    """Resolve a grid (object or code) the actor may write ``perm`` in; NotFound otherwise."""
    region = grid if isinstance(grid, Region) else Region.objects.filter(code=str(grid)).first()
    if (
        region is None
        or not region.is_active
        or region.level not in GRID_LEVELS
        or not has_perm_at(actor, perm, region.path)
    ):
        raise NotFound(_("网格代码不存在或不在您的管辖范围内"))
    return region


def require_at(actor: Any, perm: str, path: str) -> None:
    if not has_perm_at(actor, perm, path):
        raise NotFound(_("记录不存在或不在您的管辖范围内"))


def id_hash(number: str) -> str:
    return crypto.blind_index(normalise_id_number(number), H_ID)


def phone_hash(phone: str) -> str:
    return crypto.blind_index(phone, H_PHONE)


def id_hashes(number: str) -> list[str]:
    """Lookup hashes of an ID number: the current index key's, plus the previous keys' while an
    index-key rotation runs (search and de-duplication keep working throughout)."""
    return crypto.blind_indexes(normalise_id_number(number), H_ID)


def phone_hashes(phone: str) -> list[str]:
    return crypto.blind_indexes(phone, H_PHONE)


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in {"", "否", "0", "false", "no", "n", "无"}:
        return False
    if text in {"是", "1", "true", "yes", "y", "有", "√", "✓"}:
        return True
    raise ValidationError(_("应填“是”或“否”"))


def parse_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-")
    for sep_text in (text, f"{text[:4]}-{text[4:6]}-{text[6:8]}" if text.isdigit() else text):
        try:
            return date.fromisoformat(sep_text)
        except ValueError:
            continue
    raise ValidationError(_("日期格式错误(应为 YYYY-MM-DD)"))


def parse_decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValidationError(_("应为数字")) from exc
    if result < 0 or result >= Decimal("10000000"):
        raise ValidationError(_("数值超出范围"))
    return result.quantize(Decimal("0.01"))


def parse_float(value: Any, low: float, high: float) -> float | None:
    if value in (None, ""):
        return None
    try:
        result = float(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("应为数字")) from exc
    if not (low <= result <= high) or math.isnan(result):
        raise ValidationError(_("数值超出范围"))
    return result


def choice_value(choices: Any, value: Any, *, default: str | None = None) -> str:
    """Accept a choice by its value or its Chinese label (what a spreadsheet holds)."""
    text = str(value or "").strip()
    if not text:
        if default is not None:
            return default
        raise ValidationError(_("必填"))
    for val, label in choices.choices:
        if text in (val, str(label)):
            return str(val)
    raise ValidationError(_("不是有效的选项"))


def sensitive_counts_apply(grid: Region, before: set[str], after: set[str]) -> None:
    """Keep SensitiveGroupCount in step when one person's groups change."""
    for group in after - before:
        sensitive_count_add(grid, group, 1)
    for group in before - after:
        sensitive_count_add(grid, group, -1)


def sensitive_count_add(grid: Region, group: str, delta: int) -> None:
    row, _created = SensitiveGroupCount.objects.get_or_create(
        grid=grid, group=group, defaults={"region_path": grid.path, "count": 0}
    )
    SensitiveGroupCount.objects.filter(pk=row.pk).update(count=F("count") + delta)


def person_sensitive(person: Person) -> dict[str, dict[str, Any]]:
    """Decrypt a person's special-group record (callers check ``registers.view_sensitive``)."""
    data = crypto.decrypt_json(person.sensitive_enc, P_SENSITIVE, default={})
    return data if isinstance(data, dict) else {}


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


# --- people -------------------------------------------------------------------------------------
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


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError(_("请填写事由"), errors={"reason": [str(_("请填写事由"))]})
    return reason[:200]


@transaction.atomic
def person_reveal(*, actor: Any, person: Person, reason: str) -> dict[str, str]:
    """Return the unmasked ID number and phone, recording who saw them, when and why."""
    require_at(actor, "registers.view_person", person.region_path)
    if not has_perm_at(actor, "registers.reveal_pii", person.region_path):
        raise PermissionDenied(_("您无权查看完整证件号码和电话"))
    if person.erased_at:
        raise Conflict(_("该人员的个人信息已删除"))
    reason = _reason(reason)
    audit_log(
        actor=actor,
        action="registers.person.reveal",
        obj=person,
        after={"reason": reason, "fields": ["id_number", "phone"]},
    )
    return {
        "id_number": crypto.decrypt(person.id_number_enc, P_ID),
        "phone": crypto.decrypt(person.phone_enc, P_PHONE),
    }


@transaction.atomic
def person_subject_export(*, actor: Any, person: Person, reason: str) -> dict[str, Any]:
    """Everything held about one person, unmasked, for a PIPL access request (audited)."""
    require_at(actor, "registers.export_person", person.region_path)
    if not has_perm_at(actor, "registers.reveal_pii", person.region_path):
        raise PermissionDenied(_("您无权查看完整证件号码和电话"))
    reason = _reason(reason)
    data: dict[str, Any] = {
        "name": person.name,
        "id_type": person.id_type,
        "id_number": crypto.decrypt(person.id_number_enc, P_ID),
        "sex": person.sex,
        "birth_date": person.birth_date.isoformat() if person.birth_date else None,
        "ethnicity": person.ethnicity,
        "phone": crypto.decrypt(person.phone_enc, P_PHONE),
        "registered_address": person.registered_address,
        "current_address": person.current_address,
        "registration_matches": person.registration_matches,
        "grid": person.grid.code,
        "household_no": person.household.household_no if person.household else None,
        "relation": person.relation,
        "flags": person.flags(),
        "flag_since": person.flag_since,
        "arrival_date": person.arrival_date.isoformat() if person.arrival_date else None,
        "special_groups": sorted(person_sensitive(person)),
        "visits": [
            {"kind": v.kind, "visited_at": v.visited_at.isoformat(), "notes": v.notes}
            for v in person.visits.order_by("visited_at")
        ],
        "tenancies": [
            {
                "house": t.house.address,
                "start": t.start_date.isoformat() if t.start_date else None,
                "end": t.end_date.isoformat() if t.end_date else None,
            }
            for t in person.tenancies.select_related("house")
        ],
    }
    audit_log(
        actor=actor, action="registers.person.subject_export", obj=person, after={"reason": reason}
    )
    return data


@transaction.atomic
def person_erase(*, actor: Any, person: Person, reason: str) -> Person:
    """PIPL erasure: drop identifiers, contact data, special groups and free-text addresses;
    keep a tombstone row so visits, tenancies and case history still resolve."""
    person = Person.objects.select_for_update().select_related("grid").get(pk=person.pk)
    require_at(actor, "registers.view_person", person.region_path)
    if not has_perm_at(actor, "registers.erase_person", person.region_path):
        raise PermissionDenied(_("您无权删除个人信息"))
    if person.erased_at:
        raise Conflict(_("该人员的个人信息已删除"))
    reason = _reason(reason)
    old_sensitive = person_sensitive(person)
    person.name = ERASED_NAME
    person.id_number_enc = ""
    person.id_number_hash = ""
    person.phone_enc = ""
    person.phone_hash = ""
    person.sensitive_enc = crypto.encrypt_json({}, P_SENSITIVE)
    person.birth_date = None
    person.sex = Sex.UNKNOWN
    person.ethnicity = ""
    person.registered_address = ""
    person.current_address = ""
    person.disability_grade = ""
    person.flag_since = {}
    person.arrival_date = None
    person.residence_permit_until = None
    for column in FLAG_COLUMNS.values():
        setattr(person, column, False)
    person.erased_at = timezone.now()
    person.version += 1
    person.save()
    Visit.objects.filter(person=person).update(notes="")
    sensitive_counts_apply(person.grid, set(old_sensitive), set())
    audit_log(
        actor=actor,
        action="registers.person.erase",
        obj=person,
        object_repr=f"person #{person.pk}",
        after={"reason": reason},
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


# --- buildings and houses -----------------------------------------------------------------------
@transaction.atomic
def building_create(
    *,
    actor: Any,
    grid: Region | str,
    code: str,
    name: str,
    address: str,
    floors: int | None = None,
    build_year: int | None = None,
    lon: float | None = None,
    lat: float | None = None,
) -> Building:
    grid = grid_for_write(actor, grid, "registers.change_building")
    errors: dict[str, list[str]] = {}
    for field, value in (("code", code), ("name", name), ("address", address)):
        if not str(value or "").strip():
            errors[field] = [str(_("必填"))]
    if errors:
        raise ValidationError(_("楼栋信息有误"), errors=errors)
    if Building.objects.filter(code=code).exists():
        raise Conflict(_("楼栋编码已存在"), errors={"code": [str(_("楼栋编码已存在"))]})
    building = Building.objects.create(
        grid=grid,
        region_path=grid.path,
        code=code.strip(),
        name=name.strip(),
        address=address.strip(),
        floors=floors,
        build_year=build_year,
        lon=lon if lon is not None else grid.center_lon,
        lat=lat if lat is not None else grid.center_lat,
    )
    audit_log(actor=actor, action="registers.building.create", obj=building)
    return building


def clean_hazards(values: Any) -> list[str]:
    if not values:
        return []
    if isinstance(values, str):
        values = [v for v in values.replace("，", ",").replace("、", ",").split(",") if v.strip()]
    return sorted({choice_value(Hazard, v) for v in values})


def build_house(
    *,
    building: Building,
    code: str,
    room: str,
    use: str,
    ownership: str,
    unit: str = "",
    floor: int | None = None,
    area_m2: Any = None,
    owner_name: str = "",
    rental_status: str = RentalStatus.OWNER_OCCUPIED,
    hazards: Any = None,
    hazard_note: str = "",
) -> House:
    errors: dict[str, list[str]] = {}

    def check(field: str, fn: Any, *args: Any, **kw: Any) -> Any:
        try:
            return fn(*args, **kw)
        except ValidationError as exc:
            errors.setdefault(field, []).append(exc.message)
            return None

    code = str(code or "").strip()
    room = str(room or "").strip()
    if not code:
        errors["code"] = [str(_("必填"))]
    if not room:
        errors["room"] = [str(_("必填"))]
    use_v = check("use", choice_value, HouseUse, use)
    own_v = check("ownership", choice_value, Ownership, ownership)
    rent_v = check(
        "rental_status", choice_value, RentalStatus, rental_status, default="owner_occupied"
    )
    area = check("area_m2", parse_decimal, area_m2)
    hz = check("hazards", clean_hazards, hazards)
    if errors:
        raise ValidationError(_("房屋信息有误"), errors=errors)
    unit = str(unit or "").strip()
    address = f"{building.address}{unit}{room}"
    return House(
        building=building,
        grid_id=building.grid_id,
        region_path=building.region_path,
        code=code,
        unit=unit,
        floor=floor,
        room=room,
        address=address[:255],
        use=use_v,
        ownership=own_v,
        area_m2=area,
        owner_name=owner_name,
        rental_status=rent_v,
        hazards=hz or [],
        hazard_note=hazard_note,
        lon=building.lon,
        lat=building.lat,
    )


@transaction.atomic
def house_create(*, actor: Any, building: Building, **fields: Any) -> House:
    require_at(actor, "registers.change_house", building.region_path)
    house = build_house(building=building, **fields)
    if House.objects.filter(code=house.code).exists():
        raise Conflict(_("房屋编码已存在"), errors={"code": [str(_("房屋编码已存在"))]})
    if House.objects.filter(building=building, unit=house.unit, room=house.room).exists():
        raise Conflict(_("该楼栋单元下房号已存在"), errors={"room": [str(_("房号已存在"))]})
    house.save(force_insert=True)
    audit_log(actor=actor, action="registers.house.create", obj=house)
    return house


@transaction.atomic
def tenancy_add(
    *,
    actor: Any,
    house: House,
    person: Person,
    start_date: date | None = None,
    end_date: date | None = None,
    note: str = "",
) -> Tenancy:
    require_at(actor, "registers.change_house", house.region_path)
    require_at(actor, "registers.view_person", person.region_path)
    if start_date and end_date and end_date < start_date:
        raise ValidationError(_("到期日期不能早于起租日期"))
    tenancy = Tenancy.objects.create(
        house=house, person=person, start_date=start_date, end_date=end_date, note=note
    )
    if house.rental_status in (RentalStatus.OWNER_OCCUPIED, RentalStatus.VACANT):
        house.rental_status = RentalStatus.RENTED
        house.save(update_fields=["rental_status", "updated_at"])
    audit_log(
        actor=actor,
        action="registers.house.tenancy_add",
        obj=house,
        after={"person": person.pk, "start": start_date, "end": end_date},
    )
    return tenancy


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


# --- updates: households, buildings, houses, tenancies, organisations, components ----------------
# Each follows person_update: load the row locked, check the actor's area on the row's current
# path, re-validate the merged fields with the same builder as create, check a new grid (or
# building) against the actor's area too, save only the changed columns and audit before/after.
def _refuse_unknown(changes: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(
            _("不能修改的字段: {fields}").format(fields=", ".join(sorted(unknown)))
        )


def _audit_values(obj: Any, fields: Any) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in fields}


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


BUILDING_FIELDS = ("code", "name", "address", "floors", "build_year", "lon", "lat")


def _small_int(value: Any, low: int, high: int) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("应为整数")) from exc
    if not low <= number <= high:
        raise ValidationError(_("数值超出范围"))
    return number


@transaction.atomic
def building_update(*, actor: Any, building: Building, **changes: Any) -> Building:
    """Change a building's fields or move it to another grid; its houses follow the building
    (they carry the building's grid), and the move is checked on the old and the new grid."""
    building = Building.objects.select_for_update().select_related("grid").get(pk=building.pk)
    require_at(actor, "registers.change_building", building.region_path)
    _refuse_unknown(changes, {*BUILDING_FIELDS, "grid"})
    before = {**_audit_values(building, BUILDING_FIELDS), "grid": building.grid.code}
    merged = {**_audit_values(building, BUILDING_FIELDS), **changes}
    errors: dict[str, list[str]] = {}
    for field, limit in (("code", 32), ("name", 100), ("address", 255)):
        merged[field] = str(merged[field] or "").strip()
        if not merged[field]:
            errors[field] = [str(_("必填"))]
        elif len(merged[field]) > limit:
            errors[field] = [str(_("内容过长"))]
    for field, parse in (
        ("floors", lambda v: _small_int(v, 0, 300)),
        ("build_year", lambda v: _small_int(v, 1000, 2100)),
        ("lon", lambda v: parse_float(v, -180, 180)),
        ("lat", lambda v: parse_float(v, -90, 90)),
    ):
        try:
            merged[field] = parse(merged[field])
        except ValidationError as exc:
            errors[field] = [exc.message]
    if errors:
        raise ValidationError(_("楼栋信息有误"), errors=errors)
    if merged["code"] != building.code and Building.objects.filter(code=merged["code"]).exists():
        raise Conflict(_("楼栋编码已存在"), errors={"code": [str(_("楼栋编码已存在"))]})
    update = [f for f in BUILDING_FIELDS if merged[f] != getattr(building, f)]
    for field in update:
        setattr(building, field, merged[field])
    moved = False
    if "grid" in changes:
        grid = grid_for_write(actor, changes["grid"], "registers.change_building")
        if grid.pk != building.grid_id:
            building.grid = grid
            building.region_path = grid.path
            update += ["grid", "region_path"]
            moved = True
    building.save(update_fields=[*update, "updated_at"])
    if moved:
        building.houses.update(grid=building.grid, region_path=building.region_path)
    audit_log(
        actor=actor,
        action="registers.building.update",
        obj=building,
        before=before,
        after={**_audit_values(building, BUILDING_FIELDS), "grid": building.grid.code},
    )
    return building


HOUSE_FIELDS = (
    "code",
    "unit",
    "floor",
    "room",
    "use",
    "area_m2",
    "ownership",
    "owner_name",
    "rental_status",
    "hazards",
    "hazard_note",
)


@transaction.atomic
def house_update(*, actor: Any, house: House, **changes: Any) -> House:
    """Change a house's fields (use, area, ownership, rental status, hazards …) or move it to
    another building; a move is checked on the old and the new building's area."""
    house = House.objects.select_for_update().select_related("building").get(pk=house.pk)
    require_at(actor, "registers.change_house", house.region_path)
    _refuse_unknown(changes, {*HOUSE_FIELDS, "building"})
    building = house.building
    if "building" in changes:
        building = changes.pop("building")
        require_at(actor, "registers.change_house", building.region_path)
    current = _audit_values(house, HOUSE_FIELDS)
    before = {**current, "building": house.building_id, "area_m2": str(house.area_m2 or "")}
    if "floor" in changes:
        try:
            changes["floor"] = _small_int(changes["floor"], -10, 300)
        except ValidationError as exc:
            raise ValidationError(_("房屋信息有误"), errors={"floor": [exc.message]}) from exc
    fresh = build_house(building=building, **{**current, **changes})
    for field, limit in (("unit", 16), ("room", 16), ("code", 40), ("owner_name", 100)):
        if len(str(getattr(fresh, field) or "")) > limit:
            raise ValidationError(_("房屋信息有误"), errors={field: [str(_("内容过长"))]})
    if fresh.code != house.code and House.objects.filter(code=fresh.code).exists():
        raise Conflict(_("房屋编码已存在"), errors={"code": [str(_("房屋编码已存在"))]})
    if (
        House.objects.filter(building=building, unit=fresh.unit, room=fresh.room)
        .exclude(pk=house.pk)
        .exists()
    ):
        raise Conflict(_("该楼栋单元下房号已存在"), errors={"room": [str(_("房号已存在"))]})
    fields = (*HOUSE_FIELDS, "address")
    update = [f for f in fields if getattr(fresh, f) != getattr(house, f)]
    for field in update:
        setattr(house, field, getattr(fresh, field))
    if building.pk != house.building_id:
        house.building = building
        house.grid_id = building.grid_id
        house.region_path = building.region_path
        house.lon, house.lat = building.lon, building.lat
        update += ["building", "grid", "region_path", "lon", "lat"]
    house.save(update_fields=[*update, "updated_at"])
    audit_log(
        actor=actor,
        action="registers.house.update",
        obj=house,
        before=before,
        after={
            **_audit_values(house, HOUSE_FIELDS),
            "building": house.building_id,
            "area_m2": str(house.area_m2 or ""),
        },
    )
    return house


@transaction.atomic
def tenancy_end(*, actor: Any, tenancy: Tenancy, end_date: date | None = None) -> Tenancy:
    """End a tenancy (退租) on ``end_date`` (today by default); the house shows as 空置 when its
    last current tenant leaves a fully rented house."""
    tenancy = Tenancy.objects.select_for_update().select_related("house").get(pk=tenancy.pk)
    house = tenancy.house
    require_at(actor, "registers.change_house", house.region_path)
    end = end_date or timezone.localdate()
    if tenancy.start_date and end < tenancy.start_date:
        raise ValidationError(
            _("到期日期不能早于起租日期"), errors={"end_date": [str(_("到期日期不能早于起租日期"))]}
        )
    before = {"end": tenancy.end_date}
    tenancy.end_date = end
    tenancy.save(update_fields=["end_date"])
    today = timezone.localdate()
    staying = house.tenancies.filter(Q(end_date__isnull=True) | Q(end_date__gt=today))
    if house.rental_status == RentalStatus.RENTED and end <= today and not staying.exists():
        house.rental_status = RentalStatus.VACANT
        house.save(update_fields=["rental_status", "updated_at"])
    audit_log(
        actor=actor,
        action="registers.house.tenancy_end",
        obj=house,
        before=before,
        after={"person": tenancy.person_id, "end": end},
    )
    return tenancy


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


# --- visits and care plans ----------------------------------------------------------------------
EARTH_RADIUS_M = 6_371_008.8


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle (haversine) distance in metres between two WGS-84 points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def _target_point(target: Any) -> tuple[float, float] | None:
    if isinstance(target, Person):
        house = target.house or (target.household.house if target.household else None)
        return _target_point(house) if house else None
    if isinstance(target, Household):
        return _target_point(target.house) if target.house_id else None
    lon, lat = getattr(target, "lon", None), getattr(target, "lat", None)
    return (lon, lat) if lon is not None and lat is not None else None


@transaction.atomic
def visit_create(
    *,
    actor: Any,
    kind: str,
    target: Person | Household | House | Organisation | Component,
    visited_at: datetime | None = None,
    lon: float | None = None,
    lat: float | None = None,
    crs: str = "wgs84",
    notes: str = "",
    photos: list[tuple[str, bytes, str]] | None = None,
) -> Visit:
    """Record a 走访 or 巡查 with an optional check-in; the distance to the target is kept so a
    supervisor can see whether the worker was there. Visiting a person (or household) updates
    their ``last_visit_at`` for care plans.

    The check-in is given in ``crs`` (``wgs84`` from a phone's GPS, ``gcj02``/``bd09`` from
    Chinese map SDKs) and stored in WGS-84. Photos are checked (type by their first bytes,
    size, count) before anything is written: a bad one refuses the whole visit."""
    require_at(actor, "registers.add_visit", target.region_path)
    kind = choice_value(VisitKind, kind)
    now = timezone.now()
    visited_at = visited_at or now
    if visited_at > now + timedelta(minutes=5):
        raise ValidationError(_("走访时间不能晚于现在"))
    if (lon is None) != (lat is None):
        raise ValidationError(_("签到位置需同时提供经度和纬度"))
    if lon is not None and lat is not None:
        from wangge.geo.crs import to_wgs84

        try:
            lon, lat = to_wgs84(float(lon), float(lat), crs)
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                _("签到位置无效"), errors={"location": [str(_("签到位置无效"))]}
            ) from exc
    checked = [_check_photo(content) for _name, content, _type in photos or []]
    if len(checked) > VISIT_MAX_PHOTOS:
        raise ValidationError(
            _("最多上传%(n)d张照片。") % {"n": VISIT_MAX_PHOTOS}, errors={"photos": ["too_many"]}
        )
    notes = (notes or "").strip()
    if len(notes) > 4000:
        raise ValidationError(_("内容过长"), errors={"notes": [str(_("内容过长"))]})
    point = _target_point(target)
    distance = (
        round(distance_m(lon, lat, point[0], point[1]), 1)
        if lon is not None and lat is not None and point
        else None
    )
    visit = Visit(
        kind=kind,
        visitor=actor,
        visited_at=visited_at,
        lon=lon,
        lat=lat,
        distance_m=distance,
        notes=notes,
        grid_id=target.grid_id,
        region_path=target.region_path,
    )
    field = {
        Person: "person",
        Household: "household",
        House: "house",
        Organisation: "organisation",
        Component: "component",
    }[type(target)]
    setattr(visit, field, target)
    visit.save(force_insert=True)
    for (name, content, _declared), content_type in zip(photos or [], checked, strict=True):
        _save_photo(visit, name, content, content_type)
    if isinstance(target, Person):
        Person.objects.filter(pk=target.pk).update(last_visit_at=visited_at)
    elif isinstance(target, Household):
        target.members.filter(erased_at__isnull=True).update(last_visit_at=visited_at)
    audit_log(
        actor=actor,
        action="registers.visit.create",
        obj=visit,
        after={"kind": kind, "target": f"{field}:{target.pk}", "distance_m": distance},
    )
    return visit


PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp"}
PHOTO_MAX_BYTES = 10 * 1024 * 1024
VISIT_MAX_PHOTOS = 6


def sniff_photo(head: bytes) -> str | None:
    """The content type of a JPEG/PNG/WebP by its first bytes (what a client declares is not
    trusted), else None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _check_photo(content: bytes) -> str:
    if len(content) > PHOTO_MAX_BYTES:
        raise ValidationError(
            _("照片不能超过%(n)dMB。") % {"n": PHOTO_MAX_BYTES // (1024 * 1024)},
            errors={"photos": ["too_large"]},
        )
    content_type = sniff_photo(content[:16])
    if content_type is None:
        raise ValidationError(_("照片格式应为 JPEG、PNG 或 WebP"), errors={"photos": ["type"]})
    return content_type


def _save_photo(visit: Visit, name: str, content: bytes, content_type: str) -> VisitPhoto:
    import hashlib

    from django.core.files.base import ContentFile

    if content_type not in PHOTO_TYPES:
        raise ValidationError(_("照片格式应为 JPEG、PNG 或 WebP"))
    if len(content) > PHOTO_MAX_BYTES:
        raise ValidationError(_("照片过大"))
    photo = VisitPhoto(
        visit=visit,
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    ext = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}[content_type]
    photo.file.save(f"{photo.sha256[:16]}.{ext}", ContentFile(content), save=False)
    photo.save()
    return photo


@transaction.atomic
def careplan_set(
    *, actor: Any, region: Region, group: str, interval_days: int, active: bool = True
) -> CarePlan:
    require_at(actor, "registers.change_careplan", region.path)
    group = choice_value(PersonFlag, group)
    if not 1 <= int(interval_days) <= 366:
        raise ValidationError(_("走访周期应在1–366天之间"))
    plan, _created = CarePlan.objects.update_or_create(
        region=region,
        group=group,
        defaults={
            "region_path": region.path,
            "interval_days": int(interval_days),
            "active": active,
        },
    )
    audit_log(
        actor=actor,
        action="registers.careplan.set",
        obj=plan,
        after={"group": group, "interval_days": plan.interval_days, "active": active},
    )
    return plan


# --- key rotation -------------------------------------------------------------------------------
ENCRYPTED_COLUMNS: list[tuple[type[Any], str, str]] = [
    (Person, "id_number_enc", P_ID),
    (Person, "phone_enc", P_PHONE),
    (Person, "sensitive_enc", P_SENSITIVE),
    (Organisation, "contact_phone_enc", O_PHONE),
]
# Blind indexes and the ciphertext column each is recomputed from: (model, hash column,
# encrypted column, its purpose, the hash function the services store).
INDEXED_COLUMNS: list[tuple[type[Any], str, str, str, Any]] = [
    (Person, "id_number_hash", "id_number_enc", P_ID, id_hash),
    (Person, "phone_hash", "phone_enc", P_PHONE, phone_hash),
    (Organisation, "contact_phone_hash", "contact_phone_enc", O_PHONE, phone_hash),
]


def _rotate_batch(model: type[Any], pks: list[int], counts: Counter[str]) -> None:
    """Bring one batch under the current data and index keys. The rows are re-read under a
    row lock, so a concurrent edit between the scan and the write is never overwritten."""
    name = model._meta.model_name
    enc = [(c, p) for m, c, p in ENCRYPTED_COLUMNS if m is model]
    idx = [(h, c, p, f) for m, h, c, p, f in INDEXED_COLUMNS if m is model]
    fields = ["pk", *(c for c, _p in enc), *(h for h, *_rest in idx)]
    changed: list[Any] = []
    dirty: set[str] = set()
    with transaction.atomic():
        for obj in model.objects.select_for_update().filter(pk__in=pks).only(*fields):
            plain: dict[str, str] = {}
            touched = False
            for column, purpose in enc:
                token = getattr(obj, column)
                if crypto.needs_rotation(token):
                    plain[column] = crypto.decrypt(token, purpose)
                    setattr(obj, column, crypto.encrypt(plain[column], purpose))
                    counts[f"{name}.{column}"] += 1
                    dirty.add(column)
                    touched = True
            for hash_column, column, purpose, hasher in idx:
                value = plain.get(column)
                if value is None:
                    value = crypto.decrypt(getattr(obj, column), purpose)
                digest = hasher(value) if value else ""
                if getattr(obj, hash_column) != digest:
                    setattr(obj, hash_column, digest)
                    counts[f"{name}.{hash_column}"] += 1
                    dirty.add(hash_column)
                    touched = True
            if touched:
                changed.append(obj)
        if changed:
            model.objects.bulk_update(changed, sorted(dirty), batch_size=500)


def rotate_keys(*, actor: Any = None, batch_size: int = 2000) -> dict[str, int]:
    """Re-encrypt every ciphertext not under the current data key and recompute every blind
    index under the current index key (``WANGGE_PII_INDEX_KEY``) from the decrypted value.

    Resumable and idempotent: each batch commits on its own and a second run changes nothing.
    While it runs, lookups also accept hashes under ``WANGGE_PII_OLD_INDEX_KEYS``, so search and
    de-duplication keep working; once it has finished the old index keys can be removed."""
    ring = crypto.keyring()
    counts: Counter[str] = Counter()
    for model in (Person, Organisation):
        last_pk = 0
        while True:
            pks = list(
                model.objects.filter(pk__gt=last_pk)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not pks:
                break
            last_pk = pks[-1]
            _rotate_batch(model, pks, counts)
    with transaction.atomic():
        audit_log(
            actor=actor or "system",
            action="registers.rotate_key",
            object_type="registers.keyring",
            object_id=ring.current_kid,
            after={**dict(counts), "index_key": ring.index_kid},
        )
    return dict(counts)


# --- visit photos (API: create the visit, then upload its photos one by one) --------------------
@transaction.atomic
def visit_photo_add(*, actor: Any, visit: Visit, content: bytes, name: str = "") -> VisitPhoto:
    """Add one photo to the actor's own visit (type by its first bytes, size, at most six)."""
    require_at(actor, "registers.add_visit", visit.region_path)
    if visit.visitor_id != getattr(actor, "pk", None) and not getattr(actor, "is_superuser", False):
        raise PermissionDenied(_("只能为自己的走访记录上传照片"))
    content_type = _check_photo(content)
    if VisitPhoto.objects.filter(visit=visit).count() >= VISIT_MAX_PHOTOS:
        raise ValidationError(
            _("最多上传%(n)d张照片。") % {"n": VISIT_MAX_PHOTOS}, errors={"photos": ["too_many"]}
        )
    photo = _save_photo(visit, name, content, content_type)
    audit_log(
        actor=actor,
        action="registers.visit.photo_add",
        obj=visit,
        after={"photo": photo.pk, "size": photo.size, "content_type": content_type},
    )
    return photo
