"""The matching engine on the database: load helpers with their load, ratings and service
areas, rank the helpers for one order, and run one batch pass over the open orders."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone

from wangge.accounts.permissions import path_filter, scope_paths
from wangge.core.exceptions import WanggeError
from wangge.geo.choices import Level
from wangge.geo.models import Region

from .. import matching as engine
from ..choices import (
    DUAL_REPORT_SERVING,
    LOAD_STATES,
    RELATED_SPECIALTIES,
    OrderState,
    OrgKind,
    OrgStatus,
)
from ..models import DualReport, PartyMember, PartyOrg, ServiceOrder, Volunteer
from ..perms import DISPATCH

BATCH_LIMIT = 5000


def _community_paths(region_ids: Iterable[int], paths: dict[int, str]) -> dict[int, str]:
    """For each region id (with its path in ``paths``), the path of the community above or at it
    (its own path when it is a street or higher)."""
    ancestor_ids: set[int] = set()
    for rid in region_ids:
        ancestor_ids.update(int(p) for p in paths[rid].strip("/").split("/") if p)
    communities = set(
        Region.objects.filter(pk__in=ancestor_ids, level=Level.COMMUNITY).values_list(
            "pk", flat=True
        )
    )
    out: dict[int, str] = {}
    for rid in region_ids:
        parts = [p for p in paths[rid].strip("/").split("/") if p]
        cut = next((k for k, p in enumerate(parts) if int(p) in communities), None)
        out[rid] = "/" + "/".join(parts if cut is None else parts[: cut + 1]) + "/"
    return out


def helper_data(
    members: Sequence[PartyMember], volunteers: Sequence[Volunteer], *, today: Any = None
) -> list[engine.HelperData]:
    """What the engine needs of each helper: specialties, slots, position, capacity, current
    load, past ratings and the areas it serves (its branch's community, the communities it
    双报到'd to, temporary branches it is attached to; a volunteer's registration region)."""
    today = today or timezone.localdate()
    m_ids = [m.pk for m in members]
    v_ids = [v.pk for v in volunteers]
    loads: dict[str, int] = {}
    ratings: dict[str, tuple[float, int]] = {}
    for kind, ids in (("member", m_ids), ("volunteer", v_ids)):
        if not ids:
            continue
        base = ServiceOrder.objects.filter(**{f"{kind}_id__in": ids})
        for pk, n in (
            base.filter(state__in=LOAD_STATES)
            .values(kind)
            .annotate(n=Count("id"))
            .values_list(kind, "n")
        ):
            loads[f"{kind}:{pk}"] = n
        for pk, s, n in (
            base.filter(rating__isnull=False)
            .values(kind)
            .annotate(s=Sum("rating"), n=Count("id"))
            .values_list(kind, "s", "n")
        ):
            ratings[f"{kind}:{pk}"] = (float(s or 0), int(n))
    serve: dict[int, list[str]] = defaultdict(list)
    branch_regions = {m.branch.region_id: m.branch.region_path for m in members}
    community = _community_paths(branch_regions, branch_regions) if branch_regions else {}
    for m in members:
        serve[m.pk].append(community[m.branch.region_id])
    if m_ids:
        for member_id, path in DualReport.objects.filter(
            member_id__in=m_ids, state__in=DUAL_REPORT_SERVING
        ).values_list("member_id", "region_path"):
            serve[member_id].append(path)
        for org in PartyOrg.objects.filter(
            attached_members__in=m_ids, status=OrgStatus.ACTIVE, kind=OrgKind.TEMPORARY_BRANCH
        ).prefetch_related("attached_members"):
            if org.is_active_on(today):
                for mm in org.attached_members.all():
                    if mm.pk in serve:
                        serve[mm.pk].append(org.region_path)
    out = [
        engine.HelperData(
            key=f"member:{m.pk}",
            name=m.person.name,
            specialties=list(m.specialties),
            availability=list(m.availability),
            lon=m.lon,
            lat=m.lat,
            capacity=m.capacity,
            load=loads.get(f"member:{m.pk}", 0),
            rating_sum=ratings.get(f"member:{m.pk}", (0.0, 0))[0],
            rating_count=ratings.get(f"member:{m.pk}", (0.0, 0))[1],
            service_paths=sorted(set(serve[m.pk])),
        )
        for m in members
    ]
    out += [
        engine.HelperData(
            key=f"volunteer:{v.pk}",
            name=v.person.name,
            specialties=list(v.specialties),
            availability=list(v.availability),
            lon=v.lon,
            lat=v.lat,
            capacity=v.capacity,
            load=loads.get(f"volunteer:{v.pk}", 0),
            rating_sum=ratings.get(f"volunteer:{v.pk}", (0.0, 0))[0],
            rating_count=ratings.get(f"volunteer:{v.pk}", (0.0, 0))[1],
            service_paths=[v.region_path],
        )
        for v in volunteers
    ]
    return out


def order_data(order: ServiceOrder) -> engine.OrderData:
    return engine.OrderData(
        key=order.pk,
        category=order.category,
        window_start=order.window_start,
        window_end=order.window_end,
        lon=order.lon,
        lat=order.lat,
        region_path=order.region_path,
    )


def _needed_specialties(categories: Iterable[str]) -> set[str]:
    need: set[str] = set()
    for c in categories:
        need.add(c)
        need.update(RELATED_SPECIALTIES.get(c, ()))
    return need


def pool_for_orders(
    orders: Sequence[ServiceOrder], *, need_specialty: bool = True
) -> tuple[list[PartyMember], list[Volunteer]]:
    """Active helpers who could serve some of ``orders``: members of branches in the orders'
    communities, members 双报到'd or attached there, volunteers registered there or above."""
    if not orders:
        return [], []
    paths = {o.region_id: o.region_path for o in orders}
    communities = sorted(set(_community_paths(paths, paths).values()))
    ancestors: set[str] = set()
    for p in paths.values():
        parts = [x for x in p.strip("/").split("/") if x]
        ancestors.update("/" + "/".join(parts[:k]) + "/" for k in range(1, len(parts) + 1))
    dual = DualReport.objects.filter(
        path_filter("region_path", communities), state__in=DUAL_REPORT_SERVING
    ).values("member_id")
    attached = PartyOrg.objects.filter(
        path_filter("region_path", communities),
        kind=OrgKind.TEMPORARY_BRANCH,
        status=OrgStatus.ACTIVE,
    ).values("attached_members")
    members = list(
        PartyMember.objects.filter(is_active=True)
        .filter(path_filter("region_path", communities) | Q(pk__in=dual) | Q(pk__in=attached))
        .select_related("person", "branch")
        .order_by("pk")
    )
    volunteers = list(
        Volunteer.objects.filter(is_active=True)
        .filter(path_filter("region_path", communities) | Q(region_path__in=ancestors))
        .select_related("person")
        .order_by("pk")
    )
    if not need_specialty:
        return members, volunteers
    need = _needed_specialties(o.category for o in orders)
    members = [m for m in members if need & set(m.specialties)]
    volunteers = [v for v in volunteers if need & set(v.specialties)]
    return members, volunteers


def order_candidates(
    order: ServiceOrder, *, weights: engine.Weights | None = None
) -> tuple[list[engine.Ranked], list[engine.Ranked]]:
    """The matching view: eligible helpers ranked with explanations, and the helpers of the
    area left out with the reasons (a specialty mismatch is always left out)."""
    weights = weights or engine.Weights.from_settings()
    # Everyone of the area, so the view can say why the others are left out.
    members, volunteers = pool_for_orders([order], need_specialty=False)
    helpers = helper_data(members, volunteers)
    return engine.rank(order_data(order), helpers, weights)


def explain_pair(order: ServiceOrder, helper: PartyMember | Volunteer) -> engine.Ranked:
    """Score and eligibility of one (order, helper) pair, with the explanation."""
    weights = engine.Weights.from_settings()
    if isinstance(helper, PartyMember):
        data = helper_data([helper], [])
    else:
        data = helper_data([], [helper])
    ranked, excluded = engine.rank(order_data(order), data, weights)
    return (ranked or excluded)[0]


@dataclass
class MatchSummary:
    orders: int = 0
    helpers: int = 0
    assigned: int = 0
    unassigned: int = 0
    failed: int = 0
    total_score: float = 0.0
    greedy_total: float = 0.0
    greedy_assigned: int = 0
    solve_seconds: float = 0.0
    seconds: float = 0.0
    assignments: list[tuple[str, str, float]] = field(default_factory=list)  # code, helper, score
    errors: list[str] = field(default_factory=list)

    @property
    def mean_score(self) -> float:
        return self.total_score / self.assigned if self.assigned else 0.0


def service_match_batch(
    *,
    actor: Any = None,
    now: datetime | None = None,
    dry_run: bool = False,
    weights: engine.Weights | None = None,
) -> MatchSummary:
    """One batch pass: every posted order (in the actor's dispatch area; all for the system) is
    matched at once by the optimal assignment under the helpers' free capacity, and each pair is
    dispatched through ``order_transition`` (which re-checks it). ``dry_run`` only computes."""
    from .orders import order_transition

    started = time.perf_counter()
    now = now or timezone.now()
    weights = weights or engine.Weights.from_settings()
    qs = ServiceOrder.objects.filter(state=OrderState.POSTED).select_related("region")
    if actor is not None:
        paths = scope_paths(actor, DISPATCH)
        if paths is not None:
            qs = qs.filter(path_filter("region_path", paths))
    orders = list(qs.order_by("created_at", "pk")[:BATCH_LIMIT])
    summary = MatchSummary(orders=len(orders))
    if not orders:
        summary.seconds = time.perf_counter() - started
        return summary
    members, volunteers = pool_for_orders(orders)
    helpers = helper_data(members, volunteers)
    by_key: dict[str, PartyMember | Volunteer] = {f"member:{m.pk}": m for m in members}
    by_key.update({f"volunteer:{v.pk}": v for v in volunteers})
    summary.helpers = len(helpers)
    # scipy.optimize takes seconds to import the first time in a process: not solve time.
    import scipy.optimize  # noqa: F401

    t0 = time.perf_counter()
    f = engine.features([order_data(o) for o in orders], helpers, weights)
    free = engine.free_capacity(helpers)
    pairs = engine.optimal_assignment(f.total, f.eligible, free)
    summary.solve_seconds = time.perf_counter() - t0
    greedy = engine.greedy_assignment(f.total, f.eligible, free)
    summary.greedy_total = engine.total_score(f.total, greedy) * 100
    summary.greedy_assigned = len(greedy)
    for i, j in pairs:
        order, helper = orders[i], helpers[j]
        score = float(f.total[i, j]) * 100
        if not dry_run:
            try:
                order_transition(
                    actor=actor,
                    order=order,
                    action="assign",
                    expected_version=order.version,
                    helper=by_key[helper.key],
                    now=now,
                )
            except WanggeError as exc:
                summary.failed += 1
                summary.errors.append(f"{order.code}: {exc.message}")
                continue
        summary.assigned += 1
        summary.total_score += score
        summary.assignments.append((order.code, helper.key, round(score, 1)))
    summary.unassigned = summary.orders - summary.assigned
    summary.seconds = time.perf_counter() - started
    return summary
