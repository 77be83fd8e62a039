from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from .choices import CaseState
from .workflow import available_actions


class CaseIn(Schema):
    title: str
    description: str = ""
    lon: float | None = None
    lat: float | None = None
    crs: str = Field("wgs84", description="wgs84 | gcj02 | bd09 — the CRS of lon/lat")
    address: str = ""
    matter_type: str | None = Field(None, description="catalogue code, e.g. 06010")
    urgency: str = "normal"
    source: str = "resident"
    reporter_name: str = ""
    reporter_phone: str = ""
    client_key: str | None = Field(None, description="idempotency key of this submission")
    on_spot_result: str = Field("", description="grid worker: resolved on the spot, with result")
    phone_code: str = Field(
        "", description="SMS code from POST /cases/phone-codes proving reporter_phone (optional)"
    )


class Ref(Schema):
    code: str
    name: str


class CaseOut(Schema):
    id: int
    tracking_code: str
    state: str
    state_label: str
    version: int
    title: str
    description: str
    source: str
    urgency: str
    lon: float
    lat: float
    address: str
    grid: Ref
    matter_type: Ref | None
    handling_level: str
    department_id: int | None
    assignee_id: int | None
    step: str
    due_at: datetime | None
    reported_at: datetime
    closed_at: datetime | None
    routing_reasons: list[str]
    classification: list[dict[str, Any]]
    reporter_name: str
    reporter_phone: str
    rating: int | None
    rework_count: int
    duplicate_of_id: int | None
    actions: list[str]

    @staticmethod
    def resolve_state_label(obj: Any) -> str:
        return str(CaseState(obj.state).label)

    @staticmethod
    def resolve_grid(obj: Any) -> dict[str, str]:
        return {"code": obj.grid.code, "name": obj.grid.name}

    @staticmethod
    def resolve_matter_type(obj: Any) -> dict[str, str] | None:
        mt = obj.matter_type
        return {"code": mt.code, "name": mt.name} if mt else None

    @staticmethod
    def resolve_actions(obj: Any) -> list[str]:
        return available_actions(obj.state)


class EventOut(Schema):
    created_at: datetime
    actor_name: str
    action: str
    from_state: str
    to_state: str
    note: str
    public_text: str


class SubTaskOut(Schema):
    id: int
    department_id: int
    role: str
    state: str
    version: int
    due_at: datetime | None
    result: str
    reason: str


class CaseDetailOut(CaseOut):
    events: list[EventOut]
    subtasks: list[SubTaskOut]

    @staticmethod
    def resolve_events(obj: Any) -> list[Any]:
        return list(obj.events.order_by("created_at", "id"))

    @staticmethod
    def resolve_subtasks(obj: Any) -> list[Any]:
        return list(obj.subtasks.all())


class IntakeOut(Schema):
    created: bool
    tracking_code: str
    state: str
    case: CaseOut | None = None
    suggestions: list[dict[str, Any]] = []
    duplicates: list[str] = []
    phone_verified: bool = False


class PhoneCodeIn(Schema):
    phone: str = Field(description="mainland mobile number, 11 digits")


class PhoneCodeOut(Schema):
    phone: str
    expires_in: int = Field(description="seconds the code stays valid")
    resend_after: int = Field(description="seconds before another code may be requested")


class CasePage(Schema):
    count: int
    page: int
    page_size: int
    results: list[CaseOut]


class TransitionIn(Schema):
    action: str
    expected_version: int
    data: dict[str, Any] = {}


class TrackEvent(Schema):
    at: datetime
    text: str


class TrackOut(Schema):
    code: str
    title: str
    state: str
    state_label: str
    matter_type: str | None
    reported_at: datetime
    expected_by: datetime | None
    closed_at: datetime | None
    rating: int | None
    timeline: list[TrackEvent]


class AttachmentOut(Schema):
    id: int
    kind: str
    content_type: str
    size: int
    sha256: str


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    case_id: int | None
    read_at: datetime | None
    created_at: datetime


class MatterTypeOut(Schema):
    code: str
    name: str
    group_code: str
    group_name: str
    kind: str
    default_level: str
    on_spot_allowed: bool
    pushdown_allowed: bool
    urgency_levels: list[str]
