"""Identifier validation, normalisation and masking.

Resident ID numbers (GB 11643-1999: area 6 + birth date 8 + sequence 3 + check character) and
unified social credit codes (GB 32100-2015) are checked with python-stdnum, which also knows the
GB/T 2260 area codes. Messages are the user's language; they never echo the offending value
(it may be someone's real ID number).
"""

from __future__ import annotations

import re
from datetime import date

from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_exc
from stdnum.cn import ric, uscc

from wangge.core.exceptions import ValidationError

from .choices import IdType, Sex

ADVANCED_AGE_YEARS = 80
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
_OTHER_ID = re.compile(r"^[A-Z0-9()\-]{5,32}$")
_COMPONENT_ID = re.compile(r"^\d{17}$")
_CLASS_CODE = re.compile(r"^\d{5}$")


def normalise_id_number(value: str) -> str:
    return re.sub(r"\s+", "", str(value or "")).upper()


def _area_known(code: str) -> bool:
    """Whether the 6-digit area code is (or was) a county code. Unlike ``ric.validate`` we do
    not require the code to have existed in the birth year: numbers keep the code they were
    issued under, and late registrations (补登户口) get today's code with an old birth date —
    e.g. 320508 姑苏区 (created 2012) on people born before 2012."""
    from stdnum import numdb

    info = {k for _part, props in numdb.get("cn/loc").info(code) for k in props}
    return "county" in info


def validate_resident_id(value: str) -> str:
    """Return the normalised 18-character ID number or raise ``ValidationError``."""
    number = normalise_id_number(value)
    if len(number) != 18:
        raise ValidationError(_("身份证号码应为18位"))
    if not number[:-1].isdigit() or not (number[-1].isdigit() or number[-1] == "X"):
        raise ValidationError(_("身份证号码格式错误(前17位应为数字，末位为数字或X)"))
    if ric.calc_check_digit(number) != number[-1]:
        raise ValidationError(_("身份证号码校验位错误"))
    try:
        birth = ric.get_birth_date(number)
    except stdnum_exc.ValidationError as exc:
        raise ValidationError(_("身份证号码中的出生日期无效")) from exc
    if birth > date.today() or birth.year < 1880:
        raise ValidationError(_("身份证号码中的出生日期无效"))
    if not _area_known(number[:6]):
        raise ValidationError(_("身份证号码中的地区代码无效"))
    return number


def validate_id_number(id_type: str, value: str) -> str:
    """Validate an identity document number of any type; resident IDs get the full check."""
    if id_type not in IdType.values:
        raise ValidationError(_("证件类型无效"))
    if id_type == IdType.RESIDENT_ID:
        return validate_resident_id(value)
    number = normalise_id_number(value)
    if not _OTHER_ID.match(number):
        raise ValidationError(_("证件号码格式错误(5–32位字母或数字)"))
    return number


def facts_from_resident_id(number: str) -> tuple[date, str]:
    """Birth date and sex encoded in a valid resident ID (the 17th digit is odd for men)."""
    birth = ric.get_birth_date(number)
    sex = Sex.MALE if int(number[16]) % 2 else Sex.FEMALE
    return birth, sex


def normalise_phone(value: str) -> str:
    phone = re.sub(r"[\s()]", "", str(value or ""))
    if phone.startswith("+86"):
        phone = phone[3:]
    return phone


def validate_phone(value: str) -> str:
    phone = normalise_phone(value)
    if not (_MOBILE.match(phone) or _LANDLINE.match(phone)):
        raise ValidationError(_("电话号码格式错误(11位手机号或带区号的固定电话)"))
    return phone


def validate_credit_code(value: str) -> str:
    code = re.sub(r"\s+", "", str(value or "")).upper()
    try:
        uscc.validate(code)
    except stdnum_exc.InvalidChecksum as exc:
        raise ValidationError(_("统一社会信用代码校验位错误")) from exc
    except stdnum_exc.InvalidLength as exc:
        raise ValidationError(_("统一社会信用代码应为18位")) from exc
    except stdnum_exc.ValidationError as exc:
        raise ValidationError(_("统一社会信用代码格式错误")) from exc
    return code


def validate_component_identifier(identifier: str, class_code: str, county_code: str) -> str:
    """17 digits = county code (6) + class code (5) + serial (6)."""
    identifier = str(identifier or "").strip()
    if not _COMPONENT_ID.match(identifier):
        raise ValidationError(_("部件标识码应为17位数字"))
    if not _CLASS_CODE.match(class_code or ""):
        raise ValidationError(_("部件小类代码应为5位数字"))
    if identifier[6:11] != class_code:
        raise ValidationError(_("部件标识码第7–11位应为部件小类代码"))
    if county_code and identifier[:6] != county_code:
        raise ValidationError(_("部件标识码前6位应为所在区县代码"))
    return identifier


# --- masking ------------------------------------------------------------------------------------
def mask_id_number(number: str) -> str:
    """``320***********1234``: first 3 and last 4 characters kept."""
    if not number:
        return ""
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_phone(phone: str) -> str:
    """``138****5678``: first 3 and last 4 digits of a mobile; landlines keep the last 4."""
    if not phone:
        return ""
    if len(phone) <= 4:
        return "*" * len(phone)
    if len(phone) == 11 and phone.startswith("1"):
        return phone[:3] + "****" + phone[-4:]
    return "*" * (len(phone) - 4) + phone[-4:]


# --- age ----------------------------------------------------------------------------------------
def age_on(birth: date | None, today: date | None = None) -> int | None:
    if birth is None:
        return None
    today = today or date.today()
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def is_advanced_age(birth: date | None, today: date | None = None) -> bool:
    age = age_on(birth, today)
    return age is not None and age >= ADVANCED_AGE_YEARS


def advanced_age_cutoff(today: date | None = None) -> date:
    """People born on or before this date are 高龄 (80 or older) on ``today``."""
    today = today or date.today()
    try:
        return today.replace(year=today.year - ADVANCED_AGE_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year - ADVANCED_AGE_YEARS, day=28)
