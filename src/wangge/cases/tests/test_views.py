"""Case pages: what each role sees and what each form does. Access rules per page are in
``tests/test_permission_matrix.py``; here are the behaviours behind them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from wangge.cases.choices import CaseState, SubTaskState
from wangge.cases.models import Attachment, Case, CaseRequest, Notification, SubTask, Supervision
from wangge.cases.services import attachment_add, case_escalate_overdue, case_transition
from wangge.cases.services.notify import after_transition
from wangge.geo.crs import wgs84_to_gcj02
from wangge.web.tests.helpers import client_for

from .factories import JPEG, PNG, centre, make_case

pytestmark = pytest.mark.django_db
STALE = "该事件已被他人更新，请刷新后重试"


@pytest.fixture(autouse=True)
def _media_and_rate(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    cache.clear()  # the public rate limit counts per address


def photo(content: bytes = PNG, name: str = "p.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, "image/png")


def report_data(world: Any, **extra: Any) -> dict[str, Any]:
    lon, lat = centre(world.grid)
    return {
        "title": "小区门口暴露垃圾",
        "description": "垃圾堆了三天",
        "lon": lon,
        "lat": lat,
        "crs": "wgs84",
        "reporter_phone": "13912345678",
        "client_key": "k-" + str(extra.pop("key", "1")),
        **extra,
    }


def act(client: Client, case: Case, action: str, version: int | None = None, **data: Any) -> Any:
    case.refresh_from_db()
    payload = {"action": action, "expected_version": version or case.version, **data}
    return client.post(f"/cases/{case.pk}/act/", payload)


# --- Resident: report ------------------------------------------------------------------------


def test_the_report_page_works_without_an_account(world) -> None:
    html = Client().get("/report/").content.decode()
    assert 'name="client_key"' in html and "data-pick-map" in html
    assert "暴露垃圾" in html  # public matter types to pick from
    assert 'data-crs="wgs84"' in html  # points picked on the map say their CRS


def test_a_resident_report_files_one_case_with_its_photo_and_shows_the_code(world) -> None:
    client = Client()
    response = client.post("/report/", {**report_data(world), "photos": [photo()]})
    assert response.status_code == 201
    case = Case.objects.get()
    html = response.content.decode()
    assert case.tracking_code in html and f"/track/{case.tracking_code}" in html
    assert case.source == "resident" and case.reporter_phone == "13912345678"
    assert case.attachments.get().kind == "before"
    # A double submit of the same form (same client key) files nothing new.
    again = client.post("/report/", {**report_data(world), "photos": [photo()]})
    assert again.status_code == 200 and case.tracking_code in again.content.decode()
    assert Case.objects.count() == 1 and Attachment.objects.count() == 1


def test_a_point_picked_on_gcj02_tiles_is_converted_to_wgs84(world, settings) -> None:
    settings.MAP_TILE_CRS = "gcj02"
    assert 'data-crs="gcj02"' in Client().get("/report/").content.decode()
    lon, lat = centre(world.grid)
    glon, glat = wgs84_to_gcj02(lon, lat)
    response = Client().post("/report/", report_data(world, lon=glon, lat=glat, crs="gcj02"))
    assert response.status_code == 201
    case = Case.objects.get()
    assert case.input_crs == "gcj02"
    assert abs(case.lon - lon) < 1e-5 and abs(case.lat - lat) < 1e-5


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lon": "", "lat": ""}, "请提供问题发生的位置"),
        ({"lon": 10.0, "lat": 10.0}, "不在任何网格内"),
        ({"title": ""}, "这个字段是必填项"),
        ({"description": "长" * 10_000}, "不能超过2000个字符"),
        ({"title": "<script>alert(1)</script>"}, "不能包含HTML标签或脚本"),
        ({"matter_type": "99999"}, "选择一个有效的选项"),
        ({"reporter_phone": "call me"}, "联系电话格式不正确"),
        ({"photos": [SimpleUploadedFile("x.txt", b"hello", "text/plain")]}, "只支持JPEG"),
    ],
)
def test_bad_reports_show_a_clear_error_and_create_nothing(world, change, message) -> None:
    response = Client().post("/report/", report_data(world, **change))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Case.objects.exists() and not Attachment.objects.exists()


def test_an_oversized_photo_is_refused_and_nothing_is_filed(world, settings) -> None:
    settings.CASE_ATTACHMENT_MAX_BYTES = 100
    data = {**report_data(world), "photos": [photo(PNG + b"\x00" * 200)]}
    response = Client().post("/report/", data)
    assert response.status_code == 422 and "照片不能超过" in response.content.decode()
    assert not Case.objects.exists()


def test_public_reports_are_rate_limited(world, settings) -> None:
    settings.CASES_PUBLIC_RATE_PER_MINUTE = 1
    client = Client()
    assert client.post("/report/", report_data(world, key=1)).status_code == 201
    response = client.post("/report/", report_data(world, key=2))
    assert response.status_code == 429 and "提交过于频繁" in response.content.decode()
    assert Case.objects.count() == 1


def test_grid_outlines_for_the_report_map_are_public_names_and_shapes(world) -> None:
    g = world.grid
    url = f"/report/grids.geojson?bbox={g.min_lon},{g.min_lat},{g.max_lon},{g.max_lat}"
    data = Client().get(url).json()
    feature = next(f for f in data["features"] if f["id"] == g.code)
    assert feature["properties"] == {"code": g.code, "name": g.name}
    assert Client().get("/report/grids.geojson?bbox=x").status_code == 400


# --- Resident: track, rate, reopen -----------------------------------------------------------


def test_the_tracking_page_shows_status_and_plain_words_without_personal_data(world) -> None:
    Client().post("/report/", report_data(world, reporter_name="王阿姨"))
    case = Case.objects.get()
    for url in (f"/track/{case.tracking_code}", f"/track/{case.tracking_code.lower()}/"):
        response = Client().get(url)
        html = response.content.decode()
        assert response.status_code == 200
        assert "已上报" in html and "您反映的问题已收到" in html and "剩余" in html
        assert "13912345678" not in html and "王阿姨" not in html
    missing = Client().get("/track/ZZZZZZZZ")
    assert missing.status_code == 404 and "没有找到查询码" in missing.content.decode()
    assert Client().get("/track/?code=" + case.tracking_code).status_code == 302


def test_the_reporter_rates_a_closed_case_with_the_phone_given(world) -> None:
    case = make_case(world, state=CaseState.CLOSED, reporter_phone="13912345678")
    url = f"/track/{case.tracking_code}/feedback/"
    assert "评价办理结果" in Client().get(f"/track/{case.tracking_code}").content.decode()
    wrong = Client().post(url, {"phone": "13000000000", "score": 5})
    assert wrong.status_code == 422 and "手机号不正确" in wrong.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    response = Client().post(url, {"phone": "13912345678", "score": 4, "reason": "挺快"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.state, case.rating) == (CaseState.RATED, 4)
    html = Client().get(response["Location"]).content.decode()
    assert "感谢您的评价" in html and "★★★★☆" in html


def test_an_unsatisfied_reporter_reopens_with_a_reason(world) -> None:
    case = make_case(world, state=CaseState.CLOSED, reporter_phone="13912345678")
    url = f"/track/{case.tracking_code}/feedback/"
    refused = Client().post(url, {"phone": "13912345678", "score": 5, "reopen": "on"})
    assert refused.status_code == 422 and "不满意" in refused.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED  # nothing half-written
    Client().post(url, {"phone": "13912345678", "score": 1, "reason": "没修好", "reopen": "on"})
    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS and case.reopen_count == 1


# --- Grid worker -----------------------------------------------------------------------------


def test_my_tasks_lists_work_with_countdowns_and_things_to_verify(world) -> None:
    now = timezone.now()
    late = make_case(world, state=CaseState.IN_PROGRESS, assignee=world.worker, title="超时的活")
    late.due_at = now - timedelta(hours=3)
    # An urgent case: its handling limit is continuous hours, so the clock counts (working-time
    # countdowns are tested in test_countdown.py, independent of when the suite runs).
    late.urgency = "urgent"
    late.deadlines = {"handle": {"due": late.due_at.isoformat(), "limit": 24, "unit": "hour"}}
    late.save(update_fields=["due_at", "urgency", "deadlines"])
    make_case(world, state=CaseState.DISPATCHED, title="可签收的活")  # unassigned grid work
    make_case(world, state=CaseState.HANDLED, title="待核查的活")
    make_case(world, state=CaseState.IN_PROGRESS, grid=world.other_grid, title="别处的活")
    html = client_for(world.worker).get("/cases/my/").content.decode()
    assert "超时的活" in html and "可签收的活" in html and "待核查的活" in html
    assert "别处的活" not in html
    assert "countdown overdue" in html and "已超时3小时" in html


def test_a_worker_resolves_on_the_spot_in_one_step_with_before_and_after_photos(world) -> None:
    lon, lat = centre(world.grid)
    data = {
        "title": "绿化带暴露垃圾",
        "matter_type": "06010",
        "urgency": "normal",
        "lon": lon,
        "lat": lat,
        "crs": "wgs84",
        "client_key": "w-1",
        "on_spot": "on",
        "result": "已清理",
        "photos": [photo()],
        "after_photos": [photo(JPEG, "a.jpg")],
    }
    response = client_for(world.worker).post("/cases/new/", data)
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    assert case.state == CaseState.CLOSED and case.self_resolved and case.source == "patrol"
    assert sorted(case.attachments.values_list("kind", flat=True)) == ["after", "before"]


def test_on_the_spot_needs_a_result_and_an_after_photo(world) -> None:
    lon, lat = centre(world.grid)
    data = {"title": "暴露垃圾", "lon": lon, "lat": lat, "crs": "wgs84", "client_key": "w-2"}
    response = client_for(world.worker).post("/cases/new/", {**data, "on_spot": "on"})
    html = response.content.decode()
    assert response.status_code == 422
    assert "现场处置请填写处置结果" in html and "现场处置请上传处置后照片" in html
    # A matter the catalogue does not let grids resolve on the spot is refused by the service.
    response = client_for(world.worker).post(
        "/cases/new/",
        {
            **data,
            "matter_type": "06001",
            "on_spot": "on",
            "result": "拆了",
            "after_photos": [photo()],
        },
    )
    assert response.status_code == 422 and "不允许网格现场处置" in response.content.decode()
    assert not Case.objects.exists() and not Attachment.objects.exists()


def test_the_worker_report_map_opens_on_the_workers_grid(world) -> None:
    g = world.grid
    html = client_for(world.worker).get("/cases/new/").content.decode()
    assert f'data-extent="{g.min_lon},{g.min_lat},{g.max_lon},{g.max_lat}"' in html


def test_a_worker_report_without_on_spot_goes_into_the_loop(world) -> None:
    lon, lat = centre(world.grid)
    data = {"title": "井盖松动", "lon": lon, "lat": lat, "crs": "wgs84", "client_key": "w-3"}
    response = client_for(world.worker).post("/cases/new/", {**data, "urgency": "normal"})
    assert response.status_code == 302
    assert Case.objects.get().state == CaseState.REPORTED


# --- The case page and its transition panel --------------------------------------------------


def test_the_panel_offers_only_what_this_user_may_do_in_this_state(world) -> None:
    case = make_case(world, state=CaseState.REPORTED)
    html = client_for(world.dispatcher).get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="act-accept"' in html and 'data-testid="act-reject"' in html
    assert 'data-testid="act-handle"' not in html and 'data-testid="act-close"' not in html
    html = client_for(world.worker).get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="act-accept"' not in html and "没有可执行的操作" in html
    assert "分派理由" in html and case.grid.name in html


def test_dispatch_claim_handle_verify_close_through_the_page(world) -> None:
    case = make_case(world, state=CaseState.ACCEPTED)
    dispatcher, worker = client_for(world.dispatcher), client_for(world.worker)
    assert act(dispatcher, case, "dispatch", assignee=world.worker.pk).status_code == 302
    case.refresh_from_db()
    assert case.assignee == world.worker
    act(worker, case, "claim")
    # Handling without an after-photo is refused and changes nothing.
    response = act(worker, case, "handle", result="已清理")
    assert response.status_code == 422 and "请上传处置后照片" in response.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS
    response = act(worker, case, "handle", result="已清理", photos=[photo()], checkin_lon="")
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.HANDLED and case.attachments.get().kind == "after"
    act(worker, case, "verify")
    act(dispatcher, case, "close")
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    html = worker.get(f"/cases/{case.pk}/").content.decode()
    assert "已清理" in html and f"/cases/{case.pk}/photos/" in html


def test_a_stale_submit_shows_409_and_changes_nothing(world) -> None:
    case = make_case(world, state=CaseState.REPORTED)
    stale = case.version
    act(client_for(world.secretary), case, "accept")
    response = act(client_for(world.dispatcher), case, "reject", version=stale, reason="重复")
    assert response.status_code == 409 and STALE in response.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.ACCEPTED and case.events.count() == 1


def test_missing_reason_is_a_clear_error(world) -> None:
    case = make_case(world, state=CaseState.REPORTED)
    response = act(client_for(world.dispatcher), case, "reject")
    assert response.status_code == 422 and "请填写理由" in response.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.REPORTED


def test_an_action_the_user_may_not_take_is_refused(world) -> None:
    case = make_case(world, state=CaseState.ACCEPTED)
    response = act(client_for(world.worker), case, "dispatch", assignee=world.worker.pk)
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.state == CaseState.ACCEPTED


def test_out_of_area_cases_are_404_for_page_photo_and_actions(world) -> None:
    case = make_case(world, state=CaseState.REPORTED, grid=world.other_grid)
    client = client_for(world.dispatcher)
    assert client.get(f"/cases/{case.pk}/").status_code == 404
    assert act(client, case, "accept").status_code == 404
    assert client.post(f"/cases/{case.pk}/supervise/", {"message": "快"}).status_code == 404
    case.refresh_from_db()
    assert case.state == CaseState.REPORTED


def test_accepting_confirms_or_changes_the_matter_type(world) -> None:
    case = make_case(world, state=CaseState.REPORTED, matter=None)
    html = client_for(world.dispatcher).get(f"/cases/{case.pk}/").content.decode()
    assert "事项类型（确认或修改）" in html
    act(client_for(world.dispatcher), case, "accept", matter_type="06001", urgency="normal")
    case.refresh_from_db()
    assert case.matter_type.code == "06001" and case.handling_level == "street"


def test_whistle_calls_two_departments_who_work_their_sub_tasks(world) -> None:
    case = make_case(world, state=CaseState.ACCEPTED)
    dispatcher = client_for(world.dispatcher)
    html = dispatcher.get(f"/cases/{case.pk}/").content.decode()
    assert "城管" in html and "市政" in html  # departments serving the area
    response = act(dispatcher, case, "whistle", lead=world.dept.pk, co=[world.dept2.pk])
    assert response.status_code == 302
    assert SubTask.objects.filter(case=case).count() == 2
    dept = client_for(world.dept_user)
    html = dept.get("/cases/work-orders/").content.decode()
    assert case.tracking_code in html and "牵头单位" in html
    sub = SubTask.objects.get(case=case, department=world.dept)
    post = {"expected_version": sub.version, "next": "/cases/work-orders/"}
    dept.post(f"/cases/subtasks/{sub.pk}/act/", {**post, "action": "accept"})
    sub.refresh_from_db()
    response = dept.post(
        f"/cases/subtasks/{sub.pk}/act/",
        {
            **post,
            "expected_version": sub.version,
            "action": "handle",
            "result": "已执法",
            "photos": [photo()],
        },
    )
    assert response.status_code == 302 and response["Location"] == "/cases/work-orders/"
    sub.refresh_from_db()
    assert sub.state == SubTaskState.HANDLED and case.attachments.filter(kind="after").exists()
    # Another department's member cannot touch it; a stale sub-task submit changes nothing.
    other = SubTask.objects.get(case=case, department=world.dept2)
    client_for(world.dept2_user).post(
        f"/cases/subtasks/{other.pk}/act/", {"action": "accept", "expected_version": 99}
    )
    other.refresh_from_db()
    assert other.state == SubTaskState.PENDING


def test_extension_requests_are_approved_from_the_queue(world) -> None:
    case = make_case(world, state=CaseState.IN_PROGRESS, assignee=world.worker)
    act(
        client_for(world.worker),
        case,
        "request_extend",
        reason="等配件",
        extra_limit=2,
        extra_unit="work_day",
    )
    assert CaseRequest.objects.filter(case=case, status="pending").exists()
    dispatcher = client_for(world.dispatcher)
    html = dispatcher.get("/cases/").content.decode()
    assert "待审批的挂账/延期申请" in html and "等配件" in html
    old_due = Case.objects.get(pk=case.pk).due_at
    act(dispatcher, case, "approve_extend")
    case.refresh_from_db()
    assert case.due_at > old_due
    assert CaseRequest.objects.get(case=case).status == "approved"


def test_supervise_sends_a_recorded_notice(world) -> None:
    case = make_case(world, state=CaseState.IN_PROGRESS, assignee=world.worker)
    response = client_for(world.dispatcher).post(
        f"/cases/{case.pk}/supervise/", {"message": "请今天办完"}
    )
    assert response.status_code == 302
    assert Supervision.objects.get(case=case).message == "请今天办完"
    assert Notification.objects.filter(recipient=world.worker, kind="supervision").exists()
    empty = client_for(world.dispatcher).post(f"/cases/{case.pk}/supervise/", {"message": ""})
    assert empty.status_code == 422


def test_duplicates_are_suggested_and_merged(world) -> None:
    main = make_case(world, state=CaseState.ACCEPTED, title="主件")
    dup = make_case(world, state=CaseState.REPORTED, title="重复件")
    client = client_for(world.dispatcher)
    html = client.get(f"/cases/{dup.pk}/").content.decode()
    assert "疑似重复" in html and main.tracking_code in html
    assert act(client, dup, "merge", duplicate_of=main.pk).status_code == 302
    dup.refresh_from_db()
    assert dup.state == CaseState.MERGED and dup.duplicate_of == main
    assert "合并的重复件" in client.get(f"/cases/{main.pk}/").content.decode()
    outside = make_case(world, state=CaseState.ACCEPTED, grid=world.other_grid)
    third = make_case(world, state=CaseState.REPORTED)
    response = act(client, third, "merge", duplicate_of=outside.pk)
    assert response.status_code == 422
    third.refresh_from_db()
    assert third.state == CaseState.REPORTED


def test_an_overdue_escalation_shows_on_the_case_page(world) -> None:
    case = make_case(world, state=CaseState.IN_PROGRESS, assignee=world.worker)
    case_escalate_overdue(now=timezone.now() + timedelta(days=30))
    html = client_for(world.dispatcher).get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="escalated"' in html and "督办记录" in html and "已超时" in html


def test_the_audit_trail_shows_for_auditors_only(world) -> None:
    case = make_case(world, state=CaseState.REPORTED)
    act(client_for(world.dispatcher), case, "accept")
    assert "cases.accept" in client_for(world.dispatcher).get(f"/cases/{case.pk}/").content.decode()
    html = client_for(world.secretary).get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="audit"' not in html


def test_photos_are_served_to_those_who_may_see_the_case(world) -> None:
    case = make_case(world, state=CaseState.IN_PROGRESS, assignee=world.worker)
    a = attachment_add(actor=world.worker, case=case, kind="after", content=PNG)
    response = client_for(world.worker).get(f"/cases/{case.pk}/photos/{a.pk}/")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert client_for(world.outsider).get(f"/cases/{case.pk}/photos/{a.pk}/").status_code == 404


# --- Queue, map, notifications ---------------------------------------------------------------


def test_the_queue_filters_and_stays_in_area(world) -> None:
    mine = make_case(world, state=CaseState.REPORTED, title="本街道的")
    make_case(world, state=CaseState.CLOSED, title="已结案的")
    make_case(world, state=CaseState.REPORTED, grid=world.other_grid, title="外街道的")
    client = client_for(world.dispatcher)
    html = client.get("/cases/").content.decode()
    assert "本街道的" in html and "已结案的" in html and "外街道的" not in html
    html = client.get("/cases/?state=open").content.decode()
    assert "本街道的" in html and "已结案的" not in html
    partial = client.get("/cases/?state=closed", HTTP_HX_REQUEST="true").content.decode()
    assert "已结案的" in partial and "<html" not in partial
    assert "本街道的" not in client.get("/cases/?overdue=1").content.decode()
    points = client.get("/cases/map.json").json()["points"]
    assert [p["tracking_code"] for p in points] == [mine.tracking_code]


def test_notifications_show_a_badge_and_can_be_marked_read(world) -> None:
    case = make_case(world, state=CaseState.ACCEPTED)
    client = client_for(world.worker)
    case_transition(
        actor=world.dispatcher,
        case=case,
        action="dispatch",
        expected_version=case.version,
        assignee=world.worker.pk,
    )
    after_transition(case.pk, "dispatch", world.dispatcher.pk)
    n = Notification.objects.filter(recipient=world.worker).count()
    assert n >= 1
    html = client.get("/cases/my/").content.decode()
    assert f'data-testid="unread-count">{n}<' in html
    html = client.get("/cases/notifications/").content.decode()
    assert case.tracking_code in html
    first = Notification.objects.filter(recipient=world.worker).first()
    response = client.post("/cases/notifications/read/", {"id": first.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    client.post("/cases/notifications/read/")
    assert not Notification.objects.filter(recipient=world.worker, read_at=None).exists()
    assert 'data-testid="unread-count"' not in client.get("/cases/my/").content.decode()


def test_quick_actions_on_my_tasks_return_to_the_list(world) -> None:
    case = make_case(world, state=CaseState.DISPATCHED, assignee=world.worker)
    handled = make_case(world, state=CaseState.HANDLED)
    client = client_for(world.worker)
    html = client.get("/cases/my/").content.decode()
    assert 'data-testid="quick-claim"' in html and 'data-testid="quick-verify"' in html
    response = act(client, case, "claim", next="/cases/my/")
    assert response.status_code == 302 and response["Location"] == "/cases/my/"
    assert act(client, handled, "verify", next="https://evil.example/").status_code == 302
    handled.refresh_from_db()
    assert handled.state == CaseState.VERIFIED
    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS
    html = client.get(f"/cases/{case.pk}/?open=handle").content.decode()
    assert '<details class="act" open data-action="handle">' in html


def test_the_menu_offers_each_role_its_case_pages(world) -> None:
    from wangge.accounts.tests.factories import make_user

    resident = make_user("jumin", role="resident", region=world.grid)
    html = client_for(resident).get("/").content.decode()
    assert 'href="/report/"' in html and 'href="/cases/my/"' not in html
    html = client_for(world.worker).get("/").content.decode()
    assert 'href="/cases/my/"' in html and 'href="/cases/new/"' in html
    assert 'href="/report/"' not in html and 'href="/cases/work-orders/"' not in html
    html = client_for(world.dept_user).get("/").content.decode()
    assert 'href="/cases/work-orders/"' in html and 'href="/cases/my/"' not in html


def test_department_staff_get_no_area_work_in_my_tasks(world) -> None:
    make_case(world, state=CaseState.HANDLED, department=world.dept, title="部门办完的")
    make_case(world, state=CaseState.DISPATCHED, title="网格的活")
    html = client_for(world.dept_user).get("/cases/my/").content.decode()
    assert "网格的活" not in html and 'data-testid="quick-verify"' not in html


def test_suspension_is_requested_approved_by_someone_else_and_resumed(world) -> None:
    case = make_case(world, state=CaseState.IN_PROGRESS, assignee=world.secretary)
    secretary, dispatcher = client_for(world.secretary), client_for(world.dispatcher)
    act(secretary, case, "request_suspend", reason="等待产权单位答复")
    html = secretary.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="act-approve_suspend"' in html  # the table allows it, the service decides
    assert 'data-testid="act-request_extend"' not in html  # one pending request at a time
    response = act(secretary, case, "approve_suspend")
    assert response.status_code == 403 and "不能审批自己提交的申请" in response.content.decode()
    act(dispatcher, case, "approve_suspend")
    case.refresh_from_db()
    assert case.state == CaseState.SUSPENDED and case.due_at is None
    act(dispatcher, case, "resume")
    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS and case.due_at is not None


def test_the_queue_filters_by_grid_source_and_text(world) -> None:
    a = make_case(world, state=CaseState.REPORTED, title="路灯不亮", source="hotline")
    b = make_case(world, state=CaseState.REPORTED, title="井盖松动", grid=world.tree.grids[1])
    client = client_for(world.dispatcher)
    html = client.get(f"/cases/?grid={world.grid.code}").content.decode()
    assert a.tracking_code in html and b.tracking_code not in html
    html = client.get("/cases/?source=hotline").content.decode()
    assert a.tracking_code in html and b.tracking_code not in html
    html = client.get(f"/cases/?q={b.tracking_code}").content.decode()
    assert b.tracking_code in html and a.tracking_code not in html
    assert "共 0 件" in client.get("/cases/?grid=999999999999999").content.decode()


def test_a_resident_with_an_account_follows_notified_cases_on_the_tracking_page(world) -> None:
    from wangge.cases.notifications import notify

    case = make_case(world, state=CaseState.CLOSED, reporter=world.nobody)
    notify(recipients=[world.nobody], kind="closed", title="您反映的问题已办结", case=case)
    html = client_for(world.nobody).get("/cases/notifications/").content.decode()
    assert f'href="/track/{case.tracking_code}"' in html and f"/cases/{case.pk}/" not in html
