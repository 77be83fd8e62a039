from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from wangge.core.audit import audit_log, audit_verify
from wangge.core.models import AuditRecord


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_intact_chain():
    if connection.vendor != "postgresql":
        pytest.skip("in-memory SQLite test databases do not support concurrent writers")
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for i in range(20):
                audit_log(actor=f"w{worker}", action="test.concurrent", object_id=i)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert AuditRecord.objects.count() == 80
    assert list(audit_verify()) == []
