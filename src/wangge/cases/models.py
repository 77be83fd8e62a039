"""Cases (事件/工单), the matter catalogue, deadlines calendar, escalation and notifications.

Only services in :mod:`wangge.cases.services` write these tables."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wangge.accounts.permissions import RestrictedQuerySet

from .choices import (
    OPEN_STATES,
    AttachmentKind,
    CaseState,
    DeliveryStatus,
    HandlingLevel,
    MatterKind,
    NotificationKind,
    RequestKind,
    RequestStatus,
    Source,
    SubTaskRole,
    SubTaskState,
    TimeUnit,
    Urgency,
)

USER = settings.AUTH_USER_MODEL


# --- Catalogue ----------------------------------------------------------------------------
class CatalogueVersion(models.Model):
    """One published state of the catalogue: every load, import or edit makes a new number."""

    number = models.PositiveIntegerField(_("版本号"), unique=True)
    note = models.CharField(_("说明"), max_length=255, blank=True)
    changed_count = models.PositiveIntegerField(_("变更条目数"), default=0)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        verbose_name = _("事项清单版本")
        verbose_name_plural = _("事项清单版本")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"v{self.number}"


class MatterType(models.Model):
    """A catalogued matter (事项) with its handling rules. The rules a case uses are frozen in a
    :class:`MatterTypeVersion` when the case is filed."""

    code = models.CharField(_("代码"), max_length=8, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    group_code = models.CharField(_("大类代码"), max_length=4, db_index=True)
    group_name = models.CharField(_("大类"), max_length=64)
    kind = models.CharField(_("类别"), max_length=16, choices=MatterKind.choices)
    default_level = models.CharField(
        _("默认处置层级"), max_length=16, choices=HandlingLevel.choices
    )
    accept_limit = models.PositiveIntegerField(_("受理时限"), default=2)
    accept_unit = models.CharField(max_length=16, choices=TimeUnit.choices, default="work_hour")
    dispatch_limit = models.PositiveIntegerField(_("派遣时限"), default=2)
    dispatch_unit = models.CharField(max_length=16, choices=TimeUnit.choices, default="work_hour")
    handle_limit = models.PositiveIntegerField(_("处置时限"), default=5)
    handle_unit = models.CharField(max_length=16, choices=TimeUnit.choices, default="work_day")
    verify_limit = models.PositiveIntegerField(_("核查时限"), default=1)
    verify_unit = models.CharField(max_length=16, choices=TimeUnit.choices, default="work_day")
    # Urgent and critical cases run on continuous hours for the handling step.
    urgent_handle_hours = models.PositiveIntegerField(_("紧急处置时限(自然小时)"), default=24)
    critical_handle_hours = models.PositiveIntegerField(_("特急处置时限(自然小时)"), default=4)
    urgency_levels = models.JSONField(_("可选紧急程度"), default=list)
    filing_conditions = models.TextField(_("立案条件"), blank=True)
    closing_conditions = models.TextField(_("结案条件"), blank=True)
    on_spot_allowed = models.BooleanField(_("可现场处置"), default=False)
    pushdown_allowed = models.BooleanField(_("准入网格"), default=False)
    keywords = models.JSONField(_("关键词"), default=list, blank=True)
    related_codes = models.JSONField(_("相关事项"), default=list, blank=True)
    department_hint = models.CharField(_("建议责任部门"), max_length=64, blank=True)
    is_public = models.BooleanField(_("对公众开放"), default=True)
    active = models.BooleanField(_("启用"), default=True)
    current_version = models.ForeignKey(
        "MatterTypeVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("事项类型")
        verbose_name_plural = _("事项类型")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class MatterTypeVersion(models.Model):
    """Immutable snapshot of a matter type's rules (see ``catalogue.RULE_FIELDS``)."""

    matter_type = models.ForeignKey(MatterType, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    catalogue_version = models.ForeignKey(
        CatalogueVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="items"
    )
    rules = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["matter_type", "-version"]
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["matter_type", "version"], name="uniq_matter_version")
        ]

    def __str__(self) -> str:
        return f"{self.matter_type_id} v{self.version}"


class Department(models.Model):
    """A functional department (城管, 派出所, 住建 …) serving a region subtree."""

    code = models.CharField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    region = models.ForeignKey("geo.Region", on_delete=models.PROTECT, related_name="departments")
    members: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        USER, blank=True, related_name="departments"
    )
    is_active = models.BooleanField(_("有效"), default=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path_field = "region__path"

    class Meta:
        ordering = ["code"]
        verbose_name = _("职能部门")
        verbose_name_plural = _("职能部门")

    def __str__(self) -> str:
        return self.name


class MatterRoute(models.Model):
    """Responsibility: matter type × region subtree → department. The deepest region wins."""

    matter_type = models.ForeignKey(MatterType, on_delete=models.CASCADE, related_name="routes")
    region = models.ForeignKey("geo.Region", on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="routes")

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["matter_type", "region"], name="uniq_matter_route")
        ]

    def __str__(self) -> str:
        return f"{self.matter_type_id}@{self.region_id} → {self.department_id}"


class CalendarOverride(models.Model):
    """A deployment's correction of the statutory calendar (e.g. a local holiday)."""

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("工作日"))
    note = models.CharField(_("说明"), max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("工作日历调整")
        verbose_name_plural = _("工作日历调整")

    def __str__(self) -> str:
        return f"{self.date} {'workday' if self.is_workday else 'rest'}"


# --- Cases --------------------------------------------------------------------------------
# Open or suspended: the cases the command centre counts as live load (index case_live_path).
LIVE_STATES = [*(str(s) for s in OPEN_STATES), CaseState.SUSPENDED.value]


class Case(models.Model):
    tracking_code = models.CharField(_("查询码"), max_length=16, unique=True)
    client_key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices)
    reporter = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="reported_cases"
    )
    reporter_name = models.CharField(_("反映人"), max_length=64, blank=True)
    reporter_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("描述"), blank=True)
    lon = models.FloatField(_("经度(WGS-84)"))
    lat = models.FloatField(_("纬度(WGS-84)"))
    input_crs = models.CharField(_("上报坐标系"), max_length=8, default="wgs84")
    address = models.CharField(_("地址"), max_length=255, blank=True)
    # Indexed with the id (``case_grid_latest``), not alone.
    grid = models.ForeignKey(
        "geo.Region", on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    region_path = models.CharField(max_length=255, db_index=True)
    matter_type = models.ForeignKey(
        MatterType, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    matter_version = models.ForeignKey(
        MatterTypeVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rules = models.JSONField(_("适用规则"), default=dict)
    classification = models.JSONField(_("分类建议"), default=list, blank=True)
    urgency = models.CharField(_("紧急程度"), max_length=16, choices=Urgency.choices)
    state = models.CharField(_("状态"), max_length=16, choices=CaseState.choices)
    handling_level = models.CharField(_("处置层级"), max_length=16, choices=HandlingLevel.choices)
    handling_region = models.ForeignKey(
        "geo.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    routing_reasons = models.JSONField(_("分派理由"), default=list, blank=True)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    assignee = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_cases"
    )
    escalation_level = models.CharField(max_length=16, blank=True)
    step = models.CharField(_("当前环节"), max_length=16, blank=True)
    step_started_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(_("当前环节时限"), null=True, blank=True)
    # When the before-deadline reminder is due; cleared once it went out.
    remind_at = models.DateTimeField(null=True, blank=True, db_index=True)
    deadlines = models.JSONField(_("各环节时限"), default=dict, blank=True)
    suspended_from = models.CharField(max_length=16, blank=True)
    version = models.PositiveIntegerField(default=1)
    reported_at = models.DateTimeField(_("上报时间"))
    accepted_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)  # rejected / merged / cancelled
    result = models.TextField(_("处置结果"), blank=True)
    checkin_lon = models.FloatField(null=True, blank=True)
    checkin_lat = models.FloatField(null=True, blank=True)
    rating = models.PositiveSmallIntegerField(_("评价"), null=True, blank=True)
    rating_reason = models.CharField(_("评价说明"), max_length=500, blank=True)
    rework_count = models.PositiveSmallIntegerField(_("返工次数"), default=0)
    reopen_count = models.PositiveSmallIntegerField(_("重办次数"), default=0)
    self_resolved = models.BooleanField(_("网格自行处置"), default=False)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    # The management component (部件) this case is about, when there is one (registers app).
    component = models.ForeignKey(
        "registers.Component",
        verbose_name=_("管理部件"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path_field = "region_path"

    class Meta:
        ordering = ["-reported_at", "-id"]
        verbose_name = _("事件")
        verbose_name_plural = _("事件")
        permissions = [
            ("transition_case", _("办理事件(受理、处置、核查)")),
            ("dispatch_case", _("调度事件(派遣、吹哨、结案)")),
            ("approve_case", _("审批挂账与延期")),
            ("supervise_case", _("督办事件")),
        ]
        indexes = [
            # A grid's cases, and its latest case (the command centre polls it) without
            # walking the newest cases of every other grid; also serves the grid foreign key.
            models.Index(fields=["grid", "id"], name="case_grid_latest"),
            models.Index(fields=["state", "due_at"], name="case_state_due"),
            models.Index(
                fields=["due_at"], name="case_open_due", condition=Q(due_at__isnull=False)
            ),
            # The bounding box of the duplicate search at intake (case_duplicate_candidates).
            models.Index(fields=["lon", "lat"], name="case_lon_lat"),
            # The command centre's live reads (open load and overdue per area): only the cases
            # in a live state, by area path prefix, so they never touch the closed history.
            models.Index(
                fields=["region_path", "due_at"],
                name="case_live_path",
                condition=Q(state__in=LIVE_STATES),
                opclasses=["varchar_pattern_ops", "timestamptz_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tracking_code} {self.title}"

    @property
    def audit_region_path(self) -> str:
        return self.region_path


class CaseEvent(models.Model):
    """The case timeline. ``public_text`` is what a resident sees on the tracking page."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    note = models.TextField(blank=True)
    public_text = models.CharField(max_length=255, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.case_id} {self.action}"


class Attachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(max_length=16, choices=AttachmentKind.choices)
    file = models.FileField(upload_to="cases/%Y/%m/")
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.sha256[:8]}"


class SubTask(models.Model):
    """吹哨报到: one department's share of a case (lead or co-handling)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="subtasks")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="subtasks")
    role = models.CharField(max_length=8, choices=SubTaskRole.choices)
    state = models.CharField(max_length=16, choices=SubTaskState.choices)
    due_at = models.DateTimeField(null=True, blank=True)
    instructions = models.TextField(blank=True)
    result = models.TextField(blank=True)
    reason = models.CharField(max_length=500, blank=True)
    version = models.PositiveIntegerField(default=1)
    accepted_at = models.DateTimeField(null=True, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case", "role", "id"]
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["case", "department"], name="uniq_subtask_department")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.department_id} {self.state}"


class CaseRequest(models.Model):
    """A request to suspend (挂账) or extend (延期) a case, decided by an approver."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="requests")
    kind = models.CharField(max_length=16, choices=RequestKind.choices)
    status = models.CharField(max_length=16, choices=RequestStatus.choices)
    reason = models.CharField(max_length=500)
    extra_limit = models.PositiveIntegerField(null=True, blank=True)
    extra_unit = models.CharField(max_length=16, choices=TimeUnit.choices, blank=True)
    requested_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="pending"), name="one_pending_request"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.status}"


class Suspension(models.Model):
    """A period in which the case's clock stood still."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="suspensions")
    request = models.ForeignKey(CaseRequest, null=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    # Working (or continuous) time left on the step when the clock stopped.
    remaining_seconds = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["started_at"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.case_id} {self.started_at}"


class Escalation(models.Model):
    """One step up the ladder for one overdue deadline. The unique constraint makes a scan
    idempotent and safe to run twice at once."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="escalations")
    step = models.CharField(max_length=16)
    due_at = models.DateTimeField()
    from_level = models.CharField(max_length=16)
    to_level = models.CharField(max_length=16)
    region = models.ForeignKey(
        "geo.Region", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["case", "due_at", "to_level"], name="uniq_escalation_level"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.to_level}"


class Supervision(models.Model):
    """督办: who was told what and when."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="supervisions")
    escalation = models.OneToOneField(
        Escalation, null=True, blank=True, on_delete=models.CASCADE, related_name="supervision"
    )
    issued_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    level = models.CharField(max_length=16)
    region = models.ForeignKey(
        "geo.Region", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.TextField()
    recipients = models.JSONField(default=list)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.case_id} {self.level}"


# --- Notifications ------------------------------------------------------------------------
class Notification(models.Model):
    """An in-app message; ``address`` carries a phone for people without an account.
    ``dedupe_key`` makes reminders and notices idempotent."""

    recipient = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    address = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    dedupe_key = models.CharField(max_length=128, unique=True, null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        default_permissions = ()
        indexes = [models.Index(fields=["recipient", "read_at"], name="notif_unread")]

    def __str__(self) -> str:
        return self.title


class DeliveryAttempt(models.Model):
    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="attempts"
    )
    adapter = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices)
    detail = models.CharField(max_length=500, blank=True)
    attempted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["attempted_at", "id"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.notification_id} {self.adapter} {self.status}"


def case_summary(case: Case) -> dict[str, Any]:
    return {"id": case.pk, "code": case.tracking_code, "state": case.state}
