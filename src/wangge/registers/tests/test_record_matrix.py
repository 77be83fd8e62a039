"""Permission matrix of the create/edit/list/detail pages and the JSON API of people,
households, buildings, houses, organisations and components: anon / none / in / out, with
masking checked in every response."""

from __future__ import annotations

import pytest
from django.test import Client

from wangge.registers.models import Building, Component, House, Household, Organisation, Person
from wangge.registers.services import tenancy_add
from wangge.registers.tests.factories import (
    SYSTEM,
    credit_code,
    make_building,
    make_component,
    make_house,
    make_person,
    resident_id,
)
from wangge.registers.tests.test_updates import make_household, make_organisation

pytestmark = pytest.mark.django_db

PAGES_COVERED = {
    "registers:person_new",
    "registers:person_edit",
    "registers:households",
    "registers:household_new",
    "registers:household",
    "registers:household_edit",
    "registers:buildings",
    "registers:building_new",
    "registers:building",
    "registers:building_edit",
    "registers:houses",
    "registers:house_new",
    "registers:house",
    "registers:house_edit",
    "registers:tenancy_add",
    "registers:tenancy_end",
    "registers:organisations",
    "registers:organisation_new",
    "registers:organisation",
    "registers:organisation_edit",
    "registers:components",
    "registers:component_new",
    "registers:component",
    "registers:component_edit",
    "registers:component_status",
}
API_COVERED = {
    "PATCH /api/v1/registers/people/{person_id}",
    "GET /api/v1/registers/households",
    "POST /api/v1/registers/households",
    "GET /api/v1/registers/households/{household_id}",
    "PATCH /api/v1/registers/households/{household_id}",
    "GET /api/v1/registers/houses",
    "POST /api/v1/registers/houses",
    "GET /api/v1/registers/houses/{house_id}",
    "PATCH /api/v1/registers/houses/{house_id}",
    "GET /api/v1/registers/organisations",
    "POST /api/v1/registers/organisations",
    "GET /api/v1/registers/organisations/{organisation_id}",
    "PATCH /api/v1/registers/organisations/{organisation_id}",
    "POST /api/v1/registers/components",
    "PATCH /api/v1/registers/components/{key}",
    "POST /api/v1/registers/components/{key}/status",
}
COVERED = PAGES_COVERED | API_COVERED

ID_IN = resident_id(seq=501)
PHONE_IN = "13900000501"
ORG_PHONE = "13700000777"


@pytest.fixture
def r(world):
    """One record of every kind in worker_a's grid (in) and in street 2 (out)."""
    w = world
    for side, grid in (("in", w.g_a), ("out", w.g_other)):
        household = make_household(grid)
        building = make_building(grid)
        house = make_house(building)
        person = make_person(
            grid,
            name=f"居民{side}",
            id_number=ID_IN if side == "in" else resident_id(seq=502),
            phone=PHONE_IN if side == "in" else "13900000502",
        )
        Person.objects.filter(pk=person.pk).update(household=household, house=house)
        tenancy = tenancy_add(actor=SYSTEM, house=house, person=person)
        org = make_organisation(grid, name=f"单位{side}", contact_phone=ORG_PHONE)
        comp = make_component(grid)
        for name, obj in (
            ("household", household),
            ("building", building),
            ("house", house),
            ("person", person),
            ("tenancy", tenancy),
            ("org", org),
            ("comp", comp),
        ):
            setattr(w, f"{name}_{side}", obj)
    return w


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def assert_masked(html: str) -> None:
    for secret in (ID_IN, PHONE_IN, ORG_PHONE):
        assert secret not in html
    assert "139****0501" in html or "137****0777" in html or ID_IN[:3] + "*" in html


# --- pages: GET -------------------------------------------------------------------------------
DETAIL_PAGES = [  # (url pattern with {pk}, attribute)
    ("/registers/people/{pk}/edit/", "person"),
    ("/registers/households/{pk}/", "household"),
    ("/registers/households/{pk}/edit/", "household"),
    ("/registers/buildings/{pk}/", "building"),
    ("/registers/buildings/{pk}/edit/", "building"),
    ("/registers/houses/{pk}/", "house"),
    ("/registers/houses/{pk}/edit/", "house"),
    ("/registers/organisations/{pk}/", "org"),
    ("/registers/organisations/{pk}/edit/", "org"),
    ("/registers/components/{pk}/", "comp"),
    ("/registers/components/{pk}/edit/", "comp"),
]
LIST_PAGES = [  # (url, text of the in-area record, of the out-of-area one)
    ("/registers/households/", lambda w: w.household_in.household_no, "household"),
    ("/registers/buildings/", lambda w: w.building_in.code, "building"),
    ("/registers/houses/", lambda w: w.house_in.address, "house"),
    ("/registers/organisations/", lambda w: w.org_in.name, "org"),
    ("/registers/components/", lambda w: w.comp_in.identifier, "comp"),
]
NEW_PAGES = [
    "/registers/people/new/",
    "/registers/households/new/",
    "/registers/buildings/new/",
    "/registers/houses/new/",
    "/registers/organisations/new/",
    "/registers/components/new/",
]


@pytest.mark.parametrize(("url", "attr"), DETAIL_PAGES, ids=[p[0] for p in DETAIL_PAGES])
def test_detail_and_edit_pages_anon_none_in_out(r, url, attr):
    url_in = url.format(pk=getattr(r, f"{attr}_in").pk)
    url_out = url.format(pk=getattr(r, f"{attr}_out").pk)
    assert client_for(None).get(url_in).status_code == 302
    assert client_for(r.resident).get(url_in).status_code == 403
    response = client_for(r.worker_a).get(url_in)
    assert response.status_code == 200
    assert_masked_or_plain(response.content.decode())
    assert client_for(r.worker_a).get(url_out).status_code == 404


def assert_masked_or_plain(html: str) -> None:
    """No page ever shows a stored identifier in clear."""
    for secret in (ID_IN, PHONE_IN, ORG_PHONE):
        assert secret not in html


@pytest.mark.parametrize(("url", "marker", "attr"), LIST_PAGES, ids=[p[0] for p in LIST_PAGES])
def test_list_pages_show_only_the_area(r, url, marker, attr):
    assert client_for(None).get(url).status_code == 302
    assert client_for(r.resident).get(url).status_code == 403
    html = client_for(r.worker_a).get(url).content.decode()
    assert marker(r) in html
    out = getattr(r, f"{attr}_out")
    assert f"/{out.pk}/" not in html.split("<table", 1)[1]
    assert_masked_or_plain(html)


@pytest.mark.parametrize("url", NEW_PAGES)
def test_new_pages_anon_none_in(r, url):
    assert client_for(None).get(url).status_code == 302
    assert client_for(r.resident).get(url).status_code == 403
    assert client_for(r.worker_a).get(url).status_code == 200


def test_detail_pages_show_linked_records_masked(r):
    worker = client_for(r.worker_a)
    household = worker.get(f"/registers/households/{r.household_in.pk}/").content.decode()
    assert "居民in" in household and "139****0501" in household
    house = worker.get(f"/registers/houses/{r.house_in.pk}/").content.decode()
    assert "居民in" in house and ID_IN[:3] + "*" * 11 + ID_IN[-4:] in house
    org = worker.get(f"/registers/organisations/{r.org_in.pk}/").content.decode()
    assert "137****0777" in org
    orgs = worker.get("/registers/organisations/").content.decode()
    assert "137****0777" in orgs and ORG_PHONE not in orgs
    edit = worker.get(f"/registers/people/{r.person_in.pk}/edit/").content.decode()
    assert "139****0501" in edit and ID_IN not in edit and PHONE_IN not in edit


def test_edit_page_of_a_visible_but_unchangeable_record_is_404(r):
    from wangge.accounts.tests.factories import make_user

    viewer = make_user("louzhang", role="micro_grid_worker", region=r.com_a)
    client = client_for(viewer)
    assert client.get(f"/registers/houses/{r.house_in.pk}/").status_code == 200
    assert client.get(f"/registers/houses/{r.house_in.pk}/edit/").status_code == 403
    assert client.get(f"/registers/households/{r.household_in.pk}/").status_code == 200
    assert client.get(f"/registers/people/{r.person_in.pk}/edit/").status_code == 403


# --- pages: POST --------------------------------------------------------------------------------
def person_form(grid, **extra):
    data = {
        "grid": grid.code,
        "name": "新登记",
        "id_type": "resident_id",
        "id_number": resident_id(seq=777),
        "sex": "unknown",
        "phone": "13600000777",
        "registration_matches": "on",
    }
    data.update(extra)
    return data


def test_person_create_page_saves_and_shows_the_person_masked(r):
    worker = client_for(r.worker_a)
    data = person_form(
        r.g_a,
        household_no=r.household_in.household_no,
        relation="spouse",
        flags=["elderly_alone"],
        since_elderly_alone="2024-05-01",
    )
    response = worker.post("/registers/people/new/", data)
    assert response.status_code == 302
    person = Person.objects.get(name="新登记")
    assert response["Location"] == f"/registers/people/{person.pk}/"
    assert person.household_id == r.household_in.pk and person.relation == "spouse"
    assert person.is_elderly_alone and person.flag_since == {"elderly_alone": "2024-05-01"}
    page = worker.get(response["Location"]).content.decode()
    assert "136****0777" in page and "13600000777" not in page


def test_person_create_page_bad_input_shows_chinese_errors_and_saves_nothing(r):
    worker = client_for(r.worker_a)
    bad_id = resident_id(seq=778)[:-1] + "X"
    response = worker.post("/registers/people/new/", person_form(r.g_a, id_number=bad_id))
    assert response.status_code == 200
    html = response.content.decode()
    assert "身份证号码" in html and 'class="error"' in html
    response = worker.post("/registers/people/new/", person_form(r.g_other))
    assert "网格代码不存在或不在您的管辖范围内" in response.content.decode()
    response = worker.post("/registers/people/new/", person_form(r.g_a, household_no="无此户"))
    assert "户号不存在或不在您的管辖范围内" in response.content.decode()
    assert not Person.objects.filter(name="新登记").exists()


def test_person_create_page_offers_special_groups_only_to_granted_roles(r):
    assert (
        'name="sensitive"'
        not in client_for(r.worker_a).get("/registers/people/new/").content.decode()
    )
    page = client_for(r.secretary).get("/registers/people/new/").content.decode()
    assert 'name="sensitive"' in page
    response = client_for(r.worker_a).post(
        "/registers/people/new/", person_form(r.g_a, sensitive=["correction"])
    )
    person = Person.objects.get(name="新登记")  # the field is ignored for the worker
    from wangge.registers.services import person_sensitive

    assert response.status_code == 302 and person_sensitive(person) == {}


def test_person_edit_page_keeps_identifiers_left_empty(r):
    worker = client_for(r.worker_a)
    url = f"/registers/people/{r.person_in.pk}/edit/"
    data = person_form(r.g_a, name="改名", id_number="", phone="", sex=r.person_in.sex)
    data["birth_date"] = r.person_in.birth_date.isoformat()
    response = worker.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    person = Person.objects.get(pk=r.person_in.pk)
    from wangge.registers.selectors import person_masked

    assert person.name == "改名"
    assert person_masked(person) == {
        "id_number": ID_IN[:3] + "*" * 11 + ID_IN[-4:],
        "phone": "139****0501",
    }
    response = worker.post(url, {**data, "phone": "12345"})
    assert response.status_code == 200 and "电话号码格式错误" in response.content.decode()
    assert Person.objects.get(pk=r.person_in.pk).version == person.version
    assert client_for(r.resident).post(url, data).status_code == 403
    out = f"/registers/people/{r.person_out.pk}/edit/"
    assert worker.post(out, data).status_code == 404


def test_household_pages_create_and_edit(r):
    worker = client_for(r.worker_a)
    data = {"grid": r.g_a.code, "household_no": "HH-PAGE-1", "address": "幸福路1号"}
    response = worker.post("/registers/households/new/", data)
    household = Household.objects.get(household_no="HH-PAGE-1")
    assert response["Location"] == f"/registers/households/{household.pk}/"
    data.update(address="幸福路2号", house_code=r.house_in.code, is_collective="on")
    assert worker.post(f"/registers/households/{household.pk}/edit/", data).status_code == 302
    household.refresh_from_db()
    assert household.address == "幸福路2号" and household.house_id == r.house_in.pk
    bad = {**data, "grid": r.g_other.code}
    response = worker.post(f"/registers/households/{household.pk}/edit/", bad)
    assert response.status_code == 200 and "网格代码不存在" in response.content.decode()
    assert Household.objects.get(pk=household.pk).grid_id == r.g_a.pk
    assert client_for(r.resident).post("/registers/households/new/", data).status_code == 403
    out = f"/registers/households/{r.household_out.pk}/edit/"
    assert worker.post(out, data).status_code == 404


def test_building_and_house_pages_create_and_edit(r):
    worker = client_for(r.worker_a)
    data = {"grid": r.g_a.code, "code": "B-PAGE", "name": "9幢", "address": "幸福路9号"}
    response = worker.post("/registers/buildings/new/", data)
    building = Building.objects.get(code="B-PAGE")
    assert response["Location"] == f"/registers/buildings/{building.pk}/"
    house = {
        "building_code": "B-PAGE",
        "code": "H-PAGE",
        "unit": "1单元",
        "room": "101",
        "use": "residential",
        "ownership": "private",
        "rental_status": "owner_occupied",
        "area_m2": "75.5",
        "hazards": ["fire"],
    }
    response = worker.post("/registers/houses/new/", house)
    created = House.objects.get(code="H-PAGE")
    assert response["Location"] == f"/registers/houses/{created.pk}/"
    assert created.hazards == ["fire"] and created.address == "幸福路9号1单元101"
    response = worker.post("/registers/houses/new/", {**house, "code": "H-2", "area_m2": "abc"})
    assert response.status_code == 200 and "输入一个数字" in response.content.decode()
    response = worker.post(
        "/registers/houses/new/", {**house, "code": "H-3", "building_code": r.building_out.code}
    )
    assert "楼栋编码不存在或不在您的管辖范围内" in response.content.decode()
    assert not House.objects.filter(code__in=["H-2", "H-3"]).exists()
    edit = {**house, "rental_status": "vacant", "hazards": []}
    assert worker.post(f"/registers/houses/{created.pk}/edit/", edit).status_code == 302
    created.refresh_from_db()
    assert created.rental_status == "vacant" and created.hazards == []
    building_edit = {**data, "floors": "12"}
    assert (
        worker.post(f"/registers/buildings/{building.pk}/edit/", building_edit).status_code == 302
    )
    assert Building.objects.get(pk=building.pk).floors == 12
    out = f"/registers/houses/{r.house_out.pk}/edit/"
    assert worker.post(out, edit).status_code == 404
    assert worker.post(f"/registers/buildings/{r.building_out.pk}/edit/", data).status_code == 404


def test_tenancy_pages_add_and_end(r):
    worker = client_for(r.worker_a)
    house = make_house(r.building_in)
    url = f"/registers/houses/{house.pk}/tenancies/"
    assert client_for(None).post(url, {"tenant": ID_IN}).status_code == 302
    assert client_for(r.resident).post(url, {"tenant": ID_IN}).status_code == 403
    response = worker.post(url, {"tenant": ID_IN, "start_date": "2025-01-01"}, follow=True)
    assert "已登记租户" in response.content.decode()
    tenancy = house.tenancies.get()
    assert tenancy.person_id == r.person_in.pk
    assert House.objects.get(pk=house.pk).rental_status == "rented"
    response = worker.post(url, {"tenant": "居民"}, follow=True)  # a name is not a key
    assert "未找到该人员" in response.content.decode()
    out_tenant = worker.post(url, {"tenant": "13900000502"}, follow=True)  # street 2's person
    assert "未找到该人员" in out_tenant.content.decode()
    assert house.tenancies.count() == 1
    end = f"/registers/houses/{house.pk}/tenancies/{tenancy.pk}/end/"
    assert client_for(r.resident).post(end).status_code == 403
    assert worker.post(end).status_code == 302
    tenancy.refresh_from_db()
    assert tenancy.end_date is not None
    assert House.objects.get(pk=house.pk).rental_status == "vacant"
    out = f"/registers/houses/{r.house_out.pk}/tenancies/{r.tenancy_out.pk}/end/"
    assert worker.post(out).status_code == 404
    assert (
        worker.post(f"/registers/houses/{r.house_out.pk}/tenancies/", {"tenant": ID_IN}).status_code
        == 404
    )
    # A tenancy of another house is not reachable through this one.
    wrong = f"/registers/houses/{house.pk}/tenancies/{r.tenancy_in.pk}/end/"
    assert worker.post(wrong).status_code == 404


def test_organisation_pages_create_and_edit(r):
    worker = client_for(r.worker_a)
    code = credit_code()
    data = {
        "grid": r.g_a.code,
        "credit_code": code,
        "name": "幸福超市",
        "kind": "individual",
        "address": "幸福路3号",
        "contact_phone": "13500000003",
    }
    response = worker.post("/registers/organisations/new/", data)
    org = Organisation.objects.get(credit_code=code)
    assert response["Location"] == f"/registers/organisations/{org.pk}/"
    page = worker.get(response["Location"]).content.decode()
    assert "135****0003" in page and "13500000003" not in page
    bad = {**data, "credit_code": code[:-1] + ("0" if code[-1] != "0" else "1"), "name": "坏"}
    response = worker.post("/registers/organisations/new/", bad)
    assert response.status_code == 200 and "统一社会信用代码校验位错误" in response.content.decode()
    assert not Organisation.objects.filter(name="坏").exists()
    edit = {**data, "contact_phone": "", "name": "幸福超市(新)", "is_active": "on"}
    assert worker.post(f"/registers/organisations/{org.pk}/edit/", edit).status_code == 302
    org.refresh_from_db()
    assert org.name == "幸福超市(新)"
    assert "135****0003" in worker.get(f"/registers/organisations/{org.pk}/").content.decode()
    out = f"/registers/organisations/{r.org_out.pk}/edit/"
    assert worker.post(out, edit).status_code == 404


def test_component_pages_create_edit_and_status(r):
    worker = client_for(r.worker_a)
    ident = f"{r.g_a.code[:6]}01001900001"
    data = {
        "grid": r.g_a.code,
        "identifier": ident,
        "class_code": "01001",
        "class_name": "供水井盖",
        "lon": "120.61",
        "lat": "31.31",
        "status": "intact",
    }
    response = worker.post("/registers/components/new/", data)
    comp = Component.objects.get(identifier=ident)
    assert response["Location"] == f"/registers/components/{comp.pk}/"
    response = worker.post("/registers/components/new/", {**data, "identifier": "123"})
    assert response.status_code == 200 and 'class="error"' in response.content.decode()
    edit = {k: v for k, v in data.items() if k != "status"} | {"owner_unit": "水务公司"}
    assert worker.post(f"/registers/components/{comp.pk}/edit/", edit).status_code == 302
    assert Component.objects.get(pk=comp.pk).owner_unit == "水务公司"
    status = f"/registers/components/{comp.pk}/status/"
    response = worker.post(status, {"status": "damaged", "reason": ""}, follow=True)
    assert (
        "请填写变更原因" in response.content.decode()
        or "这个字段是必填项" in response.content.decode()
    )
    assert Component.objects.get(pk=comp.pk).status == "intact"
    assert worker.post(status, {"status": "damaged", "reason": "井盖破裂"}).status_code == 302
    assert Component.objects.get(pk=comp.pk).status == "damaged"
    assert (
        client_for(r.resident).post(status, {"status": "lost", "reason": "丢"}).status_code == 403
    )
    out = f"/registers/components/{r.comp_out.pk}/status/"
    assert worker.post(out, {"status": "lost", "reason": "丢失了"}).status_code == 404
    assert worker.post(f"/registers/components/{r.comp_out.pk}/edit/", edit).status_code == 404


def test_grid_profile_links_to_the_lists(r):
    html = client_for(r.worker_a).get(f"/registers/grids/{r.g_a.code}/").content.decode()
    for name in ("households", "buildings", "houses", "organisations", "components"):
        assert f"/registers/{name}/?grid={r.g_a.code}" in html


def test_map_features_open_the_records_the_user_may_view(r):
    from wangge.registers.services import component_set_status, house_update

    house_update(actor=SYSTEM, house=r.house_in, hazards=["fire"])
    component_set_status(actor=SYSTEM, component=r.comp_in, status="damaged")
    Person.objects.filter(pk=r.person_in.pk).update(is_elderly_alone=True)
    layers = client_for(r.worker_a).get("/registers/map/layers.json").json()["layers"]
    by_id = {layer["id"]: layer["features"] for layer in layers}
    assert [f["properties"]["url"] for f in by_id["risk_points"]] == [
        f"/registers/houses/{r.house_in.pk}/"
    ]
    assert [f["properties"]["url"] for f in by_id["components"]] == [
        f"/registers/components/{r.comp_in.pk}/"
    ]
    assert [f["properties"]["url"] for f in by_id["elderly_alone"]] == [
        f"/registers/houses/{r.house_in.pk}/"
    ]


# --- API --------------------------------------------------------------------------------------
BASE = "/api/v1/registers"
CT = "application/json"


def api_secrets_absent(body: str) -> None:
    for secret in (ID_IN, PHONE_IN, ORG_PHONE):
        assert secret not in body


@pytest.mark.parametrize(
    ("path", "attr", "marker"),
    [
        ("/households/{pk}", "household", "household_no"),
        ("/houses/{pk}", "house", "code"),
        ("/organisations/{pk}", "org", "credit_code"),
    ],
)
def test_api_get_anon_none_in_out(r, path, attr, marker):
    url_in = BASE + path.format(pk=getattr(r, f"{attr}_in").pk)
    url_out = BASE + path.format(pk=getattr(r, f"{attr}_out").pk)
    assert client_for(None).get(url_in).status_code == 401
    assert client_for(r.resident).get(url_in).status_code == 404
    response = client_for(r.worker_a).get(url_in)
    assert response.status_code == 200
    assert response.json()[marker] == getattr(getattr(r, f"{attr}_in"), marker)
    api_secrets_absent(response.content.decode())
    assert client_for(r.worker_a).get(url_out).status_code == 404


@pytest.mark.parametrize("path", ["/households", "/houses", "/organisations"])
def test_api_lists_anon_none_in_hidden(r, path):
    assert client_for(None).get(BASE + path).status_code == 401
    assert client_for(r.resident).get(BASE + path).json()["count"] == 0
    response = client_for(r.worker_a).get(BASE + path)
    assert response.json()["count"] == 1
    api_secrets_absent(response.content.decode())


def test_api_detail_responses_are_masked(r):
    worker = client_for(r.worker_a)
    household = worker.get(f"{BASE}/households/{r.household_in.pk}").json()
    assert household["members"][0]["phone"] == "139****0501"
    house = worker.get(f"{BASE}/houses/{r.house_in.pk}").json()
    assert house["tenancies"][0]["person"]["id_number"] == ID_IN[:3] + "*" * 11 + ID_IN[-4:]
    org = worker.get(f"{BASE}/organisations/{r.org_in.pk}").json()
    assert org["contact_phone"] == "137****0777"


def test_api_person_patch(r):
    worker = client_for(r.worker_a)
    url = f"{BASE}/people/{r.person_in.pk}"
    body = {"name": "接口改名", "current_address": "幸福路5号"}
    assert client_for(None).patch(url, body, content_type=CT).status_code == 401
    assert client_for(r.resident).patch(url, body, content_type=CT).status_code == 404
    response = worker.patch(url, body, content_type=CT)
    assert response.status_code == 200 and response.json()["name"] == "接口改名"
    assert response.json()["phone"] == "139****0501"
    api_secrets_absent(response.content.decode())
    bad = worker.patch(url, {"phone": "123"}, content_type=CT)
    assert bad.status_code == 422 and "phone" in bad.json()["error"]["details"]
    assert "电话号码格式错误" in str(bad.json())
    stale = worker.patch(url, {"name": "x", "version": 1}, content_type=CT)
    assert stale.status_code == 409
    assert Person.objects.get(pk=r.person_in.pk).name == "接口改名"
    out = f"{BASE}/people/{r.person_out.pk}"
    assert worker.patch(out, body, content_type=CT).status_code == 404
    moved = worker.patch(url, {"grid": r.g_other.code}, content_type=CT)
    assert moved.status_code == 404
    assert Person.objects.get(pk=r.person_in.pk).grid_id == r.g_a.pk


def test_api_household_create_and_update(r):
    worker = client_for(r.worker_a)
    body = {"grid": r.g_a.code, "household_no": "HH-API", "house_code": r.house_in.code}
    assert client_for(None).post(f"{BASE}/households", body, content_type=CT).status_code == 401
    assert (
        client_for(r.resident).post(f"{BASE}/households", body, content_type=CT).status_code == 404
    )
    created = worker.post(f"{BASE}/households", body, content_type=CT)
    assert created.status_code == 201 and created.json()["house_code"] == r.house_in.code
    pk = created.json()["id"]
    assert worker.post(f"{BASE}/households", body, content_type=CT).status_code == 409
    out = {**body, "grid": r.g_other.code, "household_no": "HH-OUT"}
    assert worker.post(f"{BASE}/households", out, content_type=CT).status_code == 404
    bad = worker.patch(f"{BASE}/households/{pk}", {"household_no": ""}, content_type=CT)
    assert bad.status_code == 422
    patched = worker.patch(f"{BASE}/households/{pk}", {"address": "新址"}, content_type=CT)
    assert patched.status_code == 200 and patched.json()["address"] == "新址"
    unknown = worker.patch(f"{BASE}/households/{pk}", {"house_code": "NOPE"}, content_type=CT)
    assert unknown.status_code == 404 and "house_code" in unknown.json()["error"]["details"]
    url_out = f"{BASE}/households/{r.household_out.pk}"
    assert worker.patch(url_out, {"address": "x"}, content_type=CT).status_code == 404
    assert (
        client_for(r.resident).patch(f"{BASE}/households/{pk}", {}, content_type=CT).status_code
        == 404
    )


def test_api_house_create_and_update(r):
    worker = client_for(r.worker_a)
    body = {
        "building_code": r.building_in.code,
        "code": "H-API",
        "room": "808",
        "use": "residential",
        "ownership": "private",
        "hazards": ["gas"],
        "area_m2": 60.5,
    }
    assert client_for(None).post(f"{BASE}/houses", body, content_type=CT).status_code == 401
    assert client_for(r.resident).post(f"{BASE}/houses", body, content_type=CT).status_code == 404
    created = worker.post(f"{BASE}/houses", body, content_type=CT)
    assert created.status_code == 201 and created.json()["hazards"] == ["gas"]
    pk = created.json()["id"]
    bad = worker.post(f"{BASE}/houses", {**body, "code": "H-BAD", "use": "castle"}, content_type=CT)
    assert bad.status_code == 422 and "use" in bad.json()["error"]["details"]
    out = {**body, "code": "H-OUT", "building_code": r.building_out.code}
    assert worker.post(f"{BASE}/houses", out, content_type=CT).status_code == 404
    assert not House.objects.filter(code__in=["H-BAD", "H-OUT"]).exists()
    patched = worker.patch(f"{BASE}/houses/{pk}", {"rental_status": "rented"}, content_type=CT)
    assert patched.status_code == 200 and patched.json()["rental_status"] == "rented"
    url_out = f"{BASE}/houses/{r.house_out.pk}"
    assert worker.patch(url_out, {"room": "1"}, content_type=CT).status_code == 404


def test_api_organisation_create_and_update(r):
    worker = client_for(r.worker_a)
    code = credit_code()
    body = {
        "grid": r.g_a.code,
        "credit_code": code,
        "name": "接口公司",
        "kind": "enterprise",
        "address": "幸福路8号",
        "contact_phone": "13500000008",
    }
    url = f"{BASE}/organisations"
    assert client_for(None).post(url, body, content_type=CT).status_code == 401
    assert client_for(r.resident).post(url, body, content_type=CT).status_code == 404
    created = worker.post(url, body, content_type=CT)
    assert created.status_code == 201 and created.json()["contact_phone"] == "135****0008"
    assert "13500000008" not in created.content.decode()
    pk = created.json()["id"]
    bad = worker.post(url, {**body, "credit_code": "123"}, content_type=CT)
    assert bad.status_code == 422
    patched = worker.patch(f"{url}/{pk}", {"is_active": False}, content_type=CT)
    assert patched.status_code == 200 and patched.json()["is_active"] is False
    assert patched.json()["contact_phone"] == "135****0008"
    assert worker.patch(f"{url}/{r.org_out.pk}", {"name": "x"}, content_type=CT).status_code == 404


def test_api_component_create_update_and_status(r):
    worker = client_for(r.worker_a)
    ident = f"{r.g_a.code[:6]}01001900002"
    body = {
        "grid": r.g_a.code,
        "identifier": ident,
        "class_code": "01001",
        "class_name": "供水井盖",
        "lon": 120.61,
        "lat": 31.31,
    }
    url = f"{BASE}/components"
    assert client_for(None).post(url, body, content_type=CT).status_code == 401
    assert client_for(r.resident).post(url, body, content_type=CT).status_code == 404
    assert worker.post(url, body, content_type=CT).status_code == 201
    assert worker.post(url, {**body, "identifier": "1"}, content_type=CT).status_code == 422
    patched = worker.patch(f"{url}/{ident}", {"managing_department": "水务局"}, content_type=CT)
    assert patched.status_code == 200 and patched.json()["managing_department"] == "水务局"
    status = worker.post(
        f"{url}/{ident}/status", {"status": "lost", "reason": "被盗"}, content_type=CT
    )
    assert status.status_code == 200 and status.json()["status"] == "lost"
    no_reason = worker.post(
        f"{url}/{ident}/status", {"status": "intact", "reason": ""}, content_type=CT
    )
    assert no_reason.status_code == 422
    assert Component.objects.get(identifier=ident).status == "lost"
    out = r.comp_out.identifier
    assert worker.patch(f"{url}/{out}", {"name": "x"}, content_type=CT).status_code == 404
    assert (
        worker.post(
            f"{url}/{out}/status", {"status": "lost", "reason": "丢失"}, content_type=CT
        ).status_code
        == 404
    )
    assert client_for(None).post(f"{url}/{ident}/status", {}, content_type=CT).status_code == 401


def test_record_pages_speak_english_when_chosen(r, settings):
    worker = client_for(r.worker_a)
    worker.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = worker.get("/registers/people/new/").content.decode()
    assert "Register a person" in html and "Leave empty" not in html
    edit = worker.get(f"/registers/people/{r.person_in.pk}/edit/").content.decode()
    assert "Leave empty to keep the stored value" in edit
