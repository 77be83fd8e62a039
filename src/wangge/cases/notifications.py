"""Notifications: in-app rows plus delivery through adapters (SMS / WeChat / DingTalk later;
console and e-mail for development). Every delivery try is a :class:`DeliveryAttempt` row.

Adapters are chosen by ``settings.WANGGE_NOTIFY_ADAPTERS`` (default ``["console"]``)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from wangge.accounts.models import RoleAssignment, User
from wangge.geo.models import Region

from .choices import DeliveryStatus
from .models import Case, DeliveryAttempt, Notification

log = logging.getLogger("wangge.cases.notify")


@dataclass(frozen=True)
class DeliveryResult:
    status: str
    detail: str = ""


class Adapter(Protocol):
    name: str

    def send(self, notification: Notification) -> DeliveryResult: ...


class ConsoleAdapter:
    """Logs the message; the development default."""

    name = "console"

    def send(self, notification: Notification) -> DeliveryResult:
        who = notification.recipient or notification.address or "-"
        log.info("notify %s: %s — %s", who, notification.title, notification.body)
        return DeliveryResult(DeliveryStatus.SENT)


class EmailAdapter:
    """Sends through django.core.mail (console/file/SMTP backend as configured)."""

    name = "email"

    def send(self, notification: Notification) -> DeliveryResult:
        email = getattr(notification.recipient, "email", "") or ""
        if not email:
            return DeliveryResult(DeliveryStatus.SKIPPED, "no e-mail address")
        send_mail(
            subject=notification.title,
            message=notification.body,
            from_email=None,
            recipient_list=[email],
        )
        return DeliveryResult(DeliveryStatus.SENT, email)


ADAPTERS: dict[str, type] = {"console": ConsoleAdapter, "email": EmailAdapter}


def register_adapter(name: str, adapter: type) -> None:
    """Deployments plug in SMS / WeChat / DingTalk adapters here."""
    ADAPTERS[name] = adapter


def configured_adapters() -> list[Adapter]:
    names = getattr(settings, "WANGGE_NOTIFY_ADAPTERS", None) or ["console"]
    return [ADAPTERS[n]() for n in names if n in ADAPTERS]


def deliver(notification_ids: Iterable[int]) -> int:
    """Send each notification through every adapter, recording each attempt."""
    count = 0
    for n in Notification.objects.filter(pk__in=list(notification_ids)).select_related("recipient"):
        for adapter in configured_adapters():
            try:
                result = adapter.send(n)
            except Exception as exc:  # a failing channel must not stop the others
                result = DeliveryResult(DeliveryStatus.FAILED, str(exc)[:500])
            DeliveryAttempt.objects.create(
                notification=n, adapter=adapter.name, status=result.status, detail=result.detail
            )
            count += 1
    return count


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
