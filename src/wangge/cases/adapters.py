"""Delivery channels for notifications and verification codes.

Development: ``console`` (logs) and ``email`` (django.core.mail). Production: the DingTalk
custom robot (钉钉自定义机器人, optional 加签), the WeCom group robot (企业微信群机器人), a generic
HTTP SMS gateway (HMAC-signed JSON) and Aliyun SMS (dysmsapi ``SendSms``, RPC signature v1).
Configuration is read from settings (environment variables, see ``docs/deployment.md``) when an
adapter is made, so a deployment switches channels without code.

An adapter answers a :class:`DeliveryResult`; an exception (network down, timeout) counts as a
failed attempt too. Only the standard library speaks HTTP here (``requests``/``httpx`` are not
dependencies)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import send_mail

from .choices import DeliveryStatus

if TYPE_CHECKING:
    from .models import Notification

log = logging.getLogger("wangge.cases.notify")

MAX_RESPONSE_BYTES = 64 * 1024
ALIYUN_SMS_ENDPOINT = "https://dysmsapi.aliyuncs.com/"


@dataclass(frozen=True)
class DeliveryResult:
    status: str
    detail: str = ""


class Adapter(Protocol):
    name: str

    def send(self, notification: Notification) -> DeliveryResult: ...


class SmsSender(Protocol):
    """What can send a verification code to a phone (an SMS adapter, or the console)."""

    name: str

    def send_code(self, phone: str, code: str) -> DeliveryResult: ...


def _setting(name: str, default: Any = "") -> Any:
    value = getattr(settings, name, default)
    return default if value is None else value


def _timeout() -> float:
    return float(_setting("NOTIFY_HTTP_TIMEOUT", 5.0) or 5.0)


def _checked_url(name: str) -> str:
    url = str(_setting(name, "")).strip()
    if not url:
        raise ImproperlyConfigured(f"{name} is not set")
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ImproperlyConfigured(f"{name} must be an http(s) URL")
    return url


def http_post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """POST ``body``; (status, first 64 KiB of the answer). HTTP error statuses are answers;
    network errors and timeouts raise (the caller records a failed attempt)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (scheme checked)
    try:
        with urllib.request.urlopen(request, timeout=_timeout()) as response:  # noqa: S310
            return response.status, response.read(MAX_RESPONSE_BYTES)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(MAX_RESPONSE_BYTES)


def _json(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _short(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")[:200]


def message_text(notification: Notification) -> str:
    return "\n".join(p for p in (notification.title, notification.body) if p).strip()


def phone_of(notification: Notification) -> str:
    """The phone a notice goes to: the anonymous reporter's, else the recipient's mobile."""
    return notification.address or getattr(notification.recipient, "mobile", None) or ""


# --- development ------------------------------------------------------------------------------
class ConsoleAdapter:
    """Logs the message; the development default (also for verification codes)."""

    name = "console"

    def send(self, notification: Notification) -> DeliveryResult:
        who = notification.recipient or notification.address or "-"
        log.info("notify %s: %s — %s", who, notification.title, notification.body)
        return DeliveryResult(DeliveryStatus.SENT)

    def send_code(self, phone: str, code: str) -> DeliveryResult:
        log.info("sms code to %s: %s", phone, code)
        return DeliveryResult(DeliveryStatus.SENT, "console")


class EmailAdapter:
    """Sends through django.core.mail (console/file/SMTP backend as configured)."""

    name = "email"

    def send(self, notification: Notification) -> DeliveryResult:
        email = getattr(notification.recipient, "email", "") or ""
        if not email:
            return DeliveryResult(DeliveryStatus.SKIPPED, "no e-mail address")
        send_mail(
            subject=notification.title,
            message=notification.body,
            from_email=None,
            recipient_list=[email],
        )
        return DeliveryResult(DeliveryStatus.SENT, email)


# --- group robots -----------------------------------------------------------------------------
def _errcode_result(status: int, raw: bytes) -> DeliveryResult:
    """DingTalk and WeCom answer HTTP 200 with ``{"errcode": 0, "errmsg": "ok"}`` on success."""
    data = _json(raw)
    if status != 200:
        return DeliveryResult(DeliveryStatus.FAILED, f"HTTP {status}: {_short(raw)}")
    if "errcode" not in data:
        return DeliveryResult(DeliveryStatus.FAILED, f"unexpected answer: {_short(raw)}")
    if data["errcode"] != 0:
        return DeliveryResult(
            DeliveryStatus.FAILED, f"errcode {data['errcode']}: {data.get('errmsg', '')}"[:500]
        )
    return DeliveryResult(DeliveryStatus.SENT, "ok")


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """钉钉加签: HMAC-SHA256 of ``timestamp + "\\n" + secret`` keyed by the secret, base64, then
    URL-encoded (as the ``sign`` query parameter)."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode())


class DingTalkRobotAdapter:
    """A DingTalk group's custom robot (自定义机器人) webhook. Staff notices only (a resident's
    notice never goes to a group); the recipient is @-mentioned by mobile when known."""

    name = "dingtalk"

    def __init__(self) -> None:
        self.url = _checked_url("DINGTALK_WEBHOOK_URL")
        self.secret = str(_setting("DINGTALK_SECRET", ""))

    def signed_url(self, timestamp_ms: int | None = None) -> str:
        if not self.secret:
            return self.url
        ts = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
        joiner = "&" if urllib.parse.urlsplit(self.url).query else "?"
        return f"{self.url}{joiner}timestamp={ts}&sign={dingtalk_sign(self.secret, ts)}"

    def send(self, notification: Notification) -> DeliveryResult:
        if notification.recipient_id is None:
            return DeliveryResult(DeliveryStatus.SKIPPED, "not a staff notice")
        content = message_text(notification)
        mobile = getattr(notification.recipient, "mobile", None) or ""
        body: dict[str, Any] = {"msgtype": "text", "text": {"content": content}}
        if mobile:
            body["text"]["content"] = f"{content}\n@{mobile}"
            body["at"] = {"atMobiles": [mobile], "isAtAll": False}
        status, raw = http_post(
            self.signed_url(),
            json.dumps(body, ensure_ascii=False).encode(),
            {"Content-Type": "application/json; charset=utf-8"},
        )
        return _errcode_result(status, raw)


class WeComRobotAdapter:
    """A WeCom (企业微信) group robot webhook: ``{"msgtype": "text", ...}``. Staff notices only."""

    name = "wecom"

    def __init__(self) -> None:
        self.url = _checked_url("WECOM_WEBHOOK_URL")

    def send(self, notification: Notification) -> DeliveryResult:
        if notification.recipient_id is None:
            return DeliveryResult(DeliveryStatus.SKIPPED, "not a staff notice")
        text: dict[str, Any] = {"content": message_text(notification)}
        mobile = getattr(notification.recipient, "mobile", None) or ""
        if mobile:
            text["mentioned_mobile_list"] = [mobile]
        status, raw = http_post(
            self.url,
            json.dumps({"msgtype": "text", "text": text}, ensure_ascii=False).encode(),
            {"Content-Type": "application/json; charset=utf-8"},
        )
        return _errcode_result(status, raw)


# --- SMS --------------------------------------------------------------------------------------
class _SmsBase:
    name = "sms"

    def send(self, notification: Notification) -> DeliveryResult:
        phone = phone_of(notification)
        if not phone:
            return DeliveryResult(DeliveryStatus.SKIPPED, "no phone number")
        return self.send_notice(phone, notification)

    def send_notice(self, phone: str, notification: Notification) -> DeliveryResult:
        raise NotImplementedError

    def send_code(self, phone: str, code: str) -> DeliveryResult:
        raise NotImplementedError


def sms_gateway_signature(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    """Hex HMAC-SHA256 over ``timestamp \\n nonce \\n body`` (see docs/deployment.md)."""
    message = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class HttpSmsAdapter(_SmsBase):
    """A generic HTTP SMS gateway (运营商/聚合短信平台 behind a small HTTP API).

    POST ``SMS_GATEWAY_URL`` with JSON ``{"to": phone, "text": text, "kind": "notice"|"code"}``
    and headers ``X-Wangge-Key``, ``X-Wangge-Timestamp`` (Unix seconds), ``X-Wangge-Nonce`` and
    ``X-Wangge-Signature`` (:func:`sms_gateway_signature`). Success is HTTP 2xx with no JSON
    ``errcode``/``code`` other than 0 (or ``"OK"``)."""

    name = "sms"

    def __init__(self) -> None:
        self.url = _checked_url("SMS_GATEWAY_URL")
        self.key_id = str(_setting("SMS_GATEWAY_KEY_ID", ""))
        self.secret = str(_setting("SMS_GATEWAY_SECRET", ""))
        if not self.secret:
            raise ImproperlyConfigured("SMS_GATEWAY_SECRET is not set")
        self.template = str(_setting("SMS_GATEWAY_TEMPLATE", "") or "{title}")
        self.code_template = str(
            _setting("SMS_CODE_TEMPLATE", "") or "验证码{code}，10分钟内有效。"
        )

    def _post(self, phone: str, text: str, kind: str) -> DeliveryResult:
        body = json.dumps({"to": phone, "text": text, "kind": kind}, ensure_ascii=False).encode()
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        status, raw = http_post(
            self.url,
            body,
            {
                "Content-Type": "application/json; charset=utf-8",
                "X-Wangge-Key": self.key_id,
                "X-Wangge-Timestamp": timestamp,
                "X-Wangge-Nonce": nonce,
                "X-Wangge-Signature": sms_gateway_signature(self.secret, timestamp, nonce, body),
            },
        )
        if not 200 <= status < 300:
            return DeliveryResult(DeliveryStatus.FAILED, f"HTTP {status}: {_short(raw)}")
        data = _json(raw)
        code = data.get("errcode", data.get("code", 0))
        if code not in (0, "0", "OK", None):
            message = data.get("errmsg") or data.get("message") or ""
            return DeliveryResult(DeliveryStatus.FAILED, f"code {code}: {message}"[:500])
        return DeliveryResult(DeliveryStatus.SENT, phone)

    def send_notice(self, phone: str, notification: Notification) -> DeliveryResult:
        text = self.template.format(title=notification.title, body=notification.body)
        return self._post(phone, text, "notice")

    def send_code(self, phone: str, code: str) -> DeliveryResult:
        return self._post(phone, self.code_template.format(code=code), "code")


def aliyun_percent_encode(value: str) -> str:
    """RFC 3986 encoding as Aliyun's RPC signature wants it (space → %20, ``~`` kept)."""
    return urllib.parse.quote(value, safe="~")


def aliyun_signature(params: dict[str, str], secret: str, method: str = "POST") -> str:
    """Aliyun RPC signature v1.0: sorted, percent-encoded query → ``METHOD&%2F&<encoded>`` →
    HMAC-SHA1 keyed ``secret + "&"`` → base64."""
    canonical = "&".join(
        f"{aliyun_percent_encode(k)}={aliyun_percent_encode(v)}" for k, v in sorted(params.items())
    )
    to_sign = f"{method}&{aliyun_percent_encode('/')}&{aliyun_percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunSmsAdapter(_SmsBase):
    """Aliyun 短信服务 ``SendSms`` (API version 2017-05-25) with approved sign name and templates:
    ``ALIYUN_SMS_TEMPLATE_CODE`` (notices, parameter ``title``) and
    ``ALIYUN_SMS_CODE_TEMPLATE_CODE`` (verification codes, parameter ``code``)."""

    name = "aliyun_sms"

    def __init__(self) -> None:
        self.endpoint = str(_setting("ALIYUN_SMS_ENDPOINT", "") or ALIYUN_SMS_ENDPOINT)
        if urllib.parse.urlsplit(self.endpoint).scheme not in ("http", "https"):
            raise ImproperlyConfigured("ALIYUN_SMS_ENDPOINT must be an http(s) URL")
        self.key_id = str(_setting("ALIYUN_SMS_ACCESS_KEY_ID", ""))
        self.secret = str(_setting("ALIYUN_SMS_ACCESS_KEY_SECRET", ""))
        self.sign_name = str(_setting("ALIYUN_SMS_SIGN_NAME", ""))
        if not (self.key_id and self.secret and self.sign_name):
            raise ImproperlyConfigured(
                "ALIYUN_SMS_ACCESS_KEY_ID, ALIYUN_SMS_ACCESS_KEY_SECRET and ALIYUN_SMS_SIGN_NAME"
                " are required"
            )
        self.template = str(_setting("ALIYUN_SMS_TEMPLATE_CODE", ""))
        self.code_template = str(_setting("ALIYUN_SMS_CODE_TEMPLATE_CODE", ""))
        self.region = str(_setting("ALIYUN_SMS_REGION", "") or "cn-hangzhou")

    def request_params(self, phone: str, template: str, values: dict[str, str]) -> dict[str, str]:
        params = {
            "AccessKeyId": self.key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": phone,
            "RegionId": self.region,
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": secrets.token_hex(16),
            "SignatureVersion": "1.0",
            "TemplateCode": template,
            "TemplateParam": json.dumps(values, ensure_ascii=False),
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        params["Signature"] = aliyun_signature(params, self.secret)
        return params

    def _send(self, phone: str, template: str, values: dict[str, str]) -> DeliveryResult:
        if not template:
            return DeliveryResult(DeliveryStatus.SKIPPED, "no template configured")
        params = self.request_params(phone, template, values)
        body = "&".join(
            f"{aliyun_percent_encode(k)}={aliyun_percent_encode(v)}" for k, v in params.items()
        )
        status, raw = http_post(
            self.endpoint,
            body.encode(),
            {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        )
        data = _json(raw)
        if status == 200 and data.get("Code") == "OK":
            return DeliveryResult(DeliveryStatus.SENT, str(data.get("BizId", ""))[:500])
        reason = data.get("Code") or f"HTTP {status}"
        return DeliveryResult(DeliveryStatus.FAILED, f"{reason}: {data.get('Message', '')}"[:500])

    def send_notice(self, phone: str, notification: Notification) -> DeliveryResult:
        # Template variables are limited in length by Aliyun; the title is the useful part.
        return self._send(phone, self.template, {"title": notification.title[:35]})

    def send_code(self, phone: str, code: str) -> DeliveryResult:
        return self._send(phone, self.code_template, {"code": code})


ADAPTERS: dict[str, type] = {
    "console": ConsoleAdapter,
    "email": EmailAdapter,
    "dingtalk": DingTalkRobotAdapter,
    "wecom": WeComRobotAdapter,
    "sms": HttpSmsAdapter,
    "aliyun_sms": AliyunSmsAdapter,
}


def register_adapter(name: str, adapter: type) -> None:
    """Deployments plug in further channels here."""
    ADAPTERS[name] = adapter


def sms_sender() -> SmsSender:
    """The channel for verification codes: ``WANGGE_SMS_ADAPTER`` (console in development)."""
    name = getattr(settings, "WANGGE_SMS_ADAPTER", "") or "console"
    if name not in ADAPTERS or not hasattr(ADAPTERS[name], "send_code"):
        raise ImproperlyConfigured(f"WANGGE_SMS_ADAPTER={name!r} cannot send SMS codes")
    sender: SmsSender = ADAPTERS[name]()
    return sender
