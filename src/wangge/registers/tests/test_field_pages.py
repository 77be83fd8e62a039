"""Visit recording (page and API), care plans and the PIPL export/erasure pages: behaviour and
the anon / no permission / in area / out of area matrix of each endpoint."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from django.test import Client
from openpyxl import load_workbook

from wangge.accounts.tests.factories import make_user
from wangge.core.models import AuditRecord
from wangge.registers.models import CarePlan, Person, Visit, VisitPhoto
from wangge.registers.selectors import grid_profile, overdue_visits_for_user
from wangge.registers.services import careplan_set, visit_create
from wangge.registers.tests.factories import (
    SYSTEM,
    make_building,
    make_component,
    make_house,
    make_person,
    resident_id,
)

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
ID = resident_id(date(1938, 2, 3), seq=21)
PHONE = "13955550001"


@pytest.fixture
def f(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    building = make_building(world.g_a, lon=120.61, lat=31.31)
    house = make_house(building)
    world.p_in = make_person(
        world.g_a, id_number=ID, phone=PHONE, house=house, flags={"elderly_alone": True}
    )
    world.p_out = make_person(world.g_other, name="区外居民")
    world.c_in = make_component(world.g_a)
    world.admin = make_user("sysadmin_f", role="sysadmin", region=world.s1)
    careplan_set(actor=SYSTEM, region=world.s1, group="elderly_alone", interval_days=7)
    return world


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _upload(name: str, content: bytes, content_type: str = "image/png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


# --- visit page ---------------------------------------------------------------------------------
def test_a_worker_records_a_visit_with_check_in_and_photo(f):
    worker = client_for(f.worker_a)
    assert grid_profile(f.worker_a, f.g_a).overdue_visits == 1
    page = worker.get(f"/registers/visits/new/?person={f.p_in.pk}")
    html = page.content.decode()
    assert page.status_code == 200 and f.p_in.name in html
    assert 'data-target-lon="120.6100000"' in html and 'name="crs"' in html
    response = worker.post(
        "/registers/visits/new/",
        {
            "person": f.p_in.pk,
            "kind": "visit",
            "notes": "老人身体好",
            "lon": "120.611",
            "lat": "31.31",
            "crs": "wgs84",
            "photos": [_upload("a.png", PNG)],
        },
    )
    assert response.status_code == 302 and response.url == f"/registers/people/{f.p_in.pk}/"
    visit = Visit.objects.get()
    assert visit.person == f.p_in and visit.visitor == f.worker_a
    assert 90 < visit.distance_m < 100
    assert visit.photos.get().content_type == "image/png"
    detail = worker.get(response.url).content.decode()
    assert "距目标 95 米" in detail or "距目标 94 米" in detail  # the history shows the visit
    assert "签到位置距目标" in detail  # the message with the distance
    assert not overdue_visits_for_user(f.worker_a).exists()
    assert grid_profile(f.worker_a, f.g_a).overdue_visits == 0
    assert AuditRecord.objects.filter(action="registers.visit.create").count() == 1


def test_a_gcj02_check_in_is_stored_in_wgs84(f):
    from wangge.geo.crs import wgs84_to_gcj02

    lon, lat = wgs84_to_gcj02(120.61, 31.31)
    response = client_for(f.worker_a).post(
        "/registers/visits/new/",
        {"person": f.p_in.pk, "kind": "visit", "lon": lon, "lat": lat, "crs": "gcj02"},
    )
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert abs(visit.lon - 120.61) < 1e-5 and visit.distance_m < 2


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"lon": "120.6", "lat": "95", "crs": "wgs84"}, "纬度"),
        ({"lon": "120.6", "crs": "wgs84"}, "签到位置需同时提供经度和纬度"),
        ({"photos": [_upload("x.png", b"not an image")]}, "照片格式应为 JPEG、PNG 或 WebP"),
    ],
    ids=["latitude-out-of-range", "longitude-only", "not-an-image"],
)
def test_bad_check_in_or_photo_is_a_clear_error_and_saves_nothing(f, extra, message):
    data = {"person": f.p_in.pk, "kind": "visit", "notes": "x", "crs": "wgs84", **extra}
    response = client_for(f.worker_a).post("/registers/visits/new/", data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Visit.objects.exists() and not VisitPhoto.objects.exists()
    f.p_in.refresh_from_db()
    assert f.p_in.last_visit_at is None


def test_visit_page_matrix(f):
    url = f"/registers/visits/new/?person={f.p_in.pk}"
    assert client_for(None).get(url).status_code == 302
    assert client_for(f.resident).get(url).status_code == 403
    worker = client_for(f.worker_a)
    assert worker.get(url).status_code == 200
    assert worker.get(f"/registers/visits/new/?component={f.c_in.pk}").status_code == 200
    assert worker.get(f"/registers/visits/new/?person={f.p_out.pk}").status_code == 404
    assert worker.get("/registers/visits/new/").status_code == 404
    out = {"person": f.p_out.pk, "kind": "visit"}
    assert worker.post("/registers/visits/new/", out).status_code == 404
    assert not Visit.objects.exists()
    # Entry points: the due-visits list links to the form.
    due = worker.get("/registers/visits/due/").content.decode()
    assert f"/registers/visits/new/?person={f.p_in.pk}" in due


# --- visit API ----------------------------------------------------------------------------------
def test_visit_api_matrix_and_photo_upload(f):
    anon, none = client_for(None), client_for(f.resident)
    worker, secretary = client_for(f.worker_a), client_for(f.secretary)
    base, ct = "/api/v1/registers/visits", "application/json"
    body = {"target_type": "person", "target_id": str(f.p_in.pk), "lon": 120.611, "lat": 31.31}
    assert anon.post(base, body, content_type=ct).status_code == 401
    assert none.post(base, body, content_type=ct).status_code == 403
    out = {**body, "target_id": str(f.p_out.pk)}
    assert worker.post(base, out, content_type=ct).status_code == 404
    bad = {**body, "lat": 95}
    refused = worker.post(base, bad, content_type=ct)
    assert refused.status_code == 422 and not Visit.objects.exists()
    created = worker.post(base, body, content_type=ct)
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["target_type"] == "person" and data["target_id"] == f.p_in.pk
    assert 90 < data["distance_m"] < 100 and data["photos"] == 0
    photos = f"{base}/{data['id']}/photos"
    assert anon.post(photos, {"file": _upload("a.png", PNG)}).status_code == 401
    assert none.post(photos, {"file": _upload("a.png", PNG)}).status_code == 404
    assert secretary.post(photos, {"file": _upload("a.png", PNG)}).status_code == 403
    assert worker.post(photos, {"file": _upload("a.txt", b"hello")}).status_code == 422
    uploaded = worker.post(photos, {"file": _upload("a.png", PNG)})
    assert uploaded.status_code == 201 and uploaded.json()["content_type"] == "image/png"
    # lists: 401 / empty / in / hidden
    other = visit_create(actor=f.dispatcher2, kind="visit", target=f.p_out)
    assert anon.get(base).status_code == 401
    assert none.get(base).json()["count"] == 0
    items = worker.get(base).json()["items"]
    assert [i["id"] for i in items] == [data["id"]] and items[0]["photos"] == 1
    assert worker.get(f"{base}?person={f.p_in.pk}").json()["count"] == 1
    assert worker.post(
        f"{base}/{other.pk}/photos", {"file": _upload("a.png", PNG)}
    ).status_code == (404)


# --- care plans ---------------------------------------------------------------------------------
def test_care_plans_page_matrix_and_setting_a_plan(f):
    url = "/registers/careplans/"
    assert client_for(None).get(url).status_code == 302
    assert client_for(f.worker_a).get(url).status_code == 403  # no registers.change_careplan
    secretary = client_for(f.secretary)
    page = secretary.get(f"{url}?area={f.com_a.code}")
    assert page.status_code == 200 and "独居老人" in page.content.decode()  # inherited from s1
    assert secretary.get(f"{url}?area={f.g_other.code}").status_code == 404
    post = {"area": f.com_a.code, "group": "elderly_alone", "interval_days": "3", "active": "on"}
    assert secretary.post(url, post).status_code == 302
    plan = CarePlan.objects.get(region=f.com_a)
    assert (plan.group, plan.interval_days, plan.active) == ("elderly_alone", 3, True)
    assert AuditRecord.objects.filter(action="registers.careplan.set").count() == 2
    refused = secretary.post(url, {**post, "interval_days": "0"})
    assert refused.status_code == 422
    plan.refresh_from_db()
    assert plan.interval_days == 3
    out = {**post, "area": f.g_other.code}
    assert secretary.post(url, out).status_code == 404
    assert not CarePlan.objects.filter(region=f.g_other).exists()
    rows = secretary.get(f"{url}?area={f.com_a.code}").content.decode()
    assert "生效" in rows and "上级" in rows


# --- PIPL export and erasure --------------------------------------------------------------------
def test_subject_export_downloads_everything_and_is_audited(f):
    url = f"/registers/people/{f.p_in.pk}/subject-export/"
    reason = {"reason": "本人申请查阅"}
    assert client_for(None).post(url, reason).status_code == 302
    assert client_for(f.worker_a).post(url, reason).status_code == 403  # no export_person
    secretary = client_for(f.secretary)
    response = secretary.post(url, reason)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert (data["id_number"], data["phone"]) == (ID, PHONE)  # unmasked, for the subject
    record = AuditRecord.objects.get(action="registers.person.subject_export")
    assert record.after == {"reason": "本人申请查阅"} and record.object_id == str(f.p_in.pk)
    xlsx = secretary.post(url, {**reason, "format": "xlsx"})
    values = [
        v for row in load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True)
        for v in row
    ]  # fmt: skip
    assert ID in values
    # No reason: nothing exported, nothing audited.
    refused = secretary.post(url, {"reason": ""}, follow=True)
    assert "请填写事由" in refused.content.decode()
    assert AuditRecord.objects.filter(action="registers.person.subject_export").count() == 2
    out = f"/registers/people/{f.p_out.pk}/subject-export/"
    assert secretary.post(out, reason).status_code == 404
    detail = secretary.get(f"/registers/people/{f.p_in.pk}/").content.decode()
    assert "导出本人数据" in detail and "删除个人信息" not in detail  # may export, not erase


def test_erasure_needs_reason_and_confirmation_and_keeps_history(f):
    visit = visit_create(actor=f.worker_a, kind="visit", target=f.p_in, notes="家中有人")
    url = f"/registers/people/{f.p_in.pk}/erase/"
    body = {"reason": "本人申请删除", "confirm": "yes"}
    assert client_for(None).post(url, body).status_code == 302
    assert client_for(f.secretary).post(url, body).status_code == 403  # no erase_person
    admin = client_for(f.admin)
    unconfirmed = admin.post(url, {"reason": "本人申请删除"}, follow=True)
    assert "请勾选确认后再删除" in unconfirmed.content.decode()
    no_reason = admin.post(url, {"confirm": "yes"}, follow=True)
    assert "请填写事由" in no_reason.content.decode()
    f.p_in.refresh_from_db()
    assert f.p_in.erased_at is None
    assert admin.post(f"/registers/people/{f.p_out.pk}/erase/", body).status_code == 404
    response = admin.post(url, body, follow=True)
    html = response.content.decode()
    assert response.status_code == 200 and "个人信息已删除" in html
    person = Person.objects.get(pk=f.p_in.pk)
    assert person.erased_at and not person.id_number_enc and not person.phone_enc
    record = AuditRecord.objects.get(action="registers.person.erase")
    assert record.after == {"reason": "本人申请删除"}
    # History still resolves: the visit is on the tombstone; the person shows as erased.
    visit.refresh_from_db()
    assert visit.person_id == person.pk
    assert "暂无走访记录" not in html
    worker = client_for(f.worker_a)
    assert person.name not in worker.get("/registers/people/").content.decode()
    assert worker.get(f"/api/v1/registers/people/{person.pk}").json()["erased"] is True
    assert worker.get(f"/registers/visits/new/?person={person.pk}").status_code == 404
    assert admin.post(url, body, follow=True).status_code == 200  # twice: a clear message
    assert AuditRecord.objects.filter(action="registers.person.erase").count() == 1


def test_the_due_visits_page_links_care_plans_only_for_planners(f):
    assert (
        "careplans-link" in client_for(f.secretary).get("/registers/visits/due/").content.decode()
    )
    assert (
        "careplans-link"
        not in client_for(f.worker_a).get("/registers/visits/due/").content.decode()
    )
