"""HTTP API: intake (public and token), queue, case, transitions, tracking — permission matrix."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.test import Client

from wangge.accounts.services import api_token_create
from wangge.accounts.tests.factories import make_user
from wangge.cases.choices import CaseState
from wangge.cases.models import Case, SubTask

from .factories import PNG, centre, make_case

pytestmark = pytest.mark.django_db
URL = "/api/v1/cases/"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def as_user(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def post(client: Client, url: str, body: dict, **headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def payload(world, **kw):
    lon, lat = centre(world.grid)
    body = {
        "title": "路边暴露垃圾",
        "description": "垃圾很多",
        "lon": lon,
        "lat": lat,
        "crs": "wgs84",
        "reporter_phone": "13800000000",
        "reporter_name": "张三",
    }
    body.update(kw)
    return body


# --- intake ---------------------------------------------------------------------------------
def test_anyone_can_report_and_gets_only_a_tracking_code(world):
    r = post(Client(), URL, payload(world, client_key="k1"))
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["created"] and body["case"] is None and body["tracking_code"]
    again = post(Client(), URL, payload(world, client_key="k1"))
    assert again.status_code == 200 and again.json()["tracking_code"] == body["tracking_code"]
    assert Case.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"lon": None, "lat": None}, 422),
        ({"lon": 100.0, "lat": 20.0}, 422),
        ({"description": "字" * 10_000}, 422),
        ({"description": "<script>alert('x')</script>"}, 422),
        ({"matter_type": "00000"}, 422),
        ({"source": "hotline"}, 403),
    ],
)
def test_bad_public_reports_get_a_clear_error_and_nothing_is_created(world, change, status):
    r = post(Client(), URL, payload(world, **change))
    assert r.status_code == status, r.content
    assert r.json()["error"]["message"]
    assert not Case.objects.exists()


def test_the_public_channel_is_rate_limited_per_address(world, settings):
    settings.CASES_PUBLIC_RATE_PER_MINUTE = 2
    codes = [post(Client(), URL, payload(world)).status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    other = post(Client(REMOTE_ADDR="10.0.0.9"), URL, payload(world))
    assert other.status_code == 201


def test_machines_file_staff_reports_with_a_token(world):
    _token, raw = api_token_create(actor=None, user=world.worker, name="patrol-app")
    r = post(Client(), URL, payload(world, source="patrol"), HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["case"]["grid"]["code"] == world.grid.code
    assert body["case"]["matter_type"]["code"] == "06010"
    assert (
        post(Client(), URL, payload(world), HTTP_AUTHORIZATION="Bearer wg_nope").status_code == 401
    )


def test_a_token_outside_its_area_cannot_file_there(world):
    _token, raw = api_token_create(actor=None, user=world.outsider, name="x")
    r = post(Client(), URL, payload(world, source="hotline"), HTTP_X_API_TOKEN=raw)
    assert r.status_code == 403


# --- reading --------------------------------------------------------------------------------
def test_the_queue_is_scoped_and_filtered(world):
    mine = make_case(world, state=CaseState.REPORTED)
    make_case(world, state=CaseState.CLOSED)
    far = make_case(world, grid=world.other_grid)
    r = as_user(world.worker).get(URL, {"state": "reported"})
    assert r.status_code == 200
    assert [c["id"] for c in r.json()["results"]] == [mine.pk]
    assert far.pk not in [c["id"] for c in as_user(world.dispatcher).get(URL).json()["results"]]
    assert as_user(world.commander).get(URL).json()["count"] == 3
    assert as_user(world.nobody).get(URL).json()["count"] == 0
    assert as_user(world.outsider).get(URL, {"grid": world.grid.code}).json()["count"] == 0
    assert Client().get(URL).status_code == 401


def test_overdue_filter_and_paging(world):
    from datetime import timedelta

    from django.utils import timezone

    late = make_case(world, state=CaseState.IN_PROGRESS, now=timezone.now() - timedelta(days=30))
    make_case(world, state=CaseState.IN_PROGRESS)
    r = as_user(world.secretary).get(URL, {"overdue": "true"}).json()
    assert [c["id"] for c in r["results"]] == [late.pk]
    page = as_user(world.secretary).get(URL, {"page_size": 1, "page": 2}).json()
    assert page["count"] == 2 and len(page["results"]) == 1


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("worker", 200),
        ("secretary", 200),
        ("commander", 200),
        ("outsider", 404),
        ("nobody", 404),
        ("dept_user", 404),
    ],
)
def test_one_case_is_visible_only_in_area(world, who, status):
    case = make_case(world)
    r = as_user(getattr(world, who)).get(f"{URL}{case.pk}")
    assert r.status_code == status
    if status == 404:
        assert "管辖范围" in r.json()["error"]["message"]
    else:
        assert r.json()["tracking_code"] == case.tracking_code


def test_department_staff_see_their_departments_cases(world):
    case = make_case(world, state=CaseState.DISPATCHED, department=world.dept)
    assert as_user(world.dept_user).get(f"{URL}{case.pk}").status_code == 200
    assert as_user(world.dept2_user).get(f"{URL}{case.pk}").status_code == 404
    SubTask.objects.create(case=case, department=world.dept2, role="co", state="pending")
    assert as_user(world.dept2_user).get(f"{URL}{case.pk}").status_code == 200


def test_tracking_by_code_shows_status_but_no_personal_data(world):
    r = post(Client(), URL, payload(world))
    code = r.json()["tracking_code"]
    t = Client().get(f"{URL}track/{code}")
    assert t.status_code == 200
    text = t.content.decode()
    assert "13800000000" not in text and "张三" not in text
    assert t.json()["timeline"][0]["text"].startswith("您反映的问题已收到")
    assert Client().get(f"{URL}track/NOSUCHCODE").status_code == 404


def test_public_matter_type_list(world):
    r = Client().get(f"{URL}matter-types")
    assert r.status_code == 200 and {m["code"] for m in r.json()} >= {"06010", "91001"}


# --- transitions ----------------------------------------------------------------------------
def transition(client, case, action, version=1, **data):
    return post(
        client,
        f"{URL}{case.pk}/transitions",
        {"action": action, "expected_version": version, "data": data},
    )


@pytest.mark.parametrize(
    ("who", "status"),
    [("secretary", 200), ("dispatcher", 200), ("worker", 403), ("outsider", 404), ("nobody", 404)],
)
def test_accepting_needs_the_dispatch_permission_in_area(world, who, status):
    case = make_case(world)
    r = transition(as_user(getattr(world, who)), case, "accept")
    assert r.status_code == status, r.content
    case.refresh_from_db()
    assert case.state == (CaseState.ACCEPTED if status == 200 else CaseState.REPORTED)


def test_an_auditor_may_look_but_not_act(world):
    auditor = make_user("auditor1", role="auditor", region=world.tree.county)
    case = make_case(world)
    assert as_user(auditor).get(f"{URL}{case.pk}").status_code == 200
    assert transition(as_user(auditor), case, "accept").status_code == 403


def test_transition_errors_map_to_http(world):
    case = make_case(world)
    c = as_user(world.secretary)
    assert transition(c, case, "close").status_code == 409  # illegal from reported
    assert transition(c, case, "reject").status_code == 422  # reason missing
    assert transition(c, case, "fly").status_code == 422
    assert transition(c, case, "accept", version=7).status_code == 409  # stale
    ok = transition(c, case, "accept")
    assert ok.status_code == 200 and ok.json()["version"] == 2
    assert ok.json()["state"] == "accepted" and "dispatch" in ok.json()["actions"]


def test_merging_needs_both_cases_in_area(world):
    case = make_case(world)
    far = make_case(world, grid=world.other_grid)
    c = as_user(world.secretary)
    assert transition(c, case, "merge", duplicate_of=far.pk).status_code == 404
    near = make_case(world)
    assert transition(c, case, "merge", duplicate_of=near.pk).status_code == 200


def test_photo_upload_checks_the_file(world):
    case = make_case(world, state=CaseState.IN_PROGRESS, assignee=world.worker)
    c = as_user(world.worker)
    from django.core.files.uploadedfile import SimpleUploadedFile

    ok = c.post(
        f"{URL}{case.pk}/attachments",
        {"kind": "after", "file": SimpleUploadedFile("a.png", PNG, "image/png")},
    )
    assert ok.status_code == 201, ok.content
    bad = c.post(
        f"{URL}{case.pk}/attachments",
        {"kind": "after", "file": SimpleUploadedFile("a.png", b"<html>", "image/png")},
    )
    assert bad.status_code == 422
    out = as_user(world.outsider).post(
        f"{URL}{case.pk}/attachments",
        {"kind": "after", "file": SimpleUploadedFile("a.png", PNG, "image/png")},
    )
    assert out.status_code == 404


def test_subtask_endpoint(world):
    case = make_case(world, state=CaseState.IN_PROGRESS, department=world.dept)
    st = SubTask.objects.create(case=case, department=world.dept2, role="co", state="pending")
    url = f"{URL}subtasks/{st.pk}/transitions"
    assert (
        post(as_user(world.dept_user), url, {"action": "accept", "expected_version": 1}).status_code
        == 403
    )
    assert (
        post(as_user(world.outsider), url, {"action": "accept", "expected_version": 1}).status_code
        == 404
    )
    r = post(as_user(world.dept2_user), url, {"action": "accept", "expected_version": 1})
    assert r.status_code == 200 and r.json()["state"] == "accepted"


def test_notifications_list_count_and_read(world, django_capture_on_commit_callbacks):
    case = make_case(world, state=CaseState.ACCEPTED)
    with django_capture_on_commit_callbacks(execute=True):
        transition(as_user(world.secretary), case, "dispatch", assignee=world.worker.pk)
    c = as_user(world.worker)
    assert c.get(f"{URL}notifications/unread-count").json() == {"unread": 1}
    items = c.get(f"{URL}notifications").json()
    assert items[0]["case_id"] == case.pk
    assert post(c, f"{URL}notifications/read", {}).json() == {"marked": 1}
    assert c.get(f"{URL}notifications/unread-count").json() == {"unread": 0}


def test_a_resident_rates_and_reopens_by_code_and_phone(world):
    code = post(Client(), URL, payload(world)).json()["tracking_code"]
    Case.objects.filter(tracking_code=code).update(state=CaseState.CLOSED)
    url = f"{URL}track/{code}/feedback"
    assert post(Client(), url, {"phone": "13900000000", "score": 1}).status_code == 404
    assert (
        post(Client(), url, {"phone": "13800000000", "score": 1, "reopen": True}).status_code == 422
    )
    assert Case.objects.get(tracking_code=code).state == CaseState.CLOSED  # nothing half-done
    r = post(
        Client(), url, {"phone": "13800000000", "score": 1, "reason": "没修好", "reopen": True}
    )
    assert r.status_code == 200, r.content
    case = Case.objects.get(tracking_code=code)
    assert (case.state, case.reopen_count) == (CaseState.IN_PROGRESS, 1)
    assert r.json()["state"] == "in_progress"


def test_a_reporter_adds_photos_by_code_and_phone(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    code = post(Client(), URL, payload(world)).json()["tracking_code"]
    url = f"{URL}track/{code}/photos"

    def up(phone, content):
        return Client().post(url, {"phone": phone, "file": SimpleUploadedFile("p.jpg", content)})

    assert up("13800000000", PNG).status_code == 201
    assert up("13900000000", PNG).status_code == 404
    assert up("13800000000", b"MZ\x90\x00 not an image").status_code == 422
    assert Case.objects.get(tracking_code=code).attachments.count() == 1


def test_a_blank_reason_is_no_reason_and_service_arguments_cannot_be_smuggled(world):
    case = make_case(world)
    c = as_user(world.secretary)
    assert transition(c, case, "reject", reason="   ").status_code == 422
    r = transition(c, case, "accept", now="2000-01-01", actor=None, expected_version=99)
    assert r.status_code == 200 and r.json()["version"] == 2
