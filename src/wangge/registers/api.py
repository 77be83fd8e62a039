"""Registers endpoints (/api/v1/registers/). Identifiers are masked in every response; the one
way to see them whole is ``POST /people/{id}/reveal`` with a reason, which is audited. No
``from __future__ import annotations``: django-ninja resolves ``Query[...]`` under @paginate."""

import base64
from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import File, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status

from wangge.accounts.permissions import has_perm_anywhere
from wangge.core.exceptions import PermissionDenied
from wangge.geo.selectors import access_region

from .jobs import import_job_create
from .selectors import (
    VISIT_TARGETS,
    PersonFilters,
    access_component,
    access_import_job,
    access_person,
    access_visit,
    access_visit_target,
    component_list_for_user,
    grid_profile,
    overdue_visits_for_user,
    person_dict,
    person_list_for_user,
    visit_list_filtered,
)
from .services import PHOTO_MAX_BYTES, person_create, person_reveal, visit_create, visit_photo_add

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
