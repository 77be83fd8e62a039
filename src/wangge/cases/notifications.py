"""Notifications: in-app rows plus delivery through adapters (``adapters.py``: console and
e-mail for development; DingTalk and WeCom group robots, a generic HTTP SMS gateway and Aliyun
SMS). Every delivery try is a :class:`DeliveryAttempt` row; a failed try is retried in the
background (``NOTIFY_MAX_ATTEMPTS`` tries per notification and channel, backing off).

Adapters are chosen by ``settings.WANGGE_NOTIFY_ADAPTERS`` (default ``["console"]``)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from wangge.accounts.models import RoleAssignment, User
from wangge.geo.models import Region

from .adapters import (  # noqa: F401 (the registry is part of this module's interface)
    ADAPTERS,
    Adapter,
    ConsoleAdapter,
    DeliveryResult,
    EmailAdapter,
    register_adapter,
)
from .choices import DeliveryStatus
from .models import Case, DeliveryAttempt, Notification

log = logging.getLogger("wangge.cases.notify")

DEFAULT_MAX_ATTEMPTS = 3
# Wait before the 2nd, 3rd, … try of a failed channel.
RETRY_BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30))


def max_attempts() -> int:
    return max(1, int(getattr(settings, "NOTIFY_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS)))


def configured_adapters() -> list[Any]:
    """The configured channels; a misconfigured one is kept as a name and an error, so that its
    attempts are recorded as failed instead of stopping the others."""
    names = getattr(settings, "WANGGE_NOTIFY_ADAPTERS", None) or ["console"]
    out: list[Any] = []
    for name in names:
        if name not in ADAPTERS:
            continue
        try:
            out.append(ADAPTERS[name]())
        except Exception as exc:  # ImproperlyConfigured and friends
            out.append(_Broken(name, str(exc)))
    return out


class _Broken:
    def __init__(self, name: str, error: str) -> None:
        self.name, self.error = name, error

    def send(self, notification: Notification) -> DeliveryResult:
        return DeliveryResult(DeliveryStatus.FAILED, f"misconfigured: {self.error}"[:500])


def deliver(notification_ids: Iterable[int], attempt: int = 1) -> int:
    """Send each notification through every configured adapter, recording each attempt.

    A channel that already delivered (or skipped) a notification is not tried again, nor one
    that used up its tries; channels that failed are retried by a later task. Returns the
    number of attempts made."""
    count = 0
    limit = max_attempts()
    retry: list[int] = []
    adapters = configured_adapters()
    notifications = Notification.objects.filter(pk__in=list(notification_ids)).select_related(
        "recipient"
    )
    for n in notifications:
        history: dict[str, list[str]] = {}
        for name, status in n.attempts.values_list("adapter", "status"):
            history.setdefault(name, []).append(status)
        needs_retry = False
        for adapter in adapters:
            done = history.get(adapter.name, [])
            if DeliveryStatus.SENT in done or DeliveryStatus.SKIPPED in done or len(done) >= limit:
                continue
            try:
                result = adapter.send(n)
            except Exception as exc:  # a failing channel must not stop the others
                result = DeliveryResult(DeliveryStatus.FAILED, f"{type(exc).__name__}: {exc}"[:500])
            DeliveryAttempt.objects.create(
                notification=n, adapter=adapter.name, status=result.status, detail=result.detail
            )
            count += 1
            if result.status == DeliveryStatus.FAILED:
                log.warning("delivery of %s via %s failed: %s", n.pk, adapter.name, result.detail)
                needs_retry = needs_retry or len(done) + 1 < limit
        if needs_retry:
            retry.append(n.pk)
    if retry:
        _schedule_retry(retry, attempt)
    return count


def _schedule_retry(ids: list[int], attempt: int) -> None:
    from .tasks import deliver_notifications

    wait = RETRY_BACKOFF[min(attempt, len(RETRY_BACKOFF)) - 1]
    try:
        task = deliver_notifications
        if task.get_backend().supports_defer:
            task = task.using(run_after=timezone.now() + wait)
        task.enqueue(ids, attempt + 1)
    except Exception:  # the attempts are recorded; a lost retry is logged, not raised
        log.exception("could not schedule a retry of notifications %s", ids)


def notify(
    *,
    recipients: Iterable[User | None],
    kind: str,
    title: str,
    body: str = "",
    case: Case | None = None,
    address: str = "",
    dedupe_key: str | None = None,
) -> list[Notification]:
    """Create in-app notifications now and deliver them in the background after commit.

    With ``dedupe_key`` a notice already sent (say, the 75% reminder of one deadline) is not sent
    again: the key is unique per recipient."""
    created: list[Notification] = []
    seen: set[int | None] = set()
    for user in recipients:
        uid = getattr(user, "pk", None)
        if uid in seen or (user is None and not address):
            continue
        seen.add(uid)
        key = f"{dedupe_key}:{uid or address}"[:128] if dedupe_key else None
        try:
            with transaction.atomic():
                created.append(
                    Notification.objects.create(
                        recipient=user,
                        address=address if user is None else "",
                        kind=kind,
                        title=title[:200],
                        body=body,
                        case=case,
                        dedupe_key=key,
                    )
                )
        except IntegrityError:
            continue
    if created:
        ids = [n.pk for n in created]
        transaction.on_commit(lambda: _enqueue_delivery(ids))
    return created


def enqueue_with_commit(task: Any, *args: Any) -> None:
    """Enqueue ``task`` so that it runs only if the current transaction commits.

    With the database task queue (``django_tasks_db``, the default) the task row is written in
    the current transaction: it commits or rolls back with the work it is about, and costs no
    extra transaction. Any other backend is called after commit, so an immediate or external
    worker never runs before the data it reads is committed."""
    backend = task.get_backend()
    in_db = type(backend).__module__.startswith("django_tasks_db")
    if in_db and transaction.get_connection().in_atomic_block:
        task.enqueue(*args)
    else:
        transaction.on_commit(lambda: _enqueue(task, args))


def _enqueue(task: Any, args: tuple[Any, ...]) -> None:
    try:
        task.enqueue(*args)
    except Exception:  # the case is saved; a lost notice must not fail the request
        log.exception("could not enqueue %s%r", task.name, args)


def _enqueue_delivery(ids: list[int]) -> None:
    from .tasks import deliver_notifications

    try:
        deliver_notifications.enqueue(ids)
    except Exception:  # the in-app copy exists; delivery is best effort
        log.exception("could not enqueue delivery of notifications %s", ids)


def users_with_perm_at(region: Region | None, perm: str) -> QuerySet[User]:
    """Active users holding ``perm`` through a role granted exactly on ``region``."""
    if region is None:
        return User.objects.none()
    app_label, codename = perm.split(".", 1)
    user_ids = RoleAssignment.objects.filter(
        region=region,
        role__permissions__content_type__app_label=app_label,
        role__permissions__codename=codename,
    ).values("user_id")
    return User.objects.filter(pk__in=user_ids, is_active=True)


def users_with_perm_above(region: Region, perm: str) -> list[User]:
    """Holders of ``perm`` on the nearest region at or above ``region`` that has any."""
    ids = region.ancestor_ids()
    for rid in reversed(ids):
        users = list(users_with_perm_at(Region(pk=rid), perm))
        if users:
            return users
    return []


# --- selectors --------------------------------------------------------------------------------
def notification_list_for_user(user: Any, *, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient=user).select_related("case")
    return qs.filter(read_at__isnull=True) if unread_only else qs


def notification_unread_count(user: Any) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_mark_read(*, actor: Any, ids: Iterable[int] | None = None) -> int:
    """Mark the actor's own notifications read (all when ``ids`` is None)."""
    qs = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
