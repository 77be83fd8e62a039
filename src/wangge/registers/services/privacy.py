"""PII access under PIPL: revealing identifiers, subject-access export and erasure of a person,
and the rotation of the data and blind-index keys."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.accounts.permissions import has_perm_at
from wangge.core.audit import audit_log
from wangge.core.exceptions import Conflict, PermissionDenied, ValidationError

from .. import crypto
from ..choices import Sex
from ..models import FLAG_COLUMNS, Organisation, Person, Visit
from .common import (
    O_PHONE,
    P_ID,
    P_PHONE,
    P_SENSITIVE,
    id_hash,
    person_sensitive,
    phone_hash,
    require_at,
    sensitive_counts_apply,
)

ERASED_NAME = "(已删除)"


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError(_("请填写事由"), errors={"reason": [str(_("请填写事由"))]})
    return reason[:200]


@transaction.atomic
def person_reveal(*, actor: Any, person: Person, reason: str) -> dict[str, str]:
    """Return the unmasked ID number and phone, recording who saw them, when and why."""
    require_at(actor, "registers.view_person", person.region_path)
    if not has_perm_at(actor, "registers.reveal_pii", person.region_path):
        raise PermissionDenied(_("您无权查看完整证件号码和电话"))
    if person.erased_at:
        raise Conflict(_("该人员的个人信息已删除"))
    reason = _reason(reason)
    audit_log(
        actor=actor,
        action="registers.person.reveal",
        obj=person,
        after={"reason": reason, "fields": ["id_number", "phone"]},
    )
    return {
        "id_number": crypto.decrypt(person.id_number_enc, P_ID),
        "phone": crypto.decrypt(person.phone_enc, P_PHONE),
    }


@transaction.atomic
def person_subject_export(*, actor: Any, person: Person, reason: str) -> dict[str, Any]:
    """Everything held about one person, unmasked, for a PIPL access request (audited)."""
    require_at(actor, "registers.export_person", person.region_path)
    if not has_perm_at(actor, "registers.reveal_pii", person.region_path):
        raise PermissionDenied(_("您无权查看完整证件号码和电话"))
    reason = _reason(reason)
    data: dict[str, Any] = {
        "name": person.name,
        "id_type": person.id_type,
        "id_number": crypto.decrypt(person.id_number_enc, P_ID),
        "sex": person.sex,
        "birth_date": person.birth_date.isoformat() if person.birth_date else None,
        "ethnicity": person.ethnicity,
        "phone": crypto.decrypt(person.phone_enc, P_PHONE),
        "registered_address": person.registered_address,
        "current_address": person.current_address,
        "registration_matches": person.registration_matches,
        "grid": person.grid.code,
        "household_no": person.household.household_no if person.household else None,
        "relation": person.relation,
        "flags": person.flags(),
        "flag_since": person.flag_since,
        "arrival_date": person.arrival_date.isoformat() if person.arrival_date else None,
        "special_groups": sorted(person_sensitive(person)),
        "visits": [
            {"kind": v.kind, "visited_at": v.visited_at.isoformat(), "notes": v.notes}
            for v in person.visits.order_by("visited_at")
        ],
        "tenancies": [
            {
                "house": t.house.address,
                "start": t.start_date.isoformat() if t.start_date else None,
                "end": t.end_date.isoformat() if t.end_date else None,
            }
            for t in person.tenancies.select_related("house")
        ],
    }
    audit_log(
        actor=actor, action="registers.person.subject_export", obj=person, after={"reason": reason}
    )
    return data


@transaction.atomic
def person_erase(*, actor: Any, person: Person, reason: str) -> Person:
    """PIPL erasure: drop identifiers, contact data, special groups and free-text addresses;
    keep a tombstone row so visits, tenancies and case history still resolve."""
    person = Person.objects.select_for_update().select_related("grid").get(pk=person.pk)
    require_at(actor, "registers.view_person", person.region_path)
    if not has_perm_at(actor, "registers.erase_person", person.region_path):
        raise PermissionDenied(_("您无权删除个人信息"))
    if person.erased_at:
        raise Conflict(_("该人员的个人信息已删除"))
    reason = _reason(reason)
    old_sensitive = person_sensitive(person)
    person.name = ERASED_NAME
    person.id_number_enc = ""
    person.id_number_hash = ""
    person.phone_enc = ""
    person.phone_hash = ""
    person.sensitive_enc = crypto.encrypt_json({}, P_SENSITIVE)
    person.birth_date = None
    person.sex = Sex.UNKNOWN
    person.ethnicity = ""
    person.registered_address = ""
    person.current_address = ""
    person.disability_grade = ""
    person.flag_since = {}
    person.arrival_date = None
    person.residence_permit_until = None
    for column in FLAG_COLUMNS.values():
        setattr(person, column, False)
    person.erased_at = timezone.now()
    person.version += 1
    person.save()
    Visit.objects.filter(person=person).update(notes="")
    sensitive_counts_apply(person.grid, set(old_sensitive), set())
    audit_log(
        actor=actor,
        action="registers.person.erase",
        obj=person,
        object_repr=f"person #{person.pk}",
        after={"reason": reason},
    )
    return person


# --- key rotation -------------------------------------------------------------------------------
ENCRYPTED_COLUMNS: list[tuple[type[Any], str, str]] = [
    (Person, "id_number_enc", P_ID),
    (Person, "phone_enc", P_PHONE),
    (Person, "sensitive_enc", P_SENSITIVE),
    (Organisation, "contact_phone_enc", O_PHONE),
]
# Blind indexes and the ciphertext column each is recomputed from: (model, hash column,
# encrypted column, its purpose, the hash function the services store).
INDEXED_COLUMNS: list[tuple[type[Any], str, str, str, Any]] = [
    (Person, "id_number_hash", "id_number_enc", P_ID, id_hash),
    (Person, "phone_hash", "phone_enc", P_PHONE, phone_hash),
    (Organisation, "contact_phone_hash", "contact_phone_enc", O_PHONE, phone_hash),
]


def _rotate_batch(model: type[Any], pks: list[int], counts: Counter[str]) -> None:
    """Bring one batch under the current data and index keys. The rows are re-read under a
    row lock, so a concurrent edit between the scan and the write is never overwritten."""
    name = model._meta.model_name
    enc = [(c, p) for m, c, p in ENCRYPTED_COLUMNS if m is model]
    idx = [(h, c, p, f) for m, h, c, p, f in INDEXED_COLUMNS if m is model]
    fields = ["pk", *(c for c, _p in enc), *(h for h, *_rest in idx)]
    changed: list[Any] = []
    dirty: set[str] = set()
    with transaction.atomic():
        for obj in model.objects.select_for_update().filter(pk__in=pks).only(*fields):
            plain: dict[str, str] = {}
            touched = False
            for column, purpose in enc:
                token = getattr(obj, column)
                if crypto.needs_rotation(token):
                    plain[column] = crypto.decrypt(token, purpose)
                    setattr(obj, column, crypto.encrypt(plain[column], purpose))
                    counts[f"{name}.{column}"] += 1
                    dirty.add(column)
                    touched = True
            for hash_column, column, purpose, hasher in idx:
                value = plain.get(column)
                if value is None:
                    value = crypto.decrypt(getattr(obj, column), purpose)
                digest = hasher(value) if value else ""
                if getattr(obj, hash_column) != digest:
                    setattr(obj, hash_column, digest)
                    counts[f"{name}.{hash_column}"] += 1
                    dirty.add(hash_column)
                    touched = True
            if touched:
                changed.append(obj)
        if changed:
            model.objects.bulk_update(changed, sorted(dirty), batch_size=500)


def rotate_keys(*, actor: Any = None, batch_size: int = 2000) -> dict[str, int]:
    """Re-encrypt every ciphertext not under the current data key and recompute every blind
    index under the current index key (``WANGGE_PII_INDEX_KEY``) from the decrypted value.

    Resumable and idempotent: each batch commits on its own and a second run changes nothing.
    While it runs, lookups also accept hashes under ``WANGGE_PII_OLD_INDEX_KEYS``, so search and
    de-duplication keep working; once it has finished the old index keys can be removed."""
    ring = crypto.keyring()
    counts: Counter[str] = Counter()
    for model in (Person, Organisation):
        last_pk = 0
        while True:
            pks = list(
                model.objects.filter(pk__gt=last_pk)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not pks:
                break
            last_pk = pks[-1]
            _rotate_batch(model, pks, counts)
    with transaction.atomic():
        audit_log(
            actor=actor or "system",
            action="registers.rotate_key",
            object_type="registers.keyring",
            object_id=ring.current_kid,
            after={**dict(counts), "index_key": ring.index_kid},
        )
    return dict(counts)
