"""The matter catalogue (事项清单) as data: load the shipped file, apply edits, Excel in/out.

Every apply validates all items first and changes nothing when one is wrong; a change to a matter
type's rules freezes a new :class:`MatterTypeVersion` under a new :class:`CatalogueVersion`, so a
case keeps the rules that applied when it was filed.
"""

from __future__ import annotations

import copy
import json
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from wangge.accounts.permissions import has_perm_anywhere
from wangge.core.audit import audit_log
from wangge.core.exceptions import PermissionDenied, ValidationError

from .choices import HandlingLevel, MatterKind, TimeUnit, Urgency
from .models import CatalogueVersion, MatterType, MatterTypeVersion

CATALOGUE_FILE = Path(__file__).parent / "data" / "catalogue.json"
CHANGE_PERM = "cases.change_mattertype"
STEPS = ("accept", "dispatch", "handle", "verify")

# The fields frozen into a version, in Excel column order after code.
RULE_FIELDS = [
    "name",
    "group_code",
    "group_name",
    "kind",
    "default_level",
    "accept_limit",
    "accept_unit",
    "dispatch_limit",
    "dispatch_unit",
    "handle_limit",
    "handle_unit",
    "verify_limit",
    "verify_unit",
    "urgent_handle_hours",
    "critical_handle_hours",
    "urgency_levels",
    "filing_conditions",
    "closing_conditions",
    "on_spot_allowed",
    "pushdown_allowed",
    "keywords",
    "related_codes",
    "department_hint",
    "is_public",
    "active",
]
COLUMNS = {
    "code": "代码",
    "name": "名称",
    "group_code": "大类代码",
    "group_name": "大类",
    "kind": "类别",
    "default_level": "默认处置层级",
    "accept_limit": "受理时限",
    "accept_unit": "受理时限单位",
    "dispatch_limit": "派遣时限",
    "dispatch_unit": "派遣时限单位",
    "handle_limit": "处置时限",
    "handle_unit": "处置时限单位",
    "verify_limit": "核查时限",
    "verify_unit": "核查时限单位",
    "urgent_handle_hours": "紧急处置时限(小时)",
    "critical_handle_hours": "特急处置时限(小时)",
    "urgency_levels": "紧急程度",
    "filing_conditions": "立案条件",
    "closing_conditions": "结案条件",
    "on_spot_allowed": "可现场处置",
    "pushdown_allowed": "准入网格",
    "keywords": "关键词",
    "related_codes": "相关事项",
    "department_hint": "建议责任部门",
    "is_public": "对公众开放",
    "active": "启用",
}
BOOL_FIELDS = {"on_spot_allowed", "pushdown_allowed", "is_public", "active"}
LIST_FIELDS = {"urgency_levels", "keywords", "related_codes"}
INT_FIELDS = {f"{s}_limit" for s in STEPS} | {"urgent_handle_hours", "critical_handle_hours"}
CHOICES: dict[str, Any] = {
    "kind": MatterKind,
    "default_level": HandlingLevel,
    **{f"{s}_unit": TimeUnit for s in STEPS},
}
DEFAULTS: dict[str, Any] = {
    "accept_limit": 2,
    "accept_unit": TimeUnit.WORK_HOUR.value,
    "dispatch_limit": 2,
    "dispatch_unit": TimeUnit.WORK_HOUR.value,
    "handle_limit": 5,
    "handle_unit": TimeUnit.WORK_DAY.value,
    "verify_limit": 1,
    "verify_unit": TimeUnit.WORK_DAY.value,
    "urgent_handle_hours": 24,
    "critical_handle_hours": 4,
    "urgency_levels": [Urgency.NORMAL.value, Urgency.URGENT.value],
    "filing_conditions": "",
    "closing_conditions": "",
    "on_spot_allowed": False,
    "pushdown_allowed": False,
    "keywords": [],
    "related_codes": [],
    "department_hint": "",
    "is_public": True,
    "active": True,
}


# Per-process caches built from the catalogue (the classifier's keyword index, the matter types
# by code) are keyed by the newest CatalogueVersion number. Every catalogue change goes through
# ``catalogue_apply``, which adds a version; a process compares its number with the database at
# most once per CHECK_INTERVAL_SECONDS (like the locator), and at once after a change it made.
CHECK_INTERVAL_SECONDS = 1.0
_number_lock = threading.Lock()
_number: int | None = None
_number_checked_at = -math.inf


def catalogue_number() -> int:
    """The newest catalogue version number, read at most once a second per process."""
    global _number, _number_checked_at
    number = _number
    if number is not None and time.monotonic() - _number_checked_at < CHECK_INTERVAL_SECONDS:
        return number
    with _number_lock:
        _number = (
            CatalogueVersion.objects.order_by("-number").values_list("number", flat=True).first()
            or 0
        )
        _number_checked_at = time.monotonic()
        return _number


def invalidate_catalogue() -> None:
    """Make the next ``catalogue_number`` in this process read the database and drop the
    matter types kept by ``active_matter_type``."""
    global _number, _number_checked_at, _types
    with _number_lock:
        _number = None
        _number_checked_at = -math.inf
        _types = None


_types_lock = threading.Lock()
_types: tuple[int, dict[str, tuple[tuple[Any, ...], tuple[Any, ...] | None]]] | None = None
_MT_FIELDS = [f.attname for f in MatterType._meta.concrete_fields]
_MT_ID = _MT_FIELDS.index("id")
_MTV_FIELDS = [f.attname for f in MatterTypeVersion._meta.concrete_fields]


def _load_types() -> dict[str, tuple[tuple[Any, ...], tuple[Any, ...] | None]]:
    types = {}
    for mt in MatterType.objects.filter(active=True).select_related("current_version"):
        mtv = mt.current_version
        types[mt.code] = (
            tuple(getattr(mt, f) for f in _MT_FIELDS),
            tuple(getattr(mtv, f) for f in _MTV_FIELDS) if mtv is not None else None,
        )
    return types


def _catalogue_rows() -> dict[str, tuple[tuple[Any, ...], tuple[Any, ...] | None]]:
    global _types
    number = catalogue_number()
    cached = _types
    if cached is None or cached[0] != number:
        with _types_lock:
            cached = _types = (number, _load_types())
    return cached[1]


def active_matter_type(code: str) -> MatterType | None:
    """The active matter type ``code`` with its current version, as
    ``MatterType.objects.select_related("current_version").filter(code=code, active=True)``
    would answer, from a per-process copy of the catalogue kept per catalogue version.
    Each call returns fresh instances (values deep-copied), safe to change or attach to a case."""
    row = _catalogue_rows().get(code)
    if row is None:
        return None
    values, version = copy.deepcopy(row)
    mt = MatterType.from_db(MatterType.objects.db, _MT_FIELDS, values)
    if version is not None:
        mt.current_version = MatterTypeVersion.from_db(
            MatterTypeVersion.objects.db, _MTV_FIELDS, version
        )
    else:
        mt.current_version = None
    return mt


def active_matter_type_id(code: str) -> int | None:
    """The id of the active matter type ``code`` (from the same per-process copy)."""
    row = _catalogue_rows().get(code)
    return None if row is None else row[0][_MT_ID]


_names: tuple[Any, dict[int, str]] = (None, {})


def active_matter_type_names() -> dict[int, str]:
    """Id → name of the active matter types, from the same per-process copy (rebuilt with it)."""
    global _names
    rows = _catalogue_rows()
    if _names[0] is not rows:
        at_id, at_name = _MT_FIELDS.index("id"), _MT_FIELDS.index("name")
        _names = (rows, {v[at_id]: v[at_name] for v, _version in rows.values()})
    return _names[1]


def rules_of(matter_type: MatterType) -> dict[str, Any]:
    return {f: getattr(matter_type, f) for f in RULE_FIELDS}


def _from_file_item(item: dict[str, Any]) -> dict[str, Any]:
    """The shipped file nests limits as ``{"handle": [4, "work_hour"]}``; flatten them."""
    flat = {k: v for k, v in item.items() if k not in ("limits", "component")}
    for step, (limit, unit) in (item.get("limits") or {}).items():
        flat[f"{step}_limit"] = limit
        flat[f"{step}_unit"] = unit
    return flat


def normalise_item(raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Validate one item; return (item with every rule field, problems in Chinese)."""
    problems: list[str] = []
    item = {**DEFAULTS, **{k: v for k, v in raw.items() if v is not None}}
    code = str(item.get("code") or "").strip()
    item["code"] = code
    if not code.isdigit() or len(code) != 5:
        problems.append(_("代码必须是5位数字。"))
    elif not item.get("group_code"):
        item["group_code"] = code[:2]
    if not str(item.get("name") or "").strip():
        problems.append(_("名称不能为空。"))
    for name, choices in CHOICES.items():
        value = item.get(name)
        if value not in choices.values:
            by_label = {str(label): v for v, label in choices.choices}
            if str(value) in by_label:
                item[name] = by_label[str(value)]
            else:
                problems.append(_("%(col)s的值“%(v)s”无效。") % {"col": COLUMNS[name], "v": value})
    for name in INT_FIELDS:
        try:
            item[name] = int(item[name])
            if item[name] <= 0:
                raise ValueError
        except (TypeError, ValueError):
            problems.append(_("%(col)s必须是正整数。") % {"col": COLUMNS[name]})
    for name in BOOL_FIELDS:
        item[name] = _to_bool(item[name])
    for name in LIST_FIELDS:
        value = item[name]
        if isinstance(value, str):
            value = [v.strip() for v in value.replace("，", ",").split(",") if v.strip()]
        item[name] = [str(v) for v in value]
    bad_urgency = [u for u in item["urgency_levels"] if u not in Urgency.values]
    if bad_urgency:
        problems.append(_("紧急程度“%(v)s”无效。") % {"v": ",".join(bad_urgency)})
    if Urgency.NORMAL.value not in item["urgency_levels"]:
        item["urgency_levels"] = [Urgency.NORMAL.value, *item["urgency_levels"]]
    if item["on_spot_allowed"] and not item["pushdown_allowed"]:
        problems.append(_("未准入网格的事项不能由网格员现场处置。"))
    for name in ("name", "group_name", "department_hint"):
        item[name] = str(item.get(name) or "").strip()
    item["group_code"] = str(item.get("group_code") or "").strip()
    return {k: item[k] for k in ("code", *RULE_FIELDS)}, problems


def _to_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"是", "true", "1", "yes", "y", "√"}
    return bool(value)


@dataclass
class ApplyResult:
    version: CatalogueVersion | None
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _require_change(actor: Any) -> None:
    if actor is not None and not has_perm_anywhere(actor, CHANGE_PERM):
        raise PermissionDenied(_("您无权维护事项清单。"))


def catalogue_plan(
    items: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], dict[int, list[str]]]:
    """Normalise every item; problems keyed by the item's position (0-based)."""
    clean: list[dict[str, Any]] = []
    problems: dict[int, list[str]] = {}
    seen: set[str] = set()
    for i, raw in enumerate(items):
        item, errs = normalise_item(raw)
        if item["code"] in seen:
            errs.append(_("代码%(c)s重复。") % {"c": item["code"]})
        seen.add(item["code"])
        if errs:
            problems[i] = errs
        clean.append(item)
    return clean, problems


def classify_changes(items: list[dict[str, Any]]) -> dict[str, str]:
    """code → created | updated | unchanged, against the current catalogue."""
    current = {
        m.code: rules_of(m) for m in MatterType.objects.filter(code__in=[i["code"] for i in items])
    }
    out: dict[str, str] = {}
    for item in items:
        rules = {k: item[k] for k in RULE_FIELDS}
        old = current.get(item["code"])
        out[item["code"]] = "created" if old is None else "unchanged" if old == rules else "updated"
    return out


@transaction.atomic
def catalogue_apply(*, actor: Any, items: list[dict[str, Any]], note: str = "") -> ApplyResult:
    """Create or update matter types from ``items``; all-or-nothing, versioned and audited.

    Matter types absent from ``items`` are left as they are (deactivate with ``active=False``)."""
    _require_change(actor)
    clean, problems = catalogue_plan(items)
    if problems:
        first = next(iter(problems.items()))
        raise ValidationError(
            _("第%(n)d条：%(msg)s") % {"n": first[0] + 1, "msg": first[1][0]},
            errors={str(k + 1): v for k, v in problems.items()},
        )
    changes = classify_changes(clean)
    result = ApplyResult(version=None)
    changed = [i for i in clean if changes[i["code"]] != "unchanged"]
    result.unchanged = [c for c, s in changes.items() if s == "unchanged"]
    if not changed:
        return result
    number = (CatalogueVersion.objects.aggregate(n=Max("number"))["n"] or 0) + 1
    version = CatalogueVersion.objects.create(
        number=number,
        note=note[:255],
        changed_count=len(changed),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    existing = {m.code: m for m in MatterType.objects.filter(code__in=[i["code"] for i in changed])}
    for item in changed:
        rules = {k: item[k] for k in RULE_FIELDS}
        mt = existing.get(item["code"])
        if mt is None:
            mt = MatterType.objects.create(code=item["code"], **rules)
            result.created.append(mt.code)
        else:
            for k, v in rules.items():
                setattr(mt, k, v)
            result.updated.append(mt.code)
        last = mt.versions.aggregate(n=Max("version"))["n"] or 0
        mtv = MatterTypeVersion.objects.create(
            matter_type=mt, version=last + 1, catalogue_version=version, rules=rules
        )
        mt.current_version = mtv
        mt.save()
    result.version = version
    invalidate_catalogue()
    transaction.on_commit(invalidate_catalogue)
    audit_log(
        actor=actor,
        action="cases.catalogue_apply",
        object_type="cases.catalogueversion",
        object_id=version.pk,
        object_repr=str(version),
        after={
            "note": note,
            "created": result.created[:500],
            "updated": result.updated[:500],
        },
    )
    return result


def load_default_catalogue(*, actor: Any = None, path: Path | None = None) -> ApplyResult:
    """Load the shipped catalogue file; idempotent (a second load changes nothing)."""
    data = json.loads((path or CATALOGUE_FILE).read_text(encoding="utf-8"))
    items = [_from_file_item(m) for m in data["matters"]]
    defaults = data.get("defaults") or {}
    base = _from_file_item({"limits": defaults.get("limits", {})})
    base.update({k: v for k, v in defaults.items() if k != "limits"})
    return catalogue_apply(
        actor=actor,
        items=[{**base, **i} for i in items],
        note=_("载入默认事项清单"),
    )


@transaction.atomic
def matter_type_update(*, actor: Any, matter_type: MatterType, **changes: Any) -> MatterType:
    """Edit one matter type's rules (a new version; cases filed earlier keep theirs)."""
    item = {"code": matter_type.code, **rules_of(matter_type), **changes}
    catalogue_apply(actor=actor, items=[item], note=_("修改事项 %(c)s") % {"c": matter_type.code})
    matter_type.refresh_from_db()
    return matter_type


# --- Excel ---------------------------------------------------------------------------------
def _cell(name: str, value: Any) -> Any:
    if name in BOOL_FIELDS:
        return "是" if value else "否"
    if name in LIST_FIELDS:
        return ",".join(value)
    if name in CHOICES:
        return str(CHOICES[name](value).label)
    return value


def catalogue_export_xlsx(stream: IO[bytes]) -> int:
    """Write the whole catalogue to an .xlsx workbook; returns the number of rows."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "事项清单"
    ws.append(list(COLUMNS.values()))
    count = 0
    for mt in MatterType.objects.order_by("code"):
        ws.append([_cell(name, getattr(mt, name)) for name in COLUMNS])
        count += 1
    ws.freeze_panes = "B2"
    wb.save(stream)
    return count


@dataclass
class RowReport:
    row: int
    code: str
    status: str  # created | updated | unchanged | error
    messages: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    rows: list[RowReport]
    applied: bool
    version: CatalogueVersion | None = None

    @property
    def ok(self) -> bool:
        return not any(r.status == "error" for r in self.rows)


def catalogue_import_xlsx(*, actor: Any, stream: IO[bytes], dry_run: bool = False) -> ImportReport:
    """Import an .xlsx in the export's layout. A report row per line; nothing is written when
    any row is wrong or on a dry run."""
    from openpyxl import load_workbook

    _require_change(actor)
    try:
        wb = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:
        raise ValidationError(_("无法读取Excel文件：%(e)s") % {"e": exc}) from exc
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
    by_label = {label: name for name, label in COLUMNS.items()}
    missing = [
        label for name, label in COLUMNS.items() if name in ("code", "name") and label not in header
    ]
    if missing:
        raise ValidationError(_("缺少必需的列：%(c)s") % {"c": "、".join(missing)})
    names = [by_label.get(h) for h in header]
    raw_items: list[dict[str, Any]] = []
    line_numbers: list[int] = []
    for line, values in enumerate(rows, start=2):
        if values is None or all(v in (None, "") for v in values):
            continue
        raw = {
            n: v
            for n, v in zip(names, values, strict=False)
            if n is not None and v not in (None, "")
        }
        if "code" in raw:
            raw["code"] = (
                str(raw["code"]).strip().zfill(5)
                if str(raw["code"]).strip().isdigit()
                else raw["code"]
            )
        raw_items.append(raw)
        line_numbers.append(line)
    clean, problems = catalogue_plan(raw_items)
    changes = classify_changes([c for i, c in enumerate(clean) if i not in problems])
    report = ImportReport(rows=[], applied=False)
    for i, item in enumerate(clean):
        if i in problems:
            report.rows.append(RowReport(line_numbers[i], item["code"], "error", problems[i]))
        else:
            report.rows.append(RowReport(line_numbers[i], item["code"], changes[item["code"]]))
    if not report.ok or dry_run:
        return report
    result = catalogue_apply(actor=actor, items=raw_items, note=_("Excel导入事项清单"))
    report.applied = True
    report.version = result.version
    return report
