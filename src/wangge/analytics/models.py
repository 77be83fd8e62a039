"""Analytics: case rollups (derived, rebuildable), assessment schemes and results, reports.

``CaseRollup`` is derived data: only :mod:`wangge.analytics.rollups` writes it (incrementally
from the case events, or by ``wangge analytics rebuild-rollups``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wangge.accounts.permissions import RestrictedQuerySet

from .choices import Grain, ObjectKind, PeriodKind, ReportFormat, RunStatus

USER = settings.AUTH_USER_MODEL


def _measure(label: Any) -> models.BigIntegerField:
    return models.BigIntegerField(label, default=0)


class FreshRollupManager(models.Manager["CaseRollup"]):
    """Every read of the rollups first folds the pending deltas into them (see
    :mod:`wangge.analytics.journal`), so a reader sees every committed case write."""

    def get_queryset(self) -> models.QuerySet[CaseRollup]:
        from .journal import fold

        fold()
        return super().get_queryset()


class CaseRollup(models.Model):
    """Sums of per-case measures for the cases *reported* in one bucket (a day or a month), in
    one region (every ancestor of the case's grid has its own row), broken down by one
    dimension (``dim``/``value``; ``dim=''`` is the total). See docs/indicators.md."""

    grain = models.CharField(max_length=1, choices=Grain.choices)
    bucket = models.DateField()  # the day, or the first day of the month
    region = models.ForeignKey("geo.Region", on_delete=models.CASCADE, related_name="+")
    dim = models.CharField(max_length=8, blank=True)
    value = models.CharField(max_length=32, blank=True)
    reported = _measure(_("上报数"))
    filed = _measure(_("立案数"))
    rejected = _measure(_("不予立案数"))
    merged = _measure(_("合并数"))
    cancelled = _measure(_("作废数"))
    open = _measure(_("在办数"))
    suspended = _measure(_("挂账数"))
    handled = _measure(_("处置数"))
    handled_on_time = _measure(_("按时处置数"))
    reworked = _measure(_("返工数"))
    closed = _measure(_("结案数"))
    closed_on_time = _measure(_("按期结案数"))
    self_resolved = _measure(_("自行处置数"))
    first_time = _measure(_("一次办结数"))
    rated = _measure(_("评价数"))
    satisfied = _measure(_("满意数"))
    response_n = _measure(_("响应计数"))
    response_seconds = _measure(_("响应工作秒数"))
    handle_n = _measure(_("处置计数"))
    handle_seconds = _measure(_("处置工作秒数"))
    dispatches = _measure(_("派遣次数"))
    misdispatches = _measure(_("退回改派次数"))

    objects = FreshRollupManager()

    class Meta:
        default_permissions = ()
        permissions = [("view_dashboard", _("查看指挥中心(一屏观全域)"))]
        constraints = [
            # Also the index every dashboard query uses: region, grain, dim, then the bucket
            # range (before the value, so a period reads only its own buckets), then the value.
            models.UniqueConstraint(
                fields=["region", "grain", "dim", "bucket", "value"], name="uniq_rollup_key2"
            )
        ]

    def __str__(self) -> str:
        return f"{self.grain}{self.bucket} r{self.region_id} {self.dim}={self.value}"


class RollupDelta(models.Model):
    """One case write's change to the rollups, not yet folded into ``CaseRollup``: appended in
    the case's own transaction (no shared row is touched there), folded in batches by the next
    reader or the periodic job (:mod:`wangge.analytics.journal`)."""

    id = models.BigAutoField(primary_key=True)
    rows = models.TextField()  # JSON: [[grain, bucket, region_id, dim, value, [measures…]], …]

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"rollup delta {self.pk}"


class AssessmentScheme(models.Model):
    """考核方案: what is scored (``object_kind`` under ``region``), how often, and the items
    (indicator, weight, scoring rule). Every change makes a new immutable version."""

    code = models.SlugField(_("方案代码"), max_length=32, unique=True)
    name = models.CharField(_("方案名称"), max_length=100)
    object_kind = models.CharField(_("考核对象"), max_length=16, choices=ObjectKind.choices)
    period_kind = models.CharField(_("考核周期"), max_length=8, choices=PeriodKind.choices)
    region = models.ForeignKey(
        "geo.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("考核范围")
    )
    items = models.JSONField(_("考核指标"), default=list)
    grades = models.JSONField(_("等级"), default=list)
    version = models.PositiveIntegerField(default=1)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path_field = "region__path"

    class Meta:
        ordering = ["code"]
        verbose_name = _("考核方案")
        verbose_name_plural = _("考核方案")
        permissions = [("run_assessment", _("计算考核结果"))]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def audit_region_path(self) -> str:
        return self.region.path


class AssessmentSchemeVersion(models.Model):
    scheme = models.ForeignKey(AssessmentScheme, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    definition = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["scheme", "-version"]
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["scheme", "version"], name="uniq_scheme_version")
        ]

    def __str__(self) -> str:
        return f"{self.scheme_id} v{self.version}"


class AssessmentRun(models.Model):
    """One computation of a scheme for one period, with the scheme version it used."""

    scheme = models.ForeignKey(AssessmentScheme, on_delete=models.CASCADE, related_name="runs")
    scheme_version = models.ForeignKey(
        AssessmentSchemeVersion, on_delete=models.PROTECT, related_name="runs"
    )
    period = models.CharField(_("考核期"), max_length=8)  # 2026-10 or 2026-Q4
    start = models.DateField()
    end = models.DateField()  # exclusive
    status = models.CharField(max_length=8, choices=RunStatus.choices, default=RunStatus.PENDING)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    computed_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path_field = "scheme__region__path"

    class Meta:
        ordering = ["-created_at", "-id"]
        default_permissions = ()
        verbose_name = _("考核计算")

    def __str__(self) -> str:
        return f"{self.scheme_id} {self.period} {self.status}"

    @property
    def audit_region_path(self) -> str:
        return self.scheme.region.path


class AssessmentResult(models.Model):
    """One object's score in a run, with the per-indicator explanation in ``details``."""

    run = models.ForeignKey(AssessmentRun, on_delete=models.CASCADE, related_name="results")
    object_kind = models.CharField(max_length=16, choices=ObjectKind.choices)
    object_id = models.BigIntegerField()
    object_name = models.CharField(max_length=150)
    region = models.ForeignKey("geo.Region", on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey(
        "cases.Department", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    score = models.DecimalField(max_digits=6, decimal_places=2)
    grade = models.CharField(max_length=1)
    rank = models.PositiveIntegerField()
    details = models.JSONField(default=list)

    objects = RestrictedQuerySet.as_manager()
    scope_path_field = "region__path"

    class Meta:
        ordering = ["run", "rank", "object_id"]
        permissions = [("view_assessment", _("查看考核结果"))]
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["run", "object_id"], name="uniq_result_object")
        ]

    def __str__(self) -> str:
        return f"{self.object_name} {self.score} {self.grade}"


class Report(models.Model):
    """A monthly or quarterly report (Excel or PDF) for an area or a department."""

    region = models.ForeignKey("geo.Region", on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey(
        "cases.Department", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    period = models.CharField(_("报告期"), max_length=8)
    format = models.CharField(_("格式"), max_length=4, choices=ReportFormat.choices)
    status = models.CharField(max_length=8, choices=RunStatus.choices, default=RunStatus.PENDING)
    file = models.FileField(upload_to="reports/%Y/%m/", blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path_field = "region__path"

    class Meta:
        ordering = ["-created_at", "-id"]
        default_permissions = ()
        permissions = [("view_report", _("生成和下载统计报告"))]
        verbose_name = _("统计报告")

    def __str__(self) -> str:
        return f"{self.region_id} {self.period} {self.format}"

    @property
    def audit_region_path(self) -> str:
        return self.region.path
