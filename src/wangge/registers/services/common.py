"""Helpers shared by the registers services: the encrypted columns' labels and blind-index
purposes, the actor's area checks, the value parsers the row builders and the Excel import share,
and the special-group head counts."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import F
from django.utils.translation import gettext as _

from wangge.accounts.permissions import has_perm_at
from wangge.core.exceptions import NotFound, ValidationError
from wangge.geo.choices import Level
from wangge.geo.models import Region

from .. import crypto
from ..identity import normalise_id_number
from ..models import Person, SensitiveGroupCount

# Associated-data labels of the encrypted columns (see crypto.encrypt).
P_ID = "person.id_number"
P_PHONE = "person.phone"
P_SENSITIVE = "person.sensitive"
O_PHONE = "organisation.contact_phone"
# Blind-index purposes: the same value hashed for different purposes gives unrelated hashes.
H_ID = "id_number"
H_PHONE = "phone"

GRID_LEVELS = (Level.GRID, Level.MICRO_GRID)


# --- helpers ------------------------------------------------------------------------------------
def grid_for_write(actor: Any, grid: Region | str, perm: str) -> Region:
    """Resolve a grid (object or code) the actor may write ``perm`` in; NotFound otherwise."""
    region = grid if isinstance(grid, Region) else Region.objects.filter(code=str(grid)).first()
    if (
        region is None
        or not region.is_active
        or region.level not in GRID_LEVELS
        or not has_perm_at(actor, perm, region.path)
    ):
        raise NotFound(_("网格代码不存在或不在您的管辖范围内"))
    return region


def require_at(actor: Any, perm: str, path: str) -> None:
    if not has_perm_at(actor, perm, path):
        raise NotFound(_("记录不存在或不在您的管辖范围内"))


def id_hash(number: str) -> str:
    return crypto.blind_index(normalise_id_number(number), H_ID)


def phone_hash(phone: str) -> str:
    return crypto.blind_index(phone, H_PHONE)


def id_hashes(number: str) -> list[str]:
    """Lookup hashes of an ID number: the current index key's, plus the previous keys' while an
    index-key rotation runs (search and de-duplication keep working throughout)."""
    return crypto.blind_indexes(normalise_id_number(number), H_ID)


def phone_hashes(phone: str) -> list[str]:
    return crypto.blind_indexes(phone, H_PHONE)


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in {"", "否", "0", "false", "no", "n", "无"}:
        return False
    if text in {"是", "1", "true", "yes", "y", "有", "√", "✓"}:
        return True
    raise ValidationError(_("应填“是”或“否”"))


def parse_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-")
    for sep_text in (text, f"{text[:4]}-{text[4:6]}-{text[6:8]}" if text.isdigit() else text):
        try:
            return date.fromisoformat(sep_text)
        except ValueError:
            continue
    raise ValidationError(_("日期格式错误(应为 YYYY-MM-DD)"))


def parse_decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValidationError(_("应为数字")) from exc
    if result < 0 or result >= Decimal("10000000"):
        raise ValidationError(_("数值超出范围"))
    return result.quantize(Decimal("0.01"))


def parse_float(value: Any, low: float, high: float) -> float | None:
    if value in (None, ""):
        return None
    try:
        result = float(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("应为数字")) from exc
    if not (low <= result <= high) or math.isnan(result):
        raise ValidationError(_("数值超出范围"))
    return result


def choice_value(choices: Any, value: Any, *, default: str | None = None) -> str:
    """Accept a choice by its value or its Chinese label (what a spreadsheet holds)."""
    text = str(value or "").strip()
    if not text:
        if default is not None:
            return default
        raise ValidationError(_("必填"))
    for val, label in choices.choices:
        if text in (val, str(label)):
            return str(val)
    raise ValidationError(_("不是有效的选项"))


def sensitive_counts_apply(grid: Region, before: set[str], after: set[str]) -> None:
    """Keep SensitiveGroupCount in step when one person's groups change."""
    for group in after - before:
        sensitive_count_add(grid, group, 1)
    for group in before - after:
        sensitive_count_add(grid, group, -1)


def sensitive_count_add(grid: Region, group: str, delta: int) -> None:
    row, _created = SensitiveGroupCount.objects.get_or_create(
        grid=grid, group=group, defaults={"region_path": grid.path, "count": 0}
    )
    SensitiveGroupCount.objects.filter(pk=row.pk).update(count=F("count") + delta)


def person_sensitive(person: Person) -> dict[str, dict[str, Any]]:
    """Decrypt a person's special-group record (callers check ``registers.view_sensitive``)."""
    data = crypto.decrypt_json(person.sensitive_enc, P_SENSITIVE, default={})
    return data if isinstance(data, dict) else {}


# --- updates: households, buildings, houses, tenancies, organisations, components ----------------
# Each follows person_update: load the row locked, check the actor's area on the row's current
# path, re-validate the merged fields with the same builder as create, check a new grid (or
# building) against the actor's area too, save only the changed columns and audit before/after.
def _refuse_unknown(changes: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(
            _("不能修改的字段: {fields}").format(fields=", ".join(sorted(unknown)))
        )


def _audit_values(obj: Any, fields: Any) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in fields}
