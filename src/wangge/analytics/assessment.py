"""Assessment (考核): schemes as data, scoring rules, computing and ranking results.

A scheme scores one kind of object (grid, community, street, department, worker, 党支部) under
a region, monthly or quarterly. Each item is an indicator with a weight (weights sum to 100) and
a rule that turns the indicator's value into a share of the weight:

* ``linear`` — ``{"zero": a, "full": b}``: no points at ``a``, the whole weight at ``b``, linear
  in between and clamped (``b < a`` for indicators where lower is better);
* ``bands`` — ``{"bands": [[t1, f1], [t2, f2], …], "direction": "min"|"max"}``: the share ``f``
  of the first band whose threshold the value reaches (``min``: value ≥ t; ``max``: value ≤ t);
* ``threshold`` — ``{"min": t}`` or ``{"max": t}``: all or nothing.

An indicator without a denominator for an object (e.g. no rated cases) is left out and the
other weights are scaled up to 100, which the explanation says. Grades: A ≥ 90, B ≥ 75,
C ≥ 60, D ≥ 40, else E (editable per scheme)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.accounts.permissions import has_perm_at
from wangge.cases.models import Department
from wangge.core.audit import audit_log
from wangge.core.exceptions import PermissionDenied, ValidationError
from wangge.geo.choices import Level
from wangge.geo.models import Region

from .branches import ALL_BY_CODE, PARTY_BY_CODE, branch_objects, fmt
from .choices import Dim, ObjectKind, PeriodKind, RuleKind, RunStatus
from .indicators import ACTIVITY, SATISFACTION, compute, empty_sums
from .models import AssessmentResult, AssessmentRun, AssessmentScheme, AssessmentSchemeVersion
from .periods import Period, parse_period
from .selectors import breakdown, overdue_by, overdue_by_prefix, sums_by_region

CHANGE_SCHEME = "analytics.change_assessmentscheme"
RUN = "analytics.run_assessment"
DEFAULT_GRADES: list[list[Any]] = [["A", 90], ["B", 75], ["C", 60], ["D", 40], ["E", 0]]

# The default scheme: quality first. Satisfaction (25) weighs more than the one activity count
# (立案数, 10), as issue 6 requires of defaults.
DEFAULT_ITEMS: list[dict[str, Any]] = [
    {
        "indicator": "on_time_close_rate",
        "weight": 30,
        "rule": {"kind": "linear", "zero": 0.5, "full": 0.95},
    },
    {
        "indicator": "satisfaction",
        "weight": 25,
        "rule": {"kind": "linear", "zero": 0.6, "full": 0.95},
    },
    {
        "indicator": "rework_rate",
        "weight": 15,
        "rule": {"kind": "linear", "zero": 0.3, "full": 0.02},
    },
    {
        "indicator": "avg_response_hours",
        "weight": 10,
        "rule": {
            "kind": "bands",
            "direction": "max",
            "bands": [[1, 1.0], [2, 0.8], [4, 0.5], [8, 0.2]],
        },
    },
    {
        "indicator": "overdue",
        "weight": 10,
        "rule": {"kind": "bands", "direction": "max", "bands": [[0, 1.0], [2, 0.6], [5, 0.3]]},
    },
    {"indicator": "filed", "weight": 10, "rule": {"kind": "linear", "zero": 0, "full": 20}},
]
# 党支部: the cases of the bound grid/community and the branch's own service and activities.
# Satisfaction (cases 20 + service orders 15) weighs more than the activity count (立案数, 0).
# Only rates: a branch with nothing to show in the period has no value at all (score 0), not
# full marks for "0 overdue" (overdue cases already lower 按期结案率 through 应结案数).
BRANCH_ITEMS: list[dict[str, Any]] = [
    {
        "indicator": "on_time_close_rate",
        "weight": 25,
        "rule": {"kind": "linear", "zero": 0.5, "full": 0.95},
    },
    {
        "indicator": "satisfaction",
        "weight": 20,
        "rule": {"kind": "linear", "zero": 0.6, "full": 0.95},
    },
    {
        "indicator": "order_close_rate",
        "weight": 20,
        "rule": {"kind": "linear", "zero": 0.5, "full": 0.95},
    },
    {
        "indicator": "order_satisfaction",
        "weight": 15,
        "rule": {"kind": "linear", "zero": 0.6, "full": 0.95},
    },
    {
        "indicator": "activity_participation",
        "weight": 20,
        "rule": {"kind": "linear", "zero": 0.3, "full": 0.9},
    },
]
DEFAULT_SCHEMES = [
    ("community-monthly", _("社区月度考核"), ObjectKind.COMMUNITY, PeriodKind.MONTH),
    ("grid-monthly", _("网格月度考核"), ObjectKind.GRID, PeriodKind.MONTH),
    ("department-quarterly", _("职能部门季度考核"), ObjectKind.DEPARTMENT, PeriodKind.QUARTER),
    ("branch-monthly", _("党支部月度考核"), ObjectKind.PARTY_BRANCH, PeriodKind.MONTH),
]
DEFAULT_ITEMS_BY_KIND: dict[str, list[dict[str, Any]]] = {
    ObjectKind.PARTY_BRANCH.value: BRANCH_ITEMS
}


def _number(value: Any, label: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            _("%(f)s须为数字。") % {"f": label}, errors={"items": ["not_a_number"]}
        ) from exc


def validate_items(items: Any, object_kind: str | None = None) -> list[dict[str, Any]]:
    """Check a scheme's items; returns them normalised. Raises ``ValidationError``. The party
    indicators (service orders, activities) only score 党支部 objects."""
    if not isinstance(items, list) or not items:
        raise ValidationError(_("考核方案至少需要一项指标。"), errors={"items": ["empty"]})
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in items:
        code = str((item or {}).get("indicator") or "")
        if code not in ALL_BY_CODE:
            raise ValidationError(_("未知指标：%(c)s") % {"c": code}, errors={"items": ["unknown"]})
        if code in PARTY_BY_CODE and object_kind != ObjectKind.PARTY_BRANCH:
            raise ValidationError(
                _("指标“%(n)s”只能用于党支部考核。") % {"n": ALL_BY_CODE[code].name},
                errors={"items": ["object_kind"]},
            )
        if code in seen:
            raise ValidationError(
                _("指标重复：%(c)s") % {"c": code}, errors={"items": ["duplicate"]}
            )
        seen.add(code)
        weight = _number(item.get("weight"), _("权重"))
        if weight <= 0:
            raise ValidationError(_("权重须大于0。"), errors={"items": ["weight"]})
        rule = dict(item.get("rule") or {})
        kind = rule.get("kind")
        if kind == RuleKind.LINEAR:
            zero, full = _number(rule.get("zero"), "zero"), _number(rule.get("full"), "full")
            if zero == full:
                raise ValidationError(_("线性规则的两端不能相同。"), errors={"items": ["rule"]})
            rule = {"kind": kind, "zero": zero, "full": full}
        elif kind == RuleKind.BANDS:
            bands = rule.get("bands")
            if not isinstance(bands, list) or not bands:
                raise ValidationError(_("分档规则至少需要一档。"), errors={"items": ["rule"]})
            parsed = []
            for band in bands:
                if not isinstance(band, (list, tuple)) or len(band) != 2:
                    raise ValidationError(
                        _("每一档须为[阈值, 得分比例]。"), errors={"items": ["rule"]}
                    )
                share = _number(band[1], _("得分比例"))
                if not 0 <= share <= 1:
                    raise ValidationError(_("得分比例须在0到1之间。"), errors={"items": ["rule"]})
                parsed.append([_number(band[0], _("阈值")), share])
            direction = rule.get("direction", "min")
            if direction not in ("min", "max"):
                raise ValidationError(_("分档方向须为min或max。"), errors={"items": ["rule"]})
            rule = {"kind": kind, "direction": direction, "bands": parsed}
        elif kind == RuleKind.THRESHOLD:
            if ("min" in rule) == ("max" in rule):
                raise ValidationError(_("达标规则须给出min或max之一。"), errors={"items": ["rule"]})
            side = "min" if "min" in rule else "max"
            rule = {"kind": kind, side: _number(rule[side], side)}
        else:
            raise ValidationError(
                _("未知评分规则：%(k)s") % {"k": kind}, errors={"items": ["rule"]}
            )
        out.append({"indicator": code, "weight": weight, "rule": rule})
    total = sum(i["weight"] for i in out)
    if abs(total - 100) > 1e-6:
        raise ValidationError(
            _("各项权重之和须为100（现为%(t)s）。") % {"t": f"{total:g}"}, errors={"items": ["sum"]}
        )
    satisfaction = sum(i["weight"] for i in out if i["indicator"] == SATISFACTION)
    activity = sum(i["weight"] for i in out if i["indicator"] in ACTIVITY)
    if activity > satisfaction:
        raise ValidationError(
            _("群众满意率的权重不能低于数量类指标（立案数）的权重。"),
            errors={"items": ["satisfaction_weight"]},
        )
    return out


def validate_grades(grades: Any) -> list[list[Any]]:
    if not grades:
        return [list(g) for g in DEFAULT_GRADES]
    try:
        parsed: list[list[Any]] = [[str(g), float(t)] for g, t in grades]
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("等级格式不正确。"), errors={"grades": ["invalid"]}) from exc
    parsed.sort(key=lambda g: -g[1])
    if parsed[-1][1] != 0:
        raise ValidationError(_("最低等级的下限须为0。"), errors={"grades": ["floor"]})
    return parsed


def _definition(scheme: AssessmentScheme) -> dict[str, Any]:
    return {
        "code": scheme.code,
        "name": scheme.name,
        "object_kind": scheme.object_kind,
        "period_kind": scheme.period_kind,
        "region": scheme.region.code,
        "items": scheme.items,
        "grades": scheme.grades,
    }


@transaction.atomic
def scheme_save(
    *,
    actor: Any,
    code: str,
    name: str,
    object_kind: str,
    period_kind: str,
    region: Region,
    items: Any,
    grades: Any = None,
) -> AssessmentScheme:
    """Create or change scheme ``code`` (a new immutable version each time)."""
    if actor is not None and not has_perm_at(actor, CHANGE_SCHEME, region.path):
        raise PermissionDenied(_("您无权在该区域制定考核方案。"))
    if object_kind not in ObjectKind.values:
        raise ValidationError(_("考核对象无效。"), errors={"object_kind": ["invalid"]})
    if period_kind not in PeriodKind.values:
        raise ValidationError(_("考核周期无效。"), errors={"period_kind": ["invalid"]})
    clean_items = validate_items(items, object_kind)
    clean_grades = validate_grades(grades)
    scheme = AssessmentScheme.objects.select_for_update().filter(code=code).first()
    before = _definition(scheme) if scheme else None
    if scheme is None:
        scheme = AssessmentScheme(code=code, version=0)
    elif actor is not None and not has_perm_at(actor, CHANGE_SCHEME, scheme.region.path):
        raise PermissionDenied(_("您无权修改该考核方案。"))
    scheme.name = name
    scheme.object_kind = object_kind
    scheme.period_kind = period_kind
    scheme.region = region
    scheme.items = clean_items
    scheme.grades = clean_grades
    scheme.version += 1
    scheme.save()
    AssessmentSchemeVersion.objects.create(
        scheme=scheme, version=scheme.version, definition=_definition(scheme)
    )
    audit_log(
        actor=actor,
        action="analytics.scheme_save",
        obj=scheme,
        before=before,
        after=_definition(scheme),
    )
    return scheme


def default_schemes_create(region: Region | None = None) -> list[AssessmentScheme]:
    """The default schemes on ``region`` (default: the shallowest county), unless present."""
    region = (
        region
        or Region.objects.filter(level=Level.COUNTY, is_active=True)
        .order_by("depth", "code")
        .first()
    )
    if region is None:
        return []
    made = []
    for code, name, kind, period_kind in DEFAULT_SCHEMES:
        if AssessmentScheme.objects.filter(code=code).exists():
            continue
        made.append(
            scheme_save(
                actor=None,
                code=code,
                name=str(name),
                object_kind=kind,
                period_kind=period_kind,
                region=region,
                items=DEFAULT_ITEMS_BY_KIND.get(str(kind), DEFAULT_ITEMS),
            )
        )
    return made


# --- scoring -------------------------------------------------------------------------------


def item_share(rule: dict[str, Any], value: float) -> float:
    """The share (0–1) of an item's weight that ``value`` earns under ``rule``."""
    kind = rule["kind"]
    if kind == RuleKind.LINEAR:
        zero, full = rule["zero"], rule["full"]
        return max(0.0, min(1.0, (value - zero) / (full - zero)))
    if kind == RuleKind.BANDS:
        reaches = (
            (lambda t: value >= t)
            if rule.get("direction", "min") == "min"
            else (lambda t: value <= t)
        )
        for threshold, share in rule["bands"]:
            if reaches(threshold):
                return float(share)
        return 0.0
    if "min" in rule:
        return 1.0 if value >= rule["min"] else 0.0
    return 1.0 if value <= rule["max"] else 0.0


def grade_for(score: float, grades: list[list[Any]]) -> str:
    for name, floor in grades:
        if score >= floor:
            return str(name)
    return str(grades[-1][0])


def _q(x: float) -> Decimal:
    return Decimal(str(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass
class Scored:
    score: Decimal
    grade: str
    details: list[dict[str, Any]]


def score(values: dict[str, Any], items: list[dict[str, Any]], grades: list[list[Any]]) -> Scored:
    """Score one object's indicator ``values``; every item explains itself."""
    details = []
    earned = 0.0
    available = 0.0
    for item in items:
        code, weight = item["indicator"], float(item["weight"])
        value = values.get(code)
        name = str(ALL_BY_CODE[code].name)
        if value is None:
            details.append(
                {
                    "indicator": code,
                    "name": name,
                    "value": None,
                    "weight": weight,
                    "points": None,
                    "text": _("%(n)s 无数据 → 不计分，其余指标按比例折算") % {"n": name},
                }
            )
            continue
        points = weight * item_share(item["rule"], float(value))
        earned += points
        available += weight
        details.append(
            {
                "indicator": code,
                "name": name,
                "value": value,
                "weight": weight,
                "points": round(points, 2),
                "text": _("%(n)s %(v)s → %(p)s / %(w)s")
                % {"n": name, "v": fmt(code, value), "p": f"{points:.1f}", "w": f"{weight:g}"},
            }
        )
    total = 0.0 if available == 0 else earned * 100 / available
    q = _q(total)
    return Scored(q, grade_for(float(q), grades), details)


# --- computing a run -----------------------------------------------------------------------


def _objects(scheme: AssessmentScheme, period: Period) -> list[dict[str, Any]]:
    """(object, indicator values) for every object the scheme covers."""
    region = scheme.region
    kind = scheme.object_kind
    if kind == ObjectKind.PARTY_BRANCH:
        return branch_objects(region, period)
    if kind in (ObjectKind.GRID, ObjectKind.COMMUNITY, ObjectKind.STREET):
        level = {
            ObjectKind.GRID.value: Level.GRID,
            ObjectKind.COMMUNITY.value: Level.COMMUNITY,
            ObjectKind.STREET.value: Level.STREET,
        }[str(kind)]
        regions = list(
            Region.objects.filter(
                path__startswith=region.path, level=level, is_active=True
            ).order_by("code")
        )
        sums = sums_by_region([r.pk for r in regions], period)
        overdue = overdue_by_prefix(regions, region.path, now=timezone.now(), period=period)
        return [
            {
                "id": r.pk,
                "name": r.name,
                "region": r,
                "department": None,
                "values": compute(sums[r.pk], overdue.get(r.pk, 0)),
            }
            for r in regions
        ]
    dim, field = (
        (Dim.DEPT, "department_id")
        if kind == ObjectKind.DEPARTMENT
        else (Dim.WORKER, "assignee_id")
    )
    by_value = breakdown(region, period, dim)
    late = overdue_by(region.path, now=timezone.now(), period=period, field=field)
    out: list[dict[str, Any]] = []
    if kind == ObjectKind.DEPARTMENT:
        depts = {
            d.pk: d
            for d in Department.objects.filter(is_active=True).select_related("region")
            if d.region.path.startswith(region.path) or region.path.startswith(d.region.path)
        }
        for pk, dept in sorted(depts.items()):
            s = by_value.get(str(pk))
            if s is None and not late.get(pk):
                continue  # no case of this department in the period and area
            out.append(
                {
                    "id": pk,
                    "name": dept.name,
                    "region": dept.region if dept.region.path.startswith(region.path) else region,
                    "department": dept,
                    "values": compute(s or empty_sums(), late.get(pk, 0)),
                }
            )
        return out
    from wangge.accounts.models import User

    ids = {int(v) for v in by_value if v.isdigit()} | {k for k in late if k}
    users = User.objects.in_bulk(ids)
    for pk in sorted(ids):
        if pk in users:
            out.append(
                {
                    "id": pk,
                    "name": str(users[pk]),
                    "region": region,
                    "department": None,
                    "values": compute(by_value.get(str(pk)) or empty_sums(), late.get(pk, 0)),
                }
            )
    return out


def _check_period(scheme: AssessmentScheme, period_label: str) -> Period:
    period = parse_period(period_label)
    wanted = "month" if scheme.period_kind == PeriodKind.MONTH else "quarter"
    if period.kind != wanted:
        raise ValidationError(
            _("该方案按%(k)s考核，考核期应为%(e)s。")
            % {
                "k": PeriodKind(scheme.period_kind).label,
                "e": "2026-10" if wanted == "month" else "2026-Q4",
            },
            errors={"period": ["kind"]},
        )
    return period


@transaction.atomic
def assessment_request(*, actor: Any, scheme: AssessmentScheme, period_label: str) -> AssessmentRun:
    """A pending run of ``scheme`` for ``period_label`` with the scheme's current version; the
    computation is queued (``tasks.compute_assessment``) after commit."""
    if actor is not None and not has_perm_at(actor, RUN, scheme.region.path):
        raise PermissionDenied(_("您无权计算该考核方案。"))
    period = _check_period(scheme, period_label)
    version = AssessmentSchemeVersion.objects.get(scheme=scheme, version=scheme.version)
    run = AssessmentRun.objects.create(
        scheme=scheme,
        scheme_version=version,
        period=period.label,
        start=period.start,
        end=period.end,
        requested_by=actor if getattr(actor, "pk", None) else None,
    )
    audit_log(
        actor=actor,
        action="analytics.assessment_request",
        obj=run,
        after={"period": period.label, "version": version.version},
    )
    from .tasks import compute_assessment

    transaction.on_commit(lambda: compute_assessment.enqueue(run.pk))
    return run


@transaction.atomic
def assessment_compute(*, run: AssessmentRun) -> AssessmentRun:
    """Compute, rank and store the results of ``run`` (replacing earlier results of it)."""
    run = (
        AssessmentRun.objects.select_for_update()
        .select_related("scheme__region", "scheme_version")
        .get(pk=run.pk)
    )
    definition = run.scheme_version.definition
    period = parse_period(run.period)
    scheme = run.scheme
    objects = _objects(scheme, period)
    scored = [(o, score(o["values"], definition["items"], definition["grades"])) for o in objects]
    scored.sort(key=lambda x: (-x[1].score, x[0]["name"], x[0]["id"]))
    AssessmentResult.objects.filter(run=run).delete()
    rows = []
    rank = 0
    previous: Decimal | None = None
    for position, (obj, s) in enumerate(scored, start=1):
        if s.score != previous:
            rank, previous = position, s.score
        rows.append(
            AssessmentResult(
                run=run,
                object_kind=scheme.object_kind,
                object_id=obj["id"],
                object_name=obj["name"][:150],
                region=obj["region"],
                department=obj["department"],
                score=s.score,
                grade=s.grade,
                rank=rank,
                details=s.details,
            )
        )
    AssessmentResult.objects.bulk_create(rows)
    run.status = RunStatus.DONE
    run.error = ""
    run.computed_at = timezone.now()
    run.save(update_fields=["status", "error", "computed_at"])
    audit_log(
        actor=None,
        action="analytics.assessment_compute",
        obj=run,
        after={"results": len(rows), "period": run.period},
    )
    return run


def assessment_run_now(*, actor: Any, scheme: AssessmentScheme, period_label: str) -> AssessmentRun:
    """Request and compute at once (the ``wangge assess run`` command)."""
    with transaction.atomic():
        if actor is not None and not has_perm_at(actor, RUN, scheme.region.path):
            raise PermissionDenied(_("您无权计算该考核方案。"))
        period = _check_period(scheme, period_label)
        version = AssessmentSchemeVersion.objects.get(scheme=scheme, version=scheme.version)
        run = AssessmentRun.objects.create(
            scheme=scheme,
            scheme_version=version,
            period=period.label,
            start=period.start,
            end=period.end,
            requested_by=actor if getattr(actor, "pk", None) else None,
            status=RunStatus.RUNNING,
        )
        audit_log(
            actor=actor,
            action="analytics.assessment_request",
            obj=run,
            after={"period": period.label, "version": version.version},
        )
    return assessment_compute(run=run)


def scheduled_assessments(today: Any = None) -> list[int]:
    """Compute last month's (and last quarter's, when it just ended) run of each active scheme
    that has none yet; returns the new run ids."""
    from .periods import previous_month

    month = previous_month(today)
    quarter = None
    if month.start.month % 3 == 0:
        quarter = f"{month.start.year}-Q{month.start.month // 3}"
    made = []
    for scheme in AssessmentScheme.objects.filter(active=True).select_related("region"):
        label = month.label if scheme.period_kind == PeriodKind.MONTH else quarter
        if label is None:
            continue
        if AssessmentRun.objects.filter(
            scheme=scheme, period=label, status=RunStatus.DONE
        ).exists():
            continue
        made.append(assessment_run_now(actor=None, scheme=scheme, period_label=label).pk)
    return made
