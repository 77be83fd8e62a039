"""Generated, valid identifiers and small register objects for tests (never real people)."""

from __future__ import annotations

import io
import itertools
from datetime import date
from typing import Any

from openpyxl import Workbook
from stdnum.cn import ric, uscc

from wangge.geo.models import Region
from wangge.registers.excel.columns import COLUMNS
from wangge.registers.models import Building, Component, House, Person
from wangge.registers.services import (
    building_create,
    component_create,
    house_create,
    person_create,
)

_seq = itertools.count(1)


def resident_id(
    birth: date = date(1980, 1, 1), *, area: str = "320508", seq: int | None = None
) -> str:
    """A valid 18-digit resident ID (correct check digit) for a generated person."""
    body = f"{area}{birth:%Y%m%d}{(seq if seq is not None else next(_seq)) % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def with_bad_check_digit(number: str) -> str:
    good = number[-1]
    return number[:-1] + ("0" if good != "0" else "1")


def credit_code(seq: int | None = None) -> str:
    body = f"91320508MA{(seq if seq is not None else next(_seq)) % 10_000_000:07d}"
    return body + uscc.calc_check_digit(body)


def make_person(grid: Region, *, actor: Any = None, **fields: Any) -> Person:
    from wangge.registers.tests.factories import SYSTEM

    fields.setdefault("name", f"测试{next(_seq)}")
    fields.setdefault("id_number", resident_id())
    return person_create(actor=actor or SYSTEM, grid=grid, **fields)


def make_building(grid: Region, **fields: Any) -> Building:
    n = next(_seq)
    fields.setdefault("code", f"B{n:06d}")
    fields.setdefault("name", f"{n}幢")
    fields.setdefault("address", f"测试路{n}号")
    return building_create(actor=SYSTEM, grid=grid, **fields)


def make_house(building: Building, **fields: Any) -> House:
    n = next(_seq)
    fields.setdefault("code", f"H{n:08d}")
    fields.setdefault("room", f"{n % 1000}")
    fields.setdefault("use", "residential")
    fields.setdefault("ownership", "private")
    return house_create(actor=SYSTEM, building=building, **fields)


def make_component(grid: Region, **fields: Any) -> Component:
    n = next(_seq)
    fields.setdefault("class_code", "01001")
    fields.setdefault("identifier", f"{grid.code[:6]}{fields['class_code']}{n % 1_000_000:06d}")
    fields.setdefault("class_name", "供水井盖")
    fields.setdefault("lon", grid.center_lon or 120.6)
    fields.setdefault("lat", grid.center_lat or 31.3)
    return component_create(actor=SYSTEM, grid=grid, **fields)


class _System:
    pk = None
    is_authenticated = True
    is_active = True
    is_superuser = True

    def get_username(self) -> str:
        return "system:test"


SYSTEM = _System()


def people_xlsx(rows: list[dict[str, Any]], *, kind: str = "people") -> bytes:
    """A workbook with the register's headers and ``rows`` (dicts by column key)."""
    columns = COLUMNS[kind]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("data")
    ws.append([("*" if c.required else "") + c.header for c in columns])
    for row in rows:
        ws.append([row.get(c.key, "") for c in columns])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
