"""Permission matrix of the analytics pages and API (its own world; the four scenarios of
tests/test_permission_matrix.py): anon → login/401; signed in without the permission → 403 (or
404 for the API's area); permission in area → success; an object in the other street → 404."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from wangge.accounts.tests.factories import make_user

pytestmark = pytest.mark.django_db

COVERED = {
    "analytics:dashboard",
    "analytics:data",
    "analytics:map",
    "analytics:hotspots",
    "analytics:assessments",
    "analytics:assessment_run",
    "analytics:run",
    "analytics:report_create",
    "analytics:report_download",
    "GET /api/v1/indicators/",
}


@dataclass
class W:
    tree: Any
    users: dict[str, Any]
    scheme: dict[str, Any]
    run: dict[str, Any]
    report: dict[str, Any]
    street: dict[str, Any]


@pytest.fixture
def w(tree, settings, tmp_path) -> W:
    from wangge.analytics.assessment import DEFAULT_ITEMS, assessment_run_now, scheme_save
    from wangge.analytics.models import Report
    from wangge.analytics.reports import report_generate

    settings.MEDIA_ROOT = tmp_path
    s1, s2 = tree.streets
    users = {
        "resident": make_user("resident", role="resident", region=s1),
        "viewer": make_user("viewer", role="street_dispatcher", region=s1),
        "boss": make_user("boss", role="district_commander", region=s1),
    }
    scheme, run, report = {}, {}, {}
    for side, street in (("in", s1), ("out", s2)):
        scheme[side] = scheme_save(
            actor=None,
            code=f"s-{side}",
            name=f"方案{side}",
            object_kind="community",
            period_kind="month",
            region=street,
            items=DEFAULT_ITEMS,
        )
        run[side] = assessment_run_now(actor=None, scheme=scheme[side], period_label="2026-10")
        r = Report.objects.create(region=street, period="2026-10", format="xlsx")
        report[side] = report_generate(report_id=r.pk)
    return W(tree, users, scheme, run, report, {"in": s1, "out": s2})


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    user: str  # who plays "in"/"out"
    url: Any  # (w, side) -> str
    data: Any = None  # (w, side) -> dict
    ok: int = 200


def _area(path: str) -> Any:
    return lambda w, side: f"{path}?area={w.street[side].code}&period=2026-10"


ROWS = [
    Row("analytics:dashboard", "get", "viewer", _area("/analytics/")),
    Row("analytics:data", "get", "viewer", _area("/analytics/data.json")),
    Row("analytics:map", "get", "viewer", _area("/analytics/map.geojson")),
    Row("analytics:hotspots", "get", "viewer", _area("/analytics/hotspots.json")),
    Row(
        "analytics:run",
        "get",
        "viewer",
        lambda w, side: f"/analytics/assessments/runs/{w.run[side].pk}/",
    ),
    Row(
        "analytics:assessment_run",
        "post",
        "boss",
        lambda w, side: "/analytics/assessments/run/",
        lambda w, side: {"scheme": w.scheme[side].code, "period": "2026-10"},
        302,
    ),
    Row(
        "analytics:report_create",
        "post",
        "boss",
        lambda w, side: "/analytics/reports/new/",
        lambda w, side: {"area": w.street[side].code, "period": "2026-10", "format": "xlsx"},
        302,
    ),
    Row(
        "analytics:report_download",
        "get",
        "viewer",
        lambda w, side: f"/analytics/reports/{w.report[side].pk}/download/",
    ),
]


def _call(client: Client, row: Row, w: W, side: str) -> Any:
    url = row.url(w, side)
    if row.method == "post":
        return client.post(url, row.data(w, side))
    return client.get(url)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
@pytest.mark.parametrize("scenario", ["anon", "none", "in", "out"])
def test_page_matrix(w, row, scenario, django_capture_on_commit_callbacks):
    client = Client()
    if scenario == "none":
        client.force_login(w.users["resident"])
    elif scenario in ("in", "out"):
        client.force_login(w.users[row.user])
    side = "out" if scenario == "out" else "in"
    with django_capture_on_commit_callbacks(execute=False):
        response = _call(client, row, w, side)
    if scenario == "anon":
        assert response.status_code == 302 and response["Location"].startswith("/login/?next=")
    elif scenario == "none":
        assert response.status_code == 403
    elif scenario == "in":
        assert response.status_code == row.ok, response.content[:300]
    else:
        assert response.status_code == 404


@pytest.mark.parametrize(
    "scenario, expected", [("anon", 401), ("none", 404), ("in", 200), ("out", 404)]
)
def test_indicator_api_matrix(w, scenario, expected):
    client = Client()
    if scenario == "none":
        client.force_login(w.users["resident"])
    elif scenario in ("in", "out"):
        client.force_login(w.users["viewer"])
    street = w.street["out" if scenario == "out" else "in"]
    response = client.get(f"/api/v1/indicators/?area={street.code}&start=2026-10-01&end=2026-10-31")
    assert response.status_code == expected, response.content[:300]
    if expected == 200:
        body = response.json()
        assert body["area"]["code"] == street.code and len(body["indicators"]) == 13
        assert body["start"] == "2026-10-01" and body["end"] == "2026-10-31"
    elif expected == 404:
        assert response.json()["error"]["code"] == "not_found"


def test_assessment_list_shows_only_schemes_and_runs_in_area(w):
    client = Client()
    client.force_login(w.users["viewer"])
    page = client.get("/analytics/assessments/").content.decode()
    assert "方案in" in page and "方案out" not in page
    client.force_login(w.users["resident"])
    assert client.get("/analytics/assessments/").status_code == 403
    anon = Client().get("/analytics/assessments/")
    assert anon.status_code == 302


def test_a_street_sees_only_its_communities(w, tree):
    from wangge.analytics.assessment import DEFAULT_ITEMS, assessment_run_now, scheme_save
    from wangge.analytics.selectors import result_list_for_user

    county = scheme_save(
        actor=None,
        code="county",
        name="全区社区",
        object_kind="community",
        period_kind="month",
        region=tree.county,
        items=DEFAULT_ITEMS,
    )
    run = assessment_run_now(actor=None, scheme=county, period_label="2026-10")
    assert run.results.count() == 4
    seen = {r.region_id for r in result_list_for_user(w.users["viewer"], run)}
    assert seen == {c.pk for c in tree.communities if c.parent_id == w.street["in"].pk}
    client = Client()
    client.force_login(w.users["viewer"])
    data = client.get(f"/analytics/data.json?area={w.street['in'].code}&period=2026-10").json()
    assert {a["code"] for a in data["sub_areas"]} == {
        c.code for c in tree.communities if c.parent_id == w.street["in"].pk
    }


def test_bad_input_changes_nothing(w):
    from wangge.analytics.models import AssessmentRun, Report

    client = Client()
    client.force_login(w.users["boss"])
    runs, reports = AssessmentRun.objects.count(), Report.objects.count()
    response = client.post(
        "/analytics/assessments/run/", {"scheme": "s-in", "period": "2026-13"}, follow=True
    )
    assert "格式不正确" in response.content.decode()
    response = client.post(
        "/analytics/reports/new/",
        {"area": w.street["in"].code, "period": "2026-10", "format": "doc"},
        follow=True,
    )
    assert "报告格式无效" in response.content.decode()
    assert (AssessmentRun.objects.count(), Report.objects.count()) == (runs, reports)
    api = client.get(
        f"/api/v1/indicators/?area={w.street['in'].code}&start=2026-10-31&end=2026-10-01"
    )
    assert api.status_code == 422 and "结束日期" in api.json()["error"]["message"]
