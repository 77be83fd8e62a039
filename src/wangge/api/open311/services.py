"""``POST requests``: a GeoReport v2 service request becomes a case through the intake service
(``cases.services.intake.case_create``, channel ``api``), plus the Open311 record (token,
client, attribute answers, private contact) and an optional photo, all in one transaction.

That transaction is the intake's own: the Open311 record and photo are written by a
``case.created`` handler (:func:`on_case_created`), which runs inside it, for the submission
this thread is filing (a context variable). Wrapping ``case_create`` in an outer transaction
instead would hold the database's write lock (SQLite) through locating and classifying, and cost
a savepoint per request."""

from __future__ import annotations

import math
import re
import threading
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from wangge.cases.catalogue import active_matter_type
from wangge.cases.choices import AttachmentKind, Source
from wangge.cases.models import Case, MatterType
from wangge.cases.services import attachment_add, case_create
from wangge.cases.services.attachments import max_bytes, sniff_image
from wangge.cases.services.intake import _TAG
from wangge.core.exceptions import ValidationError
from wangge.geo.choices import Level
from wangge.geo.models import Region

from ..choices import Datatype
from ..models import Open311Client, Open311Request, ServiceAttribute
from .selectors import service_attributes

ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\[\]]{1,32})\](\[\])?$")
MAX_ATTRIBUTE_TEXT = {Datatype.STRING: 255, Datatype.TEXT: 2000}
TITLE_CHARS = 40
ADDRESS_LEVELS = (Level.MICRO_GRID, Level.GRID, Level.COMMUNITY)
# Attribute definitions change rarely (rows edited by administrators): each process keeps them
# for ATTRIBUTE_CACHE_SECONDS, so an edit is in force everywhere within that time.
ATTRIBUTE_CACHE_SECONDS = 60.0
_attr_cache: dict[str, tuple[float, list[ServiceAttribute]]] = {}
_attr_lock = threading.Lock()


def cached_service_attributes(code: str) -> list[ServiceAttribute]:
    now = time.monotonic()
    hit = _attr_cache.get(code)
    if hit is not None and now - hit[0] < ATTRIBUTE_CACHE_SECONDS:
        return hit[1]
    rows = service_attributes(code)
    with _attr_lock:
        _attr_cache[code] = (now, rows)
    return rows


def reset_attribute_cache() -> None:
    with _attr_lock:
        _attr_cache.clear()


def _public_type(code: str) -> MatterType | None:
    """The active, public matter type ``code`` (from the per-process catalogue copy)."""
    mt = active_matter_type((code or "").strip()) if code and len(code) <= 8 else None
    return mt if mt is not None and mt.is_public else None


def _bad(message: str, name: str, code: str = "invalid") -> ValidationError:
    return ValidationError(message, errors={name: [code]})


@dataclass
class Open311Submission:
    """The parsed parameters of one POST (strings as sent; checked by ``request_create``)."""

    service_code: str = ""
    lat: str = ""
    long: str = ""
    address_string: str = ""
    address_id: str = ""
    email: str = ""
    device_id: str = ""
    account_id: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    description: str = ""
    media_url: str = ""
    attributes: dict[str, list[str]] = field(default_factory=dict)
    media: bytes | None = None
    # Not a GeoReport parameter: an idempotency key for internal callers (the demo loader).
    client_key: str | None = None


def parse_attributes(items: list[tuple[str, list[str]]]) -> dict[str, list[str]]:
    """``attribute[CODE]`` and ``attribute[CODE][]`` pairs from a form, by code."""
    out: dict[str, list[str]] = {}
    for key, values in items:
        match = ATTRIBUTE_KEY.match(key)
        if match is None:
            if key.startswith("attribute"):
                raise _bad(_("属性参数“%(k)s”格式不正确。") % {"k": key[:40]}, "attribute")
            continue
        out.setdefault(match.group(1), []).extend(values)
    return out


def _check_markup(value: str, label: str, name: str) -> None:
    if _TAG.search(value):
        raise _bad(_("%(f)s不能包含HTML标签或脚本。") % {"f": label}, name, "markup")


def clean_attributes(
    definitions: list[ServiceAttribute], given: dict[str, list[str]]
) -> dict[str, Any]:
    """Check the answers against the service definition; the stored values by code."""
    by_code = {a.code: a for a in definitions if a.variable}
    unknown = sorted(set(given) - set(by_code))
    if unknown:
        raise _bad(_("该服务没有属性“%(c)s”。") % {"c": unknown[0][:32]}, "attribute", "unknown")
    out: dict[str, Any] = {}
    for code, a in by_code.items():
        values = [v.strip() for v in given.get(code, []) if v.strip()]
        label = a.description
        if not values:
            if a.required:
                raise _bad(_("请填写“%(f)s”。") % {"f": label}, f"attribute[{code}]", "required")
            continue
        if a.datatype != Datatype.MULTI and len(values) > 1:
            raise _bad(_("“%(f)s”只能填一个值。") % {"f": label}, f"attribute[{code}]")
        keys = {str(v["key"]) for v in a.values}
        value = values[0]
        if a.datatype in (Datatype.STRING, Datatype.TEXT):
            if len(value) > MAX_ATTRIBUTE_TEXT[Datatype(a.datatype)]:
                raise _bad(_("“%(f)s”过长。") % {"f": label}, f"attribute[{code}]", "too_long")
            _check_markup(value, label, f"attribute[{code}]")
            out[code] = value
        elif a.datatype == Datatype.NUMBER:
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                raise _bad(_("“%(f)s”应为数字。") % {"f": label}, f"attribute[{code}]")
            out[code] = number
        elif a.datatype == Datatype.DATETIME:
            try:
                moment = parse_datetime(value)
            except ValueError:
                moment = None
            if moment is None:
                raise _bad(
                    _("“%(f)s”应为日期时间，例如2026-05-01T08:30:00Z。") % {"f": label},
                    f"attribute[{code}]",
                )
            out[code] = value
        elif a.datatype == Datatype.SINGLE:
            if value not in keys:
                raise _bad(_("“%(f)s”的取值无效。") % {"f": label}, f"attribute[{code}]")
            out[code] = value
        else:  # multivaluelist
            bad = [v for v in values if v not in keys]
            if bad:
                raise _bad(_("“%(f)s”的取值无效。") % {"f": label}, f"attribute[{code}]")
            out[code] = sorted(set(values), key=values.index)
    return out


def _coordinate(value: str, name: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    limit = 90 if name == "lat" else 180
    if not math.isfinite(number) or abs(number) > limit:
        raise _bad(_("坐标%(n)s无效。") % {"n": name}, name)
    return number


def _address_region(address_id: str, address_string: str) -> Region | None:
    """``address_id``: a grid or micro-grid code (楼栋 micro-grids are the standard-address
    level); else the deepest grid, micro-grid or community whose name appears in
    ``address_string`` (longest name first)."""
    if address_id:
        region = Region.objects.filter(
            code=address_id, level__in=ADDRESS_LEVELS, is_active=True
        ).first()
        if region is None:
            raise _bad(_("地址编号“%(c)s”不存在。") % {"c": address_id[:32]}, "address_id")
        return region
    candidates = [
        r
        for r in Region.objects.filter(level__in=ADDRESS_LEVELS, is_active=True)
        .exclude(name="")
        .only("name", "code", "level", "depth", "center_lon", "center_lat", "path")
        if r.name in address_string
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda r: (r.depth, len(r.name)))


def _reporter_name(first: str, last: str) -> str:
    parts = [p.strip() for p in (first, last) if p.strip()]
    if all(not p.isascii() for p in parts):  # Chinese: 姓 (last) before 名 (first)
        return "".join(reversed(parts))
    return " ".join(parts)


def request_create(
    *, client: Open311Client, submission: Open311Submission, now: datetime | None = None
) -> Open311Request:
    """File a case from a GeoReport v2 POST. Bad input raises ValidationError and nothing is
    written (the case, its Open311 record and its photo commit together)."""
    s = submission
    mt = _public_type(s.service_code)
    if not s.service_code.strip():
        raise _bad(_("缺少参数service_code。"), "service_code", "required")
    if mt is None:
        raise _bad(
            _("service_code“%(c)s”不是有效的服务。") % {"c": s.service_code[:16]},
            "service_code",
            "unknown",
        )
    attributes = clean_attributes(cached_service_attributes(mt.code), s.attributes)
    address_string = s.address_string.strip()
    address_id = s.address_id.strip()
    if s.lat.strip() or s.long.strip():
        if not (s.lat.strip() and s.long.strip()):
            raise _bad(_("lat与long必须同时提供。"), "lat", "required")
        lat, lon = _coordinate(s.lat, "lat"), _coordinate(s.long, "long")
        if address_id:
            _address_region(address_id, "")  # an unknown address_id is still an error
    else:
        if not (address_string or address_id):
            raise _bad(
                _("请提供位置：lat/long、address_string或address_id之一。"), "lat", "required"
            )
        region = _address_region(address_id, address_string)
        if region is None or region.center_lon is None or region.center_lat is None:
            raise _bad(
                _("无法根据地址“%(a)s”定位，请提供lat/long或address_id。")
                % {"a": address_string[:60]},
                "address_string",
                "unknown",
            )
        lon, lat = region.center_lon, region.center_lat
        if not address_string:
            address_string = region.name
    email = s.email.strip()
    if email:
        try:
            EmailValidator()(email)
        except DjangoValidationError as exc:
            raise _bad(_("电子邮箱格式不正确。"), "email") from exc
    media_url = s.media_url.strip()
    if media_url and not re.match(r"^https?://\S{1,490}$", media_url):
        raise _bad(_("media_url应为http(s)地址。"), "media_url")
    for name, value in (("device_id", s.device_id), ("account_id", s.account_id)):
        if len(value) > 100:
            raise _bad(_("参数%(n)s过长。") % {"n": name}, name, "too_long")
        _check_markup(value, name, name)
    _check_markup(media_url, "media_url", "media_url")
    if s.media is not None:
        if len(s.media) > max_bytes():
            raise _bad(
                _("照片不能超过%(n)dMB。") % {"n": max_bytes() // (1024 * 1024)},
                "media",
                "too_large",
            )
        if not s.media or sniff_image(s.media[:16]) is None:
            raise _bad(_("只支持JPEG、PNG或WebP格式的照片。"), "media", "not_image")
    description = s.description.strip()
    first_line = description.splitlines()[0].strip() if description else ""
    title = first_line[:TITLE_CHARS] or mt.name
    pending = _Pending(
        client=client,
        service_code=mt.code,
        attributes=attributes,
        email=email,
        device_id=s.device_id.strip(),
        account_id=s.account_id.strip(),
        address_id=address_id,
        media_url=media_url,
        media=s.media,
    )
    token = _PENDING.set(pending)
    try:
        result = case_create(
            actor=None,
            source=Source.API,
            title=title,
            description=description,
            lon=lon,
            lat=lat,
            address=address_string,
            matter_type_code=mt.code,
            reporter_name=_reporter_name(s.first_name, s.last_name),
            reporter_phone=s.phone,
            client_key=s.client_key,
            now=now,
        )
    finally:
        _PENDING.reset(token)
    if pending.link is not None:
        return pending.link
    # A repeated client key answers the case already filed (no case.created): its record.
    existing = Open311Request.objects.filter(case=result.case).first()
    if existing is None:
        raise ValidationError(_("该编号已用于其他渠道的上报。"), errors={"client_key": ["taken"]})
    return existing


@dataclass
class _Pending:
    client: Open311Client
    service_code: str
    attributes: dict[str, Any]
    email: str
    device_id: str
    account_id: str
    address_id: str
    media_url: str
    media: bytes | None
    link: Open311Request | None = None


_PENDING: ContextVar[_Pending | None] = ContextVar("open311_pending", default=None)


def on_case_created(*, case: Case, **_: Any) -> None:
    """Inside intake's transaction: the Open311 record (and photo) of the case this thread is
    filing through ``request_create``. A retried insert (tracking-code clash) runs this again
    in the new transaction, so the record is always the committed one."""
    pending = _PENDING.get()
    if pending is None or case.source != Source.API:
        return
    pending.link = Open311Request.objects.create(
        case=case,
        token=str(uuid.uuid4()),
        client=pending.client,
        service_code=pending.service_code,
        attributes=pending.attributes,
        email=pending.email,
        device_id=pending.device_id,
        account_id=pending.account_id,
        address_id=pending.address_id,
        media_url=pending.media_url,
    )
    if pending.media is not None:
        attachment_add(actor=None, case=case, kind=AttachmentKind.BEFORE, content=pending.media)
