"""Buildings, houses and tenancies: creation, the house row builder (shared with the Excel
import), updates and moves, and the start and end of a tenancy."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core.audit import audit_log
from wangge.core.exceptions import Conflict, ValidationError
from wangge.geo.models import Region

from ..choices import Hazard, HouseUse, Ownership, RentalStatus
from ..models import Building, House, Person, Tenancy
from .common import (
    _audit_values,
    _refuse_unknown,
    choice_value,
    grid_for_write,
    parse_decimal,
    parse_float,
    require_at,
)


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
