"""The party organisation tree: create, set secretary, add member units, dissolve, expire."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core.audit import audit_log
from wangge.core.exceptions import Conflict, ValidationError
from wangge.geo.models import Region
from wangge.registers.models import Organisation

from ..choices import PARENT_KINDS, REGION_LEVELS, OrgKind, OrgStatus
from ..models import PartyMember, PartyOrg
from ..perms import CHANGE_ORG
from .common import require_at, text


def _snapshot(org: PartyOrg) -> dict[str, Any]:
    return {
        "kind": org.kind,
        "name": org.name,
        "status": org.status,
        "parent": org.parent_id,
        "region": org.region_id,
        "secretary": org.secretary_id,
        "start_date": org.start_date,
        "end_date": org.end_date,
    }


@transaction.atomic
def party_org_create(
    *,
    actor: Any,
    kind: str,
    code: str,
    name: str,
    region: Region,
    parent: PartyOrg | None = None,
    start_date: date | None = None,
    end_date: date | None = None,
    purpose: str = "",
    organisation: Organisation | None = None,
    is_big_committee: bool = False,
    audit: bool = True,
) -> PartyOrg:
    """Create a party organisation under ``parent`` bound to ``region``.

    Tree rules: the kind decides the allowed parent kinds and region levels; the region lies
    inside the parent's region; one active 网格党支部 per grid; a 临时党支部 needs a start date,
    an end date not before it and a purpose."""
    require_at(actor, CHANGE_ORG, region.path)
    if kind not in OrgKind.values:
        raise ValidationError(_("党组织类型无效。"), errors={"kind": ["invalid"]})
    code = text(code, field="code", label=_("组织编码"), limit=40)
    name = text(name, field="name", label=_("名称"), limit=128)
    purpose = text(purpose, field="purpose", label=_("设立目的"), limit=255, required=False)
    if region.level not in REGION_LEVELS[kind]:
        raise ValidationError(
            _("%(k)s不能设在“%(r)s”这一级区域。")
            % {"k": OrgKind(kind).label, "r": region.get_level_display()},
            errors={"region": ["level"]},
        )
    allowed = PARENT_KINDS[kind]
    if allowed:
        if parent is None or parent.kind not in allowed:
            raise ValidationError(
                _("%(k)s的上级须为：%(p)s。")
                % {
                    "k": OrgKind(kind).label,
                    "p": "、".join(str(OrgKind(p).label) for p in allowed),
                },
                errors={"parent": ["kind"]},
            )
        if parent.status != OrgStatus.ACTIVE:
            raise ValidationError(_("上级党组织已撤销。"), errors={"parent": ["dissolved"]})
        if not region.path.startswith(parent.region.path):
            raise ValidationError(
                _("党组织所在区域须在上级党组织的区域内。"), errors={"region": ["outside_parent"]}
            )
    elif parent is not None:
        raise ValidationError(_("街道党工委没有上级党组织。"), errors={"parent": ["root"]})
    if kind == OrgKind.TEMPORARY_BRANCH:
        if start_date is None or end_date is None:
            raise ValidationError(
                _("临时党支部须填写成立日期和撤销日期。"), errors={"end_date": ["required"]}
            )
        if not purpose:
            raise ValidationError(_("临时党支部须说明设立目的。"), errors={"purpose": ["required"]})
    if start_date and end_date and end_date < start_date:
        raise ValidationError(
            _("撤销日期不能早于成立日期。"), errors={"end_date": ["before_start"]}
        )
    if PartyOrg.objects.filter(code=code).exists():
        raise Conflict(_("组织编码%(c)s已被使用。") % {"c": code}, errors={"code": ["taken"]})
    if (
        kind == OrgKind.GRID_BRANCH
        and PartyOrg.objects.filter(
            kind=OrgKind.GRID_BRANCH, region=region, status=OrgStatus.ACTIVE
        ).exists()
    ):
        raise Conflict(
            _("网格“%(g)s”已有网格党支部（一网格一支部）。") % {"g": region.name},
            errors={"region": ["has_branch"]},
        )
    org = PartyOrg.objects.create(
        kind=kind,
        code=code,
        name=name,
        region=region,
        region_path=region.path,
        parent=parent,
        start_date=start_date,
        end_date=end_date,
        purpose=purpose,
        organisation=organisation,
        is_big_committee=is_big_committee and kind == OrgKind.COMMUNITY_COMMITTEE,
    )
    if audit:
        audit_log(actor=actor, action="party.org_create", obj=org, after=_snapshot(org))
    return org


@transaction.atomic
def party_org_set_secretary(*, actor: Any, org: PartyOrg, member: PartyMember | None) -> PartyOrg:
    """Name the secretary (书记): an active member of the organisation or of one below it."""
    require_at(actor, CHANGE_ORG, org.region_path)
    if member is not None and (
        not member.is_active or not member.branch.region_path.startswith(org.region_path)
    ):
        raise ValidationError(
            _("书记须为本组织（或下级支部）的在册党员。"), errors={"secretary": ["invalid"]}
        )
    before = _snapshot(org)
    org.secretary = member
    org.save(update_fields=["secretary", "updated_at"])
    audit_log(
        actor=actor, action="party.org_secretary", obj=org, before=before, after=_snapshot(org)
    )
    return org


@transaction.atomic
def party_org_add_member_unit(*, actor: Any, org: PartyOrg, unit: Organisation) -> PartyOrg:
    """社区大党委: a 驻区单位 joins the community committee."""
    require_at(actor, CHANGE_ORG, org.region_path)
    if org.kind != OrgKind.COMMUNITY_COMMITTEE:
        raise ValidationError(_("只有社区党委可以吸纳成员单位。"), errors={"org": ["kind"]})
    if not unit.region_path.startswith(org.region_path):
        raise ValidationError(_("成员单位须在本社区内。"), errors={"unit": ["outside"]})
    org.member_units.add(unit)
    if not org.is_big_committee:
        org.is_big_committee = True
        org.save(update_fields=["is_big_committee", "updated_at"])
    audit_log(actor=actor, action="party.org_member_unit", obj=org, after={"unit": unit.pk})
    return org


def _dissolve(org: PartyOrg, now: datetime) -> None:
    org.status = OrgStatus.DISSOLVED
    org.dissolved_at = now
    org.end_date = org.end_date or timezone.localdate(now)
    org.version += 1
    org.save(update_fields=["status", "dissolved_at", "end_date", "version", "updated_at"])


@transaction.atomic
def party_org_dissolve(
    *, actor: Any, org: PartyOrg, reason: str, now: datetime | None = None
) -> PartyOrg:
    """撤销 a branch with no active members and no open orders (history is kept)."""
    from ..choices import OPEN_ORDER_STATES

    require_at(actor, CHANGE_ORG, org.region_path)
    reason = text(reason, field="reason", label=_("理由"), limit=255)
    if org.status != OrgStatus.ACTIVE:
        raise ValidationError(_("该党组织已撤销。"), errors={"org": ["dissolved"]})
    if org.children.filter(status=OrgStatus.ACTIVE).exists():
        raise ValidationError(_("请先撤销下级党组织。"), errors={"org": ["children"]})
    if org.kind != OrgKind.TEMPORARY_BRANCH and org.members.filter(is_active=True).exists():
        raise ValidationError(_("请先转出本支部党员。"), errors={"org": ["members"]})
    if org.orders.filter(state__in=OPEN_ORDER_STATES).exists():
        raise ValidationError(_("本支部还有未完成的服务订单。"), errors={"org": ["orders"]})
    before = _snapshot(org)
    _dissolve(org, now or timezone.now())
    audit_log(
        actor=actor,
        action="party.org_dissolve",
        obj=org,
        before=before,
        after={**_snapshot(org), "reason": reason},
    )
    return org


@transaction.atomic
def party_org_expire_due(*, now: datetime | None = None) -> list[int]:
    """Dissolve every 临时党支部 whose end date has passed. Its attached members simply stay with
    their home branches; new orders in its area go to the branch or committee above it
    (``services.orders.branch_for_region`` skips dissolved organisations)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    due = list(
        PartyOrg.objects.select_for_update().filter(
            kind=OrgKind.TEMPORARY_BRANCH, status=OrgStatus.ACTIVE, end_date__lt=today
        )
    )
    for org in due:
        before = _snapshot(org)
        _dissolve(org, now)
        audit_log(
            actor=None, action="party.org_expire", obj=org, before=before, after=_snapshot(org)
        )
    return [o.pk for o in due]


@transaction.atomic
def party_org_attach_member(*, actor: Any, org: PartyOrg, member: PartyMember) -> PartyOrg:
    """编入 a member into a 临时/流动/联合党支部 while they keep their home branch."""
    require_at(actor, CHANGE_ORG, org.region_path)
    if org.kind not in (OrgKind.TEMPORARY_BRANCH, OrgKind.FLOATING_BRANCH, OrgKind.JOINT_BRANCH):
        raise ValidationError(
            _("只有联合、流动、临时党支部可以编入党员。"), errors={"org": ["kind"]}
        )
    if not org.is_active_on(timezone.localdate()):
        raise ValidationError(_("该党支部不在存续期内。"), errors={"org": ["inactive"]})
    if not member.is_active:
        raise ValidationError(_("该党员不在册。"), errors={"member": ["inactive"]})
    org.attached_members.add(member)
    audit_log(actor=actor, action="party.org_attach", obj=org, after={"member": member.pk})
    return org
