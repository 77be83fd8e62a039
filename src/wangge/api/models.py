"""Open interfaces: Open311 client keys, the Open311 side of requests (token, attributes), the
per-service attribute definitions, and webhook subscriptions with their delivery log.

Only services in :mod:`wangge.api.open311.services` and :mod:`wangge.api.webhooks` write these
tables. Cases themselves live in the cases app; this app stores only what Open311 adds."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wangge.accounts.permissions import RestrictedQuerySet

from .choices import Datatype, DeliveryState

USER = settings.AUTH_USER_MODEL


class Open311Client(models.Model):
    """A machine client of the GeoReport v2 endpoint (a city's 311 app, a vendor system).
    Only the SHA-256 of its ``api_key`` is stored; the key is printed once at creation."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    key_prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    rate_per_minute = models.PositiveIntegerField(_("每分钟提交上限"), default=60)
    is_active = models.BooleanField(_("有效"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("Open311客户端")
        verbose_name_plural = _("Open311客户端")
        default_permissions = ()

    def __str__(self) -> str:
        return self.name


class ServiceAttribute(models.Model):
    """One GeoReport v2 attribute of a service (a matter type, keyed by its catalogue code)."""

    service_code = models.CharField(_("事项代码"), max_length=8, db_index=True)
    code = models.CharField(_("属性代码"), max_length=32)
    order = models.PositiveSmallIntegerField(_("顺序"), default=1)
    datatype = models.CharField(_("类型"), max_length=16, choices=Datatype.choices)
    required = models.BooleanField(_("必填"), default=False)
    variable = models.BooleanField(_("需填写"), default=True)
    description = models.CharField(_("说明"), max_length=255)
    datatype_description = models.CharField(_("填写提示"), max_length=255, blank=True)
    values = models.JSONField(_("可选值"), default=list, blank=True)  # [{"key", "name"}]

    class Meta:
        ordering = ["service_code", "order", "code"]
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["service_code", "code"], name="uniq_service_attr")
        ]

    def __str__(self) -> str:
        return f"{self.service_code}.{self.code}"


class Open311Request(models.Model):
    """What a GeoReport v2 POST adds to the case it filed: the token, the client, the
    attribute answers and the private contact fields (never shown by public reads)."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="open311")
    token = models.CharField(max_length=36, unique=True)
    client = models.ForeignKey(Open311Client, on_delete=models.PROTECT, related_name="requests")
    service_code = models.CharField(max_length=8)
    attributes = models.JSONField(default=dict, blank=True)
    email = models.CharField(max_length=254, blank=True)
    device_id = models.CharField(max_length=100, blank=True)
    account_id = models.CharField(max_length=100, blank=True)
    address_id = models.CharField(max_length=32, blank=True)
    media_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.token} → {self.case_id}"


class WebhookSubscription(models.Model):
    """A receiver URL for case events of one area (the region's subtree)."""

    name = models.CharField(_("名称"), max_length=100)
    url = models.URLField(_("接收地址"), max_length=500)
    secret = models.CharField(_("签名密钥"), max_length=128)
    events = models.JSONField(_("订阅事件"), default=list)
    # Regions are versioned, not deleted; when one is (a rebuilt demo), its subscriptions go too.
    region = models.ForeignKey("geo.Region", on_delete=models.CASCADE, related_name="+")
    is_active = models.BooleanField(_("有效"), default=True)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path_field = "region__path"

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("推送订阅")
        verbose_name_plural = _("推送订阅")
        default_permissions = ()
        permissions = [("manage_webhooks", _("管理推送订阅与投递记录"))]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_region_path(self) -> str:
        return self.region.path


class WebhookDelivery(models.Model):
    """One event for one subscription; its attempts are the delivery log."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=32)
    event_id = models.CharField(max_length=36, db_index=True)
    payload = models.JSONField()
    state = models.CharField(max_length=16, choices=DeliveryState.choices)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    replay_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.subscription_id} {self.event} {self.state}"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveSmallIntegerField()
    attempted_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.delivery_id}#{self.number} {self.status_code}"

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
