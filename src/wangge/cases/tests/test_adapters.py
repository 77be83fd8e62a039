"""Notification channels against a real HTTP server on loopback (``gateway.py``), which checks
signatures and bodies like DingTalk, WeCom, an SMS gateway and Aliyun SMS do."""

from __future__ import annotations

import urllib.parse
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from wangge.cases.adapters import (
    AliyunSmsAdapter,
    DingTalkRobotAdapter,
    HttpSmsAdapter,
    aliyun_signature,
    dingtalk_sign,
    sms_sender,
)
from wangge.cases.models import DeliveryAttempt, Notification
from wangge.cases.notifications import deliver, notify

from . import gateway as gw

pytestmark = pytest.mark.django_db


@pytest.fixture
def gateway():
    yield from gw.serve()


@pytest.fixture
def channels(settings, gateway):
    settings.DINGTALK_WEBHOOK_URL = f"{gateway.url}/dingtalk/robot/send?access_token=abc"
    settings.DINGTALK_SECRET = gw.DINGTALK_SECRET
    settings.WECOM_WEBHOOK_URL = f"{gateway.url}/cgi-bin/webhook/send?key=wecom-key"
    settings.SMS_GATEWAY_URL = f"{gateway.url}/sms"
    settings.SMS_GATEWAY_KEY_ID = gw.SMS_KEY_ID
    settings.SMS_GATEWAY_SECRET = gw.SMS_SECRET
    settings.ALIYUN_SMS_ENDPOINT = f"{gateway.url}/"
    settings.ALIYUN_SMS_ACCESS_KEY_ID = gw.ALIYUN_KEY_ID
    settings.ALIYUN_SMS_ACCESS_KEY_SECRET = gw.ALIYUN_SECRET
    settings.ALIYUN_SMS_SIGN_NAME = "网格治理"
    settings.ALIYUN_SMS_TEMPLATE_CODE = "SMS_100001"
    settings.ALIYUN_SMS_CODE_TEMPLATE_CODE = "SMS_100002"
    settings.NOTIFY_HTTP_TIMEOUT = 5
    return gateway


def _staff_notice(world, mobile="13812345678"):
    world.worker.mobile = mobile
    world.worker.save()
    [n] = notify(
        recipients=[world.worker], kind="assigned", title="新任务：[X] 暴露垃圾", body="请处置"
    )
    return n


def _attempts(n):
    return list(
        DeliveryAttempt.objects.filter(notification=n).values_list("adapter", "status", "detail")
    )


def test_the_dingtalk_sign_is_hmac_sha256_of_timestamp_and_secret_base64_urlencoded():
    # Recomputed independently: quote_plus(base64(HMAC-SHA256(secret, "ts\nsecret"))).
    import base64
    import hashlib
    import hmac

    raw = hmac.new(b"SECabc", b"1700000000000\nSECabc", hashlib.sha256).digest()
    assert dingtalk_sign("SECabc", 1700000000000) == urllib.parse.quote_plus(
        base64.b64encode(raw).decode()
    )


def test_dingtalk_robot_posts_a_signed_text_message_and_mentions_the_recipient(
    world, settings, channels
):
    settings.WANGGE_NOTIFY_ADAPTERS = ["dingtalk"]
    n = _staff_notice(world)
    assert deliver([n.pk]) == 1
    assert _attempts(n) == [("dingtalk", "sent", "ok")]
    [req] = channels.received
    assert req.path == "/dingtalk/robot/send" and req.query["access_token"] == "abc"
    body = req.json()
    assert body["msgtype"] == "text"
    assert body["text"]["content"].startswith("新任务：[X] 暴露垃圾\n请处置")
    assert body["at"] == {"atMobiles": ["13812345678"], "isAtAll": False}


def test_a_wrong_dingtalk_secret_is_a_failed_attempt_with_the_errcode(world, settings, channels):
    settings.WANGGE_NOTIFY_ADAPTERS = ["dingtalk"]
    settings.DINGTALK_SECRET = "SECwrong"
    settings.NOTIFY_MAX_ATTEMPTS = 1
    n = _staff_notice(world)
    deliver([n.pk])
    assert _attempts(n) == [("dingtalk", "failed", "errcode 310000: sign not match")]


def test_dingtalk_without_a_secret_sends_the_plain_webhook(settings, channels):
    settings.DINGTALK_SECRET = ""
    assert DingTalkRobotAdapter().signed_url() == settings.DINGTALK_WEBHOOK_URL
    settings.DINGTALK_SECRET = "SECx"
    url = DingTalkRobotAdapter().signed_url(timestamp_ms=1)
    assert url.startswith(settings.DINGTALK_WEBHOOK_URL + "&timestamp=1&sign=")


def test_wecom_robot_posts_msgtype_text(world, settings, channels):
    settings.WANGGE_NOTIFY_ADAPTERS = ["wecom"]
    n = _staff_notice(world)
    deliver([n.pk])
    assert _attempts(n) == [("wecom", "sent", "ok")]
    body = channels.received[0].json()
    assert body == {
        "msgtype": "text",
        "text": {
            "content": "新任务：[X] 暴露垃圾\n请处置",
            "mentioned_mobile_list": ["13812345678"],
        },
    }
    settings.WECOM_WEBHOOK_URL = f"{channels.url}/cgi-bin/webhook/send?key=revoked"
    settings.NOTIFY_MAX_ATTEMPTS = 1
    [m] = notify(recipients=[world.worker2], kind="state", title="x")
    deliver([m.pk])
    assert _attempts(m) == [("wecom", "failed", "errcode 93000: invalid webhook url")]


def test_group_robots_never_carry_a_residents_notice(world, settings, channels):
    settings.WANGGE_NOTIFY_ADAPTERS = ["dingtalk", "wecom"]
    [n] = notify(recipients=[None], address="13900001111", kind="closed", title="已办结")
    deliver([n.pk])
    assert {a[1] for a in _attempts(n)} == {"skipped"}
    assert channels.received == []


def test_the_sms_gateway_gets_an_hmac_signed_json_request(world, settings, channels):
    settings.WANGGE_NOTIFY_ADAPTERS = ["sms"]
    [n] = notify(
        recipients=[None], address="13900001111", kind="closed", title="您反映的问题已办结"
    )
    deliver([n.pk])
    assert _attempts(n) == [("sms", "sent", "13900001111")]
    req = channels.received[0]
    assert req.json() == {
        "to": "13900001111",
        "text": "【网格】您反映的问题已办结",
        "kind": "notice",
    }
    assert req.headers["x-wangge-key"] == gw.SMS_KEY_ID
    # A staff member without a mobile is skipped; a wrong secret is refused by the gateway.
    [m] = notify(recipients=[world.worker2], kind="state", title="x")
    deliver([m.pk])
    assert _attempts(m) == [("sms", "skipped", "no phone number")]
    settings.SMS_GATEWAY_SECRET = "wrong"
    result = HttpSmsAdapter().send_code("13900001111", "123456")
    assert (result.status, result.detail) == (
        "failed",
        'HTTP 401: {"code": 401, "message": "bad signature"}',
    )


def test_aliyun_sendsms_is_signed_as_documented_and_parsed(world, settings, channels):
    settings.WANGGE_NOTIFY_ADAPTERS = ["aliyun_sms"]
    [n] = notify(
        recipients=[None], address="13900001111", kind="closed", title="您反映的问题已办结"
    )
    deliver([n.pk])
    assert _attempts(n) == [("aliyun_sms", "sent", "900619746936498440^0")]
    form = channels.received[0].form()
    assert form["Action"] == "SendSms" and form["PhoneNumbers"] == "13900001111"
    assert form["SignName"] == "网格治理" and form["TemplateCode"] == "SMS_100001"
    assert form["TemplateParam"] == '{"title": "您反映的问题已办结"}'
    result = AliyunSmsAdapter().send_code("13900001111", "654321")
    assert result.status == "sent"
    assert channels.received[-1].form()["TemplateParam"] == '{"code": "654321"}'
    settings.ALIYUN_SMS_ACCESS_KEY_SECRET = "not-the-secret"
    result = AliyunSmsAdapter().send_code("13900001111", "654321")
    assert (result.status, result.detail) == (
        "failed",
        "SignatureDoesNotMatch: Specified signature is not matched",
    )


def test_the_aliyun_signature_matches_the_documented_example():
    # The worked example of Aliyun's RPC signature documentation (GET, DescribeRegions), so the
    # encoding and key handling are checked against a published value, not only ourselves.
    params = {
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "Format": "XML",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "SignatureVersion": "1.0",
        "Timestamp": "2016-02-23T12:46:24Z",
        "Version": "2014-05-26",
    }
    assert aliyun_signature(params, "testsecret", method="GET") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_a_failed_channel_is_retried_later_and_stops_after_the_limit(world, settings, channels):
    settings.WANGGE_NOTIFY_ADAPTERS = ["console", "wecom"]
    settings.NOTIFY_MAX_ATTEMPTS = 2
    channels.fail_next(
        "/cgi-bin/webhook/send", 200, {"errcode": 45009, "errmsg": "api freq out of limit"}
    )
    n = _staff_notice(world)
    before = timezone.now()
    deliver([n.pk])
    assert _attempts(n) == [
        ("console", "sent", ""),
        ("wecom", "failed", "errcode 45009: api freq out of limit"),
    ]
    # The retry is a task of the database queue, due after the back-off.
    [retry] = DBTaskResult.objects.filter(task_path__endswith="deliver_notifications")
    assert retry.args_kwargs["args"] == [[n.pk], 2]
    assert retry.run_after >= before + timedelta(seconds=55)
    # Running it tries only the failed channel; the console is not asked twice.
    deliver([n.pk], 2)
    assert [a[:2] for a in _attempts(n)] == [
        ("console", "sent"),
        ("wecom", "failed"),
        ("wecom", "sent"),
    ]
    # Nothing is tried again once every channel delivered.
    assert deliver([n.pk], 3) == 0


def test_an_unreachable_gateway_and_a_missing_setting_are_failed_attempts(
    world, settings, channels
):
    settings.WANGGE_NOTIFY_ADAPTERS = ["sms", "dingtalk"]
    settings.NOTIFY_MAX_ATTEMPTS = 1
    settings.SMS_GATEWAY_URL = "http://127.0.0.1:9/sms"  # discard port: connection refused
    settings.DINGTALK_WEBHOOK_URL = ""
    n = _staff_notice(world)
    deliver([n.pk])
    rows = {a[0]: a for a in _attempts(n)}
    assert rows["sms"][1] == "failed" and "URLError" in rows["sms"][2]
    assert rows["dingtalk"][1:] == ("failed", "misconfigured: DINGTALK_WEBHOOK_URL is not set")
    assert not DBTaskResult.objects.exists()  # one try allowed: no retry queued


def test_verification_codes_go_through_the_configured_sms_channel(settings, channels, caplog):
    settings.WANGGE_SMS_ADAPTER = "sms"
    assert sms_sender().send_code("13900001111", "123456").status == "sent"
    assert channels.received[-1].json() == {
        "to": "13900001111",
        "text": "【网格】验证码123456，10分钟内有效。",
        "kind": "code",
    }
    settings.WANGGE_SMS_ADAPTER = "console"
    with caplog.at_level("INFO", logger="wangge.cases.notify"):
        sms_sender().send_code("13900001111", "654321")
    assert "654321" in caplog.text
    assert Notification.objects.count() == 0  # codes are never stored as notices
