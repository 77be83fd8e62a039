"""Visits (走访/巡查) with check-in distance and photos, and the care plans that schedule them."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core.audit import audit_log
from wangge.core.exceptions import PermissionDenied, ValidationError
from wangge.geo.models import Region

from ..choices import PersonFlag, VisitKind
from ..models import CarePlan, Component, House, Household, Organisation, Person, Visit, VisitPhoto
from .common import choice_value, require_at

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
