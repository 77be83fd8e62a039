"""党支部 as assessment objects: the party organisations bound to the grid tree, scored on the
cases of the region they are bound to (a 网格党支部 its grid, a 社区(大)党委 its community, a
联合/流动/临时党支部 the region it is bound to) plus their own service orders and activities
(docs/indicators.md, "党支部考核"). The party figures come from the party app's selectors
(analytics is downstream of party).

Also the scoped reads of assessment runs and results that know about branches: a branch
secretary (the party member record of the user is the organisation's secretary) sees their own
branch's scores, like department staff see their department's; a user with an area grant sees
every result inside the area even when the scheme is set on a wider region (a street sees the
branches and communities in it of a county-wide scheme)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wangge.accounts.permissions import path_filter, scope_paths
from wangge.core.exceptions import NotFound
from wangge.geo.models import Region

from . import selectors as sel
from .choices import ObjectKind
from .facts import midnight
from .indicators import BY_CODE, Indicator, compute
from .indicators import fmt as case_fmt
from .models import AssessmentResult, AssessmentRun
from .periods import Period

PARTY_INDICATORS: list[Indicator] = [
    Indicator(
        "order_close_rate",
        gettext_lazy("服务工单办结率"),
        "rate",
        True,
        gettext_lazy(
            "办结数 ÷（工单数 − 已取消数）。工单：期内点单、由本支部派单的服务工单；"
            "办结：现为待评价或已评单。"
        ),
    ),
    Indicator(
        "order_satisfaction",
        gettext_lazy("群众评单满意率"),
        "rate",
        True,
        gettext_lazy("评4分或5分的工单数 ÷ 已评价的工单数（期内点单、由本支部派单的服务工单）。"),
    ),
    Indicator(
        "activity_participation",
        gettext_lazy("组织生活参与率"),
        "rate",
        True,
        gettext_lazy(
            "签到人次 ÷ 应到人次。活动：本支部期内开始、未取消且已开始的组织生活；应到人次：每次"
            "活动计本支部现有党员（在册的本支部党员及临时编入党员）人数；签到人次只计这些党员。"
        ),
    ),
]
PARTY_BY_CODE = {i.code: i for i in PARTY_INDICATORS}
ALL_BY_CODE: dict[str, Indicator] = {**BY_CODE, **PARTY_BY_CODE}


def indicator(code: str) -> Indicator:
    return ALL_BY_CODE[code]


def fmt(code: str, value: float | int | None) -> str:
    if code in PARTY_BY_CODE:
        return "—" if value is None else f"{float(value) * 100:.1f}%"
    return case_fmt(code, value)


def _rate(num: int, den: int) -> float | None:
    return None if den <= 0 else num / den


def party_values(f: dict[str, int]) -> dict[str, float | None]:
    """The party indicators from one organisation's figures (``branch_service_figures``)."""
    return {
        "order_close_rate": _rate(f["orders_done"], f["orders"] - f["orders_cancelled"]),
        "order_satisfaction": _rate(f["orders_satisfied"], f["orders_rated"]),
        "activity_participation": _rate(f["attended"], f["expected"]),
    }


def branch_objects(
    region: Region, period: Period, *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """(object, indicator values) for every 党支部 object bound under ``region`` in ``period``:
    the case indicators of the region each is bound to and the party indicators of its own."""
    from wangge.party.selectors import assessable_orgs, branch_service_figures

    now = now or timezone.now()
    orgs = assessable_orgs(region.path, period.start, period.end)
    if not orgs:
        return []
    regions = {o.region_id: o.region for o in orgs}
    sums = sel.sums_by_region(list(regions), period)
    overdue: dict[int, int] = {}
    by_depth: dict[int, list[Region]] = defaultdict(list)
    for r in regions.values():
        by_depth[r.depth].append(r)
    for same_depth in by_depth.values():  # regions of one depth are disjoint
        overdue.update(sel.overdue_by_prefix(same_depth, region.path, now=now, period=period))
    figures = branch_service_figures(
        [o.pk for o in orgs], midnight(period.start), midnight(period.end), now=now
    )
    return [
        {
            "id": o.pk,
            "name": o.name,
            "region": o.region,
            "department": None,
            "values": {
                **compute(sums[o.region_id], overdue.get(o.region_id, 0)),
                **party_values(figures[o.pk]),
            },
        }
        for o in orgs
    ]


# --- scoped reads --------------------------------------------------------------------------


def may_view_assessments(user: Any) -> bool:
    return sel.may_view_assessments(user) or bool(_led(user))


def _led(user: Any) -> list[int]:
    from wangge.party.selectors import orgs_led_by

    return orgs_led_by(user)


def run_list_for_user(user: Any) -> QuerySet[AssessmentRun]:
    """Runs the user may open: those of ``selectors.run_list_for_user`` and those with a result
    the user may see (in their area, or of a branch they lead)."""
    base = sel.run_list_for_user(user)
    paths = scope_paths(user, sel.VIEW_ASSESSMENT)
    if paths is None:
        return base
    extra = path_filter("results__region__path", paths) if paths else Q(pk__in=[])
    led = _led(user)
    if led:
        extra |= Q(results__object_kind=ObjectKind.PARTY_BRANCH, results__object_id__in=led)
    wider = AssessmentRun.objects.filter(extra).values("pk")
    return (
        AssessmentRun.objects.filter(Q(pk__in=base.values("pk")) | Q(pk__in=wider))
        .select_related("scheme", "scheme__region", "scheme_version")
        .order_by("-created_at", "-id")
    )


def access_run(user: Any, pk: int) -> AssessmentRun:
    run = run_list_for_user(user).filter(pk=pk).first()
    if run is None:
        raise NotFound(_("考核结果不存在或不在您的管辖范围内。"))
    return run


def result_list_for_user(user: Any, run: AssessmentRun) -> QuerySet[AssessmentResult]:
    """``selectors.result_list_for_user`` plus, for a branch secretary, their branches' rows."""
    base = sel.result_list_for_user(user, run)
    led = _led(user) if run.scheme.object_kind == ObjectKind.PARTY_BRANCH else []
    if not led:
        return base
    return (
        AssessmentResult.objects.filter(
            Q(pk__in=base.values("pk"))
            | Q(run=run, object_kind=ObjectKind.PARTY_BRANCH, object_id__in=led)
        )
        .select_related("region", "department")
        .order_by("rank", "object_id")
    )
