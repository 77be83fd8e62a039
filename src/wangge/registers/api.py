"""Registers endpoints (/api/v1/registers/). Identifiers are masked in every response; the one
way to see them whole is ``POST /people/{id}/reveal`` with a reason, which is audited. No
``from __future__ import annotations``: django-ninja resolves ``Query[...]`` under @paginate."""

import base64
from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status

from wangge.accounts.permissions import has_perm_anywhere
from wangge.core.exceptions import NotFound, PermissionDenied, ValidationError
from wangge.geo.selectors import access_region

from .jobs import import_job_create
from .models import FLAG_COLUMNS
from .selectors import (
    VISIT_TARGETS,
    PersonFilters,
    access_component,
    access_house,
    access_household,
    access_import_job,
    access_organisation,
    access_person,
    access_visit,
    access_visit_target,
    building_by_code_for_user,
    component_list_for_user,
    grid_profile,
    house_by_code_for_user,
    house_list_for_user,
    household_by_no_for_user,
    household_list_for_user,
    in_region,
    organisation_list_for_user,
    organisation_masked_phone,
    overdue_visits_for_user,
    person_dict,
    person_list_for_user,
    tenancies_for_user,
    visit_list_filtered,
)
from .services import (
    PHOTO_MAX_BYTES,
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
    person_reveal,
    person_update,
    visit_create,
    visit_photo_add,
)

router = Router(tags=["registers"])


def _need(request: HttpRequest, perm: str) -> None:
    # An endpoint whose permission the caller holds nowhere answers like an empty area (lists)
    # or like an unknown object (single objects): nothing leaks about what exists.
    if not has_perm_anywhere(request.user, perm):
        raise PermissionDenied()


class PersonOut(Schema):
    id: int
    name: str
    id_type: str
    id_number: str  # masked
    sex: str
    birth_date: date | None
    ethnicity: str
    phone: str  # masked
    grid: str
    grid_name: str
    household_no: str | None
    relation: str
    registered_address: str
    current_address: str
    registration_matches: bool
    flags: list[str]
    special_groups: list[str] | None  # null: not visible to this caller
    last_visit_at: datetime | None
    erased: bool
    version: int


class PersonQuery(Schema):
    grid: str | None = None
    q: str | None = None
    flag: str | None = None
    household: str | None = None


class PersonIn(Schema):
    grid: str
    name: str
    id_type: str = "resident_id"
    id_number: str
    sex: str | None = None
    birth_date: date | None = None
    ethnicity: str = ""
    phone: str = ""
    registered_address: str = ""
    current_address: str = ""
    registration_matches: bool = True
    flags: dict[str, bool] = {}
    sensitive: list[str] = []


class RevealIn(Schema):
    reason: str


class RevealOut(Schema):
    id_number: str
    phone: str


@router.get("/people", response=list[PersonOut])
@paginate(LimitOffsetPagination)
def list_people(request: HttpRequest, filters: Query[PersonQuery]) -> Any:
    qs = person_list_for_user(request.user, PersonFilters(**filters.dict()))
    return _PersonPage(qs, request.user)


class _PersonPage:
    """Lazily masks only the page that pagination slices out."""

    def __init__(self, qs: Any, user: Any) -> None:
        self.qs, self.user = qs, user

    def __len__(self) -> int:
        return int(self.qs.count())

    def count(self) -> int:
        return int(self.qs.count())

    def __getitem__(self, item: Any) -> Any:
        return [person_dict(p, self.user) for p in self.qs[item]]


@router.post("/people", response={201: PersonOut})
def create_person(request: HttpRequest, payload: PersonIn) -> Any:
    data = payload.dict()
    grid = data.pop("grid")
    if not data["sensitive"]:
        data.pop("sensitive")
    person = person_create(actor=request.user, grid=grid, **data)
    return Status(201, person_dict(person, request.user))


@router.get("/people/{person_id}", response=PersonOut)
def get_person(request: HttpRequest, person_id: int) -> Any:
    return person_dict(access_person(request.user, person_id), request.user)


@router.post("/people/{person_id}/reveal", response=RevealOut)
def reveal_person(request: HttpRequest, person_id: int, payload: RevealIn) -> Any:
    person = access_person(request.user, person_id)
    return person_reveal(actor=request.user, person=person, reason=payload.reason)


@router.get("/visits/due", response=list[PersonOut])
@paginate(LimitOffsetPagination)
def due_visits(request: HttpRequest) -> Any:
    return _PersonPage(overdue_visits_for_user(request.user), request.user)


class ComponentOut(Schema):
    id: int
    identifier: str
    class_code: str
    class_name: str
    name: str
    grid: str
    lon: float
    lat: float
    status: str
    managing_department: str

    @staticmethod
    def resolve_grid(obj: Any) -> str:
        return str(obj.grid.code)


@router.get("/components", response=list[ComponentOut])
@paginate(LimitOffsetPagination)
def list_components(
    request: HttpRequest, grid: str | None = None, status: str | None = None
) -> Any:
    return component_list_for_user(request.user, grid, status)


@router.get("/components/{key}", response=ComponentOut)
def get_component(request: HttpRequest, key: str) -> Any:
    return access_component(request.user, key)


@router.get("/grids/{code}/profile")
def get_grid_profile(request: HttpRequest, code: str) -> dict[str, Any]:
    _need(request, "registers.view_person")
    region = access_region(request.user, code)
    return grid_profile(request.user, region).as_dict()


class ImportIn(Schema):
    kind: str
    file_name: str
    content_base64: str
    dry_run: bool = True
    on_duplicate: str = "error"


class ImportJobOut(Schema):
    id: int
    kind: str
    status: str
    dry_run: bool
    on_duplicate: str
    total_rows: int
    processed_rows: int
    created_count: int
    updated_count: int
    error_count: int
    errors: list[dict[str, Any]]
    message: str


@router.post("/imports", response={201: ImportJobOut})
def create_import(request: HttpRequest, payload: ImportIn) -> Any:
    try:
        content = base64.b64decode(payload.content_base64, validate=True)
    except ValueError:
        content = b""
    job = import_job_create(
        actor=request.user,
        kind=payload.kind,
        file_name=payload.file_name,
        content=content,
        dry_run=payload.dry_run,
        on_duplicate=payload.on_duplicate,
    )
    return Status(201, job)


@router.get("/imports/{job_id}", response=ImportJobOut)
def get_import(request: HttpRequest, job_id: int) -> Any:
    return access_import_job(request.user, job_id)


# --- visits (走访/巡查): record with a check-in, then upload photos one by one (like case
# attachments); list in the caller's area ---------------------------------------------------------
class VisitIn(Schema):
    target_type: str  # person, household, house, organisation or component
    target_id: str  # a primary key (or a component's 17-digit identifier)
    kind: str = "visit"
    visited_at: datetime | None = None
    lon: float | None = None
    lat: float | None = None
    crs: str = "wgs84"  # of lon/lat: wgs84 (phone GPS), gcj02 (高德/腾讯/WeChat), bd09 (百度)
    notes: str = ""


class VisitOut(Schema):
    id: int
    kind: str
    visitor: str
    visited_at: datetime
    lon: float | None  # WGS-84
    lat: float | None
    distance_m: float | None
    target_type: str
    target_id: int
    grid: str
    notes: str
    photos: int

    @staticmethod
    def resolve_visitor(obj: Any) -> str:
        return str(obj.visitor.get_username())

    @staticmethod
    def resolve_target_type(obj: Any) -> str:
        return next(t for t in VISIT_TARGETS if getattr(obj, f"{t}_id"))

    @staticmethod
    def resolve_target_id(obj: Any) -> int:
        return int(next(getattr(obj, f"{t}_id") for t in VISIT_TARGETS if getattr(obj, f"{t}_id")))

    @staticmethod
    def resolve_grid(obj: Any) -> str:
        return str(obj.grid.code)

    @staticmethod
    def resolve_photos(obj: Any) -> int:
        return len(obj.photos.all())


class VisitPhotoOut(Schema):
    id: int
    content_type: str
    size: int
    sha256: str


@router.post("/visits", response={201: VisitOut})
def create_visit(request: HttpRequest, payload: VisitIn) -> Any:
    _need(request, "registers.add_visit")
    target = access_visit_target(request.user, payload.target_type, payload.target_id)
    visit = visit_create(
        actor=request.user,
        kind=payload.kind,
        target=target,
        visited_at=payload.visited_at,
        lon=payload.lon,
        lat=payload.lat,
        crs=payload.crs,
        notes=payload.notes,
    )
    return Status(201, access_visit(request.user, visit.pk))


@router.get("/visits", response=list[VisitOut])
@paginate(LimitOffsetPagination)
def list_visits(request: HttpRequest, person: int | None = None, grid: str | None = None) -> Any:
    return visit_list_filtered(request.user, person=person, grid=grid)


@router.post("/visits/{int:visit_id}/photos", response={201: VisitPhotoOut})
def upload_visit_photo(request: HttpRequest, visit_id: int, file: File[UploadedFile]) -> Any:
    visit = access_visit(request.user, visit_id)
    content = file.read(PHOTO_MAX_BYTES + 1)
    photo = visit_photo_add(actor=request.user, visit=visit, content=content, name=file.name or "")
    return Status(201, photo)


# --- create / update / read of people, households, houses, organisations, components ----------
# Same services as the pages; identifiers masked exactly as on the pages; an object outside the
# caller's area (or a grid, building or household they may not write in) answers 404; invalid
# input 422 with per-field details, nothing written.
def _text(max_length: int, default: Any = "") -> Any:
    return Field(default, max_length=max_length)


class PersonPatch(Schema):
    grid: str | None = _text(32, None)
    name: str | None = _text(64, None)
    id_type: str | None = _text(20, None)
    id_number: str | None = _text(32, None)
    sex: str | None = _text(8, None)
    birth_date: date | None = None
    ethnicity: str | None = _text(16, None)
    phone: str | None = _text(32, None)
    household_no: str | None = _text(32, None)
    relation: str | None = _text(16, None)
    registered_address: str | None = _text(255, None)
    current_address: str | None = _text(255, None)
    registration_matches: bool | None = None
    flags: dict[str, bool] | None = None
    flag_since: dict[str, date] | None = None
    arrival_date: date | None = None
    residence_permit_until: date | None = None
    disability_grade: str | None = _text(16, None)
    sensitive: list[str] | None = None
    version: int | None = None


def _ref(finder: Any, request: HttpRequest, value: str | None, field: str) -> Any:
    """A linked record by its key, in the caller's area: 404 (like a grid) naming the field."""
    if not value:
        return None
    try:
        return finder(request.user, value)
    except NotFound as exc:
        raise NotFound(exc.message, errors={field: [exc.message]}) from exc


@router.patch("/people/{person_id}", response=PersonOut)
def update_person(request: HttpRequest, person_id: int, payload: PersonPatch) -> Any:
    person = access_person(request.user, person_id)
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version", None)
    if "household_no" in changes:
        changes["household"] = _ref(
            household_by_no_for_user, request, changes.pop("household_no"), "household_no"
        )
    if changes.get("flag_since") is not None:
        changes["flag_since"] = {k: v.isoformat() for k, v in changes["flag_since"].items()}
    if "flags" in changes:
        unknown = set(changes["flags"] or {}) - set(FLAG_COLUMNS)
        if unknown:
            raise ValidationError(_("不是有效的选项"), errors={"flags": [_("不是有效的选项")]})
    nullable = {"birth_date", "arrival_date", "residence_permit_until", "household", "sex"}
    for key in [k for k, v in changes.items() if v is None and k not in nullable]:
        changes.pop(key)
    updated = person_update(actor=request.user, person=person, version=version, **changes)
    return person_dict(access_person(request.user, updated.pk), request.user)


# households
class HouseholdOut(Schema):
    id: int
    household_no: str
    grid: str
    grid_name: str
    address: str
    is_collective: bool
    house_id: int | None
    house_code: str | None


class HouseholdDetailOut(HouseholdOut):
    members: list[PersonOut]


class HouseholdIn(Schema):
    grid: str = _text(32)
    household_no: str = _text(32)
    house_code: str | None = _text(40, None)
    address: str = _text(255)
    is_collective: bool = False


class HouseholdPatch(Schema):
    grid: str | None = _text(32, None)
    household_no: str | None = _text(32, None)
    house_code: str | None = _text(40, None)
    address: str | None = _text(255, None)
    is_collective: bool | None = None


def _household_out(household: Any, user: Any, *, members: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": household.pk,
        "household_no": household.household_no,
        "grid": household.grid.code,
        "grid_name": household.grid.name,
        "address": household.address,
        "is_collective": household.is_collective,
        "house_id": household.house_id,
        "house_code": household.house.code if household.house else None,
    }
    if members:
        people = person_list_for_user(user).filter(household=household)
        data["members"] = [person_dict(p, user) for p in people]
    return data


class _Rows:
    """Lazily shapes only the page that pagination slices out."""

    def __init__(self, qs: Any, shape: Any) -> None:
        self.qs, self.shape = qs, shape

    def __len__(self) -> int:
        return int(self.qs.count())

    def count(self) -> int:
        return int(self.qs.count())

    def __getitem__(self, item: Any) -> Any:
        return [self.shape(obj) for obj in self.qs[item]]


@router.get("/households", response=list[HouseholdOut])
@paginate(LimitOffsetPagination)
def list_households(request: HttpRequest, grid: str | None = None, q: str | None = None) -> Any:
    qs = in_region(household_list_for_user(request.user), grid).order_by("household_no")
    if q:
        qs = qs.filter(household_no__startswith=q)
    return _Rows(qs, lambda h: _household_out(h, request.user))


@router.post("/households", response={201: HouseholdDetailOut})
def create_household(request: HttpRequest, payload: HouseholdIn) -> Any:
    household = household_create(
        actor=request.user,
        grid=payload.grid,
        household_no=payload.household_no,
        house=_ref(house_by_code_for_user, request, payload.house_code, "house_code"),
        address=payload.address,
        is_collective=payload.is_collective,
    )
    return Status(201, _household_out(household, request.user, members=True))


@router.get("/households/{household_id}", response=HouseholdDetailOut)
def get_household(request: HttpRequest, household_id: int) -> Any:
    household = access_household(request.user, household_id)
    return _household_out(household, request.user, members=True)


@router.patch("/households/{household_id}", response=HouseholdDetailOut)
def update_household(request: HttpRequest, household_id: int, payload: HouseholdPatch) -> Any:
    household = access_household(request.user, household_id)
    changes = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    if "house_code" in payload.dict(exclude_unset=True):
        changes.pop("house_code", None)
        changes["house"] = _ref(house_by_code_for_user, request, payload.house_code, "house_code")
    household_update(actor=request.user, household=household, **changes)
    household = access_household(request.user, household_id)
    return _household_out(household, request.user, members=True)


# houses
class TenancyOut(Schema):
    id: int
    person: PersonOut | None  # null: the tenant lives outside the caller's area
    start_date: date | None
    end_date: date | None
    note: str


class HouseOut(Schema):
    id: int
    code: str
    building_code: str
    grid: str
    unit: str
    floor: int | None
    room: str
    address: str
    use: str
    area_m2: float | None
    ownership: str
    owner_name: str
    rental_status: str
    hazards: list[str]
    hazard_note: str
    lon: float | None
    lat: float | None


class HouseDetailOut(HouseOut):
    tenancies: list[TenancyOut]


class HouseIn(Schema):
    building_code: str = _text(32)
    code: str = _text(40)
    unit: str = _text(16)
    floor: int | None = Field(None, ge=-10, le=300)
    room: str = _text(16)
    use: str = _text(16)
    area_m2: float | None = Field(None, ge=0, lt=10_000_000)
    ownership: str = _text(16)
    owner_name: str = _text(100)
    rental_status: str = _text(16, "owner_occupied")
    hazards: list[str] = []
    hazard_note: str = _text(255)


class HousePatch(Schema):
    building_code: str | None = _text(32, None)
    code: str | None = _text(40, None)
    unit: str | None = _text(16, None)
    floor: int | None = Field(None, ge=-10, le=300)
    room: str | None = _text(16, None)
    use: str | None = _text(16, None)
    area_m2: float | None = Field(None, ge=0, lt=10_000_000)
    ownership: str | None = _text(16, None)
    owner_name: str | None = _text(100, None)
    rental_status: str | None = _text(16, None)
    hazards: list[str] | None = None
    hazard_note: str | None = _text(255, None)


def _house_out(house: Any, user: Any, *, tenancies: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": house.pk,
        "code": house.code,
        "building_code": house.building.code,
        "grid": house.grid.code,
        "unit": house.unit,
        "floor": house.floor,
        "room": house.room,
        "address": house.address,
        "use": house.use,
        "area_m2": float(house.area_m2) if house.area_m2 is not None else None,
        "ownership": house.ownership,
        "owner_name": house.owner_name,
        "rental_status": house.rental_status,
        "hazards": list(house.hazards),
        "hazard_note": house.hazard_note,
        "lon": house.lon,
        "lat": house.lat,
    }
    if tenancies:
        data["tenancies"] = [
            {
                "id": row["tenancy"].pk,
                "person": row["person"],
                "start_date": row["tenancy"].start_date,
                "end_date": row["tenancy"].end_date,
                "note": row["tenancy"].note,
            }
            for row in tenancies_for_user(user, house)
        ]
    return data


@router.get("/houses", response=list[HouseOut])
@paginate(LimitOffsetPagination)
def list_houses(
    request: HttpRequest,
    grid: str | None = None,
    rental_status: str | None = None,
    hazard: bool | None = None,
) -> Any:
    qs = house_list_for_user(request.user, grid)
    if rental_status:
        qs = qs.filter(rental_status=rental_status)
    if hazard is not None:
        qs = qs.exclude(hazards=[]) if hazard else qs.filter(hazards=[])
    return _Rows(qs, lambda h: _house_out(h, request.user))


@router.post("/houses", response={201: HouseDetailOut})
def create_house(request: HttpRequest, payload: HouseIn) -> Any:
    fields = payload.dict()
    code = fields.pop("building_code")
    if not code.strip():
        raise ValidationError(_("房屋信息有误"), errors={"building_code": [_("必填")]})
    building = _ref(building_by_code_for_user, request, code, "building_code")
    house = house_create(actor=request.user, building=building, **fields)
    return Status(
        201, _house_out(access_house(request.user, house.pk), request.user, tenancies=True)
    )


@router.get("/houses/{house_id}", response=HouseDetailOut)
def get_house(request: HttpRequest, house_id: int) -> Any:
    return _house_out(access_house(request.user, house_id), request.user, tenancies=True)


@router.patch("/houses/{house_id}", response=HouseDetailOut)
def update_house(request: HttpRequest, house_id: int, payload: HousePatch) -> Any:
    house = access_house(request.user, house_id)
    given = payload.dict(exclude_unset=True)
    nullable = {"floor", "area_m2"}
    changes = {k: v for k, v in given.items() if v is not None or k in nullable}
    if "building_code" in changes:
        changes["building"] = _ref(
            building_by_code_for_user, request, changes.pop("building_code"), "building_code"
        )
    house_update(actor=request.user, house=house, **changes)
    return _house_out(access_house(request.user, house_id), request.user, tenancies=True)


# organisations
class OrganisationOut(Schema):
    id: int
    credit_code: str
    name: str
    kind: str
    industry: str
    address: str
    grid: str
    legal_representative: str
    contact_name: str
    contact_phone: str  # masked
    employees: int | None
    lon: float | None
    lat: float | None
    is_active: bool


class OrganisationIn(Schema):
    grid: str = _text(32)
    credit_code: str = _text(18)
    name: str = _text(200)
    kind: str = _text(16)
    address: str = _text(255)
    industry: str = _text(64)
    legal_representative: str = _text(64)
    contact_name: str = _text(64)
    contact_phone: str = _text(32)
    employees: int | None = Field(None, ge=0, le=10_000_000)
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)


class OrganisationPatch(Schema):
    grid: str | None = _text(32, None)
    credit_code: str | None = _text(18, None)
    name: str | None = _text(200, None)
    kind: str | None = _text(16, None)
    address: str | None = _text(255, None)
    industry: str | None = _text(64, None)
    legal_representative: str | None = _text(64, None)
    contact_name: str | None = _text(64, None)
    contact_phone: str | None = _text(32, None)
    employees: int | None = Field(None, ge=0, le=10_000_000)
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    is_active: bool | None = None


def _organisation_out(org: Any) -> dict[str, Any]:
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
    data = {f: getattr(org, f) for f in fields}
    data.update(id=org.pk, grid=org.grid.code, contact_phone=organisation_masked_phone(org))
    return data


@router.get("/organisations", response=list[OrganisationOut])
@paginate(LimitOffsetPagination)
def list_organisations(request: HttpRequest, grid: str | None = None, q: str | None = None) -> Any:
    qs = organisation_list_for_user(request.user, grid)
    if q:
        qs = qs.filter(name__contains=q)
    return _Rows(qs, _organisation_out)


@router.post("/organisations", response={201: OrganisationOut})
def create_organisation(request: HttpRequest, payload: OrganisationIn) -> Any:
    fields = payload.dict()
    org = organisation_create(actor=request.user, grid=fields.pop("grid"), **fields)
    return Status(201, _organisation_out(org))


@router.get("/organisations/{organisation_id}", response=OrganisationOut)
def get_organisation(request: HttpRequest, organisation_id: int) -> Any:
    return _organisation_out(access_organisation(request.user, organisation_id))


@router.patch("/organisations/{organisation_id}", response=OrganisationOut)
def update_organisation(
    request: HttpRequest, organisation_id: int, payload: OrganisationPatch
) -> Any:
    org = access_organisation(request.user, organisation_id)
    nullable = {"employees", "lon", "lat"}
    changes = {
        k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None or k in nullable
    }
    organisation_update(actor=request.user, organisation=org, **changes)
    return _organisation_out(access_organisation(request.user, organisation_id))


# components
class ComponentIn(Schema):
    grid: str = _text(32)
    identifier: str = _text(17)
    class_code: str = _text(5)
    class_name: str = _text(64)
    lon: float = Field(..., ge=-180, le=180)
    lat: float = Field(..., ge=-90, le=90)
    name: str = _text(100)
    address: str = _text(255)
    status: str = _text(16, "intact")
    managing_department: str = _text(100)
    owner_unit: str = _text(100)
    maintenance_unit: str = _text(100)


class ComponentPatch(Schema):
    grid: str | None = _text(32, None)
    identifier: str | None = _text(17, None)
    class_code: str | None = _text(5, None)
    class_name: str | None = _text(64, None)
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    name: str | None = _text(100, None)
    address: str | None = _text(255, None)
    managing_department: str | None = _text(100, None)
    owner_unit: str | None = _text(100, None)
    maintenance_unit: str | None = _text(100, None)


class ComponentStatusIn(Schema):
    status: str = _text(16)
    reason: str = Field(..., min_length=2, max_length=200)


@router.post("/components", response={201: ComponentOut})
def create_component(request: HttpRequest, payload: ComponentIn) -> Any:
    fields = payload.dict()
    return Status(201, component_create(actor=request.user, grid=fields.pop("grid"), **fields))


@router.patch("/components/{key}", response=ComponentOut)
def update_component(request: HttpRequest, key: str, payload: ComponentPatch) -> Any:
    component = access_component(request.user, key)
    changes = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return component_update(actor=request.user, component=component, **changes)


@router.post("/components/{key}/status", response=ComponentOut)
def set_component_status(request: HttpRequest, key: str, payload: ComponentStatusIn) -> Any:
    component = access_component(request.user, key)
    return component_set_status(
        actor=request.user, component=component, status=payload.status, note=payload.reason
    )
