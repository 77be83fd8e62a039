"""Optional phone verification for residents: a 6-digit SMS code (sent through the configured
SMS channel, here a real loopback gateway), hashed at rest, 10 minutes, 5 tries, one use,
limited per number and per client address — on the API and on /report/."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from wangge.accounts.models import PhoneVerification
from wangge.accounts.services import phone_code_issue
from wangge.cases.models import Case, CaseEvent
from wangge.core.models import AuditRecord

from . import gateway as gw
from .factories import centre

pytestmark = pytest.mark.django_db
CODES = "/api/v1/cases/phone-codes"
INTAKE = "/api/v1/cases/"
PHONE = "13912345678"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def sms(settings):
    """Codes go through the generic HTTP SMS adapter to a loopback gateway; ``sms.code(phone)``
    is the last code that gateway received for the number."""
    for gateway in gw.serve():
        settings.WANGGE_SMS_ADAPTER = "sms"
        settings.SMS_GATEWAY_URL = f"{gateway.url}/sms"
        settings.SMS_GATEWAY_KEY_ID = gw.SMS_KEY_ID
        settings.SMS_GATEWAY_SECRET = gw.SMS_SECRET
        settings.SMS_CODE_TEMPLATE = "验证码{code}"

        def code(phone: str, gateway: gw.Gateway = gateway) -> str:
            sent = [r.json() for r in gateway.received if r.json()["to"] == phone]
            return sent[-1]["text"].removeprefix("验证码")

        gateway.code = code  # type: ignore[attr-defined]
        yield gateway


def post(client: Client, url: str, body: dict, **extra):
    return client.post(url, json.dumps(body), content_type="application/json", **extra)


def report(world, **kw):
    lon, lat = centre(world.grid)
    body = {"title": "路灯不亮", "lon": lon, "lat": lat, "crs": "wgs84", "reporter_phone": PHONE}
    body.update(kw)
    return body


def test_a_verified_phone_is_recorded_on_the_case_and_the_code_is_used_once(world, sms):
    r = post(Client(), CODES, {"phone": PHONE})
    assert r.status_code == 201, r.content
    assert r.json() == {"phone": PHONE, "expires_in": 600, "resend_after": 60}
    code = sms.code(PHONE)
    assert len(code) == 6 and code.isdigit()
    # Hashed at rest: the code is in no column.
    row = PhoneVerification.objects.get()
    assert code not in json.dumps(list(PhoneVerification.objects.values()), default=str)
    assert row.delivery_status == "sent" and row.attempts == 0
    r = post(Client(), INTAKE, report(world, phone_code=code))
    assert r.status_code == 201, r.content
    assert r.json()["phone_verified"] is True
    case = Case.objects.get()
    event = CaseEvent.objects.get(case=case, action="report")
    assert event.data["phone_verified"] is True
    assert AuditRecord.objects.get(action="cases.create").after["phone_verified"] is True
    row.refresh_from_db()
    assert row.verified_at and row.used_at
    # The staff case page says so.
    client = Client()
    client.force_login(world.dispatcher)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="phone-verified"' in html
    # One use: the same code files nothing more.
    r = post(Client(), INTAKE, report(world, phone_code=code, title="另一个问题"))
    assert r.status_code == 422 and "验证码已过期或未获取" in r.json()["error"]["message"]
    assert Case.objects.count() == 1


def test_a_report_without_a_code_is_filed_unverified(world):
    r = post(Client(), INTAKE, report(world))
    assert r.status_code == 201 and r.json()["phone_verified"] is False
    case = Case.objects.get()
    assert "phone_verified" not in case.events.get(action="report").data
    client = Client()
    client.force_login(world.dispatcher)
    assert 'data-testid="phone-unverified"' in client.get(f"/cases/{case.pk}/").content.decode()


def test_wrong_codes_count_five_tries_and_file_nothing(world, sms):
    post(Client(), CODES, {"phone": PHONE})
    code = sms.code(PHONE)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    r = post(Client(), INTAKE, report(world, phone_code=wrong))
    assert r.status_code == 422
    assert r.json()["error"]["message"] == "验证码不正确，还可尝试4次。"
    assert not Case.objects.exists()
    assert PhoneVerification.objects.get().attempts == 1  # counted although nothing was filed
    for _ in range(4):
        r = post(Client(), INTAKE, report(world, phone_code=wrong))
    assert r.json()["error"]["message"] == "验证码错误次数过多，请重新获取。"
    # Locked: even the right code is refused now.
    r = post(Client(), INTAKE, report(world, phone_code=code))
    assert r.status_code == 422 and "错误次数过多" in r.json()["error"]["message"]
    assert not Case.objects.exists()


def test_a_code_expires_after_ten_minutes(world, sms):
    _, code = phone_code_issue(
        phone=PHONE, purpose="case_report", now=timezone.now() - timedelta(minutes=10, seconds=1)
    )
    r = post(Client(), INTAKE, report(world, phone_code=code))
    assert r.status_code == 422 and "已过期" in r.json()["error"]["message"]
    assert not Case.objects.exists()


def test_a_code_proves_only_its_own_number(world, sms):
    post(Client(), CODES, {"phone": PHONE})
    r = post(
        Client(), INTAKE, report(world, phone_code=sms.code(PHONE), reporter_phone="13900000000")
    )
    assert r.status_code == 422
    assert not Case.objects.exists()


def test_a_failed_filing_keeps_the_verified_code_for_the_retry(world, sms):
    post(Client(), CODES, {"phone": PHONE})
    code = sms.code(PHONE)
    r = post(Client(), INTAKE, report(world, phone_code=code, lon=0.0, lat=0.0))
    assert r.status_code == 422 and "不在任何网格内" in r.json()["error"]["message"]
    assert PhoneVerification.objects.get().used_at is None
    r = post(Client(), INTAKE, report(world, phone_code=code))
    assert r.status_code == 201 and r.json()["phone_verified"] is True


def test_codes_are_limited_per_number(world, sms):
    assert post(Client(), CODES, {"phone": PHONE}).status_code == 201
    r = post(Client(), CODES, {"phone": PHONE})
    assert r.status_code == 429 and "秒后再重新获取" in r.json()["error"]["message"]
    # Five an hour: four more, older than a minute, then the sixth is refused.
    PhoneVerification.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    for minutes in (6, 5, 4, 3):
        phone_code_issue(
            phone=PHONE, purpose="case_report", now=timezone.now() - timedelta(minutes=minutes)
        )
    r = post(Client(), CODES, {"phone": PHONE})
    assert r.status_code == 429 and "1小时后再试" in r.json()["error"]["message"]
    assert PhoneVerification.objects.count() == 5


def test_codes_are_limited_per_client_address(world, sms, settings):
    settings.PHONE_CODE_PER_IP_PER_HOUR = 2
    assert post(Client(), CODES, {"phone": "13900000001"}).status_code == 201
    assert post(Client(), CODES, {"phone": "13900000002"}).status_code == 201
    r = post(Client(), CODES, {"phone": "13900000003"})
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
    assert PhoneVerification.objects.count() == 2
    # Another address is not held back.
    assert post(Client(REMOTE_ADDR="10.0.0.9"), CODES, {"phone": "13900000003"}).status_code == 201


@pytest.mark.parametrize("phone", ["", "12345", "23912345678", "1391234567x"])
def test_a_bad_number_is_refused_in_chinese_and_nothing_is_stored(world, sms, phone):
    r = post(Client(), CODES, {"phone": phone})
    assert r.status_code == 422
    assert r.json()["error"]["message"] == "请输入11位中国大陆手机号码。"
    assert not PhoneVerification.objects.exists() and sms.received == []


def test_a_code_the_gateway_refused_is_void(world, sms, settings):
    settings.SMS_GATEWAY_SECRET = "wrong"  # the gateway answers 401
    r = post(Client(), CODES, {"phone": PHONE})
    assert r.status_code == 409 and r.json()["error"]["message"] == "短信发送失败，请稍后再试。"
    row = PhoneVerification.objects.get()
    assert row.delivery_status == "failed" and "401" in row.delivery_detail
    assert row.expires_at <= row.created_at


# --- the /report/ page -----------------------------------------------------------------------
def _form(world, **extra):
    lon, lat = centre(world.grid)
    return {
        "title": "小区门口暴露垃圾",
        "lon": lon,
        "lat": lat,
        "crs": "wgs84",
        "reporter_phone": PHONE,
        "client_key": "k-phone",
        **extra,
    }


def test_the_report_page_sends_a_code_and_files_the_case_verified(world, sms):
    page = Client().get("/report/").content.decode()
    assert 'data-testid="send-code"' in page and 'name="phone_code"' in page
    client = Client()
    r = client.post(
        "/report/phone-code/", {"reporter_phone": PHONE}, headers={"HX-Request": "true"}
    )
    assert r.status_code == 200
    assert "验证码已发送至13912345678，10分钟内有效。" in r.content.decode()
    r = client.post("/report/", _form(world, phone_code=sms.code(PHONE)))
    assert r.status_code == 201
    case = Case.objects.get()
    assert case.events.get(action="report").data["phone_verified"] is True


def test_the_report_page_without_javascript_comes_back_with_the_status(world, sms):
    r = Client().post("/report/phone-code/", {**_form(world), "title": "留着的标题"})
    assert r.status_code == 200
    html = r.content.decode()
    assert "验证码已发送" in html and "留着的标题" in html and 'data-testid="report-form"' in html
    r = Client().post("/report/phone-code/", {"reporter_phone": "123"})
    assert r.status_code == 422 and "请输入11位中国大陆手机号码。" in r.content.decode()


def test_a_wrong_code_on_the_page_is_a_form_error_and_files_nothing(world, sms):
    client = Client()
    client.post("/report/phone-code/", {"reporter_phone": PHONE}, headers={"HX-Request": "true"})
    code = sms.code(PHONE)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    r = client.post("/report/", _form(world, phone_code=wrong))
    assert r.status_code == 422 and "验证码不正确，还可尝试4次。" in r.content.decode()
    r = client.post("/report/", _form(world, phone_code="12ab"))
    assert r.status_code == 422 and "验证码为6位数字。" in r.content.decode()
    r = client.post("/report/", _form(world, phone_code=code, reporter_phone=""))
    assert r.status_code == 422 and "请填写接收验证码的手机号。" in r.content.decode()
    assert not Case.objects.exists()
