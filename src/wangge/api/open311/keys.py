"""Open311 client keys: created and revoked by the operator (``wangge open311 …``), checked on
every POST, rate-limited per client."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core.audit import audit_log
from wangge.core.exceptions import Conflict, NotFound, ValidationError

from ..models import Open311Client

KEY_PREFIX = "o311_"


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@transaction.atomic
def client_create(
    *, actor: object, name: str, rate_per_minute: int | None = None
) -> tuple[Open311Client, str]:
    """A new client and its key (returned once; only the hash is kept)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError(
            _("客户端名称不能为空，且不超过100个字符。"), errors={"name": ["invalid"]}
        )
    rate = int(
        rate_per_minute
        if rate_per_minute is not None
        else getattr(settings, "OPEN311_RATE_PER_MINUTE", 60)
    )
    if rate < 1:
        raise ValidationError(_("每分钟提交上限至少为1。"), errors={"rate": ["invalid"]})
    raw = KEY_PREFIX + secrets.token_urlsafe(24)
    try:
        with transaction.atomic():
            client = Open311Client.objects.create(
                name=name, key_prefix=raw[:10], key_hash=_hash(raw), rate_per_minute=rate
            )
    except IntegrityError as exc:
        raise Conflict(_("客户端“%(n)s”已存在。") % {"n": name}) from exc
    audit_log(actor=actor, action="api.open311_client_create", obj=client, after={"rate": rate})
    return client, raw


@transaction.atomic
def client_revoke(*, actor: object, name: str) -> Open311Client:
    client = Open311Client.objects.select_for_update().filter(name=(name or "").strip()).first()
    if client is None:
        raise NotFound(_("客户端“%(n)s”不存在。") % {"n": name})
    if client.is_active:
        client.is_active = False
        client.revoked_at = timezone.now()
        client.save(update_fields=["is_active", "revoked_at"])
        audit_log(actor=actor, action="api.open311_client_revoke", obj=client)
    return client


def client_authenticate(raw: str | None) -> Open311Client | None:
    """The active client holding ``raw``, else None (one indexed look-up by hash)."""
    raw = (raw or "").strip()
    if not raw.startswith(KEY_PREFIX) or len(raw) > 100:
        return None
    return Open311Client.objects.filter(key_hash=_hash(raw), is_active=True).first()


def client_over_rate(client: Open311Client) -> bool:
    """Count one submission in the current minute; True when over the client's limit."""
    key = f"open311:rate:{client.pk}:{int(timezone.now().timestamp() // 60)}"
    cache.add(key, 0, timeout=90)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=90)
        count = 1
    return count > client.rate_per_minute
