"""Activities: plan, QR and location sign-in within the time window, minutes and photos."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from wangge.accounts.tests.factories import make_user
from wangge.core.exceptions import Conflict, PermissionDenied, ValidationError
from wangge.party.choices import ActivityState
from wangge.party.selectors import points_balance
from wangge.party.services import activity_check_in, activity_close, activity_plan

from .factories import centre, make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def activity(pw, tree, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    grid = tree.grids[0]
    secretary = make_user("s", role="community_secretary", region=grid)
    now = timezone.now()
    lon, lat = centre(grid)
    return activity_plan(
        actor=secretary,
        branch=pw.branch(grid),
        kind="theme_day",
        title="十一月主题党日",
        starts_at=now - timedelta(minutes=10),
        ends_at=now + timedelta(hours=2),
        location="社区党群服务中心",
        lon=lon,
        lat=lat,
    )


def test_qr_and_location_sign_in(pw, tree, activity):
    a = make_member(pw.branch(tree.grids[0]), username="a")
    b = make_member(pw.branch(tree.grids[0]), username="b")
    with pytest.raises(ValidationError, match="签到码"):
        activity_check_in(actor=a.user, activity=activity, member=a, method="qr", code="bad")
    att = activity_check_in(
        actor=a.user, activity=activity, member=a, method="qr", code=activity.checkin_code
    )
    assert att.minutes == 130 and points_balance(a) == 5
    with pytest.raises(Conflict, match="已签到"):
        activity_check_in(
            actor=a.user, activity=activity, member=a, method="qr", code=activity.checkin_code
        )
    with pytest.raises(ValidationError, match="超出签到范围"):
        activity_check_in(
            actor=b.user,
            activity=activity,
            member=b,
            method="location",
            lon=activity.lon + 0.01,
            lat=activity.lat,
        )
    att = activity_check_in(
        actor=b.user,
        activity=activity,
        member=b,
        method="location",
        lon=activity.lon + 0.001,
        lat=activity.lat,
    )
    assert att.distance_m is not None and att.distance_m < 300
    with pytest.raises(PermissionDenied):
        activity_check_in(actor=a.user, activity=activity, member=b, method="manual")


def test_sign_in_outside_the_time_or_the_branch_is_refused(pw, tree, activity):
    outsider = make_member(pw.branch(tree.grids[1]), username="x")
    with pytest.raises(ValidationError, match="参加对象"):
        activity_check_in(
            actor=outsider.user,
            activity=activity,
            member=outsider,
            method="qr",
            code=activity.checkin_code,
        )
    a = make_member(pw.branch(tree.grids[0]), username="a")
    with pytest.raises(ValidationError, match="签到时间"):
        activity_check_in(
            actor=a.user,
            activity=activity,
            member=a,
            method="qr",
            code=activity.checkin_code,
            now=timezone.now() + timedelta(hours=4),
        )


def test_closing_records_minutes_and_photos(pw, tree, activity):
    secretary = make_user("s2", role="community_secretary", region=tree.grids[0])
    with pytest.raises(ValidationError, match="PNG"):
        activity_close(actor=secretary, activity=activity, minutes_text="学习", photos=[b"GIF89a"])
    activity.refresh_from_db()
    assert activity.state == ActivityState.PLANNED
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    activity_close(
        actor=secretary, activity=activity, minutes_text="学习二十届四中全会精神", photos=[png]
    )
    activity.refresh_from_db()
    assert activity.state == ActivityState.HELD and activity.photos.count() == 1
