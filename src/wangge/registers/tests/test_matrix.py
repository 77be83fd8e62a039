"""Permission matrix of the registers pages and API: anon / none / in / out for each."""

from __future__ import annotations

import base64
import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from wangge.registers.models import ImportJob, Person
from wangge.registers.tests.factories import SYSTEM, make_component, make_person, people_xlsx
from wangge.registers.tests.test_record_matrix import COVERED as RECORD_COVERED

pytestmark = pytest.mark.django_db

COVERED = {
    "registers:people",
    "registers:person",
    "registers:person_reveal",
    "registers:imports",
    "registers:import_job",
    "registers:template",
    "registers:export",
    "registers:profile",
    "registers:due_visits",
    # visits, care plans, PIPL pages: tests in test_field_pages.py
    "registers:visit_new",
    "registers:careplans",
    "registers:person_subject_export",
    "registers:person_erase",
    "registers:map",
    "registers:map_layers",
    "GET /api/v1/registers/people",
    "POST /api/v1/registers/people",
    "GET /api/v1/registers/people/{person_id}",
    "POST /api/v1/registers/people/{person_id}/reveal",
    "GET /api/v1/registers/visits/due",
    "POST /api/v1/registers/visits",
    "GET /api/v1/registers/visits",
    "POST /api/v1/registers/visits/{visit_id}/photos",
    "GET /api/v1/registers/components",
    "GET /api/v1/registers/components/{key}",
    "GET /api/v1/registers/grids/{code}/profile",
    "POST /api/v1/registers/imports",
    "GET /api/v1/registers/imports/{job_id}",
}
COVERED |= RECORD_COVERED  # the create/edit/list/detail pages and their API


@pytest.fixture
def m(world):
    world.p_in = make_person(world.g_a, name="区内居民", phone="13900000001")
    world.p_out = make_person(world.g_other, name="区外居民")
    world.c_in = make_component(world.g_a, status="damaged")
    world.c_out = make_component(world.g_other, status="damaged")
    world.job_out = ImportJob.objects.create(kind="people", created_by=world.dispatcher2)
    return world


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


PAGES = [  # name, url builder, user for "in"
    ("registers:people", lambda w: "/registers/people/", "worker_a"),
    ("registers:person", lambda w: f"/registers/people/{w.p_in.pk}/", "worker_a"),
    ("registers:imports", lambda w: "/registers/imports/", "secretary"),
    ("registers:template", lambda w: "/registers/templates/people.xlsx", "secretary"),
    ("registers:export", lambda w: "/registers/export/people.xlsx", "secretary"),
    ("registers:profile", lambda w: f"/registers/grids/{w.g_a.code}/", "worker_a"),
    ("registers:due_visits", lambda w: "/registers/visits/due/", "worker_a"),
    ("registers:map", lambda w: "/registers/map/", "worker_a"),
    ("registers:map_layers", lambda w: "/registers/map/layers.json", "worker_a"),
]


@pytest.mark.parametrize(("name", "url", "who"), PAGES, ids=[p[0] for p in PAGES])
def test_pages_anon_none_in(m, name, url, who):
    assert client_for(None).get(url(m)).status_code == 302
    assert client_for(m.resident).get(url(m)).status_code == 403
    response = client_for(getattr(m, who)).get(url(m))
    assert response.status_code == 200
    if name == "registers:people":
        html = response.content.decode()
        assert "区内居民" in html and "区外居民" not in html  # out: hidden
        assert "139****0001" in html and "13900000001" not in html


def test_pages_out_of_area_are_404_or_hidden(m):
    worker = client_for(m.worker_a)
    assert worker.get(f"/registers/people/{m.p_out.pk}/").status_code == 404
    assert worker.get(f"/registers/grids/{m.g_other.code}/").status_code == 404
    assert worker.get(f"/registers/map/layers.json?grid={m.g_other.code}").status_code == 404
    layers = worker.get("/registers/map/layers.json").json()["layers"]
    comps = next(layer for layer in layers if layer["id"] == "components")["features"]
    assert [f["properties"]["label"].split()[-1] for f in comps] == [m.c_in.identifier]
    data = client_for(m.secretary).get("/registers/export/people.xlsx").content
    names = [row[1] for row in load_workbook(io.BytesIO(data)).worksheets[0].iter_rows(
        min_row=2, values_only=True)]  # fmt: skip
    assert names == ["区内居民"]
    assert client_for(m.secretary).get(f"/registers/imports/{m.job_out.pk}/").status_code == 404


def test_reveal_page_matrix(m):
    url = f"/registers/people/{m.p_in.pk}/reveal/"
    assert client_for(None).post(url, {"reason": "核实"}).status_code == 302
    assert client_for(m.resident).post(url, {"reason": "核实"}).status_code == 403
    response = client_for(m.worker_a).post(url, {"reason": "上门核实"})
    assert response.status_code == 200 and "13900000001" in response.content.decode()
    out = f"/registers/people/{m.p_out.pk}/reveal/"
    assert client_for(m.worker_a).post(out, {"reason": "核实"}).status_code == 404


def test_import_pages_matrix(m):
    data = people_xlsx(
        [{"grid": m.g_other.code, "name": "越权", "id_number": "11010519491231002X"}]
    )
    upload = io.BytesIO(data)
    upload.name = "p.xlsx"
    assert client_for(None).post("/registers/imports/", {"kind": "people"}).status_code == 302
    assert client_for(m.resident).post("/registers/imports/", {"kind": "people"}).status_code == 403
    response = client_for(m.secretary).post(
        "/registers/imports/", {"kind": "people", "file": upload, "mode": "import"}
    )
    assert response.status_code == 302
    job = ImportJob.objects.get(created_by=m.secretary)
    page = client_for(m.secretary).get(f"/registers/imports/{job.pk}/").content.decode()
    assert "网格代码不存在或不在您的管辖范围内" in page  # out: refused, nothing written
    assert not Person.objects.filter(name="越权").exists()
    assert client_for(m.resident).get(f"/registers/imports/{job.pk}/").status_code == 403


def test_api_matrix(m):
    anon, none = client_for(None), client_for(m.resident)
    worker, secretary = client_for(m.worker_a), client_for(m.secretary)
    p_in, p_out = m.p_in.pk, m.p_out.pk
    base = "/api/v1/registers"
    # lists: 401 / empty / in / hidden
    for path in ("/people", "/visits/due", "/components"):
        assert anon.get(base + path).status_code == 401
        assert none.get(base + path).json()["count"] == 0
    items = worker.get(base + "/people").json()["items"]
    assert [i["id"] for i in items] == [p_in] and items[0]["phone"] == "139****0001"
    assert items[0]["special_groups"] is None
    comps = worker.get(base + "/components").json()["items"]
    assert [c["identifier"] for c in comps] == [m.c_in.identifier]
    # single objects: 401 / 404 / 200 / 404
    for path_in, path_out in (
        (f"/people/{p_in}", f"/people/{p_out}"),
        (f"/components/{m.c_in.identifier}", f"/components/{m.c_out.identifier}"),
    ):
        assert anon.get(base + path_in).status_code == 401
        assert none.get(base + path_in).status_code == 404
        assert worker.get(base + path_in).status_code == 200
        assert worker.get(base + path_out).status_code == 404
    reveal = {"reason": "电话回访"}
    ct = "application/json"
    assert anon.post(f"{base}/people/{p_in}/reveal", reveal, content_type=ct).status_code == 401
    assert none.post(f"{base}/people/{p_in}/reveal", reveal, content_type=ct).status_code == 404
    shown = worker.post(f"{base}/people/{p_in}/reveal", reveal, content_type=ct)
    assert shown.status_code == 200 and shown.json()["phone"] == "13900000001"
    assert worker.post(f"{base}/people/{p_out}/reveal", reveal, content_type=ct).status_code == 404
    # create: 401 / 404 (no grid to write in) / 201 / 404
    body = {"grid": m.g_a.code, "name": "新居民", "id_number": "11010519491231002X"}
    assert anon.post(base + "/people", body, content_type=ct).status_code == 401
    assert none.post(base + "/people", body, content_type=ct).status_code == 404
    assert worker.post(base + "/people", body, content_type=ct).status_code == 201
    body["grid"] = m.g_other.code
    assert worker.post(base + "/people", body, content_type=ct).status_code == 404
    # grid profile: 401 / 403 / 200 / 404
    url = f"{base}/grids/{m.g_a.code}/profile"
    assert anon.get(url).status_code == 401
    assert none.get(url).status_code == 403
    assert worker.get(url).json()["people"] == 2
    assert worker.get(f"{base}/grids/{m.g_other.code}/profile").status_code == 404
    # imports: 401 / 403 / 201 / refused rows; jobs 401 / 404 / 200 / 404
    row = {"grid": m.g_other.code, "name": "x", "id_number": "440524188001010014"}
    data = base64.b64encode(people_xlsx([row])).decode()
    job_in = {"kind": "people", "file_name": "a.xlsx", "content_base64": data, "dry_run": False}
    assert anon.post(base + "/imports", job_in, content_type=ct).status_code == 401
    assert none.post(base + "/imports", job_in, content_type=ct).status_code == 403
    created = secretary.post(base + "/imports", job_in, content_type=ct)
    assert created.status_code == 201 and created.json()["status"] == "failed"
    job_id = created.json()["id"]
    assert anon.get(f"{base}/imports/{job_id}").status_code == 401
    assert none.get(f"{base}/imports/{job_id}").status_code == 404
    assert secretary.get(f"{base}/imports/{job_id}").json()["error_count"] == 1
    assert secretary.get(f"{base}/imports/{m.job_out.pk}").status_code == 404


def test_counts_only_without_the_special_group_grant(m):
    make_person(m.g_a, actor=SYSTEM, sensitive=["correction"], name="矫正对象")
    layers = client_for(m.worker_a).get("/registers/map/layers.json").json()["layers"]
    special = next(layer for layer in layers if layer["id"] == "special_groups")
    assert special["features"][0]["properties"]["count"] == 1
    assert "矫正对象" not in str(layers)
    page = client_for(m.worker_a).get(f"/registers/grids/{m.g_a.code}/").content.decode()
    assert "矫正对象" not in page
