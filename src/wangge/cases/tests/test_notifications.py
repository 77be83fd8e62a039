from __future__ import annotations

import pytest
from django.core import mail

from wangge.cases.choices import CaseState
from wangge.cases.models import DeliveryAttempt, Notification
from wangge.cases.notifications import (
    ADAPTERS,
    deliver,
    notification_list_for_user,
    notification_mark_read,
    notification_unread_count,
    notify,
    register_adapter,
)
from wangge.cases.services import case_transition
from wangge.cases.tasks import deliver_notifications
from wangge.core.exceptions import Conflict

from .factories import make_case

pytestmark = pytest.mark.django_db


def test_in_app_notifications_have_unread_counts_and_a_list(world):
    notify(recipients=[world.worker, world.worker], kind="state", title="一")
    notify(recipients=[world.worker], kind="state", title="二")
    assert notification_unread_count(world.worker) == 2  # the same person once per notice
    assert [n.title for n in notification_list_for_user(world.worker)] == ["二", "一"]
    assert notification_mark_read(actor=world.secretary) == 0  # only one's own
    assert notification_mark_read(actor=world.worker) == 2
    assert notification_unread_count(world.worker) == 0


def test_a_dedupe_key_sends_a_notice_once_per_person(world):
    notify(recipients=[world.worker], kind="reminder", title="x", dedupe_key="k")
    notify(recipients=[world.worker, world.worker2], kind="reminder", title="x", dedupe_key="k")
    assert Notification.objects.filter(recipient=world.worker).count() == 1
    assert Notification.objects.filter(recipient=world.worker2).count() == 1


def test_delivery_goes_through_every_configured_adapter_and_is_recorded(
    world, settings, monkeypatch
):
    settings.WANGGE_NOTIFY_ADAPTERS = ["console", "email", "sms"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    class BrokenSms:
        name = "sms"

        def send(self, notification):
            raise RuntimeError("gateway down")

    monkeypatch.setitem(ADAPTERS, "sms", BrokenSms)  # what register_adapter does
    world.worker.email = "worker@example.org"
    world.worker.save()
    [n] = notify(recipients=[world.worker], kind="state", title="测试", body="正文")
    deliver([n.pk])
    statuses = dict(DeliveryAttempt.objects.filter(notification=n).values_list("adapter", "status"))
    assert statuses == {"console": "sent", "email": "sent", "sms": "failed"}
    assert mail.outbox[0].subject == "测试"
    [m] = notify(recipients=[world.worker2], kind="state", title="无邮箱")
    deliver([m.pk])
    assert DeliveryAttempt.objects.get(notification=m, adapter="email").status == "skipped"


def test_a_notice_is_delivered_by_a_background_task_after_commit(
    world, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    case = make_case(world, state=CaseState.ACCEPTED)
    with django_capture_on_commit_callbacks(execute=True):
        case_transition(
            actor=world.secretary,
            case=case,
            action="dispatch",
            expected_version=1,
            assignee=world.worker.pk,
        )
    n = Notification.objects.get(recipient=world.worker)
    assert n.kind == "assigned" and n.case == case
    assert DeliveryAttempt.objects.filter(notification=n, adapter="console").exists()


def test_nothing_is_sent_when_the_transition_fails(world, django_capture_on_commit_callbacks):
    case = make_case(world, state=CaseState.ACCEPTED)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Conflict):
        case_transition(
            actor=world.secretary,
            case=case,
            action="dispatch",
            expected_version=9,
            assignee=world.worker.pk,
        )
    assert not Notification.objects.exists()


def test_the_delivery_task_is_a_django_task_and_adapters_can_be_plugged_in(monkeypatch):
    assert deliver_notifications.name.endswith("deliver_notifications")
    monkeypatch.setitem(ADAPTERS, "x", object)
    register_adapter("x", dict)
    assert ADAPTERS["x"] is dict
