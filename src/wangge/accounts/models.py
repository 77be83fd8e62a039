from __future__ import annotations

import secrets

from django.contrib.auth.models import AbstractUser, Permission
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

mobile_validator = RegexValidator(r"^1[3-9]\d{9}$", _("请输入11位中国大陆手机号码。"))


def new_grants_stamp() -> int:
    """A fresh random stamp for ``User.grants_stamp`` (random, not a counter: a rolled-back
    change or a user id reused after a rollback never meets an old cache entry)."""
    return secrets.randbits(62)


class User(AbstractUser):
    """A person who signs in: staff by username, anyone by mobile number."""

    mobile = models.CharField(
        _("手机号"),
        max_length=11,
        unique=True,
        null=True,
        blank=True,
        validators=[mobile_validator],
    )
    display_name = models.CharField(_("姓名"), max_length=64, blank=True)
    title = models.CharField(_("职务"), max_length=64, blank=True)
    # Changes whenever the user's role assignments (or a role's permissions) change: processes
    # keep the user's grants keyed by (id, stamp), so the stamp read with the user row is all
    # a request needs to know its cached scope is current (accounts/permissions.py, ADR 0025).
    grants_stamp = models.BigIntegerField(default=new_grants_stamp, editable=False)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        permissions = [("manage_users", _("管理用户与授权"))]

    def __str__(self) -> str:
        return self.display_name or self.username


class Role(models.Model):
    """A named set of permissions. System roles are kept in step with the code; admins may add
    custom roles."""

    code = models.SlugField(_("代码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    description = models.CharField(_("说明"), max_length=255, blank=True)
    is_system = models.BooleanField(_("系统角色"), default=False)
    permissions = models.ManyToManyField(Permission, verbose_name=_("权限"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = _("角色")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class RoleAssignment(models.Model):
    """A role granted on a region node; it covers the node's whole subtree."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="assignments")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="assignments")
    region = models.ForeignKey("geo.Region", on_delete=models.PROTECT, related_name="assignments")
    granted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("授权")
        verbose_name_plural = _("授权")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "region"], name="uniq_role_assignment")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.role} @ {self.region}"


class ApiToken(models.Model):
    """A machine client's token. Only a SHA-256 of the (high-entropy) secret is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class PhoneVerification(models.Model):
    """A one-time code sent to a phone (a resident proving their number without an account).

    Only a keyed hash of the code is stored; a code expires, allows a few wrong tries and is used
    once (``used_at``). Written only by ``accounts.services.phone_code_*``."""

    phone = models.CharField(_("手机号"), max_length=11)
    purpose = models.CharField(max_length=32)
    code_hash = models.CharField(max_length=64)
    salt = models.CharField(max_length=32)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    verified_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    delivery_status = models.CharField(max_length=16, blank=True)
    delivery_detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        default_permissions = ()
        indexes = [
            models.Index(fields=["phone", "purpose", "created_at"], name="phone_code_recent")
        ]

    def __str__(self) -> str:
        return f"{self.phone[:3]}****{self.phone[-4:]} {self.purpose}"
