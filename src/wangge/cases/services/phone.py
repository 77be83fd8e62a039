"""Optional phone verification for residents reporting without an account: request a code by
SMS, then file the report with it (the case's report event records ``phone_verified``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from wangge.accounts.models import PhoneVerification
from wangge.accounts.services import (
    PHONE_CODE_TTL_SECONDS,
    phone_code_issue,
    phone_code_record_delivery,
    phone_code_verify,
)
from wangge.core.exceptions import Conflict, TooManyRequests

from .. import ratelimit
from ..adapters import sms_sender
from ..choices import DeliveryStatus

PURPOSE = "case_report"
DEFAULT_PER_ADDRESS_PER_HOUR = 20


@dataclass(frozen=True)
class PhoneCodeSent:
    phone: str
    expires_in: int
    resend_after: int


def case_phone_code_request(*, phone: str, client_ip: str = "") -> PhoneCodeSent:
    """Send a 6-digit code to ``phone`` through the SMS channel (``WANGGE_SMS_ADAPTER``).

    Limits: ``PHONE_CODE_PER_IP_PER_HOUR`` requests per client address (shared through the
    cache), one code a minute and five an hour per number (accounts.services). Nothing is
    stored when a limit or the number is refused; a code that could not be sent is void."""
    limit = int(getattr(settings, "PHONE_CODE_PER_IP_PER_HOUR", DEFAULT_PER_ADDRESS_PER_HOUR))
    if ratelimit.hit(f"cases:phone-code:{client_ip}", limit=limit, window=3600):
        raise TooManyRequests(_("获取验证码过于频繁，请稍后再试。"), errors={"phone": ["too_many"]})
    verification, code = phone_code_issue(phone=phone, purpose=PURPOSE, client_ip=client_ip)
    try:
        result = sms_sender().send_code(verification.phone, code)
        status, detail = result.status, result.detail
    except Exception as exc:  # the channel is down: the code is void, the resident is told
        status, detail = DeliveryStatus.FAILED, f"{type(exc).__name__}: {exc}"
    phone_code_record_delivery(verification=verification, status=status, detail=detail)
    if status != DeliveryStatus.SENT:
        raise Conflict(_("短信发送失败，请稍后再试。"), errors={"phone": ["not_sent"]})
    ttl = int(getattr(settings, "PHONE_CODE_TTL_SECONDS", PHONE_CODE_TTL_SECONDS))
    resend = int(getattr(settings, "PHONE_CODE_RESEND_SECONDS", 60))
    return PhoneCodeSent(phone=verification.phone, expires_in=ttl, resend_after=resend)


def case_phone_code_check(*, phone: str, code: str) -> PhoneVerification:
    """Check a resident's code before filing (outside the filing transaction, so a wrong try
    is counted even though nothing is filed); pass the result to ``case_create``."""
    return phone_code_verify(phone=phone, code=code, purpose=PURPOSE)
