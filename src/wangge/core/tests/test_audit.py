from __future__ import annotations

import pytest
from django.core.management import call_command

from wangge.core.audit import audit_log, audit_verify
from wangge.core.models import AuditRecord

pytestmark = pytest.mark.django_db


def _chain(n: int = 5) -> list[AuditRecord]:
    return [
        audit_log(
            actor="tester",
            action="test.action",
            object_type="thing",
            object_id=i,
            after={"n": i, "name": "网格"},
        )
        for i in range(n)
    ]


def test_intact_chain_verifies():
    _chain()
    assert list(audit_verify()) == []


def test_altered_record_is_named():
    records = _chain()
    AuditRecord.objects.filter(pk=records[2].pk).update(after={"n": 99})
    problems = list(audit_verify())
    assert [(p.kind, p.seq) for p in problems] == [("altered", 3)]


def test_deleted_record_is_named():
    records = _chain()
    AuditRecord.objects.filter(pk=records[1].pk).delete()
    kinds = {(p.kind, p.seq) for p in audit_verify()}
    assert ("deleted", 3) in kinds


def test_deleted_tail_is_detected():
    records = _chain()
    AuditRecord.objects.filter(pk=records[-1].pk).delete()
    assert [p.kind for p in audit_verify()] == ["head"]


def test_reordered_records_are_detected():
    records = _chain()
    a, b = records[1], records[2]
    # swap the content of two records but keep their sequence numbers and recompute nothing
    AuditRecord.objects.filter(pk=a.pk).update(seq=-1)
    AuditRecord.objects.filter(pk=b.pk).update(seq=a.seq)
    AuditRecord.objects.filter(pk=a.pk).update(seq=b.seq)
    kinds = [p.kind for p in audit_verify()]
    assert "reordered" in kinds or "altered" in kinds
    assert kinds


def test_verify_command_exits_non_zero_and_names_the_record(capsys):
    records = _chain()
    AuditRecord.objects.filter(pk=records[3].pk).update(action="forged")
    with pytest.raises(SystemExit) as exc:
        call_command("audit", "verify")
    assert exc.value.code == 1
    assert "seq=4" in capsys.readouterr().err


def test_verify_command_ok(capsys):
    _chain(3)
    call_command("audit", "verify")
    assert "3 audit records" in capsys.readouterr().out


def test_deleting_a_user_named_in_the_log_keeps_the_chain_intact():
    from wangge.accounts.models import User

    user = User.objects.create_user("leaver", password="x-Wangge-2026")
    audit_log(actor=user, action="test.by_user")
    user.delete()
    assert list(audit_verify()) == []
    assert AuditRecord.objects.get(action="test.by_user").actor_name == "leaver"


def test_the_returned_record_is_the_stored_one():
    record = _chain(2)[1]
    stored = AuditRecord.objects.get(pk=record.pk)
    assert (stored.seq, stored.prev_hash, stored.hash) == (2, record.prev_hash, record.hash)
    assert stored.digest_version == 2 and stored.after == {"n": 1, "name": "网格"}


def test_the_database_and_python_compute_the_same_digest():
    """On PostgreSQL the append statement hashes; verification recomputes in Python."""
    from wangge.core.audit import _digest_of

    for record in AuditRecord.objects.order_by("seq").all():
        assert _digest_of(record) == record.hash
    _chain(3)
    assert all(_digest_of(r) == r.hash for r in AuditRecord.objects.all())


def test_records_of_the_first_digest_version_still_verify():
    """A chain written by an earlier release (digest v1) continues with v2 records."""
    from wangge.core.audit import _digest_v1
    from wangge.core.models import AuditHead

    records = _chain(2)
    for r in records:  # rewrite them as the first releases wrote them
        r.digest_version = 1
        r.prev_hash = records[0].prev_hash if r.seq == 1 else records[0].hash
        r.hash = _digest_v1(r)
        AuditRecord.objects.filter(pk=r.pk).update(digest_version=1, hash=r.hash)
        if r.seq == 1:
            records[0] = r
    AuditRecord.objects.filter(pk=records[1].pk).update(prev_hash=records[0].hash)
    last = AuditRecord.objects.get(pk=records[1].pk)
    last.hash = _digest_v1(last)
    AuditRecord.objects.filter(pk=last.pk).update(hash=last.hash)
    AuditHead.objects.filter(id=1).update(last_hash=last.hash)
    audit_log(actor="tester", action="test.after_upgrade")
    assert list(AuditRecord.objects.order_by("seq").values_list("digest_version", flat=True)) == [
        1,
        1,
        2,
    ]
    assert list(audit_verify()) == []


def test_flipping_the_digest_version_is_detected():
    records = _chain(3)
    AuditRecord.objects.filter(pk=records[1].pk).update(digest_version=1)
    assert [(p.kind, p.seq) for p in audit_verify()] == [("altered", 2)]
