"""Volunteer self-registration, team management and spending time-bank minutes, through the
pages and the API (services reached the way real users reach them)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from wangge.accounts.tests.factories import make_user
from wangge.party.choices import TransferKind
from wangge.party.models import (
    ServiceOrder,
    TimeAccount,
    TimeEntry,
    TimeTransfer,
    Volunteer,
    VolunteerTeam,
)
from wangge.party.services import (
    account_for_org,
    account_for_person,
    order_candidates,
    timebank_check,
    timebank_transfer,
)
from wangge.registers.services import phone_hash

from .factories import make_order, make_person

pytestmark = pytest.mark.django_db

MOBILE = "13900001111"


@pytest.fixture
def resident(tree):
    """A resident signed in by mobile, registered in the 人口 register of grid 1."""
    grid = tree.grids[0]
    person = make_person(grid, name="王阿姨")
    person.phone_hash = phone_hash(MOBILE)
    person.save(update_fields=["phone_hash"])
    user = make_user("wang", role="resident", region=grid, mobile=MOBILE)
    return user, person


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _fund(pw, tree, person, minutes: int) -> None:
    timebank_transfer(
        actor=None,
        debit=account_for_org(pw.branch(tree.grids[0])),
        credit=account_for_person(person),
        minutes=minutes,
        kind=TransferKind.SERVICE,
        reason="服务存入",
    )


VOLUNTEER_FORM = {
    "specialties": ["repair", "errands"],
    "weekdays": ["0", "2"],
    "periods": ["morning"],
    "capacity": "2",
}


def test_a_resident_registers_as_a_volunteer_of_their_community(pw, tree, resident):
    user, person = resident
    c = _client(user)
    assert c.get("/party/volunteer/").status_code == 200
    r = c.post("/party/volunteer/", VOLUNTEER_FORM)
    assert r.status_code == 302 and r["Location"] == "/party/me/"
    v = Volunteer.objects.get(user=user)
    assert v.person == person
    assert v.region == tree.grids[0].parent  # serving area = their community
    assert v.specialties == ["repair", "errands"]
    assert v.availability == [[0, 480, 720], [2, 480, 720]]
    # Registered twice: refused, nothing changed.
    r = c.post("/party/volunteer/", VOLUNTEER_FORM)
    assert r.status_code == 200 and "您已是本社区志愿者" in r.content.decode()
    assert Volunteer.objects.filter(person=person).count() == 1


def test_the_new_volunteer_is_a_matching_candidate(pw, tree, resident):
    user, _ = resident
    _client(user).post("/party/volunteer/", VOLUNTEER_FORM)
    v = Volunteer.objects.get(user=user)
    asker = make_user("asker", role="resident", region=tree.grids[0])
    order = make_order(tree.grids[0], actor=asker, category="repair")
    ranked, _excluded = order_candidates(order)
    assert f"volunteer:{v.pk}" in {r.helper.key for r in ranked}


def test_registration_errors_are_clear_and_change_nothing(pw, tree):
    stranger = make_user("stranger", role="resident", region=tree.grids[0], mobile="13900002222")
    c = _client(stranger)
    r = c.post("/party/volunteer/", VOLUNTEER_FORM)
    assert r.status_code == 422
    assert "未能在人口登记中找到与您手机号一致的记录" in r.content.decode()
    r = c.post("/party/volunteer/", {**VOLUNTEER_FORM, "specialties": ["flying"]})
    assert r.status_code == 422
    assert not Volunteer.objects.exists()


def test_api_register_self_and_bad_slot(pw, tree, resident):
    user, _ = resident
    c = _client(user)
    bad = c.post(
        "/api/v1/party/volunteers",
        json.dumps({"specialties": ["repair"], "availability": [[7, 480, 600]]}),
        content_type="application/json",
    )
    assert bad.status_code == 422 and "可服务时段" in bad.json()["error"]["message"]
    assert not Volunteer.objects.exists()
    ok = c.post(
        "/api/v1/party/volunteers",
        json.dumps({"specialties": ["repair"], "availability": [[1, 480, 600]]}),
        content_type="application/json",
    )
    assert ok.status_code == 201 and ok.json()["name"] == "王阿姨"


def test_a_secretary_creates_a_team_and_adds_a_volunteer(pw, tree, resident):
    user, _ = resident
    _client(user).post("/party/volunteer/", VOLUNTEER_FORM)
    v = Volunteer.objects.get(user=user)
    community = tree.grids[0].parent
    secretary = make_user("cs", role="community_secretary", region=community)
    c = _client(secretary)
    r = c.post(
        "/party/volunteers/teams/", {"region": community.pk, "name": "红马甲服务队"}, follow=True
    )
    assert "红马甲服务队" in r.content.decode()
    team = VolunteerTeam.objects.get(name="红马甲服务队")
    r = c.post(f"/party/volunteers/{v.pk}/team/", {"team": team.pk})
    assert r.status_code == 302
    v.refresh_from_db()
    assert v.team == team
    page = c.get("/party/volunteers/").content.decode()
    assert "王阿姨" in page and "红马甲服务队" in page
    # Empty team name: a clear error, no team created.
    r = c.post("/party/volunteers/teams/", {"region": community.pk, "name": ""}, follow=True)
    assert VolunteerTeam.objects.count() == 1


def test_statement_on_me_and_exchange_form(pw, tree, resident):
    user, person = resident
    _fund(pw, tree, person, 120)
    c = _client(user)
    page = c.get("/party/me/").content.decode()
    assert 'data-testid="time-balance">120<' in page and "服务存入" in page
    r = c.post("/party/me/exchange/", {"minutes": "90", "reason": "理发一次"}, follow=True)
    body = r.content.decode()
    assert "已兑换90分钟" in body and "理发一次" in body
    assert account_for_person(person).balance == 30
    t = TimeTransfer.objects.get(reason="理发一次")
    assert t.kind == TransferKind.EXCHANGE
    assert sorted(TimeEntry.objects.filter(transfer=t).values_list("minutes", flat=True)) == [
        -90,
        90,
    ]
    assert timebank_check().ok


def test_exchange_beyond_the_balance_is_refused_and_changes_nothing(pw, tree, resident):
    user, person = resident
    _fund(pw, tree, person, 30)
    before = (TimeTransfer.objects.count(), TimeEntry.objects.count())
    c = _client(user)
    r = c.post("/party/me/exchange/", {"minutes": "45", "reason": "保洁"}, follow=True)
    assert "时间余额不足：现有30分钟，需要45分钟。" in r.content.decode()
    api = c.post(
        "/api/v1/party/me/exchange",
        json.dumps({"minutes": 45, "reason": "保洁"}),
        content_type="application/json",
    )
    assert api.status_code == 422 and "时间余额不足" in api.json()["error"]["message"]
    assert (TimeTransfer.objects.count(), TimeEntry.objects.count()) == before
    assert TimeAccount.objects.get(person=person).balance == 30


def test_paying_a_dian_dan_with_hours(pw, tree, resident):
    user, person = resident
    _fund(pw, tree, person, 60)
    c = _client(user)
    page = c.get("/party/order/").content.decode()
    assert "您的时间银行余额：60分钟" in page
    day = (timezone.localdate() + timedelta(days=1)).isoformat()
    form = {
        "category": "errands",
        "description": "帮忙取药",
        "day": day,
        "period": "morning",
    }
    # Too many minutes: the order is not placed and no minute moves.
    r = c.post("/party/order/", {**form, "pay_minutes": "90"})
    assert r.status_code == 422 and "时间余额不足" in r.content.decode()
    assert not ServiceOrder.objects.exists()
    r = c.post("/party/order/", {**form, "pay_minutes": "40"})
    assert r.status_code == 302
    order = ServiceOrder.objects.get()
    t = TimeTransfer.objects.get(order=order)
    assert t.minutes == 40 and t.credit.org == order.branch
    assert account_for_person(person).balance == 20
    statement = c.get("/api/v1/party/me/statement").json()
    assert statement["balance"] == 20 and statement["entries"][0]["minutes"] == -40
    assert timebank_check().ok
    # Cancelled: the paid minutes come back (once), double entry.
    r = c.post(
        f"/party/orders/{order.pk}/act/",
        {"action": "cancel", "version": order.version, "reason": "不需要了"},
    )
    assert r.status_code == 302
    order.refresh_from_db()
    assert order.state == "cancelled"
    assert account_for_person(person).balance == 60
    back = TimeTransfer.objects.get(order=order, kind=TransferKind.ADJUSTMENT)
    assert back.minutes == 40 and back.credit.person == person
    assert timebank_check().ok


def test_a_resident_without_a_register_record_has_no_account(pw, tree):
    user = make_user("nobody", role="resident", region=tree.grids[0])
    r = _client(user).post("/party/me/exchange/", {"minutes": "5", "reason": "x"}, follow=True)
    assert "您还没有时间银行账户" in r.content.decode()
    assert not TimeTransfer.objects.exists()


def test_english_users_read_the_new_pages_and_errors_in_english(pw, tree, resident):
    from django.conf import settings

    user, person = resident
    _fund(pw, tree, person, 10)
    c = _client(user)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the language menu's choice
    page = c.get("/party/volunteer/").content.decode()
    assert "Volunteer registration" in page and "My skills" in page
    r = c.post(
        "/api/v1/party/me/exchange",
        json.dumps({"minutes": 50, "reason": "x"}),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert (
        r.status_code == 422
        and "Not enough time: 10 minutes saved, 50 needed." in r.json()["error"]["message"]
    )
    me = c.get("/party/me/").content.decode()
    assert "Exchange hours for a service" in me
