"""党支部 assessment objects: each party indicator on hand-built orders and activities with the
value worked out by hand, the case indicators of the bound grid/community, the default scheme
and the command, reports, and who sees which branch's score."""

from __future__ import annotations

import io
import itertools
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from openpyxl import load_workbook

from wangge.accounts.tests.factories import make_user
from wangge.analytics.assessment import (
    BRANCH_ITEMS,
    DEFAULT_ITEMS,
    assessment_run_now,
    default_schemes_create,
    scheme_save,
)
from wangge.analytics.branches import (
    ALL_BY_CODE,
    PARTY_BY_CODE,
    access_run,
    branch_objects,
    result_list_for_user,
)
from wangge.analytics.periods import parse_period
from wangge.core.exceptions import NotFound, ValidationError
from wangge.party.choices import ActivityState, OrderState
from wangge.party.models import Activity, Attendance, ServiceOrder
from wangge.party.tests.factories import make_member, make_party_tree

from .helpers import at, report, walk

pytestmark = pytest.mark.django_db
_seq = itertools.count(1)
NOW = at(2026, 11, 15, 12)
LOOP = [
    ("accept", 1, {}),
    ("dispatch", 2, {"assignee": None}),
    ("claim", 3, {}),
    ("handle", 5, {"result": "ok"}),
    ("verify", 6, {}),
    ("close", 7, {}),
]


def _order(branch, state, created: datetime, rating: int | None = None) -> ServiceOrder:
    return ServiceOrder.objects.create(
        code=f"SO{next(_seq):06d}",
        state=state,
        category="repair",
        description="修水龙头",
        window_start=created,
        window_end=created + timedelta(hours=2),
        address="1幢101室",
        region=branch.region,
        region_path=branch.region_path,
        branch=branch,
        contact_name="张阿姨",
        rating=rating,
        created_at=created,
    )


def _activity(branch, starts: datetime, state=ActivityState.HELD, attendees=()) -> Activity:
    a = Activity.objects.create(
        branch=branch,
        region_path=branch.region_path,
        kind="theme_day",
        title="主题党日",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        checkin_code=f"C{next(_seq):08d}",
        state=state,
    )
    for m in attendees:
        Attendance.objects.create(activity=a, member=m, method="manual", checked_in_at=starts)
    return a


@pytest.fixture
def pw(world):
    return make_party_tree(world.tree)


@pytest.fixture
def october(world, pw):
    """Grid 0's branch: orders and activities in October (and around it); one closed case rated
    5 in grid 0 and one rated 2 in grid 1 (the same community)."""
    g0, g1 = world.tree.grids[0], world.tree.grids[1]
    b0, b1 = pw.branch(g0), pw.branch(g1)
    oct_ = at(2026, 10, 20, 10)
    # Orders of b0 created in October: 5, of which 1 cancelled; done: rated ×2 + completed = 3;
    # rated 2, satisfied (≥ 4) 1. Outside: one of September, one of b1.
    _order(b0, OrderState.RATED, oct_, rating=5)
    _order(b0, OrderState.RATED, oct_, rating=3)
    _order(b0, OrderState.COMPLETED, oct_)
    _order(b0, OrderState.CANCELLED, oct_)
    _order(b0, OrderState.POSTED, oct_)
    _order(b0, OrderState.RATED, at(2026, 9, 30, 10), rating=1)
    _order(b1, OrderState.CANCELLED, oct_)
    # Members of b0 now: 3 active home members + 1 attached from b1 = 4 (1 inactive left out).
    m = [make_member(b0) for _ in range(3)]
    gone = make_member(b0)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    guest = make_member(b1)
    b0.attached_members.add(guest)
    outsider = make_member(b1)
    # Counted activities: held (3 members + the outsider, who is not b0's) and planned but begun
    # (1): expected 2 × 4 = 8, attended 3 + 1 = 4. Cancelled and November ones are left out.
    _activity(b0, at(2026, 10, 10, 9), attendees=[*m, outsider])
    _activity(b0, at(2026, 10, 25, 9), state=ActivityState.PLANNED, attendees=[guest])
    _activity(b0, at(2026, 10, 26, 9), state=ActivityState.CANCELLED, attendees=m[:2])
    _activity(b0, at(2026, 11, 3, 9), attendees=m)
    worker1 = make_user("worker_g1", role="grid_worker", region=g1)
    for grid, worker, rating in ((g0, world.worker, 5), (g1, worker1, 2)):
        steps = [(a, h, {"assignee": worker.pk} if a == "dispatch" else d) for a, h, d in LOOP]
        walk(
            world,
            report(world, now=at(2026, 10, 19, 9), grid=grid),
            [*steps, ("rate", 8, {"score": rating})],
            at(2026, 10, 19),
        )
    return world


def _by_name(objects):
    return {o["name"]: o["values"] for o in objects}


def test_party_indicators_are_counted_as_defined(october, pw):
    world = october
    g0 = world.tree.grids[0]
    values = _by_name(branch_objects(world.tree.streets[0], parse_period("2026-10"), now=NOW))
    b0 = values[pw.branch(g0).name]
    assert b0["order_close_rate"] == pytest.approx(3 / 4)
    assert b0["order_satisfaction"] == pytest.approx(1 / 2)
    assert b0["activity_participation"] == pytest.approx(4 / 8)
    # The case indicators of the grid it is bound to: one case, closed and rated 5.
    assert b0["filed"] == 1 and b0["satisfaction"] == 1.0
    # Grid 1's branch: one cancelled order (no denominator), no activity, its case rated 2.
    b1 = values[pw.branch(world.tree.grids[1]).name]
    assert b1["order_close_rate"] is None and b1["activity_participation"] is None
    assert b1["satisfaction"] == 0.0
    # The 社区党委 covers its community: both cases.
    committee = values[pw.committees[0].name]
    assert committee["filed"] == 2 and committee["satisfaction"] == pytest.approx(0.5)
    # Street 0: 2 committees + 4 grid branches; street committees are not assessed.
    assert len(values) == 6


def test_a_branch_run_scores_explains_and_ranks(october, pw):
    world = october
    scheme = scheme_save(
        actor=world.commander,
        code="branches",
        name="党支部考核",
        object_kind="party_branch",
        period_kind="month",
        region=world.tree.streets[0],
        items=BRANCH_ITEMS,
    )
    run = assessment_run_now(actor=world.commander, scheme=scheme, period_label="2026-10")
    b0 = run.results.get(object_id=pw.branch(world.tree.grids[0]).pk)
    texts = [d["text"] for d in b0.details]
    assert "服务工单办结率 75.0% → 11.1 / 20" in texts  # (0.75 − 0.5) / 0.45 × 20
    assert "群众评单满意率 50.0% → 0.0 / 15" in texts
    assert "组织生活参与率 50.0% → 6.7 / 20" in texts  # (0.5 − 0.3) / 0.6 × 20
    assert b0.object_kind == "party_branch" and b0.region_id == world.tree.grids[0].pk
    assert b0.rank == 1 and b0.score > 0
    # A branch with no case, order or activity in the period has nothing to score: 0, not 100.
    idle = run.results.get(object_id=pw.branch(world.tree.grids[3]).pk)
    assert idle.score == 0 and idle.grade == "E"


def test_party_indicators_only_score_branches(world):
    with pytest.raises(ValidationError) as exc:
        scheme_save(
            actor=None,
            code="x",
            name="x",
            object_kind="grid",
            period_kind="month",
            region=world.tree.county,
            items=BRANCH_ITEMS,
        )
    assert "object_kind" in exc.value.errors["items"]


def test_the_default_branch_scheme_runs_from_the_command(october, pw):
    default_schemes_create(october.tree.county)
    out = io.StringIO()
    call_command("assess", "run", "--scheme", "branch-monthly", "--period", "2026-10", stdout=out)
    text = out.getvalue()
    assert "branch-monthly v1 2026-10: 12 results" in text  # 4 committees + 8 grid branches
    assert pw.branch(october.tree.grids[0]).name in text


def test_the_county_report_lists_branch_scores(october, pw, settings, tmp_path):
    from wangge.analytics.models import Report
    from wangge.analytics.reports import report_generate

    settings.MEDIA_ROOT = tmp_path
    default_schemes_create(october.tree.county)
    from wangge.analytics.models import AssessmentScheme

    scheme = AssessmentScheme.objects.get(code="branch-monthly")
    assessment_run_now(actor=None, scheme=scheme, period_label="2026-10")
    r = Report.objects.create(region=october.tree.county, period="2026-10", format="xlsx")
    done = report_generate(report_id=r.pk)
    book = load_workbook(io.BytesIO(done.file.read()))
    cells = {c.value for ws in book.worksheets for row in ws.iter_rows() for c in row}
    assert "党支部月度考核" in cells
    assert pw.branch(october.tree.grids[0]).name in cells


@pytest.fixture
def county_run(october):
    scheme = scheme_save(
        actor=None,
        code="branches",
        name="党支部考核",
        object_kind="party_branch",
        period_kind="month",
        region=october.tree.county,
        items=BRANCH_ITEMS,
    )
    return assessment_run_now(actor=None, scheme=scheme, period_label="2026-10")


def test_a_street_sees_the_branches_in_its_communities(october, pw, county_run):
    world = october
    street = world.tree.streets[0]
    seen = {r.region.path for r in result_list_for_user(world.dispatcher, county_run)}
    assert len(seen) == 6 and all(p.startswith(street.path) for p in seen)
    assert access_run(world.dispatcher, county_run.pk) == county_run
    client = Client()
    client.force_login(world.dispatcher)
    page = client.get(f"/analytics/assessments/runs/{county_run.pk}/").content.decode()
    assert pw.branch(world.tree.grids[0]).name in page
    assert pw.branch(world.tree.grids[-1]).name not in page


def test_a_branch_secretary_sees_their_branch_only(october, pw, county_run):
    world = october
    g0 = world.tree.grids[0]
    branch = pw.branch(g0)
    # By area: the secretary's role granted on the grid.
    by_grant = make_user("branch_sec", role="community_secretary", region=g0)
    assert [r.object_id for r in result_list_for_user(by_grant, county_run)] == [branch.pk]
    # By membership: the member who is the branch's secretary, with no area grant at all.
    sec = make_member(branch, username="sec_member")
    branch.secretary = sec
    branch.save(update_fields=["secretary"])
    client = Client()
    client.force_login(sec.user)
    response = client.get(f"/analytics/assessments/runs/{county_run.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert branch.name in page and pw.branch(world.tree.grids[1]).name not in page
    assert "服务工单办结率 75.0% →" in page  # the explanation of each score, with its definition
    assert 'title="办结数 ÷（工单数 − 已取消数）' in page


def test_out_of_area_runs_answer_404_and_strangers_403(october, pw):
    world = october
    scheme = scheme_save(
        actor=None,
        code="b-east",
        name="二街道党支部",
        object_kind="party_branch",
        period_kind="month",
        region=world.tree.streets[1],
        items=BRANCH_ITEMS,
    )
    run = assessment_run_now(actor=None, scheme=scheme, period_label="2026-10")
    assert run.results.count() == 6
    with pytest.raises(NotFound):
        access_run(world.dispatcher, run.pk)
    sec = make_member(pw.branch(world.tree.grids[0]), username="sec0")
    pw.branch(world.tree.grids[0]).secretary = sec
    pw.branch(world.tree.grids[0]).save(update_fields=["secretary"])
    client = Client()
    client.force_login(sec.user)
    assert client.get(f"/analytics/assessments/runs/{run.pk}/").status_code == 404
    client.force_login(world.dispatcher)
    assert client.get(f"/analytics/assessments/runs/{run.pk}/").status_code == 404
    client.force_login(world.nobody)
    assert client.get(f"/analytics/assessments/runs/{run.pk}/").status_code == 403
    assert Client().get(f"/analytics/assessments/runs/{run.pk}/").status_code == 302


def test_default_items_keep_satisfaction_above_activity():
    weights = {i["indicator"]: i["weight"] for i in BRANCH_ITEMS}
    assert sum(weights.values()) == 100
    assert weights["satisfaction"] >= weights.get("filed", 0)
    assert {i["indicator"] for i in BRANCH_ITEMS} <= set(ALL_BY_CODE)
    assert not {i["indicator"] for i in DEFAULT_ITEMS} & set(PARTY_BY_CODE)


def test_branch_indicators_and_labels_have_english_translations():
    from django.utils import translation

    from wangge.analytics.choices import ObjectKind

    with translation.override("en"):
        names = [str(i.name) for i in PARTY_BY_CODE.values()]
        definitions = [str(i.definition) for i in PARTY_BY_CODE.values()]
        assert names == [
            "Service order completion rate",
            "Residents' satisfaction with service orders",
            "Party activity participation",
        ]
        assert not any("\u4e00" <= c <= "\u9fff" for d in definitions for c in d)
        assert str(ObjectKind.PARTY_BRANCH.label) == "Party branch"
