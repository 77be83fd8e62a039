"""Region code rules (DESIGN §2.1).

* province/city/county: 6-digit GB/T 2260 (province ``XX0000``, city ``XXXX00``);
* street/town: 9 digits = county 6 + township 3 (``001``–``599``; 001–099 街道, 100–199 镇,
  200–399 乡, higher numbers for development zones and farms);
* community/village: 12 digits = township 9 + village 3 (``001``–``999``);
* grid: 15 digits = community 12 + grid sequence 3;
* micro-grid: 18 digits = grid 15 + sequence 3.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from .choices import Level

CODE_LENGTH = {
    Level.PROVINCE: 6,
    Level.CITY: 6,
    Level.COUNTY: 6,
    Level.STREET: 9,
    Level.COMMUNITY: 12,
    Level.GRID: 15,
    Level.MICRO_GRID: 18,
}
_DIGITS = re.compile(r"^\d+$")


def code_problems(level: str, code: str, parent_code: str | None = None) -> list[str]:
    """Every reason ``code`` is not a valid code for ``level`` under ``parent_code``."""
    level = Level(level)
    expected = CODE_LENGTH[level]
    if not code or not _DIGITS.match(code):
        return [_("代码必须全部为数字：%(code)s") % {"code": code}]
    if len(code) != expected:
        return [
            _("%(level)s代码应为%(n)d位，实际为%(m)d位：%(code)s")
            % {"level": level.label, "n": expected, "m": len(code), "code": code}
        ]
    problems: list[str] = []
    if level == Level.PROVINCE and (code[2:] != "0000" or code[:2] == "00"):
        problems.append(_("省级代码应为“XX0000”：%(code)s") % {"code": code})
    elif level == Level.CITY and (code[4:] != "00" or code[2:4] == "00"):
        problems.append(_("市级代码应为“XXXX00”：%(code)s") % {"code": code})
    elif level == Level.COUNTY and code[4:] == "00":
        problems.append(_("区县代码末两位不能为00：%(code)s") % {"code": code})
    elif level in (Level.STREET, Level.COMMUNITY, Level.GRID, Level.MICRO_GRID):
        seq = code[-3:]
        if seq == "000":
            problems.append(_("代码末三位序号不能为000：%(code)s") % {"code": code})
        if level == Level.STREET and int(seq) > 599:
            problems.append(_("乡镇街道序号应在001–599之间：%(code)s") % {"code": code})
    if parent_code and level in (Level.STREET, Level.COMMUNITY, Level.GRID, Level.MICRO_GRID):
        prefix_len = expected - 3
        if len(parent_code) == prefix_len and code[:prefix_len] != parent_code:
            problems.append(
                _("代码%(code)s不以上级代码%(parent)s开头") % {"code": code, "parent": parent_code}
            )
    if parent_code and level == Level.CITY and code[:2] != parent_code[:2]:
        problems.append(
            _("代码%(code)s不属于上级%(parent)s") % {"code": code, "parent": parent_code}
        )
    if (
        parent_code
        and level == Level.COUNTY
        and code[:4] != parent_code[:4]
        and parent_code[2:] != "0000"  # counties may hang directly under a province
    ):
        problems.append(
            _("代码%(code)s不属于上级%(parent)s") % {"code": code, "parent": parent_code}
        )
    return problems


def child_code(parent_code: str, sequence: int) -> str:
    return f"{parent_code}{sequence:03d}"


def expected_level_of_code(code: str) -> Level | None:
    n = len(code)
    if n == 6:
        if code.endswith("0000"):
            return Level.PROVINCE
        if code.endswith("00"):
            return Level.CITY
        return Level.COUNTY
    return {9: Level.STREET, 12: Level.COMMUNITY, 15: Level.GRID, 18: Level.MICRO_GRID}.get(n)
