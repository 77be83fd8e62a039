"""Helpers shared by the party services: authority checks and text validation."""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext as _

from wangge.accounts.permissions import has_perm_at
from wangge.core.exceptions import PermissionDenied, ValidationError


def require_at(actor: Any, perm: str, region_path: str) -> None:
    """``actor`` (``None`` = the system) holds ``perm`` over ``region_path``, else 403."""
    if actor is None:
        return
    if not has_perm_at(actor, perm, region_path):
        raise PermissionDenied(_("您无权在该区域执行此操作。"))


def text(value: Any, *, field: str, label: str, limit: int, required: bool = True) -> str:
    out = str(value or "").strip()
    if required and not out:
        raise ValidationError(_("请填写%(f)s。") % {"f": label}, errors={field: ["required"]})
    if len(out) > limit:
        raise ValidationError(
            _("%(f)s不能超过%(n)d个字符。") % {"f": label, "n": limit},
            errors={field: ["too_long"]},
        )
    return out


def actor_pk(actor: Any) -> int | None:
    return getattr(actor, "pk", None) if actor is not None and not isinstance(actor, str) else None


def actor_name(actor: Any) -> str:
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    return str(actor)[:150]


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two WGS-84 points."""
    r = 6371008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))
