"""Rotating the blind-index key (decision 0022): search and de-duplication work before, during
and after ``rotate-key``, and the old index key matches nothing afterwards."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.management import call_command

from wangge.core.exceptions import Conflict
from wangge.core.models import AuditRecord
from wangge.registers import crypto
from wangge.registers.excel.importer import run_import
from wangge.registers.models import Organisation, Person
from wangge.registers.selectors import PersonFilters, person_list_for_user
from wangge.registers.services import H_ID, organisation_create, rotate_keys
from wangge.registers.tests.factories import credit_code, make_person, people_xlsx, resident_id

pytestmark = pytest.mark.django_db

ID = resident_id(date(1950, 6, 7), seq=11)
PHONE = "13700001111"
NEW_INDEX_KEY = "a-new-blind-index-key-for-the-rotation-test"


def _found(user, q):
    return list(person_list_for_user(user, PersonFilters(q=q)).values_list("pk", flat=True))


def test_search_keeps_working_during_and_after_an_index_key_rotation(world, settings):
    person = make_person(world.g_a, id_number=ID, phone=PHONE)
    old_key = settings.WANGGE_PII_INDEX_KEY
    old_hash = person.id_number_hash

    # Step 1: the new key is current, the old one is still accepted for lookups.
    settings.WANGGE_PII_INDEX_KEY = NEW_INDEX_KEY
    settings.WANGGE_PII_OLD_INDEX_KEYS = [old_key]
    assert _found(world.worker_a, ID) == _found(world.worker_a, PHONE) == [person.pk]
    with pytest.raises(Conflict):  # de-duplication still sees the not yet rotated record
        make_person(world.g_a, id_number=ID)

    # Step 2: rotate; only the indexes change (the data key did not).
    counts = rotate_keys(actor=world.worker_a)
    assert counts == {"person.id_number_hash": 1, "person.phone_hash": 1}
    assert rotate_keys() == {}  # idempotent
    record = AuditRecord.objects.filter(action="registers.rotate_key").first()
    assert record is not None and record.after["index_key"] == crypto.keyring().index_kid

    # Step 3: the old key retired. Search by ID and phone still finds the person …
    settings.WANGGE_PII_OLD_INDEX_KEYS = []
    assert _found(world.worker_a, ID) == _found(world.worker_a, PHONE) == [person.pk]
    person.refresh_from_db()
    assert person.id_number_hash == crypto.blind_index(ID, H_ID) != old_hash
    # … and a hash under the old key matches nothing any more.
    assert not Person.objects.filter(id_number_hash=old_hash).exists()
    settings.WANGGE_PII_INDEX_KEY = old_key
    assert _found(world.worker_a, ID) == _found(world.worker_a, PHONE) == []


def test_without_the_old_key_search_misses_until_the_rotation_ran(world, settings):
    person = make_person(world.g_a, id_number=ID, phone=PHONE)
    settings.WANGGE_PII_INDEX_KEY = NEW_INDEX_KEY
    assert _found(world.worker_a, ID) == []
    rotate_keys()
    assert _found(world.worker_a, ID) == [person.pk]


def test_an_update_import_during_rotation_updates_instead_of_duplicating(world, settings):
    person = make_person(world.g_a, id_number=ID, name="旧名")
    settings.WANGGE_PII_OLD_INDEX_KEYS = [settings.WANGGE_PII_INDEX_KEY]
    settings.WANGGE_PII_INDEX_KEY = NEW_INDEX_KEY
    row = {"grid": world.g_a.code, "name": "新名", "id_number": ID}
    result = run_import(
        actor=world.worker_a,
        kind="people",
        source=io.BytesIO(people_xlsx([row])),
        dry_run=False,
        on_duplicate="update",
    )
    assert (result.created, result.updated, result.error_count) == (0, 1, 0)
    person.refresh_from_db()
    assert person.name == "新名" and person.id_number_hash == crypto.blind_index(ID, H_ID)


def test_rotate_key_command_recomputes_organisation_phone_indexes(world, settings, capsys):
    org = organisation_create(
        actor=world.secretary,
        grid=world.g_a,
        credit_code=credit_code(),
        name="测试公司",
        address="测试路1号",
        kind="enterprise",
        contact_phone=PHONE,
    )
    settings.WANGGE_PII_OLD_INDEX_KEYS = [settings.WANGGE_PII_INDEX_KEY]
    settings.WANGGE_PII_INDEX_KEY = NEW_INDEX_KEY
    call_command("registers", "rotate-key", "--batch-size", "1")
    out = capsys.readouterr().out
    assert '"organisation.contact_phone_hash": 1' in out
    assert "remove WANGGE_PII_OLD_INDEX_KEYS" in out
    org = Organisation.objects.get(pk=org.pk)
    assert org.contact_phone_hash == crypto.blind_index(PHONE, "phone")
