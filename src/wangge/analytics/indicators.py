"""The indicators of DESIGN §2.7 as formulas over rollup sums (docs/indicators.md).

Every indicator is computed for a *cohort*: the cases reported in the period and the area (or
handled by the department / worker), as they stand now. Only 超期未处置数 (and through it 应结案数)
also needs the clock: it counts the cohort's open cases whose current step deadline has passed,
read live from the open cases (never from the whole case table)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .facts import MEASURES


@dataclass(frozen=True)
class Indicator:
    code: str
    name: Promise
    unit: str  # count | rate | hours
    higher_is_better: bool
    definition: Promise  # the tooltip: numerator, denominator, which cases count

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": str(self.name),
            "unit": self.unit,
            "higher_is_better": self.higher_is_better,
            "definition": str(self.definition),
        }


INDICATORS: list[Indicator] = [
    Indicator(
        "filed",
        _("立案数"),
        "count",
        True,
        _("期内上报并已受理立案的案件数；不含不予立案、作废和合并的重复件。"),
    ),
    Indicator(
        "close_rate",
        _("结案率"),
        "rate",
        True,
        _(
            "结案数 ÷ 应结案数。结案数：期内立案、现已结案或已评价的案件；应结案数 = 结案数 + "
            "超期未结案数（仍在办且当前环节已超时限）。挂账中的案件时钟停止，不计入应结案数。"
        ),
    ),
    Indicator(
        "on_time_close_rate",
        _("按期结案率"),
        "rate",
        True,
        _("按期结案数 ÷ 应结案数。按期：最后一轮处置在处置时限内完成，且核查在核查时限内完成。"),
    ),
    Indicator(
        "on_time_handle_rate",
        _("按时处置率"),
        "rate",
        True,
        _(
            "按时处置数 ÷ 处置数。处置数：至少处置过一次的案件（含返工、重办中的）；"
            "按时：当前的处置反馈不晚于处置时限（延期、挂账后的时限）。"
        ),
    ),
    Indicator(
        "rework_rate",
        _("返工率"),
        "rate",
        False,
        _("返工数 ÷ 处置数。返工数：核查不通过或结案后重新办理过至少一次的案件。"),
    ),
    Indicator(
        "dispatch_accuracy",
        _("准确派遣率"),
        "rate",
        True,
        _("（派遣次数 − 退回和改派次数）÷ 派遣次数。派遣次数含派遣、改派和吹哨。"),
    ),
    Indicator(
        "overdue",
        _("超期未处置数"),
        "count",
        False,
        _("期内上报、仍在办（不含挂账）且当前环节已超过时限的案件数，按当前时刻实时统计。"),
    ),
    Indicator(
        "avg_response_hours",
        _("平均响应时长"),
        "hours",
        False,
        _("从上报到受理立案的工作时长（工作日历，工作时）的平均值；现场处置计为0。"),
    ),
    Indicator(
        "avg_handle_hours",
        _("平均处置时长"),
        "hours",
        False,
        _("从派遣到处置反馈的工作时长平均值，扣除挂账期间；返工的案件计到最后一次处置反馈。"),
    ),
    Indicator(
        "satisfaction",
        _("群众满意率"),
        "rate",
        True,
        _("满意数 ÷ 评价数。满意：评价4分或5分（满分5分）；重新办理会清除原评价。"),
    ),
    Indicator(
        "self_resolve_rate",
        _("自行处置率"),
        "rate",
        True,
        _("网格内解决的结案数 ÷ 结案数。网格内解决：网格员现场处置或由网格层级办结。"),
    ),
    Indicator(
        "first_time_rate",
        _("一次办结率"),
        "rate",
        True,
        _("未返工也未重新办理而结案的案件数 ÷ 结案数。"),
    ),
    Indicator(
        "repeat_rate",
        _("重复投诉率"),
        "rate",
        False,
        _("作为重复件合并的上报数 ÷ 上报数（不含作废）。"),
    ),
]
BY_CODE = {i.code: i for i in INDICATORS}
SATISFACTION = "satisfaction"
# Indicators that count activity (volume) rather than quality: in a default scheme they may not
# weigh more than satisfaction (issue 6).
ACTIVITY = frozenset({"filed"})


def empty_sums() -> dict[str, int]:
    return dict.fromkeys(MEASURES, 0)


def _rate(num: float, den: float) -> float | None:
    return None if den <= 0 else num / den


def _due_to_close(s: Mapping[str, int], overdue: int) -> int:
    return s["closed"] + overdue  # 应结案数


Formula = Callable[[Mapping[str, int], int], float | int | None]
# Each indicator from measure sums and the live overdue count (``None``: no denominator).
FORMULAS: dict[str, Formula] = {
    "filed": lambda s, o: s["filed"],
    "close_rate": lambda s, o: _rate(s["closed"], _due_to_close(s, o)),
    "on_time_close_rate": lambda s, o: _rate(s["closed_on_time"], _due_to_close(s, o)),
    "on_time_handle_rate": lambda s, o: _rate(s["handled_on_time"], s["handled"]),
    "rework_rate": lambda s, o: _rate(s["reworked"], s["handled"]),
    "dispatch_accuracy": lambda s, o: _rate(s["dispatches"] - s["misdispatches"], s["dispatches"]),
    "overdue": lambda s, o: o,
    "avg_response_hours": lambda s, o: (
        None if not s["response_n"] else s["response_seconds"] / s["response_n"] / 3600
    ),
    "avg_handle_hours": lambda s, o: (
        None if not s["handle_n"] else s["handle_seconds"] / s["handle_n"] / 3600
    ),
    "satisfaction": lambda s, o: _rate(s["satisfied"], s["rated"]),
    "self_resolve_rate": lambda s, o: _rate(s["self_resolved"], s["closed"]),
    "first_time_rate": lambda s, o: _rate(s["first_time"], s["closed"]),
    "repeat_rate": lambda s, o: _rate(s["merged"], s["reported"] - s["cancelled"]),
}


def compute(sums: Mapping[str, int], overdue: int) -> dict[str, float | int | None]:
    """Every indicator from measure sums and the live overdue count (``None``: no denominator)."""
    return {code: formula(sums, overdue) for code, formula in FORMULAS.items()}


def compute_one(code: str, sums: Mapping[str, int], overdue: int) -> float | int | None:
    """One indicator (``sums`` need hold only the measures its formula reads)."""
    return FORMULAS[code](sums, overdue)


def fmt(code: str, value: float | int | None) -> str:
    """A value as people read it: 92.1%, 3.5 小时, 120."""
    if value is None:
        return "—"
    unit = BY_CODE[code].unit
    if unit == "rate":
        return f"{value * 100:.1f}%"
    if unit == "hours":
        return str(_("%(h).1f小时") % {"h": value})
    return f"{int(value)}"
