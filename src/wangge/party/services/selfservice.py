"""What a signed-in resident does for themself: register as a volunteer (志愿者注册) and spend
saved time-bank minutes on a service (用时间兑换服务); and the branch's team management
(add a volunteer to a 志愿服务队)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from wangge.accounts.models import RoleAssignment
from wangge.core.audit import audit_log
from wangge.core.exceptions import Conflict, PermissionDenied, ValidationError
from wangge.geo.choices import Level
from wangge.geo.models import Region
from wangge.registers.models import Person

from ..choices import TransferKind
from ..models import PartyMember, PartyOrg, ServiceOrder, TimeTransfer, Volunteer, VolunteerTeam
from ..perms import CHANGE_VOLUNTEER
from .common import require_at, text
from .members import volunteer_register
from .orders import branch_for_region
from .timebank import account_for_org, account_for_person, timebank_transfer


def _signed_in(actor: Any) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(_("请先登录。"))


def person_of_user(actor: Any) -> Person | None:
    """The registers person a signed-in user is: the person of their party-member or volunteer
    record, else the one person registered with their mobile number in the area of their
    (deepest) role grant. ``None`` when there is none or it is ambiguous."""
    for model in (PartyMember, Volunteer):
        helper = model.objects.filter(user=actor, is_active=True).select_related("person").first()
        if helper is not None:
            return helper.person
    mobile = getattr(actor, "mobile", "") or ""
    if not mobile:
        return None
    from wangge.registers.services import phone_hashes

    grant = (
        RoleAssignment.objects.filter(user=actor)
        .select_related("region")
        .order_by("-region__depth")
        .first()
    )
    if grant is None:
        return None
    found = list(
        Person.objects.filter(
            phone_hash__in=phone_hashes(mobile), region_path__startswith=grant.region.path
        )[:2]
    )
    return found[0] if len(found) == 1 else None


def _community_of(person: Person) -> Region:
    region = Region.objects.get(pk=person.grid_id)
    while region.level not in (Level.COMMUNITY, Level.STREET) and region.parent_id:
        region = Region.objects.get(pk=region.parent_id)
    return region


@transaction.atomic
def volunteer_register_self(
    *,
    actor: Any,
    specialties: list[str] | None,
    availability: list[list[int]] | None,
    capacity: int = 2,
) -> Volunteer:
    """A signed-in resident registers as a volunteer of the community they live in (serving
    area = that community), with skills from the service specialty list and weekly slots."""
    _signed_in(actor)
    if Volunteer.objects.filter(user=actor, is_active=True).exists():
        raise Conflict(_("您已注册为志愿者。"), errors={"person": ["volunteer"]})
    person = person_of_user(actor)
    if person is None:
        raise ValidationError(
            _("未能在人口登记中找到与您手机号一致的记录，请先到社区或网格员处登记。"),
            errors={"person": ["not_found"]},
        )
    if not specialties:
        raise ValidationError(_("请至少选择一项特长。"), errors={"specialties": ["required"]})
    if not availability:
        raise ValidationError(
            _("请至少选择一个可服务时段。"), errors={"availability": ["required"]}
        )
    volunteer = volunteer_register(
        actor=None,  # authority: the resident registers themself in their own community
        person=person,
        region=_community_of(person),
        specialties=specialties,
        availability=availability,
        capacity=capacity,
        user=actor,
        audit=False,
    )
    audit_log(
        actor=actor,
        action="party.volunteer_register_self",
        obj=volunteer,
        after={"person": person.pk, "region": volunteer.region_id},
    )
    return volunteer


@transaction.atomic
def volunteer_team_add(*, actor: Any, team: VolunteerTeam, volunteer: Volunteer) -> Volunteer:
    """Put a volunteer into a team (a volunteer is in one team at a time)."""
    require_at(actor, CHANGE_VOLUNTEER, team.region_path)
    require_at(actor, CHANGE_VOLUNTEER, volunteer.region_path)
    if not volunteer.is_active:
        raise ValidationError(_("该志愿者已注销。"), errors={"volunteer": ["inactive"]})
    if not (
        volunteer.region_path.startswith(team.region_path)
        or team.region_path.startswith(volunteer.region_path)
    ):
        raise ValidationError(_("志愿者不在该队伍的区域。"), errors={"team": ["outside"]})
    before = volunteer.team_id
    Volunteer.objects.filter(pk=volunteer.pk).update(team=team)
    volunteer.team = team
    audit_log(
        actor=actor,
        action="party.team_add",
        obj=volunteer,
        before={"team": before},
        after={"team": team.pk},
    )
    return volunteer


def _paying_org(actor: Any, person: Person, order: ServiceOrder | None) -> PartyOrg | None:
    if order is not None:
        return order.branch
    member = PartyMember.objects.filter(user=actor, is_active=True).select_related("branch").first()
    if member is not None:
        return member.branch
    region = Region.objects.get(pk=person.grid_id)
    return branch_for_region(region)


@transaction.atomic
def timebank_spend_self(
    *, actor: Any, minutes: Any, reason: str, order: ServiceOrder | None = None
) -> TimeTransfer:
    """A resident pays with their own saved minutes (兑换): a double-entry transfer from their
    person account to the serving branch's account (the branch of ``order`` when paying for a
    点单). Refused — nothing changed — when the balance does not cover it."""
    _signed_in(actor)
    try:
        minutes = int(str(minutes).strip())
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("分钟数须为整数。"), errors={"minutes": ["integer"]}) from exc
    reason = text(reason, field="reason", label=_("兑换事由"), limit=255)
    if order is not None and order.requester_id != actor.pk:
        raise PermissionDenied(_("只能为自己的点单支付时间。"))
    person = person_of_user(actor)
    if person is None:
        raise ValidationError(_("您还没有时间银行账户。"), errors={"minutes": ["no_account"]})
    org = _paying_org(actor, person, order)
    if org is None:
        raise ValidationError(
            _("您所在区域尚未建立党组织，暂不能兑换。"), errors={"minutes": ["no_branch"]}
        )
    return timebank_transfer(
        actor=actor,
        debit=account_for_person(person),
        credit=account_for_org(org),
        minutes=minutes,
        kind=TransferKind.EXCHANGE,
        reason=reason,
        order=order,
    )


def refund_order_payments(*, order: ServiceOrder, actor: Any) -> int:
    """A cancelled 点单 gives back the minutes its requester paid for it: one reversing transfer
    (冲正, branch → person) per payment not yet reversed. Returns the minutes given back."""
    paid = list(TimeTransfer.objects.filter(order=order, kind=TransferKind.EXCHANGE))
    reversals = list(
        TimeTransfer.objects.filter(order=order, kind=TransferKind.ADJUSTMENT).values_list(
            "debit_id", "credit_id", "minutes"
        )
    )
    back = 0
    for t in paid:
        key = (t.credit_id, t.debit_id, t.minutes)
        if key in reversals:
            reversals.remove(key)  # already given back
            continue
        reason = _("点单 %(c)s 取消，退回时间（#%(t)d）") % {"c": order.code, "t": t.pk}
        timebank_transfer(
            actor=actor,
            debit=t.credit,
            credit=t.debit,
            minutes=t.minutes,
            kind=TransferKind.ADJUSTMENT,
            reason=reason,
            order=order,
        )
        back += t.minutes
    return back
