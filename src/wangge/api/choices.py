from django.db import models
from django.utils.translation import gettext_lazy as _


class Datatype(models.TextChoices):
    """GeoReport v2 attribute datatypes."""

    STRING = "string", _("短文本")
    NUMBER = "number", _("数字")
    DATETIME = "datetime", _("日期时间")
    TEXT = "text", _("长文本")
    SINGLE = "singlevaluelist", _("单选")
    MULTI = "multivaluelist", _("多选")


class WebhookEvent(models.TextChoices):
    CASE_CREATED = "case.created", _("新事件上报")
    STATE_CHANGED = "case.state_changed", _("事件状态变化")
    OVERDUE = "case.overdue", _("事件超时升级")
    RATED = "case.rated", _("事件评价")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("待发送")
    RETRYING = "retrying", _("重试中")
    SUCCEEDED = "succeeded", _("已送达")
    FAILED = "failed", _("失败")
