"""Excel import of the registers: validate every row first, then write all rows in one
transaction — or nothing.

1. **Validate** (no writes): each row through the same builders the services use
   (``services.build_person`` …), grid codes resolved against the actor's area, duplicates found
   inside the file and against the database by key (ID number blind index, 房屋编码, credit code,
   部件标识码). Every problem becomes a row-report entry: row number, column header, reason —
   never the offending value, which may be someone's ID number.
2. **Write** (not on a dry run, and only with an empty report): bulk inserts/updates in one
   transaction, the special-group counts, and one audit record for the whole import. A database
   error there rolls everything back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from wangge.accounts.permissions import has_perm_at
from wangge.core.audit import audit_log
from wangge.core.exceptions import ValidationError
from wangge.geo.models import Region

from .. import crypto
from ..choices import (
    ComponentStatus,
    DuplicatePolicy,
    IdType,
    ImportKind,
    Relation,
    Sex,
)
from ..models import FLAG_COLUMNS, Building, Component, House, Household, Organisation, Person
from ..services import (
    GRID_LEVELS,
    PERSON_PLAIN_FIELDS,
    build_component,
    build_house,
    build_organisation,
    build_person,
    choice_value,
    clean_sensitive,
    id_hashes,
    parse_bool,
    parse_date,
    parse_float,
    person_sensitive,
    sensitive_count_add,
)
from .columns import COLUMNS
from .reader import Sheet, cell_identifier, cell_text, read_sheet

MAX_REPORTED_ERRORS = 1000
PROGRESS_EVERY = 1000
BATCH = 1000

Progress = Callable[[int, int, str], None]


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportResult:
    kind: str
    dry_run: bool
    total: int = 0
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    written: bool = False

    @property
    def ok(self) -> bool:
        return self.error_count == 0


class _Report:
    def __init__(self, kind: str) -> None:
        self.headers = {c.key: c.header for c in COLUMNS[kind]}
        self.errors: list[RowError] = []
        self.count = 0
        self.rows_with_errors: set[int] = set()

    def add(self, row: int, key: str, message: str) -> None:
        self.count += 1
        self.rows_with_errors.add(row)
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(row, self.headers.get(key, key), str(message)))

    def add_exc(self, row: int, exc: ValidationError, default_key: str = "") -> None:
        if exc.errors:
            for key, messages in exc.errors.items():
                for message in messages:
                    self.add(row, key, message)
        else:
            self.add(row, default_key, exc.message)


class _Grids:
    """Grid code → Region the actor may write in (cached); None for unknown or out of area."""

    def __init__(self, actor: Any, perm: str) -> None:
        self.actor, self.perm = actor, perm
        self.cache: dict[str, Region | None] = {}

    def preload(self, codes: set[str]) -> None:
        found = {r.code: r for r in Region.objects.filter(code__in=codes, is_active=True)}
        for code in codes:
            region = found.get(code)
            ok = (
                region is not None
                and region.level in GRID_LEVELS
                and has_perm_at(self.actor, self.perm, region.path)
            )
            self.cache[code] = region if ok else None

    def get(self, code: str) -> Region | None:
        if code not in self.cache:
            self.preload({code})
        return self.cache[code]


class _Row:
    """Collects per-column parse errors while turning a record into builder arguments."""

    def __init__(self, report: _Report, row: int, record: dict[str, Any]) -> None:
        self.report, self.row, self.record = report, row, record
        self.failed = False

    def get(self, key: str, fn: Callable[..., Any] = cell_text, *args: Any, **kw: Any) -> Any:
        try:
            return fn(self.record.get(key), *args, **kw)
        except ValidationError as exc:
            self.failed = True
            self.report.add(self.row, key, exc.message)
            return None

    def choice(self, key: str, choices: Any, default: str | None = None) -> Any:
        return self.get(key, lambda v: choice_value(choices, cell_text(v), default=default))

    def text(self, key: str, limit: int = 255) -> str:
        value = cell_text(self.record.get(key))
        if len(value) > limit:
            self.failed = True
            self.report.add(self.row, key, _("内容过长"))
        return value


def _split(value: Any) -> list[str]:
    text = cell_text(value).replace("，", ",").replace("、", ",").replace(";", ",")
    return [v.strip() for v in text.split(",") if v.strip()]


def _grid(row: _Row, grids: _Grids) -> Region | None:
    code = cell_text(row.record.get("grid"))
    if not code:
        row.failed = True
        row.report.add(row.row, "grid", _("必填"))
        return None
    region = grids.get(code)
    if region is None:
        row.failed = True
        row.report.add(row.row, "grid", _("网格代码不存在或不在您的管辖范围内"))
    return region


def _existing(model: Any, field_name: str, keys: list[str]) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    for i in range(0, len(keys), 900):
        chunk = keys[i : i + 900]
        for pk, key, path in model.objects.filter(**{f"{field_name}__in": chunk}).values_list(
            "pk", field_name, "region_path"
        ):
            found[key] = (pk, path)
    return found


# --- people -------------------------------------------------------------------------------------
@dataclass
class _PersonPlan:
    row: int
    person: Person
    household_no: str
    sensitive: dict[str, dict[str, Any]] | None  # None: the import does not touch them
    existing_pk: int | None = None
    # Hashes of the ID number under previous index keys (only during an index-key rotation).
    old_hashes: list[str] = field(default_factory=list)


def _validate_people(
    actor: Any, sheet: Sheet, report: _Report, policy: str, progress: Progress
) -> tuple[list[_PersonPlan], dict[str, Household | Region]]:
    grids = _Grids(actor, "registers.add_person")
    records = list(sheet.records())
    grids.preload({cell_text(r.get("grid")) for _n, r in records})
    plans: list[_PersonPlan] = []
    seen: dict[str, int] = {}
    rotating = bool(crypto.keyring().old_index_keys)
    for index, (row_no, rec) in enumerate(records, 1):
        row = _Row(report, row_no, rec)
        grid = _grid(row, grids)
        id_type = row.choice("id_type", IdType, default=IdType.RESIDENT_ID)
        id_number = row.get("id_number", cell_identifier)
        sex = row.choice("sex", Sex, default="") or None
        birth = row.get("birth_date", parse_date)
        phone = row.get("phone", cell_identifier)
        relation = row.choice("relation", Relation, default="")
        matches = row.get(
            "registration_matches", lambda v: parse_bool(v) if v not in (None, "") else True
        )
        flags = {flag: bool(row.get(flag, parse_bool)) for flag in FLAG_COLUMNS}
        arrival = row.get("arrival_date", parse_date)
        permit = row.get("residence_permit_until", parse_date)
        groups = row.get("special_groups", lambda v: clean_sensitive(_split(v)))
        household_no = row.text("household_no", 32)
        texts: dict[str, Any] = {
            "ethnicity": row.text("ethnicity", 16),
            "registered_address": row.text("registered_address"),
            "current_address": row.text("current_address"),
            "disability_grade": row.text("disability_grade", 16),
        }
        if (
            groups
            and grid is not None
            and not has_perm_at(actor, "registers.view_sensitive", grid.path)
        ):
            row.failed = True
            report.add(row_no, "special_groups", _("您无权登记特殊人群信息"))
        try:
            # Run the builder even when a column already failed, so one pass reports every
            # problem of the row (a bad check digit next to an unknown grid code).
            person = build_person(
                grid=grid,
                name=cell_text(rec.get("name")),
                id_type=id_type or IdType.RESIDENT_ID,
                id_number=id_number or "",
                sex=sex,
                birth_date=birth,
                phone=phone or "",
                relation=relation or "",
                registration_matches=bool(matches) if matches is not None else True,
                flags=flags,
                arrival_date=arrival,
                residence_permit_until=permit,
                sensitive=groups or {},
                **texts,
            )
        except ValidationError as exc:
            report.add_exc(row_no, exc)
            _tick(progress, index, len(records))
            continue
        if grid is None or row.failed:
            _tick(progress, index, len(records))
            continue
        if person.id_number_hash in seen:
            report.add(
                row_no,
                "id_number",
                _("文件内证件号码重复(与第{row}行)").format(row=seen[person.id_number_hash]),
            )
        else:
            seen[person.id_number_hash] = row_no
            column_present = "special_groups" in sheet.keys
            plans.append(
                _PersonPlan(
                    row_no,
                    person,
                    household_no,
                    groups if column_present else None,
                    old_hashes=id_hashes(id_number or "")[1:] if rotating else [],
                )
            )
        _tick(progress, index, len(records))
    # Against the database: the ID number blind index (and, during an index-key rotation, the
    # hashes under the previous keys, so a not yet rotated record is still found).
    keys = [p.person.id_number_hash for p in plans]
    keys += [h for p in plans for h in p.old_hashes]
    existing = _existing(Person, "id_number_hash", keys)
    for plan in plans:
        hit = existing.get(plan.person.id_number_hash)
        for old in plan.old_hashes:
            hit = hit or existing.get(old)
        if hit is None:
            continue
        if policy != DuplicatePolicy.UPDATE:
            report.add(plan.row, "id_number", _("证件号码已登记(选择“更新已有记录”可更新)"))
        elif not has_perm_at(actor, "registers.change_person", hit[1]):
            # The same words person_create uses for any registered ID number: naming "another
            # area" would let an importer probe where someone lives.
            report.add(plan.row, "id_number", _("该证件号码已登记"))
        else:
            plan.existing_pk = hit[0]
        if (
            plan.sensitive is not None
            and hit is not None
            and not has_perm_at(actor, "registers.view_sensitive", hit[1])
        ):
            plan.sensitive = None
    # Households: existing ones must be in the actor's area; new numbers create a household.
    numbers = sorted({p.household_no for p in plans if p.household_no})
    households: dict[str, Household | Region] = {}
    found = {h.household_no: h for h in Household.objects.filter(household_no__in=numbers)}
    for plan in plans:
        no = plan.household_no
        if not no or no in households:
            continue
        hh = found.get(no)
        if hh is not None and not has_perm_at(actor, "registers.add_person", hh.region_path):
            report.add(plan.row, "household_no", _("户号已存在"))
            continue
        households[no] = hh if hh is not None else plan.person.grid
    return plans, households


def _write_people(
    actor: Any, plans: list[_PersonPlan], households: dict[str, Household | Region]
) -> tuple[int, int]:
    new_households = [
        Household(grid=grid, region_path=grid.path, household_no=no)
        for no, grid in households.items()
        if isinstance(grid, Region)
    ]
    Household.objects.bulk_create(new_households, batch_size=BATCH)
    hh_ids = {h.household_no: h.pk for h in new_households}
    hh_ids.update({no: h.pk for no, h in households.items() if isinstance(h, Household)})
    creates, updates = [], []
    deltas: Counter[tuple[int, str]] = Counter()
    grid_by_id: dict[int, Region] = {}
    old_by_pk = {
        p.pk: p
        for p in Person.objects.filter(
            pk__in=[pl.existing_pk for pl in plans if pl.existing_pk]
        ).only("pk", "grid_id", "sensitive_enc", "household_id", "version")
    }
    for plan in plans:
        person = plan.person
        grid_by_id[person.grid_id] = person.grid
        if plan.household_no in hh_ids:
            person.household_id = hh_ids[plan.household_no]
        if plan.existing_pk is None:
            person.created_by = actor if getattr(actor, "pk", None) else None
            creates.append(person)
            for group in plan.sensitive or {}:
                deltas[(person.grid_id, group)] += 1
            continue
        old = old_by_pk[plan.existing_pk]
        person.pk = old.pk
        person.version = old.version + 1
        if not plan.household_no:
            person.household_id = old.household_id
        old_groups = set(person_sensitive(old))
        if plan.sensitive is None:
            person.sensitive_enc = old.sensitive_enc
            new_groups = old_groups
        else:
            new_groups = set(plan.sensitive)
        for group in old_groups:
            deltas[(old.grid_id, group)] -= 1
        for group in new_groups:
            deltas[(person.grid_id, group)] += 1
        grid_by_id.setdefault(old.grid_id, Region.objects.get(pk=old.grid_id))
        updates.append(person)
    Person.objects.bulk_create(creates, batch_size=BATCH)
    if updates:
        fields = [
            *PERSON_PLAIN_FIELDS,
            "grid",
            "region_path",
            "household",
            "id_type",
            "id_number_enc",
            "id_number_hash",
            "phone_enc",
            "phone_hash",
            "sensitive_enc",
            "version",
        ]
        Person.objects.bulk_update(updates, fields, batch_size=500)
    for (grid_id, group), delta in deltas.items():
        if delta:
            sensitive_count_add(grid_by_id[grid_id], group, delta)
    return len(creates), len(updates)


# --- houses, organisations, components -------------------------------------------------------
def _validate_houses(
    actor: Any, sheet: Sheet, report: _Report, policy: str, progress: Progress
) -> list[tuple[int, House, int | None]]:
    grids = _Grids(actor, "registers.change_house")
    records = list(sheet.records())
    grids.preload({cell_text(r.get("grid")) for _n, r in records})
    codes = sorted({cell_text(r.get("building_code")) for _n, r in records} - {""})
    buildings: dict[str, Building] = {b.code: b for b in Building.objects.filter(code__in=codes)}
    plans: list[tuple[int, House, int | None]] = []
    seen: dict[str, int] = {}
    seen_rooms: dict[tuple[str, str, str], int] = {}
    for index, (row_no, rec) in enumerate(records, 1):
        row = _Row(report, row_no, rec)
        grid = _grid(row, grids)
        bcode = row.text("building_code", 32)
        if not bcode:
            row.failed = True
            report.add(row_no, "building_code", _("必填"))
        floor = row.get(
            "floor", lambda v: int(parse_float(v, -10, 300) or 0) if v not in (None, "") else None
        )
        lon = row.get("lon", parse_float, -180, 180)
        lat = row.get("lat", parse_float, -90, 90)
        if grid is None or row.failed:
            _tick(progress, index, len(records))
            continue
        building = buildings.get(bcode)
        if building is None:
            name, address = row.text("building_name", 100), row.text("building_address")
            if not name or not address:
                report.add(row_no, "building_name" if not name else "building_address", _("必填"))
                continue
            building = Building(
                grid=grid,
                region_path=grid.path,
                code=bcode,
                name=name,
                address=address,
                lon=lon if lon is not None else grid.center_lon,
                lat=lat if lat is not None else grid.center_lat,
            )
            buildings[bcode] = building
        elif building.pk and not has_perm_at(actor, "registers.change_house", building.region_path):
            report.add(row_no, "building_code", _("楼栋编码已存在"))
            continue
        try:
            house = build_house(
                building=building,
                code=cell_text(rec.get("code")),
                room=cell_text(rec.get("room")),
                unit=cell_text(rec.get("unit")),
                floor=floor,
                use=cell_text(rec.get("use")),
                ownership=cell_text(rec.get("ownership")),
                area_m2=rec.get("area_m2"),
                owner_name=cell_text(rec.get("owner_name"))[:100],
                rental_status=cell_text(rec.get("rental_status")),
                hazards=_split(rec.get("hazards")),
            )
        except ValidationError as exc:
            report.add_exc(row_no, exc)
            _tick(progress, index, len(records))
            continue
        if lon is not None and lat is not None:
            house.lon, house.lat = lon, lat
        room_key = (bcode, house.unit, house.room)
        if house.code in seen:
            report.add(
                row_no, "code", _("文件内房屋编码重复(与第{row}行)").format(row=seen[house.code])
            )
        elif room_key in seen_rooms:
            report.add(
                row_no,
                "room",
                _("文件内同一楼栋单元房号重复(与第{row}行)").format(row=seen_rooms[room_key]),
            )
        else:
            seen[house.code] = seen_rooms[room_key] = row_no
            plans.append((row_no, house, None))
        _tick(progress, index, len(records))
    existing = _existing(House, "code", [h.code for _r, h, _e in plans])
    result: list[tuple[int, House, int | None]] = []
    for row_no, house, _e in plans:
        hit = existing.get(house.code)
        if hit is None:
            if (
                house.building.pk
                and House.objects.filter(
                    building=house.building, unit=house.unit, room=house.room
                ).exists()
            ):
                report.add(row_no, "room", _("该楼栋单元下房号已存在"))
                continue
            result.append((row_no, house, None))
        elif policy != DuplicatePolicy.UPDATE:
            report.add(row_no, "code", _("房屋编码已登记(选择“更新已有记录”可更新)"))
        elif not has_perm_at(actor, "registers.change_house", hit[1]):
            report.add(row_no, "code", _("房屋编码已存在"))
        else:
            result.append((row_no, house, hit[0]))
    return result


HOUSE_FIELDS = [
    "building", "grid", "region_path", "unit", "floor", "room", "address", "use", "area_m2",
    "ownership", "owner_name", "rental_status", "hazards", "lon", "lat",
]  # fmt: skip


def _write_houses(plans: list[tuple[int, House, int | None]]) -> tuple[int, int]:
    new_buildings = {h.building.code: h.building for _r, h, _e in plans if h.building.pk is None}
    Building.objects.bulk_create(list(new_buildings.values()), batch_size=BATCH)
    for _r, house, _e in plans:
        house.building = house.building  # refresh building_id from the now-saved building
    creates = [h for _r, h, e in plans if e is None]
    updates = []
    for _r, house, existing_pk in plans:
        if existing_pk is not None:
            house.pk = existing_pk
            updates.append(house)
    House.objects.bulk_create(creates, batch_size=BATCH)
    if updates:
        House.objects.bulk_update(updates, HOUSE_FIELDS, batch_size=500)
    return len(creates), len(updates)


def _validate_simple(
    actor: Any,
    sheet: Sheet,
    report: _Report,
    policy: str,
    progress: Progress,
    *,
    model: Any,
    key_field: str,
    perm: str,
    build: Callable[[Region, dict[str, Any]], Any],
) -> list[tuple[int, Any, int | None]]:
    grids = _Grids(actor, perm)
    records = list(sheet.records())
    grids.preload({cell_text(r.get("grid")) for _n, r in records})
    plans: list[tuple[int, Any, int | None]] = []
    seen: dict[str, int] = {}
    for index, (row_no, rec) in enumerate(records, 1):
        row = _Row(report, row_no, rec)
        grid = _grid(row, grids)
        if grid is not None:
            try:
                obj = build(grid, rec)
            except ValidationError as exc:
                report.add_exc(row_no, exc)
            else:
                key = getattr(obj, key_field)
                if key in seen:
                    report.add(
                        row_no,
                        key_field,
                        _("文件内重复(与第{row}行)").format(row=seen[key]),
                    )
                else:
                    seen[key] = row_no
                    plans.append((row_no, obj, None))
        _tick(progress, index, len(records))
    existing = _existing(model, key_field, [getattr(o, key_field) for _r, o, _e in plans])
    result: list[tuple[int, Any, int | None]] = []
    for row_no, obj, _e in plans:
        hit = existing.get(getattr(obj, key_field))
        if hit is None:
            result.append((row_no, obj, None))
        elif policy != DuplicatePolicy.UPDATE:
            report.add(row_no, key_field, _("已登记(选择“更新已有记录”可更新)"))
        elif not has_perm_at(actor, perm, hit[1]):
            report.add(row_no, key_field, _("已登记"))
        else:
            result.append((row_no, obj, hit[0]))
    return result


def _build_org(grid: Region, rec: dict[str, Any]) -> Organisation:
    return build_organisation(
        grid=grid,
        credit_code=cell_identifier(rec.get("credit_code")),
        name=cell_text(rec.get("name"))[:200],
        kind=cell_text(rec.get("kind")),
        address=cell_text(rec.get("address"))[:255],
        industry=cell_text(rec.get("industry"))[:64],
        legal_representative=cell_text(rec.get("legal_representative"))[:64],
        contact_name=cell_text(rec.get("contact_name"))[:64],
        contact_phone=cell_identifier(rec.get("contact_phone")),
        employees=rec.get("employees"),
        lon=rec.get("lon"),
        lat=rec.get("lat"),
    )


def _build_component(grid: Region, rec: dict[str, Any]) -> Component:
    return build_component(
        grid=grid,
        identifier=cell_identifier(rec.get("identifier")),
        class_code=cell_text(rec.get("class_code")).zfill(5),
        class_name=cell_text(rec.get("class_name"))[:64],
        name=cell_text(rec.get("name"))[:100],
        address=cell_text(rec.get("address"))[:255],
        lon=rec.get("lon"),
        lat=rec.get("lat"),
        status=cell_text(rec.get("status")) or ComponentStatus.INTACT,
        managing_department=cell_text(rec.get("managing_department"))[:100],
        owner_unit=cell_text(rec.get("owner_unit"))[:100],
        maintenance_unit=cell_text(rec.get("maintenance_unit"))[:100],
    )


ORG_FIELDS = [
    "grid", "region_path", "name", "kind", "industry", "address", "legal_representative",
    "contact_name", "contact_phone_enc", "contact_phone_hash", "employees", "lon", "lat",
]  # fmt: skip
COMPONENT_FIELDS = [
    "grid", "region_path", "class_code", "class_name", "name", "address", "lon", "lat",
    "status", "managing_department", "owner_unit", "maintenance_unit",
]  # fmt: skip


def _write_simple(
    model: Any, plans: list[tuple[int, Any, int | None]], fields: list[str]
) -> tuple[int, int]:
    creates = [o for _r, o, e in plans if e is None]
    updates = []
    for _r, obj, existing_pk in plans:
        if existing_pk is not None:
            obj.pk = existing_pk
            updates.append(obj)
    model.objects.bulk_create(creates, batch_size=BATCH)
    if updates:
        model.objects.bulk_update(updates, fields, batch_size=500)
    return len(creates), len(updates)


# --- entry point --------------------------------------------------------------------------------
def _tick(progress: Progress, done: int, total: int) -> None:
    if done % PROGRESS_EVERY == 0 or done == total:
        progress(done, total, "validating")


def _no_progress(done: int, total: int, phase: str) -> None:
    return None


IMPORT_PERMISSION: dict[str, str] = {
    ImportKind.PEOPLE: "registers.add_person",
    ImportKind.HOUSES: "registers.change_house",
    ImportKind.ORGANISATIONS: "registers.change_organisation",
    ImportKind.COMPONENTS: "registers.change_component",
}


def run_import(
    *,
    actor: Any,
    kind: str,
    source: str | Path | IO[bytes],
    dry_run: bool,
    on_duplicate: str = DuplicatePolicy.ERROR,
    progress: Progress | None = None,
    job_id: int | None = None,
) -> ImportResult:
    """Validate a workbook and, unless ``dry_run`` or any row failed, write it all at once."""
    progress = progress or _no_progress
    if kind not in COLUMNS:
        raise ValidationError(_("台账类型无效"))
    if on_duplicate not in DuplicatePolicy.values:
        raise ValidationError(_("重复记录处理方式无效"))
    result = ImportResult(kind=kind, dry_run=dry_run)
    report = _Report(kind)
    # Spreadsheet choices are Chinese labels whatever the user's interface language.
    with translation.override("zh-hans"):
        sheet = read_sheet(source, COLUMNS[kind])
        result.total = sum(1 for _ in sheet.records())
        progress(0, result.total, "validating")
        plans: Any
        if kind == ImportKind.PEOPLE:
            plans = _validate_people(actor, sheet, report, on_duplicate, progress)
            planned = len(plans[0])
        elif kind == ImportKind.HOUSES:
            plans = _validate_houses(actor, sheet, report, on_duplicate, progress)
            planned = len(plans)
        elif kind == ImportKind.ORGANISATIONS:
            plans = _validate_simple(
                actor, sheet, report, on_duplicate, progress,
                model=Organisation, key_field="credit_code",
                perm="registers.change_organisation", build=_build_org,
            )  # fmt: skip
            planned = len(plans)
        else:
            plans = _validate_simple(
                actor, sheet, report, on_duplicate, progress,
                model=Component, key_field="identifier",
                perm="registers.change_component", build=_build_component,
            )  # fmt: skip
            planned = len(plans)
    result.errors = sorted(report.errors, key=lambda e: (e.row, e.column))
    result.error_count = report.count
    if result.error_count or dry_run:
        if dry_run and not result.error_count:
            updates = _count_updates(kind, plans)
            result.created, result.updated = planned - updates, updates
        return result
    progress(result.total, result.total, "writing")
    try:
        with transaction.atomic():
            if kind == ImportKind.PEOPLE:
                created, updated = _write_people(actor, *plans)
            elif kind == ImportKind.HOUSES:
                created, updated = _write_houses(plans)
            elif kind == ImportKind.ORGANISATIONS:
                created, updated = _write_simple(Organisation, plans, ORG_FIELDS)
            else:
                created, updated = _write_simple(Component, plans, COMPONENT_FIELDS)
            audit_log(
                actor=actor,
                action=f"registers.import.{kind}",
                object_type="registers.importjob",
                object_id=job_id or "",
                object_repr=f"{kind} import",
                after={"rows": result.total, "created": created, "updated": updated},
            )
    except IntegrityError as exc:
        # A concurrent write took a key between validation and writing: nothing was written.
        raise ValidationError(
            _("导入时发生数据冲突(可能有人同时登记了相同记录)，未写入任何数据，请重试")
        ) from exc
    result.created, result.updated, result.written = created, updated, True
    return result


def _count_updates(kind: str, plans: Any) -> int:
    if kind == ImportKind.PEOPLE:
        return sum(1 for p in plans[0] if p.existing_pk)
    return sum(1 for _r, _o, e in plans if e is not None)
