"""Read the first sheet of an .xlsx workbook into header-keyed rows.

python-calamine (Rust) parses a 100,000-row sheet in about 3 s where openpyxl's read-only mode
took 52 s on the same file (docs/decisions/0006-excel-import.md); openpyxl still writes the
templates and exports."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

from django.utils.translation import gettext as _
from python_calamine import CalamineError, CalamineWorkbook

from wangge.core.exceptions import ValidationError

from .columns import Column


@dataclass
class Sheet:
    keys: list[str | None]  # column index → Column.key (None: an unknown column, ignored)
    rows: list[list[Any]]  # data rows, raw values
    first_row: int = 2  # spreadsheet row number of rows[0]

    def records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(spreadsheet row number, {key: value}) for every non-empty row."""
        for offset, raw in enumerate(self.rows):
            if all(v in (None, "") for v in raw):
                continue
            record = {
                key: raw[i] if i < len(raw) else None
                for i, key in enumerate(self.keys)
                if key is not None
            }
            yield self.first_row + offset, record


def _header_key(text: Any) -> str:
    return str(text or "").strip().lstrip("*").rstrip("*").strip().replace(" ", "")


def read_sheet(source: str | Path | IO[bytes], columns: list[Column]) -> Sheet:
    """Parse the workbook and map its header row to ``columns``; a missing required column or
    an unreadable file is one ``ValidationError`` (the import cannot start)."""
    try:
        if isinstance(source, (str, Path)):
            workbook = CalamineWorkbook.from_path(str(source))
        else:
            workbook = CalamineWorkbook.from_filelike(source)
        sheet = workbook.get_sheet_by_index(0)
        data = sheet.to_python(skip_empty_area=False)
    except (CalamineError, ValueError, OSError, IndexError) as exc:
        raise ValidationError(_("无法读取文件：请上传 Excel (.xlsx) 文件")) from exc
    if not data:
        raise ValidationError(_("文件为空"))
    by_header = {c.header: c.key for c in columns}
    keys = [by_header.get(_header_key(h)) for h in data[0]]
    missing = [c.header for c in columns if c.required and c.key not in keys]
    if missing:
        raise ValidationError(
            _("缺少必填列：{columns}").format(columns="、".join(missing)),
            errors={"file": [", ".join(missing)]},
        )
    return Sheet(keys=keys, rows=data[1:])


def cell_text(value: Any) -> str:
    """A cell as text: whole floats lose their ".0" (Excel stores numbers as floats)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def cell_identifier(value: Any) -> str:
    """An identifier cell (ID number, phone, code). A float above 2**53 has lost digits:
    Excel keeps 15 significant digits, so an 18-digit ID typed as a number is corrupt."""
    if isinstance(value, float) and abs(value) >= 1e15:
        raise ValidationError(_("证件号码被 Excel 存为数字，末几位已丢失；请以文本格式填写"))
    return cell_text(value)
