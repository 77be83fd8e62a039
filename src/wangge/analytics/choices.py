from django.db import models
from django.utils.translation import gettext_lazy as _


class Grain(models.TextChoices):
    DAY = "d", _("日")
    MONTH = "m", _("月")


class Dim(models.TextChoices):
    """What a rollup row is broken down by ('' = the area's total)."""

    TOTAL = "", _("合计")
    TYPE = "type", _("事项类型")
    SOURCE = "source", _("来源")
    STATE = "state", _("状态")
    DEPT = "dept", _("部门")
    WORKER = "worker", _("处置人员")


class ObjectKind(models.TextChoices):
    """What an assessment scheme scores."""

    GRID = "grid", _("网格")
    COMMUNITY = "community", _("社区")
    STREET = "street", _("街道")
    DEPARTMENT = "department", _("职能部门")
    WORKER = "worker", _("网格员/处置人员")
    PARTY_BRANCH = "party_branch", _("党支部")


class PeriodKind(models.TextChoices):
    MONTH = "month", _("月度")
    QUARTER = "quarter", _("季度")


class RuleKind(models.TextChoices):
    LINEAR = "linear", _("线性插值")
    BANDS = "bands", _("分档")
    THRESHOLD = "threshold", _("达标")


class RunStatus(models.TextChoices):
    PENDING = "pending", _("排队中")
    RUNNING = "running", _("计算中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class ReportFormat(models.TextChoices):
    XLSX = "xlsx", _("Excel")
    PDF = "pdf", _("PDF")
