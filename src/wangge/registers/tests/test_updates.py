"""Update services of households, buildings, houses (tenancies), organisations and components:
changes saved and audited; a grid change checked on the old and the new grid; bad input
changes nothing."""

from __future__ import annotations

import pytest

from wangge.core.exceptions import Conflict, NotFound, ValidationError
from wangge.core.models import AuditRecord
from wangge.registers import crypto
from wangge.registers.models import Building, Component, House, Household, Organisation
from wangge.registers.services import (
    O_PHONE,
    building_update,
    component_update,
    house_update,
    household_create,
    household_update,
    organisation_create,
    organisation_update,
    tenancy_add,
    tenancy_end,
)
from wangge.registers.tests.factories import (
    SYSTEM,
    credit_code,
    make_building,
    make_component,
    make_house,
    make_person,
)

pytestmark = pytest.mark.django_db


def make_household(grid, **fields):
    fields.setdefault("household_no", f"HH{grid.pk}{Household.objects.count() + 1:04d}")
    return household_create(actor=SYSTEM, grid=grid, **fields)


def make_organisation(grid, **fields):
    fields.setdefault("credit_code", credit_code())
    fields.setdefault("name", "测试公司")
    fields.setdefault("kind", "enterprise")
    fields.setdefault("address", "测试路1号")
    return organisation_create(actor=SYSTEM, grid=grid, **fields)


def last_audit(action: str) -> AuditRecord:
    return AuditRecord.objects.filter(action=action).order_by("-id").first()


def test_household_update_saves_changes_and_writes_an_audit_record(world):
    household = make_household(world.g_a, address="旧址")
    house = make_house(make_building(world.g_a))
    household_update(
        actor=world.worker_a,
        household=household,
        household_no="HH-NEW-1",
        address="新址",
        house=house,
        is_collective=True,
    )
    household.refresh_from_db()
    assert (household.household_no, household.address, household.house_id) == (
        "HH-NEW-1",
        "新址",
        house.pk,
    )
    assert household.is_collective
    record = last_audit("registers.household.update")
    assert record.before["address"] == "旧址" and record.after["address"] == "新址"


def test_grid_change_is_checked_on_the_new_grid(world):
    """worker_a works in community A: moving a record to community B's grid is refused as if
    the grid did not exist, and nothing changes."""
    household = make_household(world.g_a)
    org = make_organisation(world.g_a)
    comp = make_component(world.g_a)
    building = make_building(world.g_a)
    for service, kw in (
        (household_update, {"household": household}),
        (organisation_update, {"organisation": org}),
        (component_update, {"component": comp}),
        (building_update, {"building": building}),
    ):
        with pytest.raises(NotFound, match="网格代码不存在或不在您的管辖范围内"):
            service(actor=world.worker_a, grid=world.g_b.code, **kw)
    for model in (Household, Organisation, Component, Building):
        assert set(model.objects.values_list("grid_id", flat=True)) == {world.g_a.pk}
    assert not AuditRecord.objects.filter(action__endswith=".update").exists()


def test_grid_change_is_checked_on_the_old_grid(world):
    """A record outside the actor's area cannot be pulled into it."""
    household = make_household(world.g_b)
    comp = make_component(world.g_b)
    with pytest.raises(NotFound):
        household_update(actor=world.worker_a, household=household, grid=world.g_a.code)
    with pytest.raises(NotFound):
        component_update(actor=world.worker_a, component=comp, grid=world.g_a.code)
    household.refresh_from_db()
    assert household.grid_id == world.g_b.pk


def test_grid_change_within_the_area_moves_the_record(world):
    household = make_household(world.g_a)
    household_update(actor=world.secretary, household=household, grid=world.g_b.code)
    household.refresh_from_db()
    assert household.grid_id == world.g_b.pk and household.region_path == world.g_b.path
    assert last_audit("registers.household.update").after["grid"] == world.g_b.code


def test_a_moved_building_takes_its_houses_along(world):
    building = make_building(world.g_a)
    house = make_house(building)
    building_update(actor=world.secretary, building=building, grid=world.g_b.code, floors=6)
    house.refresh_from_db()
    assert house.grid_id == world.g_b.pk and house.region_path == world.g_b.path
    assert Building.objects.get(pk=building.pk).floors == 6


def test_building_update_refuses_bad_input_and_duplicate_codes(world):
    building = make_building(world.g_a, name="1幢")
    other = make_building(world.g_a)
    with pytest.raises(ValidationError) as exc:
        building_update(actor=world.worker_a, building=building, name="", floors=-1)
    assert set(exc.value.errors) == {"name", "floors"}
    with pytest.raises(Conflict):
        building_update(actor=world.worker_a, building=building, code=other.code)
    assert Building.objects.get(pk=building.pk).name == "1幢"


def test_house_update_changes_use_area_hazards_and_rental_status(world):
    house = make_house(make_building(world.g_a))
    house_update(
        actor=world.worker_a,
        house=house,
        use="commercial",
        area_m2="88.5",
        rental_status="rented",
        hazards=["fire", "gas"],
        room="1201",
    )
    house.refresh_from_db()
    assert house.use == "commercial" and str(house.area_m2) == "88.50"
    assert house.hazards == ["fire", "gas"] and house.rental_status == "rented"
    assert house.address.endswith("1201")
    record = last_audit("registers.house.update")
    assert record.after["hazards"] == ["fire", "gas"]


def test_house_update_bad_input_changes_nothing(world):
    house = make_house(make_building(world.g_a), use="residential")
    with pytest.raises(ValidationError) as exc:
        house_update(actor=world.worker_a, house=house, use="castle", area_m2="-3")
    assert {"use", "area_m2"} <= set(exc.value.errors)
    assert House.objects.get(pk=house.pk).use == "residential"


def test_house_cannot_move_to_a_building_outside_the_area(world):
    house = make_house(make_building(world.g_a))
    far = make_building(world.g_other)
    with pytest.raises(NotFound):
        house_update(actor=world.worker_a, house=house, building=far)
    assert House.objects.get(pk=house.pk).grid_id == world.g_a.pk


def test_micro_grid_worker_may_see_but_not_change_a_house(world):
    from wangge.accounts.tests.factories import make_user

    viewer = make_user("louzhang", role="micro_grid_worker", region=world.com_a)
    house = make_house(make_building(world.g_a))
    with pytest.raises(NotFound):
        house_update(actor=viewer, house=house, owner_name="张三")


def test_tenancy_end_marks_the_last_tenant_out(world):
    house = make_house(make_building(world.g_a))
    tenant = make_person(world.g_a)
    tenancy = tenancy_add(actor=world.worker_a, house=house, person=tenant)
    assert House.objects.get(pk=house.pk).rental_status == "rented"
    tenancy_end(actor=world.worker_a, tenancy=tenancy)
    tenancy.refresh_from_db()
    assert tenancy.end_date is not None
    assert House.objects.get(pk=house.pk).rental_status == "vacant"
    assert last_audit("registers.house.tenancy_end").after["person"] == tenant.pk
    far = make_house(make_building(world.g_other))
    far_tenancy = tenancy_add(actor=SYSTEM, house=far, person=make_person(world.g_other))
    with pytest.raises(NotFound):
        tenancy_end(actor=world.worker_a, tenancy=far_tenancy)


def test_organisation_update_keeps_or_replaces_the_encrypted_phone(world):
    org = make_organisation(world.g_a, contact_phone="13900000009")
    organisation_update(actor=world.worker_a, organisation=org, name="新名称")
    org.refresh_from_db()
    assert org.name == "新名称"
    assert crypto.decrypt(org.contact_phone_enc, O_PHONE) == "13900000009"
    organisation_update(actor=world.worker_a, organisation=org, contact_phone="13800000001")
    org.refresh_from_db()
    assert crypto.decrypt(org.contact_phone_enc, O_PHONE) == "13800000001"
    assert "13800000001" not in org.contact_phone_enc
    record = last_audit("registers.organisation.update")
    assert record.after["contact_phone_changed"] is True
    assert "13800000001" not in str(record.after) and "13800000001" not in str(record.before)


def test_organisation_update_validates_the_credit_code(world):
    org = make_organisation(world.g_a)
    bad = org.credit_code[:-1] + ("0" if org.credit_code[-1] != "0" else "1")
    with pytest.raises(ValidationError) as exc:
        organisation_update(actor=world.worker_a, organisation=org, credit_code=bad)
    assert "credit_code" in exc.value.errors
    assert Organisation.objects.get(pk=org.pk).credit_code == org.credit_code


def test_component_update_revalidates_the_identifier(world):
    comp = make_component(world.g_a)
    component_update(actor=world.worker_a, component=comp, managing_department="城管局")
    comp.refresh_from_db()
    assert comp.managing_department == "城管局"
    with pytest.raises(ValidationError):
        component_update(actor=world.worker_a, component=comp, identifier="123")
    with pytest.raises(ValidationError):
        component_update(actor=world.worker_a, component=comp, status="lost")
    assert Component.objects.get(pk=comp.pk).status == "intact"
    assert last_audit("registers.component.update").after["managing_department"] == "城管局"
