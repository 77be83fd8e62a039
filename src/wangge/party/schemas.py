"""API schemas of the party app."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Schema


class OrgOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    status: str
    region: str
    parent_id: int | None
    secretary_id: int | None
    start_date: date | None
    end_date: date | None
    purpose: str

    @staticmethod
    def resolve_region(obj: Any) -> str:
        return obj.region.code


class CoverageOut(Schema):
    grids: int
    branches: int
    grids_without_branch: list[str]
    branches_without_secretary: list[str]


class MemberOut(Schema):
    id: int
    name: str
    branch_id: int
    branch: str
    position: str
    status: str
    in_service: bool
    specialties: list[str]
    availability: list[list[int]]
    capacity: int
    contact_channel: str

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return obj.person.name

    @staticmethod
    def resolve_branch(obj: Any) -> str:
        return obj.branch.name


class OrderIn(Schema):
    category: str
    description: str
    window_start: datetime
    window_end: datetime
    address: str = ""
    lon: float | None = None
    lat: float | None = None
    crs: str = "wgs84"
    region: str | None = None  # a region code, for staff ordering without a point
    contact_name: str = ""
    contact_phone: str = ""


class OrderOut(Schema):
    id: int
    code: str
    state: str
    version: int
    category: str
    description: str
    window_start: datetime
    window_end: datetime
    address: str
    region: str
    branch_id: int | None
    helper: str | None
    match_score: float | None
    service_minutes: int
    rating: int | None
    escalation_level: int
    due_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_region(obj: Any) -> str:
        return obj.region.code

    @staticmethod
    def resolve_helper(obj: Any) -> str | None:
        if obj.member_id:
            return f"member:{obj.member_id}"
        if obj.volunteer_id:
            return f"volunteer:{obj.volunteer_id}"
        return None


class OrderPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[OrderOut]


class OrderTransitionIn(Schema):
    action: str
    expected_version: int
    helper: str | None = None
    reason: str | None = None
    result: str | None = None
    score: int | None = None
    comment: str | None = None
    lon: float | None = None
    lat: float | None = None


class PartOut(Schema):
    key: str
    label: str
    value: float
    weight: float
    points: float
    detail: str


class CandidateOut(Schema):
    helper: str
    name: str
    score: float
    eligible: bool
    parts: list[PartOut]
    excluded_because: list[str]


class CandidatesOut(Schema):
    ranked: list[CandidateOut]
    excluded: list[CandidateOut]


class PartyMeOut(Schema):
    member_id: int | None
    volunteer_id: int | None
    branch: str | None
    points: int | None
    minutes: int
    open_tasks: int
    orders: int


class VolunteerOut(Schema):
    id: int
    name: str
    region: str
    team_id: int | None
    team: str | None
    specialties: list[str]
    availability: list[list[int]]
    capacity: int
    registered_on: date | None

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return obj.person.name

    @staticmethod
    def resolve_region(obj: Any) -> str:
        return obj.region.code

    @staticmethod
    def resolve_team(obj: Any) -> str | None:
        return obj.team.name if obj.team_id else None


class VolunteerIn(Schema):
    """志愿者注册 for oneself: skills (service specialties) and [[weekday, start, end], …]."""

    specialties: list[str]
    availability: list[list[int]]
    capacity: int = 2


class StatementLineOut(Schema):
    at: datetime
    kind: str
    reason: str
    minutes: int
    balance: int


class StatementOut(Schema):
    balance: int
    entries: list[StatementLineOut]


class ExchangeIn(Schema):
    minutes: int
    reason: str


class TransferOut(Schema):
    id: int
    kind: str
    minutes: int
    reason: str
    order_id: int | None
    created_at: datetime
    balance: int
