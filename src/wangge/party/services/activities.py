"""Activities (主题党日, study sessions, volunteer actions): plan, sign-in by QR code or location,
close with minutes and photos. Attendance earns the points rule's points and records hours."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core.audit import audit_log
from wangge.core.exceptions import Conflict, PermissionDenied, ValidationError

from ..choices import ActivityKind, ActivityState, CheckinMethod, OrgStatus, PointEvent
from ..models import Activity, ActivityPhoto, Attendance, PartyMember, PartyOrg
from ..perms import CHANGE_ACTIVITY
from .common import metres, require_at, text

CHECKIN_EARLY = timedelta(minutes=30)
CHECKIN_LATE = timedelta(minutes=30)
MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_CREDIT_MINUTES = 8 * 60


@transaction.atomic
def activity_plan(
    *,
    actor: Any,
    branch: PartyOrg,
    kind: str,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    location: str = "",
    lon: float | None = None,
    lat: float | None = None,
    credit_minutes: int | None = None,
    audit: bool = True,
) -> Activity:
    require_at(actor, CHANGE_ACTIVITY, branch.region_path)
    if branch.status != OrgStatus.ACTIVE:
        raise ValidationError(_("该党组织已撤销。"), errors={"branch": ["dissolved"]})
    if kind not in ActivityKind.values:
        raise ValidationError(_("活动类型无效。"), errors={"kind": ["invalid"]})
    if ends_at <= starts_at:
        raise ValidationError(_("结束时间须晚于开始时间。"), errors={"ends_at": ["before_start"]})
    length = int((ends_at - starts_at).total_seconds() // 60)
    credit = length if credit_minutes is None else int(credit_minutes)
    if not 0 <= credit <= MAX_CREDIT_MINUTES:
        raise ValidationError(
            _("计入时长须在0至%(n)d分钟之间。") % {"n": MAX_CREDIT_MINUTES},
            errors={"credit_minutes": ["range"]},
        )
    activity = Activity.objects.create(
        branch=branch,
        region_path=branch.region_path,
        kind=kind,
        title=text(title, field="title", label=_("主题"), limit=200),
        starts_at=starts_at,
        ends_at=ends_at,
        location=text(location, field="location", label=_("地点"), limit=255, required=False),
        lon=lon,
        lat=lat,
        checkin_code=secrets.token_urlsafe(12),
        credit_minutes=credit,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    if audit:
        audit_log(
            actor=actor,
            action="party.activity_plan",
            obj=activity,
            after={"title": activity.title, "kind": kind},
        )
    return activity


def _may_attend(activity: Activity, member: PartyMember) -> bool:
    if member.branch_id == activity.branch_id:
        return True
    if activity.branch.attached_members.filter(pk=member.pk).exists():
        return True
    # Volunteer actions are open to members serving the community (双报到 included).
    return activity.kind == ActivityKind.VOLUNTEER and (
        member.region_path.startswith(activity.region_path)
        or member.dual_reports.filter(
            state__in=["approved", "reported"], region_path__in=_prefixes(activity.region_path)
        ).exists()
    )


def _prefixes(path: str) -> list[str]:
    parts = [p for p in path.strip("/").split("/") if p]
    return ["/" + "/".join(parts[:k]) + "/" for k in range(1, len(parts) + 1)]


@transaction.atomic
def activity_check_in(
    *,
    actor: Any,
    activity: Activity,
    member: PartyMember,
    method: str,
    code: str = "",
    lon: float | None = None,
    lat: float | None = None,
    now: datetime | None = None,
) -> Attendance:
    """签到: the member themself by the activity's QR code or by location (within the
    check-in radius), during the activity (30 minutes either side); staff may record a
    补签 (manual). Once per member; earns the attendance points."""
    now = now or timezone.now()
    own = actor is not None and getattr(actor, "pk", None) == member.user_id
    if method == CheckinMethod.MANUAL:
        require_at(actor, CHANGE_ACTIVITY, activity.region_path)
    elif not own and actor is not None:
        raise PermissionDenied(_("只能本人签到。"))
    if activity.state == ActivityState.CANCELLED:
        raise ValidationError(_("活动已取消。"), errors={"activity": ["cancelled"]})
    if not _may_attend(activity, member):
        raise ValidationError(_("您不是该活动的参加对象。"), errors={"member": ["not_invited"]})
    distance = None
    if method == CheckinMethod.QR:
        if not secrets.compare_digest(str(code or ""), activity.checkin_code):
            raise ValidationError(_("签到码无效。"), errors={"code": ["invalid"]})
    elif method == CheckinMethod.LOCATION:
        if lon is None or lat is None or activity.lon is None or activity.lat is None:
            raise ValidationError(_("请开启定位后签到。"), errors={"lon": ["required"]})
        distance = metres(activity.lon, activity.lat, float(lon), float(lat))
        if distance > activity.checkin_radius_m:
            raise ValidationError(
                _("您距活动地点%(d)d米，超出签到范围%(r)d米。")
                % {"d": round(distance), "r": activity.checkin_radius_m},
                errors={"lon": ["too_far"]},
            )
    elif method != CheckinMethod.MANUAL:
        raise ValidationError(_("签到方式无效。"), errors={"method": ["invalid"]})
    if method != CheckinMethod.MANUAL and not (
        activity.starts_at - CHECKIN_EARLY <= now <= activity.ends_at + CHECKIN_LATE
    ):
        raise ValidationError(_("不在签到时间内。"), errors={"now": ["outside_window"]})
    try:
        with transaction.atomic():
            attendance = Attendance.objects.create(
                activity=activity,
                member=member,
                method=method,
                checked_in_at=now,
                distance_m=distance,
                minutes=activity.credit_minutes,
            )
    except IntegrityError as exc:
        raise Conflict(_("您已签到。"), errors={"member": ["checked_in"]}) from exc
    from .points import points_award

    points_award(
        member=member,
        event=PointEvent.ATTEND_ACTIVITY,
        source_type="activity",
        source_id=str(activity.pk),
        reason=_("参加“%(t)s”") % {"t": activity.title},
        now=now,
    )
    audit_log(
        actor=actor,
        action="party.activity_checkin",
        obj=activity,
        after={"member": member.pk, "method": method},
    )
    return attendance


@transaction.atomic
def activity_close(
    *,
    actor: Any,
    activity: Activity,
    minutes_text: str,
    photos: list[bytes] | None = None,
) -> Activity:
    """Record that the activity was held, with its minutes (会议纪要) and photos."""
    require_at(actor, CHANGE_ACTIVITY, activity.region_path)
    if activity.state != ActivityState.PLANNED:
        raise ValidationError(_("活动已结束或已取消。"), errors={"activity": ["state"]})
    activity.minutes_text = text(
        minutes_text, field="minutes_text", label=_("会议纪要"), limit=10000
    )
    for content in photos or []:
        if len(content) > MAX_PHOTO_BYTES:
            raise ValidationError(_("照片不能超过5MB。"), errors={"photos": ["too_large"]})
        if not (content.startswith(b"\x89PNG") or content.startswith(b"\xff\xd8")):
            raise ValidationError(_("照片须为PNG或JPEG。"), errors={"photos": ["type"]})
    activity.state = ActivityState.HELD
    activity.save(update_fields=["minutes_text", "state"])
    for content in photos or []:
        digest = hashlib.sha256(content).hexdigest()
        photo = ActivityPhoto(activity=activity, sha256=digest)
        ext = "png" if content.startswith(b"\x89PNG") else "jpg"
        photo.file.save(f"{digest[:16]}.{ext}", ContentFile(content), save=False)
        photo.save()
    audit_log(
        actor=actor,
        action="party.activity_close",
        obj=activity,
        after={"photos": len(photos or [])},
    )
    return activity
