from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ImproperlyConfigured

from wangge.core.exceptions import ValidationError
from wangge.registers import crypto
from wangge.registers.identity import (
    mask_id_number,
    mask_phone,
    validate_credit_code,
    validate_id_number,
    validate_resident_id,
)
from wangge.registers.tests.factories import credit_code, resident_id, with_bad_check_digit

GOOD_IDS = ["11010519491231002X", "440524188001010014", resident_id(date(1950, 5, 6))]


@pytest.mark.parametrize("number", GOOD_IDS)
def test_valid_resident_ids_pass(number):
    assert validate_resident_id(number.lower()) == number.upper()


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        (with_bad_check_digit("11010519491231002X"), "校验位"),
        ("11010519491231002", "18位"),
        ("1101051949123100AX", "格式"),
        ("110105194913310023", "出生日期"),
        ("990105194912310026", "地区代码"),
    ],
)
def test_bad_resident_ids_are_refused_with_the_reason(number, reason):
    from stdnum.cn import ric

    if reason in ("出生日期", "地区代码"):  # make the check digit right so the other rule bites
        number = number[:17] + ric.calc_check_digit(number[:17] + "0")
    with pytest.raises(ValidationError) as exc:
        validate_resident_id(number)
    assert reason in exc.value.message
    assert number not in exc.value.message  # never echo an ID number


def test_other_document_types_are_accepted_without_the_check_digit():
    assert validate_id_number("passport", "e12345678") == "E12345678"
    with pytest.raises(ValidationError):
        validate_id_number("passport", "x")


def test_credit_codes_validate_their_check_character():
    assert validate_credit_code("91110000600037341L") == "91110000600037341L"
    assert validate_credit_code(credit_code(42))
    with pytest.raises(ValidationError, match="校验位"):
        validate_credit_code("91110000600037341M")
    with pytest.raises(ValidationError):
        validate_credit_code("9111000060003734")


def test_masks():
    assert mask_id_number("320508198001011238") == "320***********1238"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0512-6543210") == "********3210"


def test_encryption_round_trip_is_authenticated_and_bound_to_its_column():
    token = crypto.encrypt("320508198001011238", "person.id_number")
    assert "320508198001011238" not in token
    assert crypto.decrypt(token, "person.id_number") == "320508198001011238"
    assert crypto.encrypt("x", "p") != crypto.encrypt("x", "p")  # random nonce
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, "person.phone")  # moved to another column
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(tampered, "person.id_number")


def test_blind_index_is_keyed_and_deterministic(settings):
    a = crypto.blind_index("13812345678", "phone")
    assert a == crypto.blind_index("13812345678", "phone")
    assert a != crypto.blind_index("13812345678", "id_number")
    settings.WANGGE_PII_INDEX_KEY = "another-index-key-of-at-least-32-chars!"
    assert crypto.blind_index("13812345678", "phone") != a


def test_a_malformed_key_is_refused(settings):
    settings.WANGGE_PII_KEYS = ["c2hvcnQ="]
    with pytest.raises(ImproperlyConfigured):
        crypto.encrypt("x", "p")
