"""Webhooks: case events → signed HTTP POSTs to subscribed receivers, retried with exponential
backoff, every attempt logged, any delivery replayable.

* Event handlers (subscribed in ``ApiConfig.ready``) run inside the case service's transaction:
  they insert one :class:`WebhookDelivery` per matching subscription and queue its delivery
  task with the transaction (``enqueue_with_commit``), so a rolled-back case sends nothing.
* ``webhook_attempt`` POSTs the JSON body with ``X-Wangge-Signature: sha256=<hex>``, the
  HMAC-SHA256 of ``<timestamp>.<body>`` under the subscription's secret, plus
  ``X-Wangge-Timestamp``, ``X-Wangge-Event`` and ``X-Wangge-Delivery``. A 2xx answer is
  success; anything else (status, timeout, refused connection) schedules the next attempt after
  ``WEBHOOK_BACKOFF_SECONDS × 2^(n-1)`` until ``WEBHOOK_MAX_ATTEMPTS``.
* Payloads carry no personal data: codes, states, levels, times, never names or phones.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.accounts.permissions import has_perm_at
from wangge.cases.models import Case
from wangge.core.audit import audit_log
from wangge.core.exceptions import PermissionDenied, ValidationError
from wangge.geo.models import Region

from .choices import DeliveryState, WebhookEvent
from .models import WebhookAttempt, WebhookDelivery, WebhookSubscription

MANAGE = "api.manage_webhooks"
USER_AGENT = "Wangge-Webhooks/1"


def max_attempts() -> int:
    return int(getattr(settings, "WEBHOOK_MAX_ATTEMPTS", 6))


def backoff(attempt: int) -> timedelta:
    """Wait after failed attempt number ``attempt`` (1-based): base × 2^(attempt-1)."""
    base = float(getattr(settings, "WEBHOOK_BACKOFF_SECONDS", 30))
    return timedelta(seconds=base * 2 ** (attempt - 1))


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


# --- Subscriptions -----------------------------------------------------------------------------


def _clean(name: str, url: str, events: list[str]) -> tuple[str, str, list[str]]:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError(_("名称不能为空，且不超过100个字符。"), errors={"name": ["invalid"]})
    url = (url or "").strip()
    if not (url.startswith(("http://", "https://")) and 10 < len(url) <= 500) or any(
        c.isspace() for c in url
    ):
        raise ValidationError(_("接收地址须为http(s)网址。"), errors={"url": ["invalid"]})
    chosen = [e for e in WebhookEvent.values if e in set(events or [])]
    unknown = sorted(set(events or []) - set(WebhookEvent.values))
    if unknown or not chosen:
        raise ValidationError(
            _("请选择要订阅的事件（可选：%(e)s）。") % {"e": ", ".join(WebhookEvent.values)},
            errors={"events": unknown or ["required"]},
        )
    return name, url, chosen


@transaction.atomic
def subscription_create(
    *, actor: Any, name: str, url: str, events: list[str], region: Region
) -> tuple[WebhookSubscription, str]:
    """A new subscription for cases under ``region``; its signing secret is returned (shown
    once to the administrator, kept for signing)."""
    if not has_perm_at(actor, MANAGE, region.path):
        raise PermissionDenied(_("该区域不在您的管辖范围内。"))
    name, url, chosen = _clean(name, url, events)
    secret = "whsec_" + secrets.token_urlsafe(24)
    sub = WebhookSubscription.objects.create(
        name=name, url=url, secret=secret, events=chosen, region=region, created_by=actor
    )
    audit_log(
        actor=actor,
        action="api.webhook_create",
        obj=sub,
        after={"url": url, "events": chosen, "region": region.code},
    )
    return sub, secret


@transaction.atomic
def subscription_set_active(
    *, actor: Any, subscription: WebhookSubscription, active: bool
) -> WebhookSubscription:
    if subscription.is_active != active:
        subscription.is_active = active
        subscription.save(update_fields=["is_active", "updated_at"])
        audit_log(
            actor=actor, action="api.webhook_set_active", obj=subscription, after={"active": active}
        )
    return subscription


# --- Events → deliveries -----------------------------------------------------------------------


def case_payload(case: Case) -> dict[str, Any]:
    return {
        "id": case.pk,
        "tracking_code": case.tracking_code,
        "state": case.state,
        "source": case.source,
        "matter_type": case.matter_type.code if case.matter_type_id else None,  # type: ignore[union-attr]
        "grid": case.grid.code,
        "handling_level": case.handling_level,
        "department_id": case.department_id,
        "escalation_level": case.escalation_level,
        "urgency": case.urgency,
        "reported_at": case.reported_at.isoformat() if case.reported_at else None,
        "due_at": case.due_at.isoformat() if case.due_at else None,
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        "rating": case.rating,
        "version": case.version,
    }


# The active subscriptions, per process, re-read at most once per CHECK_INTERVAL_SECONDS (like the
# matter catalogue and the locator) and at once after a change made in this process: case writes
# then need no query to learn that nobody subscribed. The candidates it names are confirmed in
# the database before any delivery is written; a subscription created in another process is seen
# within the interval.
CHECK_INTERVAL_SECONDS = 1.0
_subs_lock = threading.Lock()
_subs: tuple[float, list[tuple[int, str, frozenset[str]]]] | None = None


def _active_subscriptions() -> list[tuple[int, str, frozenset[str]]]:
    """(id, region path, events) of every active subscription."""
    global _subs
    cached = _subs
    if cached is not None and time.monotonic() - cached[0] < CHECK_INTERVAL_SECONDS:
        return cached[1]
    with _subs_lock:
        read_at = time.monotonic()
        rows = [
            (pk, path, frozenset(events or ()))
            for pk, path, events in WebhookSubscription.objects.filter(is_active=True)
            .order_by("id")
            .values_list("id", "region__path", "events")
        ]
        _subs = (read_at, rows)
        return rows


def forget_subscriptions(**_: Any) -> None:
    """Make the next case event in this process read the subscriptions again (connected to the
    subscription model's save and delete signals in ``ApiConfig.ready``)."""
    global _subs
    with _subs_lock:
        _subs = None


def queue_event(event: str, case: Case, extra: dict[str, Any] | None = None) -> list[int]:
    """One delivery per active subscription of ``event`` covering the case's grid."""
    subs = [
        pk
        for pk, path, events in _active_subscriptions()
        if event in events and case.region_path.startswith(path)
    ]
    if not subs:
        return []
    # Confirm against the database (a subscription deleted or switched off in another process
    # within the interval must get no delivery; a vanished one would break the case's insert).
    subs = list(
        WebhookSubscription.objects.filter(pk__in=subs, is_active=True)
        .order_by("id")
        .values_list("id", flat=True)
    )
    if not subs:
        return []
    now = timezone.now()
    event_id = str(uuid.uuid4())
    payload = {
        "id": event_id,
        "type": event,
        "created_at": now.isoformat(),
        "data": {"case": case_payload(case), **(extra or {})},
    }
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                subscription_id=s,
                event=event,
                event_id=event_id,
                payload=payload,
                state=DeliveryState.PENDING,
                next_attempt_at=now,
            )
            for s in subs
        ]
    )
    ids = [d.pk for d in deliveries]
    _enqueue_now(ids)
    return ids


def _enqueue_now(ids: list[int]) -> None:
    from wangge.cases.notifications import enqueue_with_commit

    from .tasks import deliver_webhook

    for pk in ids:
        enqueue_with_commit(deliver_webhook, pk)


def on_case_created(*, case: Case, actor: Any = None, **_: Any) -> None:
    queue_event(WebhookEvent.CASE_CREATED, case)


def on_case_transitioned(*, case: Case, action: str, **payload: Any) -> None:
    # The emitter passes ``previous`` (a copy of the case before); core/events.py documents a
    # ``before`` dict: accept either.
    if "previous" in payload:
        previous = getattr(payload["previous"], "state", None)
    else:
        previous = (payload.get("before") or {}).get("state")
    if previous != case.state:
        queue_event(
            WebhookEvent.STATE_CHANGED, case, {"action": action, "previous_state": previous}
        )
    if action == "rate":
        queue_event(WebhookEvent.RATED, case, {"rating": case.rating})


def on_case_escalated(*, case: Case, from_level: str, to_level: str, **_: Any) -> None:
    queue_event(WebhookEvent.OVERDUE, case, {"from_level": from_level, "to_level": to_level})


# --- Delivery ----------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is an answer (3xx), not something to follow with the body


_opener = urllib.request.build_opener(_NoRedirect)


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str, str]:
    """(status, response excerpt, error) of one POST."""
    timeout = float(getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", 5))
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.status, response.read(500).decode("utf-8", "replace"), ""
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(500).decode("utf-8", "replace"), ""
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, "", f"{type(exc).__name__}: {reason}"[:500]


def webhook_attempt(delivery_id: int, *, now: datetime | None = None) -> WebhookDelivery | None:
    """Make the next attempt of a pending or retrying delivery (no-op otherwise or before its
    time); log it; on failure schedule the next one or give up."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("subscription")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.state not in (
            DeliveryState.PENDING,
            DeliveryState.RETRYING,
        ):
            return delivery
        now = now or timezone.now()
        if delivery.next_attempt_at and delivery.next_attempt_at > now:
            return delivery
        # Claim the attempt before the slow POST: a concurrent run sees it scheduled ahead.
        number = delivery.attempts + 1
        delivery.attempts = number
        delivery.next_attempt_at = now + backoff(number)
        delivery.save(update_fields=["attempts", "next_attempt_at"])
    sub = delivery.subscription
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Wangge-Event": delivery.event,
        "X-Wangge-Delivery": str(delivery.pk),
        "X-Wangge-Event-Id": delivery.event_id,
        "X-Wangge-Timestamp": timestamp,
        "X-Wangge-Signature": sign(sub.secret, timestamp, body),
    }
    started = time.monotonic()
    status, excerpt, error = _post(sub.url, body, headers)
    duration = int((time.monotonic() - started) * 1000)
    ok = status is not None and 200 <= status < 300
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            attempted_at=now,
            duration_ms=duration,
            status_code=status,
            error=error,
            response_excerpt=excerpt,
        )
        delivery.last_status = status
        delivery.last_error = error or ("" if ok else _("接收方返回%(s)s") % {"s": status})
        if ok:
            delivery.state = DeliveryState.SUCCEEDED
            delivery.delivered_at = timezone.now()
            delivery.next_attempt_at = None
        elif number >= max_attempts():
            delivery.state = DeliveryState.FAILED
            delivery.next_attempt_at = None
        else:
            delivery.state = DeliveryState.RETRYING
        delivery.save(
            update_fields=[
                "state",
                "last_status",
                "last_error",
                "delivered_at",
                "next_attempt_at",
            ]
        )
        if delivery.state == DeliveryState.RETRYING:
            _schedule_retry(delivery)
    return delivery


def _schedule_retry(delivery: WebhookDelivery) -> None:
    """Queue the next attempt for ``next_attempt_at`` when the queue can defer tasks; the
    periodic ``api.webhooks_retry_due`` sweep picks up the rest (and any lost enqueue)."""
    from .tasks import deliver_webhook

    if deliver_webhook.get_backend().supports_defer:
        deliver_webhook.using(run_after=delivery.next_attempt_at).enqueue(delivery.pk)


def webhooks_retry_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Attempt every delivery whose time has come (the periodic safety net)."""
    now = now or timezone.now()
    ids = list(
        WebhookDelivery.objects.filter(
            state__in=(DeliveryState.PENDING, DeliveryState.RETRYING), next_attempt_at__lte=now
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        webhook_attempt(pk, now=now)
    return len(ids)


@transaction.atomic
def delivery_replay(*, actor: Any, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery's payload again as a new delivery (same event id, so receivers can
    de-duplicate), logged and retried like the first."""
    sub = delivery.subscription
    if not has_perm_at(actor, MANAGE, sub.region.path):
        raise PermissionDenied(_("该区域不在您的管辖范围内。"))
    if not sub.is_active:
        raise ValidationError(_("订阅已停用，不能重发。"), errors={"subscription": ["inactive"]})
    copy = WebhookDelivery.objects.create(
        subscription=sub,
        event=delivery.event,
        event_id=delivery.event_id,
        payload=delivery.payload,
        state=DeliveryState.PENDING,
        next_attempt_at=timezone.now(),
        replay_of=delivery,
    )
    audit_log(
        actor=actor,
        action="api.webhook_replay",
        obj=sub,
        after={"delivery": delivery.pk, "replay": copy.pk, "event": delivery.event},
    )
    _enqueue_now([copy.pk])
    return copy
