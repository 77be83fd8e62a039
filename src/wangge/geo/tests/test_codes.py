"""Region code rules (DESIGN §2.1): good and bad samples per level."""

from __future__ import annotations

import pytest

from wangge.geo.codes import child_code, code_problems, expected_level_of_code
from wangge.geo.importers.statcodes import pad_code


@pytest.mark.parametrize(
    ("level", "code", "parent"),
    [
        ("province", "320000", None),
        ("city", "320500", "320000"),
        ("county", "320576", "320500"),
        ("county", "429004", "420000"),  # a county-level city directly under the province
        ("street", "320576050", "320576"),
        ("street", "320576101", "320576"),  # a town (镇) 100–199
        ("street", "320576201", "320576"),  # a township (乡) 200–399
        ("community", "320576050001", "320576050"),
        ("grid", "320576050001001", "320576050001"),
        ("micro_grid", "320576050001001001", "320576050001001"),
    ],
)
def test_valid_codes_have_no_problems(level, code, parent):
    assert code_problems(level, code, parent) == []


@pytest.mark.parametrize(
    ("level", "code", "parent", "fragment"),
    [
        ("province", "32000", None, "6位"),
        ("province", "320500", None, "XX0000"),
        ("province", "000000", None, "XX0000"),
        ("city", "320000", "320000", "XXXX00"),
        ("city", "330100", "320000", "不属于"),
        ("county", "320500", "320500", "不能为00"),
        ("county", "330102", "320500", "不属于"),
        ("street", "32057605", "320576", "9位"),
        ("street", "320576000", "320576", "000"),
        ("street", "320576650", "320576", "001–599"),
        ("street", "320505050", "320576", "不以上级代码"),
        ("community", "32057605000A", "320576050", "数字"),
        ("community", "320576050000", "320576050", "000"),
        ("grid", "3205760500010010", "320576050001", "15位"),
        ("grid", "320591010001005", "320576050001", "不以上级代码"),
        ("micro_grid", "320576050001001000", "320576050001001", "000"),
        ("grid", "", None, "数字"),
    ],
)
def test_bad_codes_are_explained(level, code, parent, fragment):
    problems = code_problems(level, code, parent)
    assert problems, code
    assert any(fragment in p for p in problems), problems


def test_child_code_and_level_of_code():
    assert child_code("320576050001", 7) == "320576050001007"
    assert expected_level_of_code("320000") == "province"
    assert expected_level_of_code("320500") == "city"
    assert expected_level_of_code("320576") == "county"
    assert expected_level_of_code("320576050") == "street"
    assert expected_level_of_code("320576050001") == "community"
    assert expected_level_of_code("320576050001001") == "grid"
    assert expected_level_of_code("320576050001001001") == "micro_grid"
    assert expected_level_of_code("3205") is None


def test_nbs_short_codes_are_padded():
    assert pad_code("32") == "320000"
    assert pad_code("3205") == "320500"
    assert pad_code("320576") == "320576"
    assert pad_code("320576050") == "320576050"
