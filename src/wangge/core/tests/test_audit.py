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
