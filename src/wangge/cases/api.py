"""``/api/v1/cases/``: intake (token or anonymous), the scoped queue, one case, transitions,
photos, sub-tasks, public tracking and the user's notifications."""

from __future__ import annotations

from typing import Annotated, Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.responses import Status

from wangge.accounts.services import api_token_authenticate
from wangge.core.exceptions import NotFound, ValidationError

from . import notifications as notes
from . import ratelimit
from .models import SubTask
from .ratelimit import client_address
from .schemas import (
    AttachmentOut,
    CaseDetailOut,
    CaseIn,
    CaseOut,
    CasePage,
    IntakeOut,
    MatterTypeOut,
    NotificationOut,
    PhoneCodeIn,
    PhoneCodeOut,
    SubTaskOut,
    TrackOut,
    TransitionIn,
)
from .selectors import (
    NOT_FOUND,
    CaseFilters,
    access_case,
    case_list_for_user,
    case_public_track,
    matter_type_list,
)
from .services import (
    attachment_add,
    attachment_add_public,
    case_create,
    case_phone_code_check,
    case_phone_code_request,
    case_public_feedback,
    case_transition,
    subtask_transition,
)
from .services.intake import ADD

router = Router(tags=["cases"])

PUBLIC_RATE_PER_MINUTE = 10
RESERVED = {"actor", "case", "action", "expected_version", "now"}
MAX_PAGE_SIZE = 100


def _token_user(request: HttpRequest) -> Any:
    """The machine client behind a bearer/X-API-Token header, if any (the intake operation is
    open to the public, so auth is resolved here rather than by the router)."""
    header = request.headers.get("Authorization", "")
    raw = header[7:].strip() if header.lower().startswith("bearer ") else ""
    raw = raw or request.headers.get("X-API-Token", "")
    if not raw:
        return None
    user = api_token_authenticate(raw)
    if user is None:
        raise HttpError(401, _("未登录或令牌无效。"))
    return user


def _rate_limit(request: HttpRequest) -> None:
    limit = int(getattr(settings, "CASES_PUBLIC_RATE_PER_MINUTE", PUBLIC_RATE_PER_MINUTE))
    if ratelimit.hit(f"cases:intake:{client_address(request)}", limit=limit, window=60):
        raise HttpError(429, _("提交过于频繁，请稍后再试。"))


@router.post("/", response={200: IntakeOut, 201: IntakeOut}, auth=None)
def create_case(request: HttpRequest, payload: CaseIn) -> Any:
    """File a case. With a token: staff channels (patrol, hotline, …); without: the public
    resident channel, rate-limited per client address."""
    actor = _token_user(request)
    staff = _has_add(actor)
    if not staff:
        _rate_limit(request)
    # A wrong code counts a try even though nothing is filed: checked before the filing.
    verification = (
        case_phone_code_check(phone=payload.reporter_phone, code=payload.phone_code)
        if payload.phone_code
        else None
    )
    result = case_create(
        actor=actor,
        source=payload.source,
        title=payload.title,
        description=payload.description,
        lon=payload.lon,
        lat=payload.lat,
        crs=payload.crs,
        address=payload.address,
        matter_type_code=payload.matter_type,
        urgency=payload.urgency,
        reporter_name=payload.reporter_name,
        reporter_phone=payload.reporter_phone,
        client_key=payload.client_key,
        on_spot_result=payload.on_spot_result,
        phone_verification=verification,
    )
    case = result.case
    body: dict[str, Any] = {
        "created": result.created,
        "tracking_code": case.tracking_code,
        "state": case.state,
        "phone_verified": result.created and verification is not None,
    }
    if staff:
        body["case"] = case
        body["suggestions"] = [s.as_dict() for s in result.suggestions]
        body["duplicates"] = [c.tracking_code for c in result.duplicates]
    return Status(201 if result.created else 200, body)


@router.post("/phone-codes", response={201: PhoneCodeOut}, auth=None)
def request_phone_code(request: HttpRequest, payload: PhoneCodeIn) -> Any:
    """Public: send a 6-digit code to a mobile number (valid 10 minutes, 5 tries, one use);
    file the report with it as ``phone_code`` to have the phone marked verified. Limited per
    number (one a minute, five an hour) and per client address (``PHONE_CODE_PER_IP_PER_HOUR``)."""
    sent = case_phone_code_request(phone=payload.phone, client_ip=client_address(request))
    return Status(
        201, {"phone": sent.phone, "expires_in": sent.expires_in, "resend_after": sent.resend_after}
    )


def _has_add(actor: Any) -> bool:
    from wangge.accounts.permissions import has_perm_anywhere

    return actor is not None and has_perm_anywhere(actor, ADD)


class ListQuery(Schema):
    state: str | None = None
    matter_type: str | None = None
    grid: str | None = None
    overdue: bool | None = None
    source: str | None = None
    mine: bool = False
    q: str | None = None
    page: int = 1
    page_size: int = 20
    ordering: str = Field(
        "-reported_at", description="reported_at | -reported_at | due_at | -due_at | id | -id"
    )


ORDERINGS = {"reported_at", "-reported_at", "due_at", "-due_at", "id", "-id"}


@router.get("/", response=CasePage)
def list_cases(request: HttpRequest, query: Query[ListQuery]) -> Any:
    qs = case_list_for_user(
        request.user,
        CaseFilters(
            state=query.state,
            matter_type=query.matter_type,
            grid=query.grid,
            overdue=query.overdue,
            source=query.source,
            mine=query.mine,
            q=query.q,
        ),
    )
    if query.ordering not in ORDERINGS:
        raise ValidationError(_("排序字段无效。"), errors={"ordering": [query.ordering[:40]]})
    tie = "-id" if query.ordering.startswith("-") else "id"
    qs = (
        qs.order_by(query.ordering, tie)
        if query.ordering.lstrip("-") != "id"
        else qs.order_by(query.ordering)
    )
    size = max(1, min(query.page_size, MAX_PAGE_SIZE))
    page = max(1, min(query.page, 1_000_000))
    return {
        "count": qs.count(),
        "page": page,
        "page_size": size,
        "results": list(qs[(page - 1) * size : page * size]),
    }


@router.get("/track/{code}", response=TrackOut, auth=None)
def track_case(request: HttpRequest, code: str) -> Any:
    """Public: status and a plain-words timeline by tracking code; no personal data."""
    return case_public_track(code)


class FeedbackIn(Schema):
    phone: str
    score: int
    reason: str = ""
    reopen: bool = False


@router.post("/track/{code}/feedback", response=TrackOut, auth=None)
def feedback_case(request: HttpRequest, code: str, payload: FeedbackIn) -> Any:
    """Public: the reporter rates (and, when unsatisfied, reopens) a closed case by its code and
    the phone number given at reporting. Rate-limited like intake."""
    _rate_limit(request)
    case_public_feedback(
        code=code,
        phone=payload.phone,
        score=payload.score,
        reason=payload.reason,
        reopen=payload.reopen,
    )
    return case_public_track(code)


@router.post("/track/{code}/photos", response={201: AttachmentOut}, auth=None)
def add_public_photo(
    request: HttpRequest, code: str, phone: Form[str], file: File[UploadedFile]
) -> Any:
    """Public: the reporter adds a photo (JPEG/PNG/WebP, size-checked) to a fresh report."""
    _rate_limit(request)
    limit = int(getattr(settings, "CASE_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024))
    content = file.read(limit + 1)
    return Status(201, attachment_add_public(code=code, phone=phone, content=content))


@router.get("/matter-types", response=list[MatterTypeOut], auth=None)
def list_matter_types(request: HttpRequest) -> Any:
    return list(matter_type_list(public_only=True))


@router.get("/matter-types/{code}", response=MatterTypeOut, auth=None)
def get_matter_type(request: HttpRequest, code: str) -> Any:
    """One public matter type of the catalogue by its code."""
    matter_type = matter_type_list(public_only=True).filter(code=code[:8]).first()
    if matter_type is None:
        raise NotFound(_("事项类型不存在。"))
    return matter_type


@router.get("/notifications", response=list[NotificationOut])
def my_notifications(request: HttpRequest, unread: bool = False) -> Any:
    return list(notes.notification_list_for_user(request.user, unread_only=unread)[:100])


@router.get("/notifications/unread-count", response=dict[str, int])
def my_unread_count(request: HttpRequest) -> Any:
    return {"unread": notes.notification_unread_count(request.user)}


# Primary keys fit a signed 64-bit integer; larger numbers overflowed SQLite (a 500 the fuzzer
# found), so they are refused as a validation error.
PK = Annotated[int, Field(ge=1, le=2**63 - 1)]


class ReadIn(Schema):
    ids: list[PK] | None = Field(None, max_length=1000)


@router.post("/notifications/read", response=dict[str, int])
def mark_read(request: HttpRequest, payload: ReadIn) -> Any:
    return {"marked": notes.notification_mark_read(actor=request.user, ids=payload.ids)}


@router.get("/{int:case_id}", response=CaseDetailOut)
def get_case(request: HttpRequest, case_id: int) -> Any:
    return access_case(request.user, case_id)


@router.post("/{int:case_id}/transitions", response=CaseOut)
def transition_case(request: HttpRequest, case_id: int, payload: TransitionIn) -> Any:
    case = access_case(request.user, case_id)
    # Only the action's own fields: the service's keyword arguments are not for the client.
    data = {k: v for k, v in payload.data.items() if k not in RESERVED}
    if payload.action == "merge" and data.get("duplicate_of"):
        # The case merged into must be visible to the user too.
        data["duplicate_of"] = access_case(request.user, data["duplicate_of"]).pk
    return case_transition(
        actor=request.user,
        case=case,
        action=payload.action,
        expected_version=payload.expected_version,
        **data,
    )


@router.post("/{int:case_id}/attachments", response={201: AttachmentOut})
def upload_attachment(
    request: HttpRequest, case_id: int, kind: Form[str], file: File[UploadedFile]
) -> Any:
    case = access_case(request.user, case_id)
    limit = int(getattr(settings, "CASE_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024))
    content = file.read(limit + 1)
    return Status(201, attachment_add(actor=request.user, case=case, kind=kind, content=content))


class SubTaskTransitionIn(Schema):
    action: str
    expected_version: int
    reason: str = ""
    result: str = ""


@router.post("/subtasks/{int:subtask_id}/transitions", response=SubTaskOut)
def transition_subtask(request: HttpRequest, subtask_id: int, payload: SubTaskTransitionIn) -> Any:
    subtask = SubTask.objects.select_related("case").filter(pk=subtask_id).first()
    if subtask is None:
        raise NotFound(NOT_FOUND)
    access_case(request.user, subtask.case_id)
    return subtask_transition(
        actor=request.user,
        subtask=subtask,
        action=payload.action,
        expected_version=payload.expected_version,
        reason=payload.reason,
        result=payload.result,
    )
