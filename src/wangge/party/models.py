"""Party building and service (党建服务): the party organisation tree bound to the region tree,
party members and volunteers (helpers), 双报到, activities, points, service orders
(群众点单 → 支部派单 → 党员接单 → 群众评单) and the time bank.

People are the registers' ``Person`` rows (linked by foreign key, never copied). Every row that is
read by area carries the materialized path of its region (``region_path``) so reads are scoped by
prefix like cases and registers. Only :mod:`wangge.party.services` writes these tables; the points
and time-bank tables are append-only ledgers.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wangge.accounts.permissions import RestrictedQuerySet

from .choices import (
    AccountKind,
    ActivityKind,
    ActivityState,
    CheckinMethod,
    ContactChannel,
    DualReportState,
    MemberStatus,
    OrderState,
    OrgKind,
    OrgStatus,
    PointEvent,
    Position,
    Specialty,
    TransferKind,
)

USER = settings.AUTH_USER_MODEL


class Scoped(models.Model):
    region_path = models.CharField(max_length=255, db_index=True, editable=False)

    objects = RestrictedQuerySet.as_manager()
    scope_path_field = "region_path"

    class Meta:
        abstract = True

    @property
    def audit_region_path(self) -> str:
        return self.region_path


# --- the organisation tree ---------------------------------------------------------------------
class PartyOrg(Scoped):
    """A party organisation: 街道党工委 → 社区党委 → 网格党支部 → 楼栋党小组, plus 联合/流动/临时
    党支部. Bound to a region (``region``); one active 网格党支部 per grid (一网格一支部)."""

    kind = models.CharField(_("组织类型"), max_length=24, choices=OrgKind.choices)
    code = models.CharField(_("组织编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=128)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级党组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    region = models.ForeignKey(
        "geo.Region", verbose_name=_("所在区域"), on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        "registers.Organisation",
        verbose_name=_("所在单位"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="party_orgs",
    )
    # 社区大党委: the units (驻区单位、两新组织) that join the community committee.
    member_units = models.ManyToManyField(
        "registers.Organisation", verbose_name=_("成员单位"), blank=True, related_name="+"
    )
    is_big_committee = models.BooleanField(_("社区大党委"), default=False)
    # 临时党支部 (and other flexible branches): members who keep their home branch elsewhere.
    attached_members: models.ManyToManyField[PartyMember, Any] = models.ManyToManyField(
        "PartyMember", verbose_name=_("临时编入党员"), blank=True, related_name="attached_to"
    )
    secretary = models.ForeignKey(
        "PartyMember",
        verbose_name=_("书记"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=OrgStatus.choices, default=OrgStatus.ACTIVE
    )
    start_date = models.DateField(_("成立日期"), null=True, blank=True)
    end_date = models.DateField(_("撤销日期"), null=True, blank=True)
    purpose = models.CharField(_("设立目的"), max_length=255, blank=True)
    dissolved_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["region_path", "kind", "code"]
        verbose_name = _("党组织")
        verbose_name_plural = _("党组织")
        constraints = [
            models.UniqueConstraint(
                fields=["region"],
                condition=Q(kind="grid_branch", status="active"),
                name="uniq_active_grid_branch",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def is_active_on(self, day: date) -> bool:
        if self.status != OrgStatus.ACTIVE:
            return False
        if self.start_date and day < self.start_date:
            return False
        return not (self.end_date and day > self.end_date)


# --- helpers: party members and volunteers ----------------------------------------------------
class Helper(Scoped):
    """What the matching engine needs of anyone who takes service orders."""

    person = models.ForeignKey(
        "registers.Person", verbose_name=_("人员"), on_delete=models.PROTECT, related_name="+"
    )
    user = models.OneToOneField(
        USER,
        verbose_name=_("登录账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    specialties = models.JSONField(_("特长"), default=list, blank=True)
    # Declared weekly availability: [[weekday 0=Mon, start minute, end minute], …].
    availability = models.JSONField(_("可服务时段"), default=list, blank=True)
    lon = models.FloatField(_("经度(WGS-84)"), null=True, blank=True)
    lat = models.FloatField(_("纬度(WGS-84)"), null=True, blank=True)
    capacity = models.PositiveSmallIntegerField(_("同时可接单数"), default=2)
    contact_channel = models.CharField(
        _("联系方式偏好"), max_length=16, choices=ContactChannel.choices, default="app"
    )
    contact_note = models.CharField(_("联系说明"), max_length=255, blank=True)
    is_active = models.BooleanField(_("在册"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def specialty_labels(self) -> list[str]:
        return [str(Specialty(s).label) for s in self.specialties if s in Specialty.values]


class PartyMember(Helper):
    """A party member (党员) of a home branch, linked to a registers person."""

    branch = models.ForeignKey(
        PartyOrg, verbose_name=_("所在支部"), on_delete=models.PROTECT, related_name="members"
    )
    position = models.CharField(
        _("党内职务"), max_length=16, choices=Position.choices, default=Position.MEMBER
    )
    status = models.CharField(
        _("党员状态"), max_length=16, choices=MemberStatus.choices, default=MemberStatus.FULL
    )
    joined_party_on = models.DateField(_("入党日期"), null=True, blank=True)
    joined_branch_on = models.DateField(_("转入支部日期"), null=True, blank=True)
    left_branch_on = models.DateField(_("转出日期"), null=True, blank=True)
    in_service = models.BooleanField(_("在职党员"), default=False)
    work_unit = models.ForeignKey(
        "registers.Organisation",
        verbose_name=_("工作单位"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    work_unit_name = models.CharField(_("工作单位名称"), max_length=200, blank=True)

    class Meta:
        ordering = ["region_path", "id"]
        verbose_name = _("党员")
        verbose_name_plural = _("党员")
        permissions = [("adjust_points", _("调整党员积分"))]
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(is_active=True), name="uniq_active_member_person"
            )
        ]
        indexes = [models.Index(fields=["branch", "is_active"], name="member_branch_active")]

    def __str__(self) -> str:
        return self.person.name


class VolunteerTeam(Scoped):
    name = models.CharField(_("队伍名称"), max_length=128)
    region = models.ForeignKey(
        "geo.Region", verbose_name=_("所在区域"), on_delete=models.PROTECT, related_name="+"
    )
    description = models.CharField(_("简介"), max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["region_path", "name"]
        verbose_name = _("志愿服务队")
        verbose_name_plural = _("志愿服务队")

    def __str__(self) -> str:
        return self.name


class Volunteer(Helper):
    """A registered volunteer (志愿者), serving the region it registered with."""

    region = models.ForeignKey(
        "geo.Region", verbose_name=_("注册社区"), on_delete=models.PROTECT, related_name="+"
    )
    team = models.ForeignKey(
        VolunteerTeam,
        verbose_name=_("所在队伍"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="volunteers",
    )
    registered_on = models.DateField(_("注册日期"), null=True, blank=True)

    class Meta:
        ordering = ["region_path", "id"]
        verbose_name = _("志愿者")
        verbose_name_plural = _("志愿者")
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(is_active=True), name="uniq_active_volunteer"
            )
        ]

    def __str__(self) -> str:
        return self.person.name


class CentralHousehold(Scoped):
    """党员中心户: a member's household that serves its neighbouring households."""

    member = models.ForeignKey(
        PartyMember, verbose_name=_("党员"), on_delete=models.CASCADE, related_name="central"
    )
    household = models.ForeignKey(
        "registers.Household", verbose_name=_("户"), on_delete=models.PROTECT, related_name="+"
    )
    served = models.ManyToManyField(
        "registers.Household", verbose_name=_("联系户"), blank=True, related_name="+"
    )
    since = models.DateField(_("设立日期"), null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["region_path", "id"]
        verbose_name = _("党员中心户")
        verbose_name_plural = _("党员中心户")
        constraints = [models.UniqueConstraint(fields=["household"], name="uniq_central_household")]

    def __str__(self) -> str:
        return f"{self.member_id}@{self.household_id}"


class DualReport(Scoped):
    """双报到: an in-service member registers with the community they live in. ``region_path``
    is the community's: the community approves and then dispatches the member there."""

    member = models.ForeignKey(
        PartyMember, verbose_name=_("党员"), on_delete=models.CASCADE, related_name="dual_reports"
    )
    community = models.ForeignKey(
        "geo.Region", verbose_name=_("报到社区"), on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        _("状态"), max_length=16, choices=DualReportState.choices, default="requested"
    )
    work_unit_name = models.CharField(_("工作单位"), max_length=200, blank=True)
    commitments = models.JSONField(_("服务承诺"), default=list, blank=True)
    requested_at = models.DateTimeField(_("申请时间"))
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        USER,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decision_note = models.CharField(_("审核意见"), max_length=255, blank=True)
    reported_on = models.DateField(_("报到日期"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("双报到")
        verbose_name_plural = _("双报到")
        permissions = [("approve_dualreport", _("审核双报到"))]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "community"],
                condition=Q(state__in=["requested", "approved", "reported"]),
                name="uniq_open_dual_report",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id}→{self.community_id}"


# --- activities ---------------------------------------------------------------------------------
class Activity(Scoped):
    """主题党日, study sessions, volunteer actions of a branch, with sign-in and hours."""

    branch = models.ForeignKey(
        PartyOrg, verbose_name=_("党组织"), on_delete=models.PROTECT, related_name="activities"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=ActivityKind.choices)
    title = models.CharField(_("主题"), max_length=200)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    location = models.CharField(_("地点"), max_length=255, blank=True)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    checkin_radius_m = models.PositiveIntegerField(_("定位签到半径(米)"), default=300)
    checkin_code = models.CharField(max_length=32, unique=True)
    credit_minutes = models.PositiveIntegerField(_("计入时长(分钟)"), default=0)
    state = models.CharField(
        _("状态"), max_length=16, choices=ActivityState.choices, default="planned"
    )
    minutes_text = models.TextField(_("会议纪要"), blank=True)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("组织生活")
        verbose_name_plural = _("组织生活")

    def __str__(self) -> str:
        return self.title


class ActivityPhoto(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to="party/activities/%Y/%m/")
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        default_permissions = ()

    def __str__(self) -> str:
        return self.sha256[:8]


class Attendance(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="attendance")
    member = models.ForeignKey(PartyMember, on_delete=models.CASCADE, related_name="attendance")
    method = models.CharField(_("签到方式"), max_length=16, choices=CheckinMethod.choices)
    checked_in_at = models.DateTimeField(_("签到时间"))
    distance_m = models.FloatField(null=True, blank=True)
    minutes = models.PositiveIntegerField(_("计入时长(分钟)"), default=0)

    class Meta:
        ordering = ["checked_in_at", "id"]
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["activity", "member"], name="uniq_attendance")
        ]

    def __str__(self) -> str:
        return f"{self.activity_id}:{self.member_id}"


# --- points (积分) -------------------------------------------------------------------------------
class PointRule(models.Model):
    """Rules as data: what an event is worth. Editing a rule changes future entries only."""

    code = models.CharField(_("规则编码"), max_length=40, unique=True)
    event = models.CharField(_("事件"), max_length=24, choices=PointEvent.choices, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    points = models.IntegerField(_("分值"))
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("积分规则")
        verbose_name_plural = _("积分规则")

    def __str__(self) -> str:
        return f"{self.name} {self.points:+d}"


class PointEntry(models.Model):
    """One line of a member's points ledger (append-only; the balance is the sum)."""

    member = models.ForeignKey(PartyMember, on_delete=models.PROTECT, related_name="points")
    rule = models.ForeignKey(
        PointRule, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    event = models.CharField(max_length=24, choices=PointEvent.choices)
    points = models.IntegerField(_("分值"))
    reason = models.CharField(_("事由"), max_length=255)
    source_type = models.CharField(max_length=32, blank=True)
    source_id = models.CharField(max_length=32, blank=True)
    actor = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("时间"), db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        default_permissions = ()
        constraints = [
            # An event earns its points once (a retried completion does not pay twice).
            models.UniqueConstraint(
                fields=["member", "event", "source_type", "source_id"],
                condition=~Q(event="manual"),
                name="uniq_point_event_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.points:+d}"


# --- service orders -----------------------------------------------------------------------------
class ServiceOrder(Scoped):
    """群众点单 → 支部派单 → 党员接单 → 群众评单. ``region`` is the grid (or community) the
    need is in; ``branch`` the party branch that dispatches it. Exactly one of ``member`` /
    ``volunteer`` is the helper once assigned."""

    code = models.CharField(_("订单号"), max_length=24, unique=True)
    state = models.CharField(
        _("状态"), max_length=16, choices=OrderState.choices, default=OrderState.POSTED
    )
    category = models.CharField(_("服务类别"), max_length=24, choices=Specialty.choices)
    description = models.TextField(_("需求描述"))
    window_start = models.DateTimeField(_("期望开始"))
    window_end = models.DateTimeField(_("期望结束"))
    address = models.CharField(_("服务地址"), max_length=255)
    lon = models.FloatField(_("经度(WGS-84)"), null=True, blank=True)
    lat = models.FloatField(_("纬度(WGS-84)"), null=True, blank=True)
    region = models.ForeignKey(
        "geo.Region", verbose_name=_("所在网格"), on_delete=models.PROTECT, related_name="+"
    )
    branch = models.ForeignKey(
        PartyOrg,
        verbose_name=_("派单支部"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    requester = models.ForeignKey(
        USER,
        verbose_name=_("点单人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="service_orders",
    )
    requester_person = models.ForeignKey(
        "registers.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact_name = models.CharField(_("联系人"), max_length=64)
    contact_phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    posted_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    member = models.ForeignKey(
        PartyMember, null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    volunteer = models.ForeignKey(
        Volunteer, null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    checkin_at = models.DateTimeField(null=True, blank=True)
    checkout_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    rating = models.PositiveSmallIntegerField(_("评分"), null=True, blank=True)
    rating_comment = models.CharField(_("评价"), max_length=500, blank=True)
    result = models.CharField(_("服务情况"), max_length=1000, blank=True)
    service_minutes = models.PositiveIntegerField(_("服务时长(分钟)"), default=0)
    declines = models.PositiveSmallIntegerField(default=0)
    escalation_level = models.PositiveSmallIntegerField(_("催办级别"), default=0)
    due_at = models.DateTimeField(_("本环节时限"), null=True, blank=True)
    match_score = models.FloatField(null=True, blank=True)
    match_explanation = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(_("点单时间"), db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("服务订单")
        verbose_name_plural = _("服务订单")
        permissions = [("dispatch_serviceorder", _("支部派单与订单管理"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(member__isnull=True) | Q(volunteer__isnull=True),
                name="order_one_helper",
            )
        ]
        indexes = [
            models.Index(fields=["state", "due_at"], name="order_state_due"),
            models.Index(fields=["member", "state"], name="order_member_state"),
            models.Index(fields=["volunteer", "state"], name="order_volunteer_state"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def helper(self) -> PartyMember | Volunteer | None:
        return self.member or self.volunteer


class ServiceOrderEvent(models.Model):
    order = models.ForeignKey(ServiceOrder, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField()
    actor = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=24)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    note = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.order_id} {self.action}"


# --- time bank (时间银行) -------------------------------------------------------------------------
class TimeAccount(Scoped):
    """A time-bank account of a person or an organisation. ``balance`` is a cache of the sum of
    its entries, changed only inside ``timebank_transfer``; ``wangge timebank check`` proves it."""

    kind = models.CharField(max_length=16, choices=AccountKind.choices)
    person = models.OneToOneField(
        "registers.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    org = models.OneToOneField(
        PartyOrg, null=True, blank=True, on_delete=models.PROTECT, related_name="time_account"
    )
    name = models.CharField(_("账户名称"), max_length=128)
    balance = models.BigIntegerField(_("余额(分钟)"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("时间银行账户")
        verbose_name_plural = _("时间银行账户")
        permissions = [("exchange_time", _("办理时间兑换"))]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="person", person__isnull=False, org__isnull=True))
                | Q(kind="organisation", org__isnull=False, person__isnull=True),
                name="time_account_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TimeTransfer(models.Model):
    """One movement of minutes: exactly one debit entry and one credit entry of ``minutes``."""

    kind = models.CharField(max_length=16, choices=TransferKind.choices)
    minutes = models.PositiveIntegerField()
    debit = models.ForeignKey(TimeAccount, on_delete=models.PROTECT, related_name="+")
    credit = models.ForeignKey(TimeAccount, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("事由"), max_length=255)
    order = models.ForeignKey(
        ServiceOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="transfers"
    )
    actor = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        default_permissions = ()
        constraints = [
            models.CheckConstraint(condition=Q(minutes__gt=0), name="transfer_positive"),
            models.CheckConstraint(condition=~Q(debit=models.F("credit")), name="transfer_two"),
            # A completed service order is paid once.
            models.UniqueConstraint(
                fields=["order"], condition=Q(kind="service"), name="uniq_service_payment"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.debit_id}→{self.credit_id} {self.minutes}"


class TimeEntry(models.Model):
    transfer = models.ForeignKey(TimeTransfer, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(TimeAccount, on_delete=models.PROTECT, related_name="entries")
    minutes = models.BigIntegerField()  # negative: debit, positive: credit
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        default_permissions = ()
        indexes = [models.Index(fields=["account", "created_at"], name="time_entry_account")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.minutes:+d}"
