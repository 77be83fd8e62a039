"""Choices of the party app (党建服务)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrgKind(models.TextChoices):
    STREET_COMMITTEE = "street_committee", _("街道党工委")
    COMMUNITY_COMMITTEE = "community_committee", _("社区党委")
    GRID_BRANCH = "grid_branch", _("网格党支部")
    BUILDING_GROUP = "building_group", _("楼栋党小组")
    JOINT_BRANCH = "joint_branch", _("联合党支部")
    FLOATING_BRANCH = "floating_branch", _("流动党支部")
    TEMPORARY_BRANCH = "temporary_branch", _("临时党支部")


# Kinds that are branches (支部): members belong to them and they dispatch service orders.
BRANCH_KINDS = (
    OrgKind.GRID_BRANCH,
    OrgKind.JOINT_BRANCH,
    OrgKind.FLOATING_BRANCH,
    OrgKind.TEMPORARY_BRANCH,
)
# Which parent kinds each kind may hang under (None: a root, bound to a street).
PARENT_KINDS: dict[str, tuple[str, ...]] = {
    OrgKind.STREET_COMMITTEE: (),
    OrgKind.COMMUNITY_COMMITTEE: (OrgKind.STREET_COMMITTEE,),
    OrgKind.GRID_BRANCH: (OrgKind.COMMUNITY_COMMITTEE,),
    OrgKind.BUILDING_GROUP: (OrgKind.GRID_BRANCH, OrgKind.JOINT_BRANCH),
    OrgKind.JOINT_BRANCH: (OrgKind.COMMUNITY_COMMITTEE, OrgKind.STREET_COMMITTEE),
    OrgKind.FLOATING_BRANCH: (OrgKind.COMMUNITY_COMMITTEE, OrgKind.STREET_COMMITTEE),
    OrgKind.TEMPORARY_BRANCH: (OrgKind.COMMUNITY_COMMITTEE, OrgKind.STREET_COMMITTEE),
}
# The region level each kind is bound to.
REGION_LEVELS: dict[str, tuple[str, ...]] = {
    OrgKind.STREET_COMMITTEE: ("street",),
    OrgKind.COMMUNITY_COMMITTEE: ("community",),
    OrgKind.GRID_BRANCH: ("grid",),
    OrgKind.BUILDING_GROUP: ("grid", "micro_grid"),
    OrgKind.JOINT_BRANCH: ("street", "community", "grid"),
    OrgKind.FLOATING_BRANCH: ("street", "community", "grid"),
    OrgKind.TEMPORARY_BRANCH: ("street", "community", "grid"),
}


class OrgStatus(models.TextChoices):
    ACTIVE = "active", _("存续")
    DISSOLVED = "dissolved", _("已撤销")


class Specialty(models.TextChoices):
    """党员/志愿者特长; a service order's category names the specialty it needs."""

    LAW = "law", _("法律咨询")
    MEDICINE = "medicine", _("医疗健康")
    TEACHING = "teaching", _("教育辅导")
    REPAIR = "repair", _("家电维修")
    PSYCHOLOGY = "psychology", _("心理疏导")
    IT = "it", _("智能手机与电脑")
    ELDERLY_CARE = "elderly_care", _("助老陪护")
    HOUSEWORK = "housework", _("家政保洁")
    ERRANDS = "errands", _("代购代办")
    HAIRCUT = "haircut", _("理发")


# A partial fit (0.5): someone with the key specialty can reasonably do the value's work.
RELATED_SPECIALTIES: dict[str, tuple[str, ...]] = {
    Specialty.ELDERLY_CARE: (Specialty.MEDICINE, Specialty.PSYCHOLOGY),
    Specialty.PSYCHOLOGY: (Specialty.MEDICINE,),
    Specialty.ERRANDS: (Specialty.HOUSEWORK, Specialty.ELDERLY_CARE),
    Specialty.HOUSEWORK: (Specialty.ERRANDS,),
    Specialty.IT: (Specialty.TEACHING,),
}


class Position(models.TextChoices):
    MEMBER = "member", _("党员")
    SECRETARY = "secretary", _("书记")
    DEPUTY = "deputy", _("副书记")
    COMMITTEE = "committee", _("委员")
    GROUP_LEADER = "group_leader", _("党小组长")


class MemberStatus(models.TextChoices):
    FULL = "full", _("正式党员")
    PROBATIONARY = "probationary", _("预备党员")
    LEFT = "left", _("已转出")


class ContactChannel(models.TextChoices):
    PHONE = "phone", _("电话")
    SMS = "sms", _("短信")
    WECHAT = "wechat", _("微信")
    APP = "app", _("平台消息")


class DualReportState(models.TextChoices):
    REQUESTED = "requested", _("待审核")
    APPROVED = "approved", _("已同意")
    REPORTED = "reported", _("已报到")
    REJECTED = "rejected", _("未同意")
    WITHDRAWN = "withdrawn", _("已撤回")


DUAL_REPORT_OPEN = (DualReportState.REQUESTED, DualReportState.APPROVED, DualReportState.REPORTED)
DUAL_REPORT_SERVING = (DualReportState.APPROVED, DualReportState.REPORTED)


class ActivityKind(models.TextChoices):
    THEME_DAY = "theme_day", _("主题党日")
    STUDY = "study", _("学习教育")
    VOLUNTEER = "volunteer", _("志愿服务")


class ActivityState(models.TextChoices):
    PLANNED = "planned", _("计划中")
    HELD = "held", _("已开展")
    CANCELLED = "cancelled", _("已取消")


class CheckinMethod(models.TextChoices):
    QR = "qr", _("扫码签到")
    LOCATION = "location", _("定位签到")
    MANUAL = "manual", _("补签")


class PointEvent(models.TextChoices):
    """What a points rule rewards; the rule row says how many points."""

    ATTEND_ACTIVITY = "attend_activity", _("参加组织生活")
    COMPLETE_ORDER = "complete_order", _("完成服务订单")
    RATED_FIVE = "rated_five", _("服务获五星好评")
    DUAL_REPORT = "dual_report", _("到社区报到")
    MANUAL = "manual", _("人工调整")


class OrderState(models.TextChoices):
    POSTED = "posted", _("已点单")
    ASSIGNED = "assigned", _("已派单")
    ACCEPTED = "accepted", _("已接单")
    IN_SERVICE = "in_service", _("服务中")
    COMPLETED = "completed", _("待评价")
    RATED = "rated", _("已评单")
    CANCELLED = "cancelled", _("已取消")


OPEN_ORDER_STATES = (
    OrderState.POSTED,
    OrderState.ASSIGNED,
    OrderState.ACCEPTED,
    OrderState.IN_SERVICE,
)
# Orders that count toward a helper's current load.
LOAD_STATES = (OrderState.ASSIGNED, OrderState.ACCEPTED, OrderState.IN_SERVICE)


class HelperKind(models.TextChoices):
    MEMBER = "member", _("党员")
    VOLUNTEER = "volunteer", _("志愿者")


class AccountKind(models.TextChoices):
    PERSON = "person", _("个人账户")
    ORGANISATION = "organisation", _("组织账户")


class TransferKind(models.TextChoices):
    SERVICE = "service", _("服务存入")
    EXCHANGE = "exchange", _("兑换服务")
    DONATION = "donation", _("转赠")
    ADJUSTMENT = "adjustment", _("冲正")
