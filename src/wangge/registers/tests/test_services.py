from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from wangge.core.exceptions import Conflict, NotFound, PermissionDenied, ValidationError
from wangge.core.models import AuditRecord
from wangge.registers import crypto
from wangge.registers.models import Person, SensitiveGroupCount
from wangge.registers.selectors import (
    PersonFilters,
    access_person,
    grid_profile,
    overdue_visits_for_user,
    person_dict,
    person_list_for_user,
)
from wangge.registers.services import (
    careplan_set,
    household_create,
    person_erase,
    person_reveal,
    person_subject_export,
    person_update,
    rotate_keys,
    visit_create,
)
from wangge.registers.tests.factories import (
    SYSTEM,
    make_building,
    make_house,
    make_person,
    resident_id,
)

pytestmark = pytest.mark.django_db

ID = resident_id(date(1941, 3, 4), seq=7)
PHONE = "13912345678"


def test_create_derives_birth_date_and_sex_and_stores_no_plaintext(world):
    person = make_person(world.g_a, actor=world.worker_a, id_number=ID, phone=PHONE)
    person.refresh_from_db()
    assert person.birth_date == date(1941, 3, 4)
    assert person.sex == "male"  # the 17th digit (7) is odd
    assert ID not in person.id_number_enc and PHONE not in person.phone_enc
    assert "advanced_age" in person.flags()


def test_the_database_holds_no_plaintext_id_number_or_phone(world):
    """A dump of every table (what a stolen backup contains) has neither value in it."""
    make_person(world.g_a, actor=world.worker_a, id_number=ID, phone=PHONE, name="王芳")
    person = Person.objects.get()
    person_reveal(actor=world.worker_a, person=person, reason="核实身份")
    dump = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (table names from the schema)
            dump.extend(str(row) for row in cursor.fetchall())
    text = "\n".join(dump)
    assert "王芳" in text  # the dump is real
    assert ID not in text and ID[:17] not in text
    assert PHONE not in text


def test_duplicate_id_number_is_a_conflict(world):
    make_person(world.g_a, id_number=ID)
    with pytest.raises(Conflict):
        make_person(world.g_b, id_number=ID.lower())


def test_create_outside_the_area_answers_not_found(world):
    with pytest.raises(NotFound):
        make_person(world.g_other, actor=world.worker_a)
    with pytest.raises(NotFound):
        make_person(world.g_b, actor=world.worker_a)  # community B: not the worker's
    assert not Person.objects.exists()


def test_bad_input_changes_nothing_and_names_the_fields(world):
    with pytest.raises(ValidationError) as exc:
        make_person(world.g_a, id_number=ID[:-1] + "0" if ID[-1] != "0" else ID[:-1] + "1",
                    phone="123", name="")  # fmt: skip
    assert set(exc.value.errors) == {"id_number", "phone", "name"}
    assert not Person.objects.exists()
    assert not AuditRecord.objects.filter(action__startswith="registers.").exists()


def test_lists_are_masked_and_search_uses_the_blind_index(world):
    person = make_person(world.g_a, id_number=ID, phone=PHONE, name="李雷")
    rows = person_list_for_user(world.worker_a, PersonFilters(q=ID))
    assert list(rows) == [person]
    assert list(person_list_for_user(world.worker_a, PersonFilters(q=PHONE))) == [person]
    assert list(person_list_for_user(world.worker_a, PersonFilters(q="李"))) == [person]
    assert not person_list_for_user(world.worker_a, PersonFilters(q=ID[:-1] + "0")).exists()
    data = person_dict(person, world.worker_a)
    assert data["id_number"] == ID[:3] + "*" * 11 + ID[-4:]
    assert data["phone"] == "139****5678"


def test_reveal_needs_permission_and_a_reason_and_is_audited(world):
    person = make_person(world.g_a, id_number=ID, phone=PHONE)
    with pytest.raises(ValidationError):
        person_reveal(actor=world.worker_a, person=person, reason=" ")
    with pytest.raises(PermissionDenied):
        person_reveal(actor=world.auditor, person=person, reason="查看")  # view, no reveal
    with pytest.raises(NotFound):
        person_reveal(actor=world.dispatcher2, person=person, reason="查看")  # other street
    assert not AuditRecord.objects.filter(action="registers.person.reveal").exists()
    shown = person_reveal(actor=world.worker_a, person=person, reason="上门核实身份")
    assert shown == {"id_number": ID, "phone": PHONE}
    record = AuditRecord.objects.get(action="registers.person.reveal")
    assert record.actor_id == world.worker_a.pk
    assert record.after["reason"] == "上门核实身份"
    assert ID not in str(record.after) and record.region_path == world.g_a.path


def test_special_groups_are_for_granted_roles_only(world):
    with pytest.raises(PermissionDenied):
        make_person(world.g_a, actor=world.worker_a, sensitive=["社区矫正"])
    person = make_person(world.g_a, actor=world.secretary, sensitive=["correction"])
    assert person_dict(person, world.secretary)["special_groups"] == ["correction"]
    assert person_dict(person, world.worker_a)["special_groups"] is None
    # The worker's grid profile shows the count, never who.
    profile = grid_profile(world.worker_a, world.g_a)
    assert profile.special_groups["correction"] == 1
    person_update(actor=world.secretary, person=person, sensitive=[])
    assert SensitiveGroupCount.objects.get(grid=world.g_a, group="correction").count == 0


def test_update_checks_version_and_rehashes_identifiers(world):
    person = make_person(world.g_a, id_number=ID, phone=PHONE)
    person_update(actor=world.worker_a, person=person, version=1, phone="13700000000")
    with pytest.raises(Conflict):
        person_update(actor=world.worker_a, person=person, version=1, name="x")
    assert person_list_for_user(world.worker_a, PersonFilters(q="13700000000")).count() == 1
    assert not person_list_for_user(world.worker_a, PersonFilters(q=PHONE)).exists()


def test_erasure_keeps_a_tombstone_for_history(world):
    person = make_person(world.g_a, id_number=ID, phone=PHONE, sensitive=["drug"])
    visit = visit_create(actor=world.worker_a, kind="visit", target=person, notes="家中有人")
    with pytest.raises(PermissionDenied):
        person_erase(actor=world.worker_a, person=person, reason="本人申请")
    export = person_subject_export(actor=world.secretary, person=person, reason="本人申请查阅")
    assert export["id_number"] == ID and export["visits"][0]["notes"] == "家中有人"
    admin = __import__("wangge.accounts.tests.factories", fromlist=["x"]).make_user(
        "sysadmin1", role="sysadmin", region=world.s1
    )
    person_erase(actor=admin, person=person, reason="本人申请删除")
    person.refresh_from_db()
    visit.refresh_from_db()
    assert person.erased_at and not person.id_number_enc and not person.id_number_hash
    assert visit.person_id == person.pk and visit.notes == ""
    assert SensitiveGroupCount.objects.get(grid=world.g_a, group="drug").count == 0
    make_person(world.g_a, id_number=ID)  # the number is free again


def test_visits_record_distance_and_clear_overdue_care(world):
    building = make_building(world.g_a, lon=120.61, lat=31.31)
    house = make_house(building)
    old = resident_id(date(1940, 1, 1))
    person = make_person(world.g_a, id_number=old, house=house, flags={"elderly_alone": True})
    careplan_set(actor=world.secretary, region=world.s1, group="elderly_alone", interval_days=7)
    assert list(overdue_visits_for_user(world.worker_a)) == [person]
    assert grid_profile(world.worker_a, world.g_a).overdue_visits == 1
    visit = visit_create(actor=world.worker_a, kind="visit", target=person, lon=120.611, lat=31.31)
    assert 90 < visit.distance_m < 100  # 0.001° of longitude at 31.3°N ≈ 95 m
    assert not overdue_visits_for_user(world.worker_a).exists()
    later = timezone.now() + timedelta(days=8)
    assert list(overdue_visits_for_user(world.worker_a, now=later)) == [person]


def test_a_deeper_care_plan_wins(world):
    person = make_person(world.g_a, flags={"elderly_alone": True})
    visit_create(actor=world.worker_a, kind="visit", target=person)
    careplan_set(actor=world.secretary, region=world.s1, group="elderly_alone", interval_days=30)
    careplan_set(actor=world.secretary, region=world.com_a, group="elderly_alone", interval_days=3)
    in_five_days = timezone.now() + timedelta(days=5)
    assert list(overdue_visits_for_user(world.worker_a, now=in_five_days)) == [person]


def test_households_and_grid_profile_counts(world):
    household = household_create(actor=world.worker_a, grid=world.g_a, household_no="HH001")
    make_person(world.g_a, household=household, relation="head", flags={"veteran": True})
    make_person(world.g_b)  # another community
    profile = grid_profile(world.secretary, world.com_a)
    assert (profile.people, profile.households, profile.by_flag["veteran"]) == (1, 1, 1)
    assert grid_profile(world.secretary, world.s1).people == 2
    with pytest.raises(NotFound):
        access_person(world.worker_a, Person.objects.get(grid=world.g_b).pk)


def test_key_rotation_reencrypts_everything_under_the_new_key(world, settings):
    person = make_person(world.g_a, id_number=ID, phone=PHONE, sensitive=["mental"])
    old_kid = crypto.key_id_of(person.id_number_enc)
    new_key = crypto.generate_key()
    settings.WANGGE_PII_KEYS = [new_key, *settings.WANGGE_PII_KEYS]
    counts = rotate_keys()
    assert counts == {
        "person.id_number_enc": 1,
        "person.phone_enc": 1,
        "person.sensitive_enc": 1,
    }
    person.refresh_from_db()
    assert crypto.key_id_of(person.id_number_enc) != old_kid
    settings.WANGGE_PII_KEYS = [new_key]  # the old key retired
    assert person_reveal(actor=world.worker_a, person=person, reason="核实")["id_number"] == ID
    assert rotate_keys() == {}  # idempotent
    assert AuditRecord.objects.filter(action="registers.rotate_key").count() == 2


def test_rotate_key_command(world, settings, capsys):
    make_person(world.g_a, phone=PHONE)
    settings.WANGGE_PII_KEYS = [crypto.generate_key(), *settings.WANGGE_PII_KEYS]
    call_command("registers", "rotate-key")
    assert '"person.phone_enc": 1' in capsys.readouterr().out


def test_system_actor_can_write_anywhere(world):
    assert make_person(world.g_other, actor=SYSTEM).grid == world.g_other
