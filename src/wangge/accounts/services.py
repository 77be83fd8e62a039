"""Writes to users, role assignments and API tokens. Audited; no privilege escalation: an
admin grants only roles whose permissions they hold themselves on that region."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core.audit import audit_log
from wangge.core.exceptions import PermissionDenied, ValidationError

from .models import ApiToken, Role, RoleAssignment, User, mobile_validator
from .permissions import clear_scope_cache, has_perm_at, scope_paths

MANAGE = "accounts.manage_users"


def _require_manage_at(actor: Any, region_path: str) -> None:
    if actor is None:  # system (demo, CLI)
        return
    if not has_perm_at(actor, MANAGE, region_path):
        raise PermissionDenied(_("您无权在该区域管理用户。"))


def _role_perms(role: Role) -> set[str]:
    return {
        f"{app}.{code}"
        for app, code in role.permissions.values_list("content_type__app_label", "codename")
    }


@transaction.atomic
def user_create(
    *,
    actor: Any,
    username: str,
    password: str | None,
    display_name: str = "",
    mobile: str | None = None,
    title: str = "",
    email: str = "",
    validate: bool = True,
    audit: bool = True,
    region_path: str = "",
) -> User:
    """Create an account. ``region_path`` files the audit record under the area the account is
    made for (its first grant), so auditors of that area see it; without it only superusers do."""
    username = username.strip()
    errors: dict[str, list[str]] = {}
    if not username:
        errors["username"] = [_("请输入用户名。")]
    elif User.objects.filter(username=username).exists():
        errors["username"] = [_("用户名已被使用。")]
    if mobile:
        try:
            mobile_validator(mobile)
        except DjangoValidationError as exc:
            errors["mobile"] = list(exc.messages)
        if User.objects.filter(mobile=mobile).exists():
            errors.setdefault("mobile", []).append(_("手机号已被使用。"))
    if password and validate:
        try:
            validate_password(password, User(username=username, display_name=display_name))
        except DjangoValidationError as exc:
            errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors=errors)
    user = User(
        username=username,
        display_name=display_name.strip(),
        mobile=mobile or None,
        title=title,
        email=email,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    if audit:
        audit_log(
            actor=actor,
            action="accounts.user_create",
            obj=user,
            region_path=region_path,
            after={"username": username},
        )
    return user


@transaction.atomic
def user_create_with_role(
    *,
    actor: Any,
    username: str,
    password: str | None,
    role: Role,
    region: Any,
    display_name: str = "",
    mobile: str | None = None,
    title: str = "",
) -> User:
    """Create a user with a first grant, all or nothing, so the new user is inside the creator's
    area from the start (users without grants are visible to superusers only)."""
    _require_manage_at(actor, region.path)
    user = user_create(
        actor=actor,
        username=username,
        password=password,
        display_name=display_name,
        mobile=mobile,
        title=title,
        region_path=region.path,
    )
    role_assign(actor=actor, user=user, role=role, region=region)
    return user


@transaction.atomic
def user_set_active(*, actor: Any, user: User, active: bool, region_path: str) -> User:
    _require_manage_at(actor, region_path)
    before = user.is_active
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit_log(
        actor=actor,
        action="accounts.user_set_active",
        obj=user,
        region_path=region_path,
        before={"is_active": before},
        after={"is_active": active},
    )
    return user


@transaction.atomic
def role_assign(
    *, actor: Any, user: User, role: Role, region: Any, audit: bool = True
) -> RoleAssignment:
    """Grant ``role`` on ``region`` (covering its subtree)."""
    _require_manage_at(actor, region.path)
    if actor is not None and not actor.is_superuser:
        missing = [p for p in _role_perms(role) if not has_perm_at(actor, p, region.path)]
        if missing:
            raise PermissionDenied(
                _("不能授予超出您自身权限的角色（缺少：%(p)s）。")
                % {"p": ", ".join(sorted(missing))}
            )
    assignment, created = RoleAssignment.objects.get_or_create(
        user=user,
        role=role,
        region=region,
        defaults={"granted_by": actor if getattr(actor, "pk", None) else None},
    )
    clear_scope_cache(user)
    if created and audit:
        audit_log(
            actor=actor,
            action="accounts.role_assign",
            obj=user,
            region_path=region.path,
            after={"role": role.code, "region": region.code},
        )
    return assignment


@transaction.atomic
def role_revoke(*, actor: Any, assignment: RoleAssignment) -> None:
    _require_manage_at(actor, assignment.region.path)
    audit_log(
        actor=actor,
        action="accounts.role_revoke",
        obj=assignment.user,
        region_path=assignment.region.path,
        before={"role": assignment.role.code, "region": assignment.region.code},
    )
    assignment.delete()
    clear_scope_cache(assignment.user)


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@transaction.atomic
def api_token_create(
    *, actor: Any, user: User, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token and return it with the secret, which is shown once and never stored."""
    raw = settings.API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip() or "token",
        prefix=raw[:10],
        key_hash=_hash_token(raw),
        expires_at=expires_at,
    )
    audit_log(
        actor=actor,
        action="accounts.token_create",
        obj=user,
        region_path=_home_path(user),
        after={"token": token.prefix},
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, actor: Any, token: ApiToken) -> None:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_log(
        actor=actor,
        action="accounts.token_revoke",
        obj=token.user,
        region_path=_home_path(token.user),
        after={"token": token.prefix},
    )


def _home_path(user: User) -> str:
    """The region of the user's first grant ("" for none): where their audit records file."""
    first = user.assignments.select_related("region").order_by("region__path").first()
    return first.region.path if first else ""


def api_token_authenticate(raw: str) -> User | None:
    """The active user behind a token, or None (unknown, revoked, expired or inactive)."""
    if not raw or not raw.startswith(settings.API_TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=_hash_token(raw)).first()
    now = timezone.now()
    if token is None or token.revoked_at or (token.expires_at and token.expires_at <= now):
        return None
    if not token.user.is_active:
        return None
    # Coarse last-use stamp: at most one write a minute per token.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def user_roles_summary(user: User) -> list[dict[str, Any]]:
    return [
        {
            "role": a.role.name,
            "role_code": a.role.code,
            "region": a.region.name,
            "code": a.region.code,
        }
        for a in user.assignments.select_related("role", "region").order_by("region__path")
    ]


def user_primary_region_path(user: User) -> str | None:
    paths = scope_paths(user, "geo.view_region")
    if paths is None:
        return "/"
    return paths[0] if paths else None
