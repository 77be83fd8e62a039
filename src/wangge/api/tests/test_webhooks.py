"""Webhooks: case events → signed POSTs to a real receiver on loopback, retries with backoff,
the delivery log, replay, and the administrators' page."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from wangge.accounts.tests.factories import make_user
from wangge.api.choices import DeliveryState
from wangge.api.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from wangge.api.webhooks import (
    delivery_replay,
    subscription_create,
    webhook_attempt,
    webhooks_retry_due,
)
from wangge.cases.choices import CaseState, Source
from wangge.cases.services import case_create, case_transition
from wangge.cases.tests.factories import centre, make_case
from wangge.core.exceptions import PermissionDenied, ValidationError

from .receiver import start_receiver

pytestmark = pytest.mark.django_db
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def receiver():
    rec, server = start_receiver()
    yield rec
    server.shutdown()
    server.server_close()


@pytest.fixture
def admin(world):
    return make_user("hookadmin", role="sysadmin", region=world.tree.streets[0])


@pytest.fixture
def sub(world, admin, receiver):
    sub, _secret = subscription_create(
        actor=admin,
        name="城运中心",
        url=receiver.url,
        events=["case.created", "case.state_changed", "case.rated", "case.overdue"],
        region=world.tree.streets[0],
    )
    return sub


def report(world: Any, grid: Any = None) -> Any:
    lon, lat = centre(grid or world.grid)
    return case_create(
        actor=None,
        source=Source.RESIDENT,
        title="小区门口暴露垃圾",
        lon=lon,
        lat=lat,
        reporter_name="李小红",
        reporter_phone="13912345678",
    ).case


def test_a_new_case_is_posted_signed_and_logged(
    world, sub, receiver, settings, django_capture_on_commit_callbacks
) -> None:
    settings.TASKS = IMMEDIATE
    with django_capture_on_commit_callbacks(execute=True):
        case = report(world)
    (got,) = receiver.received
    body = json.loads(got.body)
    assert body["type"] == "case.created"
    assert body["data"]["case"]["tracking_code"] == case.tracking_code
    assert "13912345678" not in got.body.decode() and "李小红" not in got.body.decode()
    ts = got.headers["X-Wangge-Timestamp"]
    expected = hmac.new(sub.secret.encode(), ts.encode() + b"." + got.body, hashlib.sha256)
    assert got.headers["X-Wangge-Signature"] == "sha256=" + expected.hexdigest()
    assert got.headers["X-Wangge-Event"] == "case.created"
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.SUCCEEDED and delivery.attempts == 1
    (attempt,) = delivery.log.all()
    assert attempt.status_code == 200 and attempt.response_excerpt == "ok"


def test_only_subscriptions_covering_the_case_and_the_event_receive_it(
    world, sub, receiver, settings, django_capture_on_commit_callbacks
) -> None:
    settings.TASKS = IMMEDIATE
    with django_capture_on_commit_callbacks(execute=True):
        report(world, world.other_grid)  # another street
    assert receiver.received == [] and not WebhookDelivery.objects.exists()
    sub.events = ["case.rated"]
    sub.save(update_fields=["events"])
    with django_capture_on_commit_callbacks(execute=True):
        report(world)
    assert receiver.received == []


def test_a_subscription_written_elsewhere_is_seen_within_the_check_interval(
    world, sub, monkeypatch
) -> None:
    """Each process keeps the active subscriptions for CHECK_INTERVAL_SECONDS. A subscription
    another process created is seen once the interval has passed; one it deleted or switched
    off gets no delivery even while this process's copy still names it."""
    from wangge.api import webhooks

    clock = [1000.0]
    monkeypatch.setattr(webhooks.time, "monotonic", lambda: clock[0])
    webhooks.forget_subscriptions()
    report(world)
    assert WebhookDelivery.objects.filter(subscription=sub).count() == 1
    other = WebhookSubscription.objects.create(
        name="elsewhere", url=sub.url, secret="s", events=["case.created"], region=sub.region
    )
    # As if the row had been written by another process: this one still has its older copy.
    entry = (sub.pk, sub.region.path, frozenset(["case.created"]))
    webhooks._subs = (clock[0], [entry])
    report(world)
    assert not WebhookDelivery.objects.filter(subscription=other).exists()
    clock[0] += webhooks.CHECK_INTERVAL_SECONDS
    report(world)
    assert WebhookDelivery.objects.filter(subscription=other).count() == 1
    WebhookSubscription.objects.filter(pk=sub.pk).update(is_active=False)
    WebhookSubscription.objects.filter(pk=other.pk).delete()
    webhooks._subs = (clock[0], [entry, (other.pk, sub.region.path, frozenset(["case.created"]))])
    before = WebhookDelivery.objects.count()
    report(world)
    assert WebhookDelivery.objects.count() == before


def test_state_changes_ratings_and_escalations_are_events(
    world, sub, receiver, settings, django_capture_on_commit_callbacks
) -> None:
    from wangge.core import events

    settings.TASKS = IMMEDIATE
    case = make_case(world, state=CaseState.VERIFIED)
    with django_capture_on_commit_callbacks(execute=True):
        case = case_transition(
            actor=world.dispatcher, case=case, action="close", expected_version=case.version
        )
    with django_capture_on_commit_callbacks(execute=True):
        case_transition(
            actor=world.dispatcher, case=case, action="rate", expected_version=case.version, score=5
        )
    with django_capture_on_commit_callbacks(execute=True):
        events.emit("case.escalated", case=case, from_level="grid", to_level="community")
    types = [json.loads(r.body)["type"] for r in receiver.received]
    assert types == ["case.state_changed", "case.state_changed", "case.rated", "case.overdue"]
    first = json.loads(receiver.received[0].body)["data"]
    assert first["previous_state"] == "verified" and first["case"]["state"] == "closed"
    assert json.loads(receiver.received[2].body)["data"]["rating"] == 5


def test_failures_are_retried_with_exponential_backoff_then_given_up(
    world, sub, receiver, settings, django_capture_on_commit_callbacks
) -> None:
    settings.TASKS = IMMEDIATE
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    receiver.statuses.extend([500, 503, 500])
    start = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        report(world)
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.RETRYING and delivery.last_status == 500
    assert delivery.next_attempt_at - start >= timedelta(seconds=30)
    # Not yet due: nothing happens.
    assert webhooks_retry_due(now=start + timedelta(seconds=10)) == 0
    assert webhooks_retry_due(now=delivery.next_attempt_at) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.state == DeliveryState.RETRYING
    second_wait = delivery.next_attempt_at - list(delivery.log.all())[1].attempted_at
    assert second_wait == timedelta(seconds=60)
    webhook_attempt(delivery.pk, now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED and delivery.attempts == 3
    assert [a.status_code for a in delivery.log.all()] == [500, 503, 500]
    assert len(receiver.received) == 3


def test_an_unreachable_receiver_is_logged_and_retried(world, admin, settings) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    _sub, _ = subscription_create(
        actor=admin,
        name="down",
        url=f"http://127.0.0.1:{port}/",
        events=["case.created"],
        region=world.tree.streets[0],
    )
    with transaction.atomic():
        report(world)
    delivery = WebhookDelivery.objects.get()
    webhook_attempt(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.RETRYING and delivery.last_status is None
    assert "Connection" in delivery.log.get().error or "refused" in delivery.log.get().error


def test_the_database_queue_defers_the_retry(world, sub, receiver) -> None:
    from django_tasks_db.models import DBTaskResult

    receiver.statuses.append(500)
    report(world)  # the delivery task is written with the case (database queue)
    (queued,) = DBTaskResult.objects.filter(task_path__endswith="deliver_webhook")
    delivery = WebhookDelivery.objects.get()
    webhook_attempt(delivery.pk)
    delivery.refresh_from_db()
    retry = DBTaskResult.objects.filter(task_path__endswith="deliver_webhook").exclude(pk=queued.pk)
    assert retry.get().run_after == delivery.next_attempt_at


def test_a_rolled_back_case_sends_nothing(world, sub, receiver, settings) -> None:
    settings.TASKS = IMMEDIATE
    with pytest.raises(RuntimeError), transaction.atomic():
        report(world)
        raise RuntimeError("abort")
    assert not WebhookDelivery.objects.exists() and receiver.received == []


def test_replay_sends_the_same_event_again(
    world, sub, admin, receiver, settings, django_capture_on_commit_callbacks
) -> None:
    settings.TASKS = IMMEDIATE
    with django_capture_on_commit_callbacks(execute=True):
        report(world)
    first = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        copy = delivery_replay(actor=admin, delivery=first)
    copy.refresh_from_db()
    assert copy.replay_of == first and copy.event_id == first.event_id
    assert copy.state == DeliveryState.SUCCEEDED
    assert [json.loads(r.body)["id"] for r in receiver.received] == [first.event_id] * 2
    outsider = make_user("outside_admin", role="sysadmin", region=world.tree.streets[1])
    with pytest.raises(PermissionDenied):
        delivery_replay(actor=outsider, delivery=first)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("url", "ftp://example.org/x"),
        ("url", "not a url"),
        ("events", ["case.deleted"]),
        ("events", []),
        ("name", ""),
    ],
)
def test_bad_subscriptions_are_refused(world, admin, field, value) -> None:
    data = {"name": "x", "url": "https://example.org/hook", "events": ["case.created"]}
    data[field] = value
    with pytest.raises(ValidationError):
        subscription_create(actor=admin, region=world.tree.streets[0], **data)
    assert not WebhookSubscription.objects.exists()


# --- Pages -------------------------------------------------------------------------------------


def test_admin_creates_a_subscription_and_sees_the_secret_once(world, admin, receiver) -> None:
    client = Client()
    client.force_login(admin)
    response = client.post(
        "/integrations/webhooks/",
        {
            "name": "12345平台",
            "url": receiver.url,
            "events": ["case.created", "case.rated"],
            "region": world.tree.streets[0].code,
        },
    )
    assert response.status_code == 200, response.content[:500]
    sub = WebhookSubscription.objects.get()
    assert sub.secret in response.content.decode()
    page = client.get("/integrations/webhooks/").content.decode()
    assert "12345平台" in page and sub.secret not in page
    out = client.post(
        "/integrations/webhooks/",
        {
            "name": "x",
            "url": receiver.url,
            "events": ["case.created"],
            "region": world.tree.streets[1].code,
        },
    )
    assert out.status_code == 422 and WebhookSubscription.objects.count() == 1


def test_the_log_page_and_the_htmx_replay_button(
    world, sub, admin, receiver, settings, django_capture_on_commit_callbacks
) -> None:
    settings.TASKS = IMMEDIATE
    receiver.statuses.append(500)
    with django_capture_on_commit_callbacks(execute=True):
        report(world)
    delivery = WebhookDelivery.objects.get()
    client = Client()
    client.force_login(admin)
    page = client.get(f"/integrations/webhooks/{sub.pk}/").content.decode()
    assert f'data-testid="delivery-{delivery.pk}"' in page and "HTTP 500" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/integrations/deliveries/{delivery.pk}/replay/", HTTP_HX_REQUEST="true"
        )
    assert response.status_code == 200
    copy = WebhookDelivery.objects.exclude(pk=delivery.pk).get()
    assert f'data-testid="delivery-{copy.pk}"' in response.content.decode()
    copy.refresh_from_db()
    assert copy.state == DeliveryState.SUCCEEDED
    assert WebhookAttempt.objects.count() == 2
    client.post(f"/integrations/webhooks/{sub.pk}/active/", {"active": "0"})
    sub.refresh_from_db()
    assert not sub.is_active
