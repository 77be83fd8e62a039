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
from django.db import connection, models, transaction
from django.utils import timezone

from .context import client_ip_var, current_request_id
from .db import prepared_cursor
from .models import AuditHead, AuditRecord

GENESIS = "0" * 64


def _jsonable(value: Any) -> Any:
    """Normalise before/after payloads so they hash identically after a database round trip."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


DIGEST_VERSION = 2

# The body: every field but the chain links, as one canonical JSON text.
_BODY_FIELDS = (
    "created_at",
    "actor_id",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "region_path",
    "before",
    "after",
    "request_id",
    "ip_address",
)


def _when(created_at: datetime) -> str:
    return created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _canonical(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def record_body(
    *,
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
) -> str:
    return _canonical(
        {
            "created_at": _when(created_at),
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
        }
    )


def digest_v2(*, seq: int, prev_hash: str, body: str) -> str:
    """``sha256("v2|<seq>|<prev_hash>|<body>")``; the PostgreSQL append computes the same."""
    return hashlib.sha256(f"v2|{seq}|{prev_hash}|{body}".encode()).hexdigest()


def _digest_v1(record: AuditRecord) -> str:
    payload = {f: getattr(record, f) for f in _BODY_FIELDS}
    payload.update(created_at=_when(record.created_at), seq=record.seq, prev_hash=record.prev_hash)
    return hashlib.sha256(_canonical(payload).encode("utf-8")).hexdigest()


def _digest_of(record: AuditRecord) -> str:
    if record.digest_version == 1:
        return _digest_v1(record)
    if record.digest_version != 2:
        return ""  # an unknown version never verifies
    body = record_body(**{f: getattr(record, f) for f in _BODY_FIELDS})
    return digest_v2(seq=record.seq, prev_hash=record.prev_hash, body=body)


# PostgreSQL: one statement locks the head row, advances it — the new hash is computed from the
# old head inside the UPDATE — and inserts the record. The head's row lock is taken here, as late
# as possible, and held only until the caller's COMMIT; a concurrent append waits on it and then
# re-evaluates the UPDATE against the committed head (READ COMMITTED), so the chain stays linear.
_PG_APPEND = """
WITH h AS (
    UPDATE core_audithead
       SET last_seq = last_seq + 1,
           prev_hash = last_hash,
           last_hash = encode(sha256(convert_to(
               'v2|' || (last_seq + 1)::text || '|' || last_hash || '|' || %s, 'UTF8')), 'hex')
     WHERE id = 1
    RETURNING last_seq, prev_hash, last_hash
)
INSERT INTO core_auditrecord (
    seq, prev_hash, hash, digest_version, created_at, actor_id, actor_name, action, object_type,
    object_id, object_repr, region_path, before, after, request_id, ip_address)
SELECT h.last_seq, h.prev_hash, h.last_hash, 2, %s, %s, %s, %s, %s, %s, %s, %s,
       %s::jsonb, %s::jsonb, %s, %s
  FROM h
RETURNING id, seq, prev_hash, hash
"""


def _append_postgresql(record: AuditRecord, body: str) -> bool:
    """Append ``record`` in one round trip; False when the head row does not exist yet."""
    params: list[Any] = [
        body,
        record.created_at,
        record.actor_id,
        record.actor_name,
        record.action,
        record.object_type,
        record.object_id,
        record.object_repr,
        record.region_path,
        None if record.before is None else json.dumps(record.before, ensure_ascii=False),
        None if record.after is None else json.dumps(record.after, ensure_ascii=False),
        record.request_id,
        record.ip_address,
    ]
    # Prepared once per connection (its text never changes): half of the statement's server
    # CPU was parsing and planning it (ADR 0025).
    with prepared_cursor() as cursor:
        cursor.execute(_PG_APPEND, params)
        row = cursor.fetchone()
    if row is None:
        return False
    record.pk, record.seq, record.prev_hash, record.hash = row
    record._state.adding = False
    record._state.db = connection.alias
    return True


# SQLite (the only other database the project runs on): writers are serialised by the database
# (BEGIN IMMEDIATE), so the head is advanced and
# read back in one UPDATE … RETURNING (SHA256 is the function Django registers on every SQLite
# connection; the SET expressions read the row as it was) and the record is inserted after it.
_SQLITE_ADVANCE = """
UPDATE core_audithead
   SET last_seq = last_seq + 1,
       prev_hash = last_hash,
       last_hash = SHA256('v2|' || (last_seq + 1) || '|' || last_hash || '|' || %s)
 WHERE id = 1
RETURNING last_seq, prev_hash, last_hash
"""


def _append_sqlite(record: AuditRecord, body: str) -> bool:
    """Append ``record`` in two statements; False when the head row does not exist yet."""
    with connection.cursor() as cursor:
        cursor.execute(_SQLITE_ADVANCE, [body])
        row = cursor.fetchone()
    if row is None:
        return False
    record.seq, record.prev_hash, record.hash = row
    record.save(force_insert=True)
    return True


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
    """Append one audit record. ``actor`` may be a user, ``None`` (system) or a string.

    Call it as the last write of a business transaction where possible: on PostgreSQL the chain
    head stays locked from the append until the transaction commits."""
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
    record = AuditRecord(
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
        digest_version=DIGEST_VERSION,
    )
    body = record_body(**{f: getattr(record, f) for f in _BODY_FIELDS})
    # Join the caller's transaction without a savepoint: a failed append must fail the whole
    # business write anyway, and a savepoint costs two round trips per audited write.
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            if not _append_postgresql(record, body):
                AuditHead.objects.get_or_create(id=1)
                if not _append_postgresql(record, body):  # pragma: no cover - head just made
                    raise RuntimeError("audit chain head missing")
        elif not _append_sqlite(record, body):
            AuditHead.objects.get_or_create(id=1)
            if not _append_sqlite(record, body):  # pragma: no cover - head just made
                raise RuntimeError("audit chain head missing")
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
