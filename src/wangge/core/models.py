from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class AuditRecord(models.Model):
    """One append-only, hash-chained audit entry. Written only by ``core.audit.audit_log``.

    ``hash`` covers every other field plus ``prev_hash``, so altering, deleting or reordering a
    record breaks the chain at a point ``wangge audit verify`` names.
    """

    seq = models.BigIntegerField(_("序号"), unique=True)
    created_at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,  # actor_id is hashed: never rewrite it
        related_name="+",
        db_constraint=False,  # the log outlives the users it names
    )
    actor_name = models.CharField(_("操作人名称"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=64, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=64, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=255, blank=True)
    region_path = models.CharField(_("区域路径"), max_length=255, blank=True, db_index=True)
    before = models.JSONField(_("变更前"), null=True, blank=True)
    after = models.JSONField(_("变更后"), null=True, blank=True)
    request_id = models.CharField(_("请求编号"), max_length=64, blank=True)
    ip_address = models.CharField(_("来源地址"), max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # 1: sha256 of one JSON document of every field (the first releases); 2: sha256 of
    # "v2|seq|prev_hash|<JSON of the other fields>", which PostgreSQL computes in the append
    # statement itself (core/audit.py). The version is inside the hashed text, so it cannot be
    # flipped without breaking the hash.
    digest_version = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        default_permissions = ("view",)
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_repr}"


class AuditHead(models.Model):
    """Single row holding the chain's tip; locked while a record is appended."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    prev_hash = models.CharField(max_length=64, default="0" * 64)  # set by the one-statement append

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"audit head #{self.last_seq}"


class WorkerHeartbeat(models.Model):
    """Written by ``wangge worker`` so /healthz can tell whether background work runs."""

    name = models.CharField(max_length=100, unique=True)
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)
    hostname = models.CharField(max_length=255, blank=True)
    pid = models.IntegerField(default=0)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return self.name


class PeriodicJobRun(models.Model):
    """Last run of each periodic job, so schedules are observable and survive restarts."""

    name = models.CharField(max_length=100, unique=True)
    last_enqueued_at = models.DateTimeField(null=True, blank=True)
    last_result = models.TextField(blank=True)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return self.name
