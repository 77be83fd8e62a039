from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from wangge.core import periodic
from wangge.core.models import PeriodicJobRun
from wangge.core.tests.periodic_tasks import touch

pytestmark = pytest.mark.django_db


@pytest.fixture
def only_test_job(monkeypatch):
    monkeypatch.setattr(periodic, "_REGISTRY", {})
    periodic.register_periodic("test.touch", timedelta(minutes=5), touch)


def test_a_due_job_is_enqueued_once_per_interval(only_test_job):
    assert periodic.enqueue_due_jobs() == ["test.touch"]
    assert periodic.enqueue_due_jobs() == []  # not due again yet
    assert DBTaskResult.objects.count() == 1
    run = PeriodicJobRun.objects.get(name="test.touch")
    assert run.last_result.startswith("enqueued ")


def test_a_job_is_due_again_after_its_interval(only_test_job):
    periodic.enqueue_due_jobs()
    PeriodicJobRun.objects.update(last_enqueued_at=timezone.now() - timedelta(minutes=6))
    assert periodic.enqueue_due_jobs() == ["test.touch"]
    assert DBTaskResult.objects.count() == 2
