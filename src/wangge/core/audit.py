"""Append-only, hash-chained audit log.

Services call :func:`audit_log` inside their transaction. The chain tip lives in one
``AuditHead`` row that is locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite serialises
writers itself) so concurrent writers append in a single order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from .context import client_ip_var, current_request_id
from .models import AuditHead, AuditRecord

GENESIS = "0" * 64


def _jsonable(value: Any) -> Any:
    """Normalise before/after payloads so they hash identically after a database round trip."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


def record_digest(
    *,
    seq: int,
    created_at: datetime,
    actor_id: int | None,
    actor_name: str,
    action: str,
    object_type: str,
    object_id: str,
    object_repr: str,
    region_path: str,
    before: Any,
    after: Any,
    request_id: str,
    ip_address: str,
    prev_hash: str,
) -> str:
    payload = {
        "seq": seq,
        "created_at": created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": actor_id,
        "actor_name": actor_name,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "object_repr": object_repr,
        "region_path": region_path,
        "before": before,
        "after": after,
        "request_id": request_id,
        "ip_address": ip_address,
        "prev_hash": prev_hash,
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _digest_of(record: AuditRecord) -> str:
    return record_digest(
        seq=record.seq,
        created_at=record.created_at,
        actor_id=record.actor_id,
        actor_name=record.actor_name,
        action=record.action,
        object_type=record.object_type,
        object_id=record.object_id,
        object_repr=record.object_repr,
        region_path=record.region_path,
        before=record.before,
        after=record.after,
        request_id=record.request_id,
        ip_address=record.ip_address,
        prev_hash=record.prev_hash,
    )


def audit_log(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
    region_path: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditRecord:
    """Append one audit record. ``actor`` may be a user, ``None`` (system) or a string."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:255]
        region_path = region_path or getattr(obj, "audit_region_path", "") or ""
    actor_id = (
        getattr(actor, "pk", None) if actor is not None and not isinstance(actor, str) else None
    )
    if isinstance(actor, str):
        actor_name = actor
    elif actor is None:
        actor_name = "system"
    else:
        actor_name = actor.get_username()
    # Join the caller's transaction without a savepoint: a failed append must fail the whole
    # business write anyway, and the savepoint costs two round trips per audited write.
    with transaction.atomic(savepoint=False):
        head, _ = AuditHead.objects.select_for_update().get_or_create(id=1)
        record = AuditRecord(
            seq=head.last_seq + 1,
            created_at=timezone.now(),
            actor_id=actor_id,
            actor_name=actor_name[:150],
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            object_repr=object_repr[:255],
            region_path=region_path[:255],
            before=_jsonable(before),
            after=_jsonable(after),
            request_id=current_request_id(),
            ip_address=client_ip_var.get() or "",
            prev_hash=head.last_hash,
        )
        record.hash = _digest_of(record)
        record.save(force_insert=True)
        head.last_seq = record.seq
        head.last_hash = record.hash
        head.save(update_fields=["last_seq", "last_hash"])
    return record


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    record_id: int | None
    kind: str  # altered | deleted | reordered | head
    detail: str


def audit_verify(batch_size: int = 5000) -> Iterator[ChainProblem]:
    """Walk the chain in ``seq`` order and yield every break found.

    * altered  — a record's stored hash no longer matches its content;
    * deleted  — a gap in ``seq`` (the record before it is gone);
    * reordered — a record's ``prev_hash`` is not the previous record's hash;
    * head     — the newest records were removed (the head points past the last record).
    """
    expected_prev = GENESIS
    expected_seq = 1
    last_id: int | None = None
    qs = AuditRecord.objects.order_by("seq")
    last_seq_seen = 0
    for record in qs.iterator(chunk_size=batch_size):
        if record.seq != expected_seq:
            yield ChainProblem(
                record.seq,
                record.pk,
                "deleted",
                f"records {expected_seq}..{record.seq - 1} are missing before #{record.seq}",
            )
        elif record.prev_hash != expected_prev:
            yield ChainProblem(
                record.seq,
                record.pk,
                "reordered",
                f"#{record.seq} does not follow the record before it (prev_hash mismatch)",
            )
        if _digest_of(record) != record.hash:
            yield ChainProblem(
                record.seq, record.pk, "altered", f"#{record.seq} content does not match its hash"
            )
        expected_prev = record.hash
        expected_seq = record.seq + 1
        last_id = record.pk
        last_seq_seen = record.seq
    head = AuditHead.objects.filter(id=1).first()
    if head and (
        head.last_seq != last_seq_seen or (last_seq_seen and head.last_hash != expected_prev)
    ):
        yield ChainProblem(
            head.last_seq,
            last_id,
            "head",
            f"the chain head says #{head.last_seq} but the last record is #{last_seq_seen}",
        )
