"""Party members, volunteers, 党员中心户 and 双报到 (in-service members reporting to the
community they live in)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core.audit import audit_log
from wangge.core.exceptions import Conflict, InvalidTransition, ValidationError
from wangge.geo.choices import Level
from wangge.geo.models import Region
from wangge.registers.models import Household, Organisation, Person

from ..choices import (
    BRANCH_KINDS,
    ContactChannel,
    DualReportState,
    OrgKind,
    OrgStatus,
    PointEvent,
    Position,
    Specialty,
)
from ..models import CentralHousehold, DualReport, PartyMember, PartyOrg, Volunteer, VolunteerTeam
from ..perms import APPROVE_DUAL, CHANGE_MEMBER, CHANGE_VOLUNTEER
from .common import require_at, text

MAX_CAPACITY = 10
MAX_COMMITMENTS = 10


def clean_specialties(values: Any) -> list[str]:
    out: list[str] = []
    for v in values or []:
        if v not in Specialty.values:
            raise ValidationError(_("特长“%(s)s”无效。") % {"s": v}, errors={"specialties": [v]})
        if v not in out:
            out.append(v)
    return out


def clean_availability(values: Any) -> list[list[int]]:
    """[[weekday 0–6, start minute, end minute], …] with start < end within one day."""
    out: list[list[int]] = []
    for slot in values or []:
        try:
            weekday, start, end = (int(x) for x in slot)
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                _("可服务时段格式有误。"), errors={"availability": ["invalid"]}
            ) from exc
        if not (0 <= weekday <= 6 and 0 <= start < end <= 1440):
            raise ValidationError(
                _("可服务时段须在一天之内，且开始早于结束。"),
                errors={"availability": ["range"]},
            )
        out.append([weekday, start, end])
    return out


def _capacity(value: Any) -> int:
    try:
        cap = int(value)
    except (TypeError, ValueError):
        cap = -1
    if not 0 <= cap <= MAX_CAPACITY:
        raise ValidationError(
            _("同时可接单数须在0至%(n)d之间。") % {"n": MAX_CAPACITY},
            errors={"capacity": ["range"]},
        )
    return cap


def home_position(person: Person) -> tuple[float | None, float | None]:
    """Where a person lives, from the registers (house, else building)."""
    house = person.house
    if house is not None:
        if house.lon is not None and house.lat is not None:
            return house.lon, house.lat
        b = house.building
        if b is not None and b.lon is not None and b.lat is not None:
            return b.lon, b.lat
    return None, None


def _member_snapshot(m: PartyMember) -> dict[str, Any]:
    return {
        "person": m.person_id,
        "branch": m.branch_id,
        "position": m.position,
        "specialties": m.specialties,
        "capacity": m.capacity,
        "is_active": m.is_active,
    }


@transaction.atomic
def member_create(
    *,
    actor: Any,
    person: Person,
    branch: PartyOrg,
    position: str = Position.MEMBER,
    joined_party_on: date | None = None,
    in_service: bool = False,
    work_unit: Organisation | None = None,
    work_unit_name: str = "",
    specialties: list[str] | None = None,
    availability: list[list[int]] | None = None,
    capacity: int = 2,
    contact_channel: str = ContactChannel.APP,
    user: Any = None,
    audit: bool = True,
) -> PartyMember:
    """Enrol a registers person as a member of ``branch`` (their home branch)."""
    require_at(actor, CHANGE_MEMBER, branch.region_path)
    if branch.kind not in BRANCH_KINDS or branch.kind == OrgKind.TEMPORARY_BRANCH:
        raise ValidationError(
            _("党员须编入网格、联合或流动党支部（临时党支部请用“编入”）。"),
            errors={"branch": ["kind"]},
        )
    if branch.status != OrgStatus.ACTIVE:
        raise ValidationError(_("该党支部已撤销。"), errors={"branch": ["dissolved"]})
    if position not in Position.values:
        raise ValidationError(_("党内职务无效。"), errors={"position": ["invalid"]})
    if contact_channel not in ContactChannel.values:
        raise ValidationError(_("联系方式偏好无效。"), errors={"contact_channel": ["invalid"]})
    if person.erased_at is not None:
        raise ValidationError(_("该人员信息已删除。"), errors={"person": ["erased"]})
    if PartyMember.objects.filter(person=person, is_active=True).exists():
        raise Conflict(_("该人员已是在册党员。"), errors={"person": ["member"]})
    if user is not None and PartyMember.objects.filter(user=user).exists():
        raise Conflict(_("该账号已关联其他党员。"), errors={"user": ["taken"]})
    lon, lat = home_position(person)
    member = PartyMember.objects.create(
        person=person,
        user=user,
        branch=branch,
        region_path=branch.region_path,
        position=position,
        joined_party_on=joined_party_on,
        joined_branch_on=timezone.localdate(),
        in_service=in_service,
        work_unit=work_unit,
        work_unit_name=text(
            work_unit_name, field="work_unit_name", label=_("工作单位"), limit=200, required=False
        ),
        specialties=clean_specialties(specialties),
        availability=clean_availability(availability),
        capacity=_capacity(capacity),
        contact_channel=contact_channel,
        lon=lon,
        lat=lat,
    )
    if audit:
        audit_log(
            actor=actor, action="party.member_create", obj=member, after=_member_snapshot(member)
        )
    return member


@transaction.atomic
def helper_update_profile(
    *,
    actor: Any,
    helper: PartyMember | Volunteer,
    specialties: list[str] | None = None,
    availability: list[list[int]] | None = None,
    capacity: int | None = None,
    contact_channel: str | None = None,
    contact_note: str | None = None,
) -> PartyMember | Volunteer:
    """A helper updates their own specialties, time slots, capacity and contact preferences
    (or staff do it for them)."""
    perm = CHANGE_MEMBER if isinstance(helper, PartyMember) else CHANGE_VOLUNTEER
    if actor is not None and getattr(actor, "pk", None) != helper.user_id:
        require_at(actor, perm, helper.region_path)
    before = {
        "specialties": helper.specialties,
        "availability": helper.availability,
        "capacity": helper.capacity,
    }
    fields = ["updated_at"]
    if specialties is not None:
        helper.specialties = clean_specialties(specialties)
        fields.append("specialties")
    if availability is not None:
        helper.availability = clean_availability(availability)
        fields.append("availability")
    if capacity is not None:
        helper.capacity = _capacity(capacity)
        fields.append("capacity")
    if contact_channel is not None:
        if contact_channel not in ContactChannel.values:
            raise ValidationError(_("联系方式偏好无效。"), errors={"contact_channel": ["invalid"]})
        helper.contact_channel = contact_channel
        fields.append("contact_channel")
    if contact_note is not None:
        helper.contact_note = text(
            contact_note, field="contact_note", label=_("联系说明"), limit=255, required=False
        )
        fields.append("contact_note")
    helper.save(update_fields=fields)
    audit_log(
        actor=actor,
        action="party.helper_profile",
        obj=helper,
        before=before,
        after={
            "specialties": helper.specialties,
            "availability": helper.availability,
            "capacity": helper.capacity,
        },
    )
    return helper


@transaction.atomic
def volunteer_register(
    *,
    actor: Any,
    person: Person,
    region: Region,
    team: VolunteerTeam | None = None,
    specialties: list[str] | None = None,
    availability: list[list[int]] | None = None,
    capacity: int = 2,
    user: Any = None,
    audit: bool = True,
) -> Volunteer:
    """Register a volunteer with a community (or grid); they take service orders there."""
    require_at(actor, CHANGE_VOLUNTEER, region.path)
    if region.level not in (Level.STREET, Level.COMMUNITY, Level.GRID):
        raise ValidationError(_("志愿者须注册到街道、社区或网格。"), errors={"region": ["level"]})
    if team is not None and not region.path.startswith(team.region_path):
        raise ValidationError(_("志愿服务队不在该区域。"), errors={"team": ["outside"]})
    if Volunteer.objects.filter(person=person, is_active=True).exists():
        raise Conflict(_("该人员已注册为志愿者。"), errors={"person": ["volunteer"]})
    lon, lat = home_position(person)
    v = Volunteer.objects.create(
        person=person,
        user=user,
        region=region,
        region_path=region.path,
        team=team,
        registered_on=timezone.localdate(),
        specialties=clean_specialties(specialties),
        availability=clean_availability(availability),
        capacity=_capacity(capacity),
        lon=lon,
        lat=lat,
    )
    if audit:
        audit_log(
            actor=actor,
            action="party.volunteer_register",
            obj=v,
            after={"person": person.pk, "region": region.pk},
        )
    return v


@transaction.atomic
def volunteer_team_create(
    *, actor: Any, name: str, region: Region, description: str = ""
) -> VolunteerTeam:
    require_at(actor, CHANGE_VOLUNTEER, region.path)
    team = VolunteerTeam.objects.create(
        name=text(name, field="name", label=_("队伍名称"), limit=128),
        region=region,
        region_path=region.path,
        description=text(
            description, field="description", label=_("简介"), limit=255, required=False
        ),
    )
    audit_log(actor=actor, action="party.team_create", obj=team, after={"name": team.name})
    return team


@transaction.atomic
def central_household_set(
    *,
    actor: Any,
    member: PartyMember,
    household: Household,
    served: list[Household] | None = None,
    since: date | None = None,
) -> CentralHousehold:
    """Make ``household`` (the member's own) a 党员中心户 serving ``served`` neighbours."""
    require_at(actor, CHANGE_MEMBER, member.region_path)
    if member.person.household_id != household.pk:
        raise ValidationError(
            _("党员中心户须为该党员本人所在的户。"), errors={"household": ["not_own"]}
        )
    served = served or []
    community = household.region_path.split("/")
    for h in served:
        if h.pk == household.pk:
            raise ValidationError(_("联系户不能是本户。"), errors={"served": ["self"]})
        if h.region_path.split("/")[:-2] != community[:-2]:
            raise ValidationError(_("联系户须在同一社区。"), errors={"served": ["outside"]})
    lon, lat = home_position(member.person)
    central, _created = CentralHousehold.objects.update_or_create(
        household=household,
        defaults={
            "member": member,
            "region_path": household.region_path,
            "since": since or timezone.localdate(),
            "lon": lon,
            "lat": lat,
        },
    )
    central.served.set(served)
    audit_log(
        actor=actor,
        action="party.central_household",
        obj=central,
        after={"member": member.pk, "served": [h.pk for h in served]},
    )
    return central


# --- 双报到 ----------------------------------------------------------------------
def _dual_snapshot(r: DualReport) -> dict[str, Any]:
    return {
        "state": r.state,
        "community": r.community_id,
        "member": r.member_id,
        "reported_on": r.reported_on,
        "version": r.version,
    }


@transaction.atomic
def dual_report_request(
    *,
    actor: Any,
    member: PartyMember,
    community: Region,
    commitments: list[str] | None = None,
    work_unit_name: str = "",
    now: datetime | None = None,
) -> DualReport:
    """An in-service member (or staff for them) asks to report to ``community``."""
    if actor is not None and getattr(actor, "pk", None) != member.user_id:
        require_at(actor, CHANGE_MEMBER, member.region_path)
    if community.level != Level.COMMUNITY:
        raise ValidationError(_("请选择报到的社区。"), errors={"community": ["level"]})
    if not member.is_active:
        raise ValidationError(_("该党员不在册。"), errors={"member": ["inactive"]})
    items = [
        text(c, field="commitments", label=_("服务承诺"), limit=200) for c in (commitments or [])
    ]
    if not items:
        raise ValidationError(_("请至少填写一项服务承诺。"), errors={"commitments": ["required"]})
    if len(items) > MAX_COMMITMENTS:
        raise ValidationError(
            _("服务承诺最多%(n)d项。") % {"n": MAX_COMMITMENTS},
            errors={"commitments": ["too_many"]},
        )
    if DualReport.objects.filter(
        member=member, community=community, state__in=["requested", "approved", "reported"]
    ).exists():
        raise Conflict(_("已向该社区提交过报到申请。"), errors={"community": ["open"]})
    report = DualReport.objects.create(
        member=member,
        community=community,
        region_path=community.path,
        commitments=items,
        work_unit_name=text(
            work_unit_name or member.work_unit_name,
            field="work_unit_name",
            label=_("工作单位"),
            limit=200,
            required=False,
        ),
        requested_at=now or timezone.now(),
    )
    audit_log(actor=actor, action="party.dual_request", obj=report, after=_dual_snapshot(report))
    return report


DUAL_ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "approve": ((DualReportState.REQUESTED,), DualReportState.APPROVED),
    "reject": ((DualReportState.REQUESTED,), DualReportState.REJECTED),
    "report_in": ((DualReportState.APPROVED,), DualReportState.REPORTED),
    "withdraw": (
        (DualReportState.REQUESTED, DualReportState.APPROVED, DualReportState.REPORTED),
        DualReportState.WITHDRAWN,
    ),
}


@transaction.atomic
def dual_report_transition(
    *,
    actor: Any,
    report: DualReport,
    action: str,
    expected_version: int,
    note: str = "",
    reported_on: date | None = None,
    now: datetime | None = None,
) -> DualReport:
    """approve / reject (with a reason) by the community; report_in (the date the member showed
    up, which earns the 报到 points); withdraw by the member or the community."""
    if action not in DUAL_ACTIONS:
        raise ValidationError(_("未知操作：%(a)s") % {"a": action}, errors={"action": [action]})
    sources, target = DUAL_ACTIONS[action]
    own = actor is not None and getattr(actor, "pk", None) == report.member.user_id
    if not (action == "withdraw" and own):
        require_at(actor, APPROVE_DUAL, report.region_path)
    if report.state not in sources:
        raise InvalidTransition(
            _("报到申请当前为“%(s)s”，不能执行该操作。")
            % {"s": DualReportState(report.state).label}
        )
    if int(expected_version) != report.version:
        raise Conflict(_("报到申请已被他人更新，请刷新后重试。"))
    note = text(note, field="note", label=_("审核意见"), limit=255, required=action == "reject")
    now = now or timezone.now()
    before = _dual_snapshot(report)
    updates: dict[str, Any] = {"state": target, "version": F("version") + 1}
    if action in ("approve", "reject"):
        updates.update(
            decided_at=now,
            decided_by=actor if getattr(actor, "pk", None) else None,
            decision_note=note,
        )
    if action == "report_in":
        day = reported_on or timezone.localdate(now)
        if day > timezone.localdate(now):
            raise ValidationError(_("报到日期不能晚于今天。"), errors={"reported_on": ["future"]})
        updates["reported_on"] = day
    written = DualReport.objects.filter(pk=report.pk, version=report.version).update(**updates)
    if written != 1:
        raise Conflict(_("报到申请已被他人更新，请刷新后重试。"))
    report.refresh_from_db()
    if action == "report_in":
        from .points import points_award

        points_award(
            member=report.member,
            event=PointEvent.DUAL_REPORT,
            source_type="dual_report",
            source_id=str(report.pk),
            reason=_("到%(c)s报到") % {"c": report.community.name},
            now=now,
        )
    audit_log(
        actor=actor,
        action=f"party.dual_{action}",
        obj=report,
        before=before,
        after={**_dual_snapshot(report), **({"note": note} if note else {})},
    )
    return report
