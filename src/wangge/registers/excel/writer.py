"""Excel templates and exports (openpyxl, write-only mode for large exports).

An export has the template's columns, so an exported sheet can be corrected and imported back
with "update existing records" — except masked identifiers, which the importer refuses."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from .columns import COLUMNS, SHEET_TITLES, TEMPLATE_NOTE, Column

HEADER_FONT = Font(bold=True)
REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")
TEXT_COLUMNS = {
    "id_number", "phone", "credit_code", "identifier", "grid", "code", "contact_phone",
    "household_no", "building_code", "class_code",
}  # fmt: skip


def _header(column: Column) -> str:
    return f"*{column.header}" if column.required else column.header


def template_bytes(kind: str) -> bytes:
    """The downloadable template: the header row (required columns marked ``*``), drop-down
    lists for choice columns, ID columns formatted as text, and a sheet of instructions."""
    columns = COLUMNS[kind]
    with translation.override("zh-hans"):
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = SHEET_TITLES[kind]
        for index, column in enumerate(columns, 1):
            cell = ws.cell(row=1, column=index, value=_header(column))
            cell.font = HEADER_FONT
            if column.required:
                cell.fill = REQUIRED_FILL
            letter = get_column_letter(index)
            ws.column_dimensions[letter].width = column.width
            if column.choices and len(",".join(column.choices)) < 250:
                dv = DataValidation(
                    type="list",
                    formula1='"' + ",".join(column.choices) + '"',
                    allow_blank=not column.required,
                )
                if column.key != "special_groups" and column.key != "hazards":
                    ws.add_data_validation(dv)
                    dv.add(f"{letter}2:{letter}100000")
            # Identifiers as text so Excel keeps all 18 digits.
            if column.key in TEXT_COLUMNS:
                for row in range(2, 1002):
                    ws.cell(row=row, column=index).number_format = "@"
        ws.freeze_panes = "A2"
        notes = wb.create_sheet(str(_("填写说明")))
        notes.append([str(TEMPLATE_NOTE)])
        notes.append([])
        notes.append([str(_("列")), str(_("必填")), str(_("说明")), str(_("可选值"))])
        for column in columns:
            notes.append(
                [
                    column.header,
                    str(_("是")) if column.required else "",
                    column.help,
                    "、".join(column.choices),
                ]
            )
        notes.column_dimensions["A"].width = 18
        notes.column_dimensions["C"].width = 48
        notes.column_dimensions["D"].width = 60
        buffer = io.BytesIO()
        wb.save(buffer)
    return buffer.getvalue()


def rows_to_xlsx(kind: str, rows: Iterable[list[Any]]) -> bytes:
    """Write ``rows`` (in column order) under the register's header row."""
    columns = COLUMNS[kind]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET_TITLES[kind])
    for index, column in enumerate(columns, 1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    header = []
    for column in columns:
        cell = WriteOnlyCell(ws, value=_header(column))
        cell.font = HEADER_FONT
        header.append(cell)
    ws.append(header)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
