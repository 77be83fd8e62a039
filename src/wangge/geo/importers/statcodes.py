"""``wangge geo import-codes CSV…``: the NBS statistical division code tables (统计用区划代码).

Formats (the header decides; ``.csv.gz`` is read transparently):

* provinces ``code,name`` — 2 digits, padded to ``XX0000``;
* cities ``code,name,provinceCode`` — 4 digits, padded to ``XXXX00``;
* counties ``code,name,cityCode,provinceCode`` — 6 digits;
* towns/streets ``code,name,areaCode,…`` — 9 digits;
* villages/communities ``code,name,streetCode,…`` — 12 digits.

Parents come from the codes themselves (a county's parent is its city ``XXXX00`` or, for
counties directly under a province, the province). ``--prefix`` keeps the rows under that code
and their ancestors. All rows are validated first; any error aborts with nothing written.
Codes already in the database with the same name are skipped (re-running is harmless).
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from wangge.core.audit import audit_log
from wangge.core.exceptions import ValidationError

from ..choices import LEVEL_RANK, Level
from ..codes import code_problems
from ..models import Region
from ..services import region_create
from .report import ImportAborted, ImportReport

_LEVEL_BY_DIGITS = {
    2: Level.PROVINCE,
    4: Level.CITY,
    6: Level.COUNTY,
    9: Level.STREET,
    12: Level.COMMUNITY,
}


@dataclass
class _CodeRow:
    where: str
    code: str  # padded
    name: str
    level: Level
    parent_code: str | None


def pad_code(raw: str) -> str:
    """NBS 2- and 4-digit province/city codes → the 6-digit GB/T 2260 form."""
    return raw.ljust(6, "0") if len(raw) in (2, 4) else raw


def _candidate_parents(code: str, level: Level) -> list[str]:
    if level == Level.PROVINCE:
        return []
    if level == Level.CITY:
        return [code[:2] + "0000"]
    if level == Level.COUNTY:
        return [code[:4] + "00", code[:2] + "0000"]
    if level == Level.STREET:
        return [code[:6]]
    return [code[:9]]


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def read_code_rows(paths: Iterable[str | Path], report: ImportReport) -> list[_CodeRow]:
    rows: list[_CodeRow] = []
    for path in map(Path, paths):
        try:
            fh = _open_text(path)
        except OSError as exc:
            raise ValidationError(_("无法读取%(p)s：%(e)s") % {"p": path, "e": exc}) from exc
        with fh:
            reader = csv.DictReader(fh)
            fields = [f.strip() for f in reader.fieldnames or []]
            if "code" not in fields or "name" not in fields:
                raise ValidationError(
                    _("%(p)s不是统计用区划代码表（需要code与name列）") % {"p": path.name}
                )
            for line, record in enumerate(reader, start=2):
                where = f"{path.name}:{line}"
                raw = (record.get("code") or "").strip()
                name = (record.get("name") or "").strip()
                level = _LEVEL_BY_DIGITS.get(len(raw)) if raw.isdigit() else None
                report.total += 1
                if level is None:
                    report.error(
                        "malformed_code",
                        _("代码应为2、4、6、9或12位数字：%(c)s") % {"c": raw},
                        where=where,
                        code=raw,
                    )
                    continue
                if not name:
                    report.error("missing_name", _("缺少名称"), where=where, code=raw)
                    continue
                code = pad_code(raw)
                rows.append(_CodeRow(where, code, name, level, None))
    return rows


def table_codes_by_parent_and_name(
    paths: Iterable[str | Path], level: str, parents: set[str]
) -> tuple[dict[tuple[str, str], str], set[str]]:
    """``(parent code, normalised name) → code`` for the ``level`` rows of NBS tables under
    ``parents`` (``""`` when a name is ambiguous under its parent), and every such code.
    Streets and communities only."""
    from .layer import normalize_name

    digits = {Level.STREET: 9, Level.COMMUNITY: 12}.get(Level(level))
    if digits is None:
        raise ValidationError(_("--code-table 只适用于街道/乡镇和社区/村层级"))
    table: dict[tuple[str, str], str] = {}
    codes: set[str] = set()
    for path in map(Path, paths):
        try:
            fh = _open_text(path)
        except OSError as exc:
            raise ValidationError(_("无法读取%(p)s：%(e)s") % {"p": path, "e": exc}) from exc
        with fh:
            for record in csv.DictReader(fh):
                code = (record.get("code") or "").strip()
                if len(code) != digits or code[:-3] not in parents:
                    continue
                key = (code[:-3], normalize_name((record.get("name") or "").strip()))
                table[key] = "" if key in table and table[key] != code else code
                codes.add(code)
    return table, codes


def codes_import(
    *,
    actor: Any,
    paths: list[str | Path],
    prefix: str = "",
    dry_run: bool = False,
) -> ImportReport:
    """Import the code tables in ``paths`` (optionally only under ``prefix``), all or nothing."""
    report = ImportReport(source=", ".join(Path(p).name for p in paths), level=_("统计用区划代码"))
    report.dry_run = dry_run
    prefix = prefix.strip()
    if prefix and not prefix.isdigit():
        raise ValidationError(_("--prefix 应为数字代码：%(p)s") % {"p": prefix})
    rows = read_code_rows(paths, report)
    if prefix:
        rows = [r for r in rows if _under_or_above(r.code, r.level, prefix)]
    rows.sort(key=lambda r: (LEVEL_RANK[r.level], r.code))

    by_code: dict[str, _CodeRow] = {}
    for row in rows:
        if row.code in by_code:
            report.error(
                "duplicate_code",
                _("代码重复（另见%(w)s）") % {"w": by_code[row.code].where},
                where=row.where,
                code=row.code,
            )
            continue
        by_code[row.code] = row
    existing = {
        r.code: r for r in Region.objects.filter(code__in=list(by_code)).only("code", "name")
    }
    parents_in_db = set(
        Region.objects.filter(
            code__in={c for r in rows for c in _candidate_parents(r.code, r.level)}
        ).values_list("code", flat=True)
    )
    to_create: list[_CodeRow] = []
    for row in by_code.values():
        if row.code in existing:
            if existing[row.code].name != row.name:
                report.warning(
                    "name_differs",
                    _("代码已存在，名称为“%(db)s”，保留不变") % {"db": existing[row.code].name},
                    where=row.where,
                    code=row.code,
                )
            report.skipped += 1
            continue
        candidates = _candidate_parents(row.code, row.level)
        parent_code = next((c for c in candidates if c in by_code or c in parents_in_db), None)
        if candidates and parent_code is None:
            report.error(
                "missing_parent",
                _("找不到上级代码%(c)s") % {"c": candidates[0]},
                where=row.where,
                code=row.code,
            )
            continue
        problems = code_problems(row.level, row.code, parent_code)
        if problems:
            report.error("malformed_code", "; ".join(problems), where=row.where, code=row.code)
            continue
        row.parent_code = parent_code
        to_create.append(row)
    report.summary["would_create"] = len(to_create)
    if report.errors or dry_run:
        return report
    try:
        with transaction.atomic():
            created: dict[str, Region] = {}
            for row in to_create:
                parent = None
                if row.parent_code:
                    parent = created.get(row.parent_code) or Region.objects.get(
                        code=row.parent_code
                    )
                try:
                    created[row.code] = region_create(
                        actor=actor,
                        level=row.level,
                        code=row.code,
                        name=row.name,
                        parent=parent,
                        audit=False,
                    )
                except ValidationError as exc:
                    report.error("rejected", exc.message, where=row.where, code=row.code)
                    raise ImportAborted(report) from exc
            report.created = len(created)
            audit_log(
                actor=actor,
                action="geo.codes_import",
                object_type="geo.region",
                object_repr=report.source[:255],
                after={
                    "source": report.source,
                    "prefix": prefix,
                    "created": len(created),
                    "skipped": report.skipped,
                    "codes": sorted(created)[:1] + sorted(created)[-1:],
                },
            )
    except ImportAborted:
        report.created = 0
        return report
    report.applied = True
    return report


def _under_or_above(code: str, level: Level, prefix: str) -> bool:
    """Keep rows under ``prefix`` and the ancestors of ``prefix``."""
    significant = {Level.PROVINCE: 2, Level.CITY: 4}.get(level, len(code))
    own = code[:significant]
    return own.startswith(prefix) or prefix.startswith(own)
