"""Writes to users, role assignments and API tokens. Audited; no privilege escalation: an
admin grants only roles whose permissions they hold themselves on that region."""

from __future__ import annotations

import hashlib
import hmac
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
from wangge.core.exceptions import Conflict, PermissionDenied, TooManyRequests, ValidationError

from .models import ApiToken, PhoneVerification, Role, RoleAssignment, User, mobile_validator
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


# --- Phone verification codes -------------------------------------------------------------------
# A resident proves a phone number without an account: a 6-digit code, hashed at rest (keyed by
# SECRET_KEY and a per-code salt), valid PHONE_CODE_TTL_SECONDS, PHONE_CODE_MAX_ATTEMPTS wrong
# tries, one use. Sending the code is the caller's job (accounts knows no SMS channel).
PHONE_CODE_TTL_SECONDS = 600
PHONE_CODE_MAX_ATTEMPTS = 5
PHONE_CODE_RESEND_SECONDS = 60
PHONE_CODE_PER_PHONE_PER_HOUR = 5


def _code_hash(salt: str, phone: str, code: str) -> str:
    from django.utils.crypto import salted_hmac

    return salted_hmac(
        "wangge.accounts.phone_code", f"{salt}:{phone}:{code}", algorithm="sha256"
    ).hexdigest()


def _phone_setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def phone_normalize(phone: str) -> str:
    """A mainland mobile number (11 digits, 1[3-9]…), else ValidationError."""
    phone = "".join((phone or "").split()).removeprefix("+86")
    try:
        mobile_validator(phone)
    except DjangoValidationError as exc:
        raise ValidationError(
            _("请输入11位中国大陆手机号码。"), errors={"phone": ["invalid"]}
        ) from exc
    return phone


@transaction.atomic
def phone_code_issue(
    *, phone: str, purpose: str, client_ip: str | None = None, now: datetime | None = None
) -> tuple[PhoneVerification, str]:
    """A new code for ``phone``: (the stored verification, the plain code to send once).

    Refused (TooManyRequests, nothing stored) within PHONE_CODE_RESEND_SECONDS of the last code
    for the number, or past PHONE_CODE_PER_PHONE_PER_HOUR codes in an hour."""
    from datetime import timedelta

    now = now or timezone.now()
    phone = phone_normalize(phone)
    recent = list(
        PhoneVerification.objects.filter(
            phone=phone, purpose=purpose, created_at__gt=now - timedelta(hours=1)
        ).values_list("created_at", flat=True)
    )
    resend = _phone_setting("PHONE_CODE_RESEND_SECONDS", PHONE_CODE_RESEND_SECONDS)
    if recent and (wait := resend - int((now - max(recent)).total_seconds())) > 0:
        raise TooManyRequests(
            _("验证码已发送，请%(n)d秒后再重新获取。") % {"n": wait}, errors={"phone": ["wait"]}
        )
    if len(recent) >= _phone_setting(
        "PHONE_CODE_PER_PHONE_PER_HOUR", PHONE_CODE_PER_PHONE_PER_HOUR
    ):
        raise TooManyRequests(
            _("该手机号获取验证码过于频繁，请1小时后再试。"), errors={"phone": ["too_many"]}
        )
    code = f"{secrets.randbelow(10**6):06d}"
    salt = secrets.token_hex(16)
    ttl = _phone_setting("PHONE_CODE_TTL_SECONDS", PHONE_CODE_TTL_SECONDS)
    verification = PhoneVerification.objects.create(
        phone=phone,
        purpose=purpose,
        code_hash=_code_hash(salt, phone, code),
        salt=salt,
        client_ip=client_ip or None,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl),
    )
    return verification, code


@transaction.atomic
def phone_code_record_delivery(
    *, verification: PhoneVerification, status: str, detail: str = ""
) -> None:
    """Remember how sending the code went; a code that could not be sent cannot be used."""
    updates: dict[str, Any] = {"delivery_status": status[:16], "delivery_detail": detail[:500]}
    if status == "failed":
        updates["expires_at"] = verification.created_at
    PhoneVerification.objects.filter(pk=verification.pk).update(**updates)


def phone_code_verify(
    *, phone: str, code: str, purpose: str, now: datetime | None = None
) -> PhoneVerification:
    """Check ``code`` against the latest unused code for ``phone``. A wrong code counts a try
    (committed even when the caller's work then fails); the right one marks the verification
    verified (usable once, see :func:`phone_code_consume`)."""
    now = now or timezone.now()
    phone = phone_normalize(phone)
    code = (code or "").strip()
    if not code:
        raise ValidationError(_("请输入短信验证码。"), errors={"phone_code": ["required"]})
    # The try is counted in its own transaction; the error is raised after it committed.
    with transaction.atomic():
        verification = (
            PhoneVerification.objects.select_for_update()
            .filter(phone=phone, purpose=purpose, used_at__isnull=True)
            .order_by("-created_at", "-id")
            .first()
        )
        error: ValidationError | None = None
        max_attempts = _phone_setting("PHONE_CODE_MAX_ATTEMPTS", PHONE_CODE_MAX_ATTEMPTS)
        if verification is None or verification.expires_at <= now:
            error = ValidationError(
                _("验证码已过期或未获取，请重新获取。"), errors={"phone_code": ["expired"]}
            )
        elif verification.attempts >= max_attempts:
            error = ValidationError(
                _("验证码错误次数过多，请重新获取。"), errors={"phone_code": ["locked"]}
            )
        elif not hmac.compare_digest(
            verification.code_hash, _code_hash(verification.salt, phone, code)
        ):
            verification.attempts += 1
            PhoneVerification.objects.filter(pk=verification.pk).update(
                attempts=verification.attempts
            )
            left = max_attempts - verification.attempts
            error = ValidationError(
                _("验证码不正确，还可尝试%(n)d次。") % {"n": left}
                if left
                else _("验证码错误次数过多，请重新获取。"),
                errors={"phone_code": ["wrong"]},
            )
        elif verification.verified_at is None:
            verification.verified_at = now
            PhoneVerification.objects.filter(pk=verification.pk).update(verified_at=now)
    if error is not None:
        raise error
    assert verification is not None
    return verification


def phone_code_consume(*, verification: PhoneVerification, now: datetime | None = None) -> None:
    """Use a verified code once, inside the caller's transaction (rolled back with it)."""
    used = PhoneVerification.objects.filter(
        pk=verification.pk, used_at__isnull=True, verified_at__isnull=False
    ).update(used_at=now or timezone.now())
    if not used:
        raise Conflict(_("验证码已使用，请重新获取。"), errors={"phone_code": ["used"]})
