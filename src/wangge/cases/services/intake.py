"""Intake: locate → classify → route → deadline → persist → audit → notify."""

from __future__ import annotations

import functools
import math
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.accounts.models import PhoneVerification
from wangge.accounts.permissions import has_perm_anywhere, has_perm_at
from wangge.accounts.services import phone_code_consume
from wangge.core import events
from wangge.core.audit import audit_log
from wangge.core.exceptions import PermissionDenied, ValidationError, WanggeError
from wangge.geo.choices import Level
from wangge.geo.models import Region

from ..catalogue import active_matter_type
from ..choices import OPEN_STATES, CaseState, Source, Urgency
from ..classify import Suggestion, get_classifier
from ..deadlines import load_calendar
from ..models import Case, MatterType
from ..routing import route_case
from ..workflow import TRANSITION
from .common import add_event, rules_for, step_fields
from .notify import announce_in_background

ADD = "cases.add_case"
MAX_TITLE = 200
MAX_TEXT = 2000
MAX_ADDRESS = 255
DUPLICATE_RADIUS_M = 100.0
DUPLICATE_WINDOW = timedelta(days=7)
# Auto-pick the classifier's top suggestion for public reports only when it is clear.
AUTO_CLASSIFY_SCORE = 0.6
_TAG = re.compile(
    r"<\s*/?\s*[a-zA-Z][\w:-]*(\s[^<>]*)?/?\s*>"  # a complete tag
    r"|<!--|<\s*(script|iframe|img|svg|object|embed|style|link|meta)\b",  # or a dangerous opener
    re.IGNORECASE,
)
_PHONE = re.compile(r"^[0-9+\- ]{5,20}$")
_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


@dataclass
class IntakeResult:
    case: Case
    created: bool
    suggestions: list[Suggestion] = field(default_factory=list)
    _duplicates: list[Case] | None = field(default=None, repr=False)

    @property
    def duplicates(self) -> list[Case]:
        """Possible duplicates of a new open case (nearby, recent, same or related type), looked
        up on first use: only the staff API answer shows them at intake; the case page finds
        them again for the dispatcher who merges."""
        if self._duplicates is None:
            open_new = self.created and self.case.state in OPEN_STATES
            self._duplicates = case_duplicate_candidates(case=self.case) if open_new else []
        return self._duplicates


def _clean_text(value: str, *, field_name: str, label: str, limit: int, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(_("请填写%(f)s。") % {"f": label}, errors={field_name: ["required"]})
    if len(value) > limit:
        raise ValidationError(
            _("%(f)s不能超过%(n)d个字符（当前%(m)d个）。")
            % {"f": label, "n": limit, "m": len(value)},
            errors={field_name: ["too_long"]},
        )
    # Text is kept as plain text and escaped on output; markup is refused outright so that no
    # copy of it (exports, SMS, third-party screens) can ever render it.
    if _TAG.search(value):
        raise ValidationError(
            _("%(f)s不能包含HTML标签或脚本。") % {"f": label}, errors={field_name: ["markup"]}
        )
    return value


def new_tracking_code(now: datetime) -> str:
    local = timezone.localtime(now)
    return local.strftime("%y%m%d") + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))


def _locate(lon: Any, lat: Any, crs: str) -> tuple[Region, list[Region], float, float]:
    from wangge.geo.crs import normalize_crs
    from wangge.geo.locator import locate

    if lon is None or lat is None or lon == "" or lat == "":
        raise ValidationError(_("请提供问题发生的位置。"), errors={"location": ["required"]})
    try:
        lon_f, lat_f = float(lon), float(lat)
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("位置坐标无效。"), errors={"location": ["invalid"]}) from exc
    if not (math.isfinite(lon_f) and math.isfinite(lat_f)) or not (
        -180 <= lon_f <= 180 and -90 <= lat_f <= 90
    ):
        raise ValidationError(_("位置坐标无效。"), errors={"location": ["invalid"]})
    crs = normalize_crs(crs)
    result = locate(lon_f, lat_f, crs=crs, max_distance_m=settings.LOCATOR_FALLBACK_METRES)
    # A case belongs to a unit grid: the locator may answer a micro-grid (take its grid) or,
    # in a community with no grid drawn at that spot, the community (outside all grids).
    grid = next((r for r in reversed(result.path) if r.level == Level.GRID), None)
    if grid is None:
        raise ValidationError(
            _("该位置不在任何网格内，请确认位置或拨打12345反映。"),
            errors={"location": ["outside"]},
        )
    wlon = result.lon if result.lon is not None else lon_f
    wlat = result.lat if result.lat is not None else lat_f
    path = list(result.path[: result.path.index(grid) + 1])
    return grid, path, float(wlon), float(wlat)


def case_create(
    *,
    actor: Any,
    source: str,
    title: str,
    description: str = "",
    lon: Any = None,
    lat: Any = None,
    crs: str = "wgs84",
    address: str = "",
    matter_type_code: str | None = None,
    urgency: str = Urgency.NORMAL,
    reporter_name: str = "",
    reporter_phone: str = "",
    client_key: str | None = None,
    on_spot_result: str = "",
    phone_verification: PhoneVerification | None = None,
    now: datetime | None = None,
) -> IntakeResult:
    """File a case. ``actor`` is None (or a user without ``cases.add_case``) for the public
    channel, which may only report as a resident. The same ``client_key`` returns the case
    already filed. Bad input raises ValidationError and creates nothing.

    ``phone_verification`` (from ``case_phone_code_check``) proves ``reporter_phone``: it is
    used up with the insert and the report event records ``phone_verified``."""
    client_key = (client_key or "").strip() or None
    if client_key is not None and len(client_key) > 64:
        raise ValidationError(_("客户端编号过长。"), errors={"client_key": ["too_long"]})
    # No look-up of the client key up front (a query on every report for the rare retry): a
    # retry that passes the checks again fails on the unique key at the insert, one that does not
    # lands here; either way the case already filed is answered.
    try:
        return _case_create(
            actor=actor,
            source=source,
            title=title,
            description=description,
            lon=lon,
            lat=lat,
            crs=crs,
            address=address,
            matter_type_code=matter_type_code,
            urgency=urgency,
            reporter_name=reporter_name,
            reporter_phone=reporter_phone,
            client_key=client_key,
            on_spot_result=on_spot_result,
            phone_verification=phone_verification,
            now=now,
        )
    except WanggeError:
        existing = _filed(client_key)
        if existing is None:
            raise
        return IntakeResult(existing, created=False)


def _filed(client_key: str | None) -> Case | None:
    """The case already filed with ``client_key``, if any."""
    return Case.objects.filter(client_key=client_key).first() if client_key else None


def _case_create(
    *,
    actor: Any,
    source: str,
    title: str,
    description: str,
    lon: Any,
    lat: Any,
    crs: str,
    address: str,
    matter_type_code: str | None,
    urgency: str,
    reporter_name: str,
    reporter_phone: str,
    client_key: str | None,
    on_spot_result: str,
    phone_verification: PhoneVerification | None,
    now: datetime | None,
) -> IntakeResult:
    now = now or timezone.now()
    staff = actor is not None and has_perm_anywhere(actor, ADD)
    if source not in Source.values:
        raise ValidationError(_("来源渠道无效。"), errors={"source": [source]})
    if not staff and source not in (Source.RESIDENT, Source.API):
        raise PermissionDenied(_("公众渠道只能以居民身份上报。"))
    title = _clean_text(title, field_name="title", label=_("标题"), limit=MAX_TITLE, required=True)
    description = _clean_text(
        description, field_name="description", label=_("问题描述"), limit=MAX_TEXT, required=False
    )
    address = _clean_text(
        address, field_name="address", label=_("地址"), limit=MAX_ADDRESS, required=False
    )
    reporter_name = _clean_text(
        reporter_name, field_name="reporter_name", label=_("姓名"), limit=64, required=False
    )
    reporter_phone = (reporter_phone or "").strip()
    if reporter_phone and not _PHONE.match(reporter_phone):
        raise ValidationError(_("联系电话格式不正确。"), errors={"reporter_phone": ["invalid"]})
    if phone_verification is not None:
        if phone_verification.verified_at is None or phone_verification.used_at is not None:
            raise ValidationError(
                _("验证码已过期或未获取，请重新获取。"), errors={"phone_code": ["expired"]}
            )
        if "".join(reporter_phone.split()).removeprefix("+86") != phone_verification.phone:
            raise ValidationError(
                _("验证码对应的手机号与填写的手机号不一致。"), errors={"phone_code": ["mismatch"]}
            )
        reporter_phone = phone_verification.phone
    matter_type: MatterType | None = None
    if matter_type_code:
        matter_type = active_matter_type(str(matter_type_code).strip())
        if matter_type is None or (not staff and not matter_type.is_public):
            raise ValidationError(
                _("事项类型“%(c)s”不存在。") % {"c": matter_type_code},
                errors={"matter_type": ["unknown"]},
            )
    grid, path, wlon, wlat = _locate(lon, lat, crs)
    if staff and not has_perm_at(actor, ADD, grid.path):
        raise PermissionDenied(_("该位置不在您的管辖范围内。"))
    suggestions = get_classifier().suggest(title=title, text=description)
    if matter_type is None and suggestions and suggestions[0].score >= AUTO_CLASSIFY_SCORE:
        matter_type = active_matter_type(suggestions[0].code)
    rules = rules_for(matter_type)
    if urgency not in Urgency.values:
        raise ValidationError(_("紧急程度无效。"), errors={"urgency": [urgency]})
    if urgency not in rules["urgency_levels"]:
        urgency = Urgency.URGENT if Urgency.URGENT in rules["urgency_levels"] else Urgency.NORMAL
    on_spot = bool(on_spot_result)
    if on_spot:
        on_spot_result = _clean_text(
            on_spot_result, field_name="result", label=_("处置结果"), limit=MAX_TEXT, required=True
        )
        if not (staff and has_perm_at(actor, TRANSITION, grid.path)):
            raise PermissionDenied(_("只有本网格工作人员可以现场处置。"))
    route = route_case(matter_type=matter_type, rules=rules, grid=grid, on_spot=on_spot, path=path)
    if on_spot and not route.on_spot:
        raise ValidationError(route.reasons[0], errors={"matter_type": ["not_on_spot"]})
    calendar = load_calendar()
    state = CaseState.CLOSED if on_spot else CaseState.REPORTED
    timing = step_fields(
        state=state, rules=rules, urgency=urgency, now=now, calendar=calendar, deadlines={}
    )
    case = Case(
        client_key=client_key,
        source=source,
        reporter=actor if getattr(actor, "pk", None) and source == Source.RESIDENT else None,
        reporter_name=reporter_name,
        reporter_phone=reporter_phone,
        title=title,
        description=description,
        lon=wlon,
        lat=wlat,
        input_crs=crs,
        address=address,
        grid=grid,
        region_path=grid.path,
        matter_type=matter_type,
        matter_version_id=matter_type.current_version_id if matter_type else None,
        rules=rules,
        classification=[s.as_dict() for s in suggestions],
        urgency=urgency,
        state=state,
        handling_level=route.level,
        handling_region=route.region,
        department=route.department,
        assignee=actor if on_spot else None,
        routing_reasons=route.reasons,
        reported_at=now,
        self_resolved=on_spot,
        **{k: v for k, v in timing.items() if k != "escalation_level"},
    )
    if on_spot:
        case.result = on_spot_result
        case.accepted_at = case.dispatched_at = case.claimed_at = now
        case.handled_at = case.verified_at = case.closed_at = now

    def record() -> None:
        """The timeline, the audit record and the queued announcement of the inserted case."""
        if phone_verification is not None:
            phone_code_consume(verification=phone_verification, now=now)
        add_event(
            case=case,
            actor=actor,
            action="report",
            to_state=CaseState.REPORTED,
            note="；".join(route.reasons),
            public_text=_("您反映的问题已收到，查询码 %(c)s。") % {"c": case.tracking_code},
            data={
                "source": source,
                "route": route.level,
                **({"phone_verified": True} if phone_verification is not None else {}),
            },
            now=now,
        )
        if on_spot:
            add_event(
                case=case,
                actor=actor,
                action="on_spot",
                from_state=CaseState.REPORTED,
                to_state=CaseState.CLOSED,
                note=on_spot_result,
                public_text=_("网格员已现场处置，问题已办结。"),
                now=now,
            )
        events.emit("case.created", case=case, actor=actor)
        if not on_spot:
            # One background task tells whoever accepts the case (recipients, in-app notices,
            # delivery); it is queued with this transaction, see enqueue_with_commit.
            announce_in_background(case.pk, "report", None)
        # Last: on PostgreSQL the audit append locks the chain head until COMMIT.
        audit_log(
            actor=actor,
            action="cases.create",
            obj=case,
            after={
                "code": case.tracking_code,
                "source": source,
                "grid": grid.code,
                "matter_type": matter_type.code if matter_type else None,
                "level": route.level,
                "state": state,
                "phone_verified": phone_verification is not None,
            },
        )

    # Only the writes hold the transaction (on SQLite: the database's write lock), all in one
    # without savepoints. A clash on the unique tracking code or client key rolls it back: a
    # concurrent retry of the same submission that got in first is returned, else a new code.
    for _attempt in range(5):
        case.tracking_code = new_tracking_code(now)
        try:
            with transaction.atomic():
                case.save(force_insert=True)
                record()
            break
        except IntegrityError:
            existing = _filed(client_key)
            if existing is not None:  # a retry, or a concurrent copy of it that got in first
                return IntakeResult(existing, created=False)
            case.pk = None
            case._state.adding = True
    else:  # pragma: no cover - 32^6 codes per day
        raise ValidationError(_("查询码生成失败，请重试。"))
    return IntakeResult(case, created=True, suggestions=suggestions)


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    r = 6371008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


# The fields a duplicate suggestion shows (code, title, state) and needs to rank (position).
# In the model's field order: ``Model.from_db`` with fewer values than fields takes them in that
# order, whatever order the names are given in.
DUPLICATE_FIELDS = tuple(
    f.attname
    for f in Case._meta.concrete_fields
    if f.attname in {"id", "tracking_code", "title", "state", "lon", "lat", "reported_at"}
)
_LON, _LAT, _STATE, _REPORTED_AT = (
    DUPLICATE_FIELDS.index(f) for f in ("lon", "lat", "state", "reported_at")
)
DUPLICATE_LIMIT = 20
DUPLICATE_SCAN_CAP = 1000  # rows read from the bounding box at most


def case_duplicate_candidates(
    *,
    case: Case,
    radius_m: float = DUPLICATE_RADIUS_M,
    window: timedelta = DUPLICATE_WINDOW,
    limit: int = DUPLICATE_LIMIT,
) -> list[Case]:
    """Open cases of the same or a related matter type near ``case`` and recent, nearest first
    (at most ``limit``; only the fields in DUPLICATE_FIELDS are loaded).

    Plain SQL: this runs on every staff intake, and the ORM spent longer compiling the query
    than the database answering it. Both databases must answer from the ``case_lon_lat`` index
    (SQLite otherwise walks every open case through ``case_state_due``, or every case of the
    type), so the matter types are compared as ``matter_type_id + 0``, an expression no index
    offers; it still drops the other types' rows before they are sent and decoded (a busy
    corner has many). State and exact distance are checked here on the rows inside the box."""
    dlat = radius_m / 111_000
    dlon = radius_m / (111_000 * max(0.1, math.cos(math.radians(case.lat))))
    related_ids: list[int] | None = None
    if case.matter_type_id:
        related = {case.matter_type.code, *(case.rules.get("related_codes") or [])}  # type: ignore[union-attr]
        related_ids = sorted(_matter_type_ids(related) | {case.matter_type_id})
    params: list[Any] = [
        case.lon - dlon,
        case.lon + dlon,
        case.lat - dlat,
        case.lat + dlat,
        case.reported_at - window,
        case.pk,
        *(related_ids or ()),
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            _duplicate_sql(len(related_ids) if related_ids is not None else None), params
        )
        rows = cursor.fetchall()
    found = [
        (d, row)
        for row in rows
        if row[_STATE] in OPEN_STATES
        and (d := _metres(case.lon, case.lat, row[_LON], row[_LAT])) <= radius_m
    ]
    found.sort(key=lambda x: (x[0], x[1][0]))
    return [
        Case.from_db(Case.objects.db, list(DUPLICATE_FIELDS), _aware(row))
        for _, row in found[:limit]
    ]


@functools.lru_cache(maxsize=64)
def _duplicate_sql(types: int | None) -> str:
    """The scan of ``case_duplicate_candidates`` for ``types`` matter type ids (None: any type)."""
    qn = connection.ops.quote_name
    column = {f.name: f.column for f in Case._meta.concrete_fields}
    columns = ", ".join(qn(column[f]) for f in DUPLICATE_FIELDS)
    same_type = (
        f" AND ({qn(column['matter_type'])} + 0) IN ({', '.join(['%s'] * types)})"
        if types is not None
        else ""
    )
    return (
        f"SELECT {columns} FROM {qn(Case._meta.db_table)} "  # noqa: S608 - identifiers from the model
        f"WHERE {qn('lon')} BETWEEN %s AND %s AND {qn('lat')} BETWEEN %s AND %s "
        f"AND {qn('reported_at')} >= %s AND {qn('id')} <> %s{same_type} "
        f"LIMIT {DUPLICATE_SCAN_CAP}"
    )


def _aware(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """SQLite's driver returns naive UTC datetimes where the ORM would make them aware."""
    value = row[_REPORTED_AT]
    if settings.USE_TZ and isinstance(value, datetime) and value.tzinfo is None:
        return (*row[:_REPORTED_AT], value.replace(tzinfo=UTC), *row[_REPORTED_AT + 1 :])
    return row


def _matter_type_ids(codes: set[str]) -> set[int]:
    """Ids of the matter types ``codes`` from the per-process catalogue copy."""
    from ..catalogue import active_matter_type_id

    return {i for code in codes if (i := active_matter_type_id(code)) is not None}


def case_merge(*, actor: Any, case: Case, into: Case, expected_version: int) -> Case:
    """Merge duplicate ``case`` into ``into``; the duplicate keeps its reporter, who is told when
    ``into`` closes."""
    from .transitions import case_transition

    return case_transition(
        actor=actor,
        case=case,
        action="merge",
        expected_version=expected_version,
        duplicate_of=into.pk,
    )
