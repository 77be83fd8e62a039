from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from wangge.cases.choices import CaseState, HandlingLevel, Source
from wangge.cases.classify import KeywordClassifier
from wangge.cases.models import Case, CaseEvent, Notification
from wangge.cases.services import case_create, case_merge, case_transition
from wangge.cases.services.intake import case_duplicate_candidates
from wangge.core.exceptions import PermissionDenied, ValidationError
from wangge.core.models import AuditRecord
from wangge.geo.crs import wgs84_to_gcj02

from .factories import centre, make_case

pytestmark = pytest.mark.django_db


def report(world, **kw):
    lon, lat = centre(kw.pop("grid", world.grid))
    args = {
        "actor": None,
        "source": Source.RESIDENT,
        "title": "小区门口有暴露垃圾",
        "description": "垃圾堆了三天没人清理",
        "lon": lon,
        "lat": lat,
        "reporter_name": "王阿姨",
        "reporter_phone": "13800000000",
    }
    args.update(kw)
    return case_create(**args)


def test_a_resident_report_is_located_classified_routed_timed_and_audited(world):
    result = report(world)
    case = result.case
    assert result.created
    assert case.grid == world.grid and case.region_path == world.grid.path
    assert case.matter_type.code == "06010"
    assert result.suggestions[0].code == "06010"
    assert case.handling_level == HandlingLevel.GRID and case.routing_reasons
    assert case.state == CaseState.REPORTED and case.step == "accept" and case.due_at
    assert case.rules["handle_limit"] == 4
    assert len(case.tracking_code) == 12
    assert CaseEvent.objects.filter(case=case, action="report").exists()
    assert AuditRecord.objects.filter(action="cases.create", object_id=str(case.pk)).exists()


def test_the_same_client_key_returns_the_same_case(world):
    first = report(world, client_key="app-123")
    again = report(world, client_key="app-123")
    assert not again.created and again.case.pk == first.case.pk
    assert Case.objects.filter(client_key="app-123").count() == 1
    # A retry answers the case filed even when it would not pass the checks again (here: a
    # point outside every grid), and writes nothing.
    events, audits = CaseEvent.objects.count(), AuditRecord.objects.count()
    third = report(world, client_key="app-123", lon=0.5, lat=0.5)
    assert not third.created and third.case.pk == first.case.pk
    assert (CaseEvent.objects.count(), AuditRecord.objects.count()) == (events, audits)
    with pytest.raises(ValidationError):
        report(world, client_key="app-456", lon=0.5, lat=0.5)


def test_gcj02_input_is_converted_before_locating(world):
    lon, lat = centre(world.grid)
    glon, glat = wgs84_to_gcj02(lon, lat)
    case = report(world, lon=glon, lat=glat, crs="gcj02").case
    assert case.grid == world.grid and case.input_crs == "gcj02"
    assert abs(case.lon - lon) < 1e-5 and abs(case.lat - lat) < 1e-5


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"lon": None, "lat": None}, "location"),
        ({"lon": 100.0, "lat": 20.0}, "location"),
        ({"matter_type_code": "12345"}, "matter_type"),
        ({"description": "长" * 10_000}, "description"),
        ({"title": "标" * 201}, "title"),
        ({"title": "  "}, "title"),
        ({"description": "<script>alert(1)</script>"}, "description"),
        ({"title": "<b>垃圾</b>"}, "title"),
        ({"crs": "mars"}, "crs"),
        ({"reporter_phone": "call me"}, "reporter_phone"),
    ],
)
def test_bad_input_is_a_clear_error_and_creates_nothing(world, kwargs, field):
    audits = AuditRecord.objects.count()
    with pytest.raises(ValidationError) as exc:
        report(world, **kwargs)
    assert field in exc.value.errors
    assert exc.value.message  # a sentence in Chinese
    assert not Case.objects.exists() and AuditRecord.objects.count() == audits


def test_plain_comparisons_are_not_mistaken_for_markup(world):
    case = report(world, description="气温<5度时路面结冰，a < b").case
    assert case.description == "气温<5度时路面结冰，a < b"


def test_the_public_channel_can_only_report_as_a_resident(world):
    with pytest.raises(PermissionDenied):
        report(world, source=Source.HOTLINE)


def test_staff_file_only_inside_their_area(world):
    report(world, actor=world.worker, source=Source.PATROL)
    with pytest.raises(PermissionDenied):
        report(world, actor=world.worker, source=Source.PATROL, grid=world.other_grid)


def test_a_grid_worker_resolves_a_small_matter_on_the_spot_in_one_step(world):
    case = report(world, actor=world.worker, source=Source.PATROL, on_spot_result="已清理").case
    assert case.state == CaseState.CLOSED and case.self_resolved and case.assignee == world.worker
    assert case.due_at is None
    with pytest.raises(ValidationError):
        report(
            world,
            actor=world.worker,
            source=Source.PATROL,
            title="私搭乱建",
            matter_type_code="06001",
            on_spot_result="拆了",
        )


def test_unclear_text_is_left_for_staff_to_classify(world):
    case = report(world, title="有个问题", description="请来看看").case
    assert case.matter_type is None and case.handling_level == HandlingLevel.COMMUNITY
    accepted = case_transition(
        actor=world.secretary,
        case=case,
        action="accept",
        expected_version=1,
        matter_type="91001",
    )
    assert accepted.matter_type.code == "91001" and accepted.rules["name"] == "邻里纠纷"


def test_the_keyword_classifier_ranks_longer_and_title_matches_higher():
    clf = KeywordClassifier([("A", "暴露垃圾", ["暴露垃圾", "垃圾"]), ("B", "垃圾满溢", ["满溢"])])
    out = clf.suggest(title="路边暴露垃圾", text="垃圾桶满溢")
    assert [s.code for s in out] == ["A", "B"] and out[0].score > out[1].score
    assert clf.suggest(title="无关", text="") == []


def test_nearby_open_cases_of_the_same_type_are_suggested_as_duplicates(world):
    first = report(world).case
    far_lon, far_lat = centre(world.other_grid)
    report(world, lon=far_lon, lat=far_lat, grid=world.other_grid)
    old = make_case(world, reported_at=timezone.now() - timedelta(days=8))
    second = report(world, reporter_phone="13900000000")
    assert [c.pk for c in second.duplicates] == [first.pk]
    assert old.pk not in [c.pk for c in case_duplicate_candidates(case=second.case)]


def test_only_open_cases_of_a_related_type_are_duplicates_and_the_scan_uses_the_position_index(
    world,
):
    """Another type at the same spot, a closed case and an unclassified report are not
    suggested; the scan stays on ``case_lon_lat`` on either database."""
    from django.db import connection

    from wangge.cases.services.intake import _duplicate_sql

    first = report(world).case
    other_type = report(world, title="邻里纠纷", description="楼上楼下吵架").case
    assert other_type.matter_type_id not in (None, first.matter_type_id)
    closed = report(world).case
    Case.objects.filter(pk=closed.pk).update(state=CaseState.CLOSED)
    second = report(world, reporter_phone="13900000000")
    assert [c.pk for c in second.duplicates] == [first.pk]
    shown = second.duplicates[0]
    assert (shown.tracking_code, shown.state) == (first.tracking_code, CaseState.REPORTED)
    assert shown.reported_at == Case.objects.get(pk=first.pk).reported_at  # aware, both databases
    sql = _duplicate_sql(2)
    params = [0.0, 1.0, 0.0, 1.0, timezone.now(), 0, 1, 2]
    with connection.cursor() as cursor:
        cursor.execute(
            ("EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN ") + sql, params
        )
        plan = " ".join(str(part) for row in cursor.fetchall() for part in row)
    assert "case_lon_lat" in plan, plan


def test_merging_keeps_the_duplicates_reporter_who_is_told_when_the_main_case_closes(
    world, django_capture_on_commit_callbacks
):
    main = report(world).case
    dup = report(world, reporter_phone="13900000000", reporter_name="李先生").case
    merged = case_merge(actor=world.secretary, case=dup, into=main, expected_version=1)
    assert merged.state == CaseState.MERGED and merged.duplicate_of == main
    assert merged.reporter_phone == "13900000000"
    Case.objects.filter(pk=main.pk).update(state=CaseState.VERIFIED)
    main.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        case_transition(actor=world.secretary, case=main, action="close", expected_version=1)
    told = set(
        Notification.objects.filter(case=main, kind="closed").values_list("address", flat=True)
    )
    assert told == {"13800000000", "13900000000"}


def test_a_new_report_is_announced_to_whoever_accepts_it(
    world, settings, django_capture_on_commit_callbacks
):
    # The announcement is one background task; the immediate backend runs it after commit.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        report(world)
    assert Notification.objects.filter(recipient=world.secretary, kind="assigned").count() == 1
    assert not Notification.objects.filter(recipient=world.worker).exists()


def test_intake_queues_one_announcement_task_that_the_worker_turns_into_notices(
    world, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        case = report(world).case
    # Queued with the case, in its transaction: no after-commit work on the request path.
    assert callbacks == []
    [queued] = DBTaskResult.objects.all()
    assert queued.task_path.endswith("tasks.announce_case")
    assert queued.args_kwargs["args"] == [case.pk, "report", None]
    assert not Notification.objects.exists()
    # What db_worker does with the row (the command itself closes the test's connection).
    queued.claim("test-worker")
    result = queued.task_result
    queued.set_successful(queued.task.call(*result.args, **result.kwargs))
    queued.refresh_from_db()
    assert queued.status == "SUCCESSFUL" and queued.return_value == 1
    [notice] = Notification.objects.all()
    assert (notice.recipient, notice.case, notice.kind) == (world.secretary, case, "assigned")


def test_an_intake_rolled_back_later_leaves_no_queued_announcement(world):
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    # As when a photo saved with the report fails: the case and its task go together.
    with pytest.raises(RuntimeError), transaction.atomic():
        report(world)
        raise RuntimeError("photo storage failed")
    assert not DBTaskResult.objects.exists() and not Case.objects.exists()


def test_a_report_on_the_eve_of_national_day_gets_working_day_deadlines(world):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    sh = ZoneInfo("Asia/Shanghai")
    case = report(
        world,
        title="邻居漏水",
        description="楼上邻居漏水",
        matter_type_code="91001",
        now=datetime(2026, 9, 30, 18, 30, tzinfo=sh),
    ).case
    # accept limit 2 工作时 → the first two working hours after the holiday
    assert case.due_at == datetime(2026, 10, 8, 10, 0, tzinfo=sh)
    assert case.deadlines["accept"]["unit"] == "work_hour"


def test_a_point_in_a_micro_grid_files_the_case_on_its_grid(world):
    from wangge.geo.choices import Level
    from wangge.geo.services import region_create

    grid = world.grid
    micro = region_create(
        actor=None,
        level=Level.MICRO_GRID,
        code=f"{grid.code}001",
        name="1幢",
        parent=grid,
        boundary=grid.boundary,
        audit=False,
    )
    case = report(world).case
    assert case.grid == grid
    assert micro.code.startswith(case.grid.code)


def test_a_point_in_a_community_gap_without_a_grid_is_outside_all_grids(world, tree):
    from wangge.geo.choices import Level
    from wangge.geo.services import region_create
    from wangge.geo.tests.factories import square

    street = tree.streets[0]
    region_create(
        actor=None,
        level=Level.COMMUNITY,
        code=f"{street.code}900",
        name="无网格社区",
        parent=street,
        boundary=square(121.5, 31.0, 0.01),
        audit=False,
    )
    with pytest.raises(ValidationError) as exc:
        report(world, lon=121.505, lat=31.005)
    assert exc.value.errors == {"location": ["outside"]}
    assert not Case.objects.exists()
