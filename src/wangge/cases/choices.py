from django.db import models
from django.utils.translation import gettext_lazy as _


class MatterKind(models.TextChoices):
    COMPONENT = "component", _("部件")
    MATTER = "matter", _("事项")
    SOCIAL = "social", _("社会治理")


class HandlingLevel(models.TextChoices):
    GRID = "grid", _("网格")
    COMMUNITY = "community", _("社区")
    STREET = "street", _("街道指挥中心")
    DEPARTMENT = "department", _("职能部门")
    DISTRICT = "district", _("区县指挥中心")


# The escalation ladder (grid → community → street → district); departments escalate to the
# street command centre that dispatched them.
LADDER = [
    HandlingLevel.GRID,
    HandlingLevel.COMMUNITY,
    HandlingLevel.STREET,
    HandlingLevel.DISTRICT,
]


class TimeUnit(models.TextChoices):
    WORK_HOUR = "work_hour", _("工作时")
    WORK_DAY = "work_day", _("工作日")
    HOUR = "hour", _("自然小时")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")
    CRITICAL = "critical", _("特急")


class Source(models.TextChoices):
    RESIDENT = "resident", _("居民上报")
    PATROL = "patrol", _("网格员巡查")
    HOTLINE = "hotline", _("12345热线")
    IOT = "iot", _("物联感知")
    TRANSFER = "transfer", _("部门移交")
    LEADER = "leader", _("领导交办")
    API = "api", _("API/Open311")


class CaseState(models.TextChoices):
    REPORTED = "reported", _("已上报")
    ACCEPTED = "accepted", _("已立案")
    DISPATCHED = "dispatched", _("已派遣")
    IN_PROGRESS = "in_progress", _("处置中")
    HANDLED = "handled", _("已处置")
    VERIFIED = "verified", _("已核查")
    CLOSED = "closed", _("已结案")
    RATED = "rated", _("已评价")
    REJECTED = "rejected", _("不予立案")
    MERGED = "merged", _("已合并")
    SUSPENDED = "suspended", _("挂账")
    CANCELLED = "cancelled", _("已作废")


OPEN_STATES = (
    CaseState.REPORTED,
    CaseState.ACCEPTED,
    CaseState.DISPATCHED,
    CaseState.IN_PROGRESS,
    CaseState.HANDLED,
    CaseState.VERIFIED,
)
FINAL_STATES = (CaseState.REJECTED, CaseState.MERGED, CaseState.CANCELLED)


class Step(models.TextChoices):
    """The timed steps of the loop; each has a limit in the catalogue."""

    ACCEPT = "accept", _("受理")
    DISPATCH = "dispatch", _("派遣")
    HANDLE = "handle", _("处置")
    VERIFY = "verify", _("核查")


STATE_STEP = {
    CaseState.REPORTED: Step.ACCEPT,
    CaseState.ACCEPTED: Step.DISPATCH,
    CaseState.DISPATCHED: Step.HANDLE,
    CaseState.IN_PROGRESS: Step.HANDLE,
    CaseState.HANDLED: Step.VERIFY,
    CaseState.VERIFIED: Step.VERIFY,
}


class AttachmentKind(models.TextChoices):
    BEFORE = "before", _("处置前")
    AFTER = "after", _("处置后")
    OTHER = "other", _("其他")


class SubTaskRole(models.TextChoices):
    LEAD = "lead", _("牵头单位")
    CO = "co", _("协办单位")


class SubTaskState(models.TextChoices):
    PENDING = "pending", _("待接收")
    ACCEPTED = "accepted", _("处置中")
    RETURNED = "returned", _("已退回")
    HANDLED = "handled", _("已办结")


class RequestKind(models.TextChoices):
    SUSPEND = "suspend", _("挂账")
    EXTEND = "extend", _("延期")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    DENIED = "denied", _("未批准")


class NotificationKind(models.TextChoices):
    ASSIGNED = "assigned", _("新任务")
    STATE = "state", _("状态变化")
    REMINDER = "reminder", _("到期提醒")
    SUPERVISION = "supervision", _("督办")
    APPROVAL = "approval", _("待审批")
    CLOSED = "closed", _("办结告知")


class DeliveryStatus(models.TextChoices):
    SENT = "sent", _("已发送")
    FAILED = "failed", _("失败")
    SKIPPED = "skipped", _("跳过")
