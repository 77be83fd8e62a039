"""Reads of the party app, always scoped to the user's area (``access_*`` answer 404 for
objects that are missing or out of area)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.accounts.permissions import has_perm_anywhere, path_filter, scope_paths
from wangge.core.exceptions import NotFound
from wangge.geo.choices import Level
from wangge.geo.models import Region

from .choices import (
    BRANCH_KINDS,
    DUAL_REPORT_SERVING,
    OPEN_ORDER_STATES,
    DualReportState,
    OrgKind,
    OrgStatus,
    TransferKind,
)
from .models import (
    Activity,
    CentralHousehold,
    DualReport,
    PartyMember,
    PartyOrg,
    PointEntry,
    ServiceOrder,
    TimeAccount,
    TimeEntry,
    Volunteer,
    VolunteerTeam,
)
from .perms import APPROVE_DUAL, VIEW_MEMBER, VIEW_VOLUNTEER


def _paths_q(user: Any, perm: str, field: str = "region_path") -> Q | None:
    """``None``: unrestricted; else the Q for rows under the user's area for ``perm``."""
    paths = scope_paths(user, perm)
    if paths is None:
        return None
    return path_filter(field, paths)


# --- organisations -------------------------------------------------------------------------------
def party_org_list_for_user(user: Any) -> QuerySet[PartyOrg]:
    return PartyOrg.objects.restrict(user, "view").select_related(
        "region", "parent", "secretary__person"
    )


def access_party_org(user: Any, pk: Any) -> PartyOrg:
    org = party_org_list_for_user(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if org is None:
        raise NotFound("party_org")
    return org


def branches_for_user(user: Any) -> QuerySet[PartyOrg]:
    return party_org_list_for_user(user).filter(kind__in=BRANCH_KINDS, status=OrgStatus.ACTIVE)


@dataclass
class Coverage:
    grids: int
    grids_without_branch: list[Region]
    branches: int
    branches_without_secretary: list[PartyOrg]


def coverage_report(user: Any, *, limit: int = 200) -> Coverage:
    """一网格一支部 coverage in the user's area: grids with no active 网格党支部, and active
    branches with no secretary."""
    grids = Region.objects.restrict(user, "view").filter(level=Level.GRID, is_active=True)
    covered = PartyOrg.objects.filter(kind=OrgKind.GRID_BRANCH, status=OrgStatus.ACTIVE).values(
        "region_id"
    )
    missing = grids.exclude(pk__in=covered).order_by("path")
    branches = branches_for_user(user)
    no_secretary = branches.filter(secretary__isnull=True).order_by("region_path", "code")
    return Coverage(
        grids=grids.count(),
        grids_without_branch=list(missing[:limit]),
        branches=branches.count(),
        branches_without_secretary=list(no_secretary[:limit]),
    )


# --- members -------------------------------------------------------------------------------------
def member_list_for_user(user: Any, *, branch: PartyOrg | None = None) -> QuerySet[PartyMember]:
    """Members whose branch lies in the user's area, plus members 双报到'd to a community in
    it. A branch secretary granted on a grid sees that grid's branch only."""
    qs = PartyMember.objects.select_related("person", "branch", "user")
    q = _paths_q(user, VIEW_MEMBER)
    if q is not None:
        dual = DualReport.objects.filter(
            _paths_q(user, VIEW_MEMBER) or Q(), state__in=DUAL_REPORT_SERVING
        ).values("member_id")
        qs = qs.filter(q | Q(pk__in=dual))
    if branch is not None:
        qs = qs.filter(Q(branch=branch) | Q(attached_to=branch)).distinct()
    return qs.order_by("branch__region_path", "pk")


def access_member(user: Any, pk: Any) -> PartyMember:
    m = member_list_for_user(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if m is None:
        raise NotFound("member")
    return m


def my_member(user: Any) -> PartyMember | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        PartyMember.objects.filter(user=user, is_active=True)
        .select_related("person", "branch")
        .first()
    )


def my_volunteer(user: Any) -> Volunteer | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Volunteer.objects.filter(user=user, is_active=True).select_related("person").first()


def points_balance(member: PartyMember) -> int:
    return int(PointEntry.objects.filter(member=member).aggregate(s=Sum("points"))["s"] or 0)


def points_ranking(branch: PartyOrg, *, limit: int = 20) -> list[dict[str, Any]]:
    """Members of a branch by total points (ties by name)."""
    rows = (
        PartyMember.objects.filter(branch=branch, is_active=True)
        .annotate(total=Sum("points__points"))
        .select_related("person")
    )
    ranked = sorted(rows, key=lambda m: (-(m.total or 0), m.person.name, m.pk))
    return [
        {"rank": k + 1, "member": m, "points": int(m.total or 0)}
        for k, m in enumerate(ranked[:limit])
    ]


# --- dual reports ---------------------------------------------------------------------------------
def dual_reports_for_user(user: Any, *, state: str | None = None) -> QuerySet[DualReport]:
    qs = DualReport.objects.select_related("member__person", "member__branch", "community")
    q = _paths_q(user, APPROVE_DUAL)
    if q is not None:
        qs = qs.filter(q)
    if state:
        qs = qs.filter(state=state)
    return qs


def access_dual_report(user: Any, pk: Any) -> DualReport:
    """The community's approvers, or the member themself."""
    report = (
        DualReport.objects.select_related("member", "community").filter(pk=pk).first()
        if str(pk).isdigit()
        else None
    )
    if report is None:
        raise NotFound("dual_report")
    own = report.member.user_id is not None and report.member.user_id == getattr(user, "pk", None)
    if not own and not dual_reports_for_user(user).filter(pk=report.pk).exists():
        raise NotFound("dual_report")
    return report


# --- service orders -------------------------------------------------------------------------------
def order_list_for_user(
    user: Any, *, state: str | None = None, open_only: bool = False
) -> QuerySet[ServiceOrder]:
    qs = ServiceOrder.objects.restrict(user, "view").select_related(
        "region", "branch", "member__person", "volunteer__person"
    )
    if state:
        qs = qs.filter(state=state)
    elif open_only:
        qs = qs.filter(state__in=OPEN_ORDER_STATES)
    return qs


def access_order(user: Any, pk: Any) -> ServiceOrder:
    """Staff of the area, the resident who ordered it, or the helper it is assigned to."""
    order = (
        ServiceOrder.objects.select_related(
            "region", "branch", "member__person", "volunteer__person", "requester"
        )
        .filter(pk=pk)
        .first()
        if str(pk).isdigit()
        else None
    )
    if order is None:
        raise NotFound("order")
    uid = getattr(user, "pk", None)
    helper = order.helper
    if uid is not None and (order.requester_id == uid or (helper and helper.user_id == uid)):
        return order
    if not ServiceOrder.objects.restrict(user, "view").filter(pk=order.pk).exists():
        raise NotFound("order")
    return order


def orders_requested_by(user: Any) -> QuerySet[ServiceOrder]:
    return ServiceOrder.objects.filter(requester=user).select_related(
        "member__person", "volunteer__person"
    )


def orders_for_helper(user: Any) -> QuerySet[ServiceOrder]:
    """Orders assigned to the user's member or volunteer record."""
    return ServiceOrder.objects.filter(
        Q(member__user=user) | Q(volunteer__user=user)
    ).select_related("region")


def order_counts_by_state(user: Any) -> dict[str, int]:
    return dict(
        order_list_for_user(user).values("state").annotate(n=Count("id")).values_list("state", "n")
    )


# --- activities -----------------------------------------------------------------------------------
def activity_list_for_user(user: Any) -> QuerySet[Activity]:
    return Activity.objects.restrict(user, "view").select_related("branch")


def access_activity(user: Any, pk: Any) -> Activity:
    """Staff of the area, or a member of the activity's branch (to sign in)."""
    activity = (
        Activity.objects.select_related("branch").filter(pk=pk).first()
        if str(pk).isdigit()
        else None
    )
    if activity is None:
        raise NotFound("activity")
    member = my_member(user)
    if member is not None and (
        member.branch_id == activity.branch_id
        or activity.branch.attached_members.filter(pk=member.pk).exists()
    ):
        return activity
    if not activity_list_for_user(user).filter(pk=activity.pk).exists():
        raise NotFound("activity")
    return activity


# --- volunteers ----------------------------------------------------------------------------------
def volunteer_list_for_user(user: Any) -> QuerySet[Volunteer]:
    """Volunteers registered in the user's area (``party.view_volunteer``)."""
    qs = Volunteer.objects.filter(is_active=True).select_related("person", "region", "team")
    q = _paths_q(user, VIEW_VOLUNTEER)
    if q is not None:
        qs = qs.filter(q)
    return qs.order_by("region_path", "pk")


def access_volunteer(user: Any, pk: Any) -> Volunteer:
    v = volunteer_list_for_user(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if v is None:
        raise NotFound("volunteer")
    return v


def team_list_for_user(user: Any) -> QuerySet[VolunteerTeam]:
    qs = VolunteerTeam.objects.select_related("region").annotate(
        size=Count("volunteers", filter=Q(volunteers__is_active=True))
    )
    q = _paths_q(user, VIEW_VOLUNTEER)
    if q is not None:
        qs = qs.filter(q)
    return qs.order_by("region_path", "name")


def access_team(user: Any, pk: Any) -> VolunteerTeam:
    t = team_list_for_user(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if t is None:
        raise NotFound("team")
    return t


# --- time bank ------------------------------------------------------------------------------------
def time_account_of(person_id: int | None) -> TimeAccount | None:
    if person_id is None:
        return None
    return TimeAccount.objects.filter(person_id=person_id).first()


def time_statement(account: TimeAccount | None, *, limit: int = 50) -> list[dict[str, Any]]:
    """The account's entries, newest first, with the running balance after each."""
    if account is None:
        return []
    entries = list(
        TimeEntry.objects.filter(account=account)
        .select_related("transfer")
        .order_by("-created_at", "-id")[:limit]
    )
    balance = account.balance
    out = []
    for e in entries:
        out.append(
            {
                "at": e.created_at,
                "minutes": e.minutes,
                "balance": balance,
                "reason": e.transfer.reason,
                "kind": e.transfer.kind,
                "kind_label": TransferKind(e.transfer.kind).label
                if e.transfer.kind in TransferKind.values
                else e.transfer.kind,
                "spent": -e.minutes if e.minutes < 0 else 0,
            }
        )
        balance -= e.minutes
    return out


# --- map layer: party member households ------------------------------------------------------
def party_households_geojson(
    user: Any, *, limit: int = 20000, within: str | None = None
) -> dict[str, Any]:
    """Party member households in the user's area (and under the region path ``within``) as
    GeoJSON points (WGS-84) for the registers' 民情地图: one feature per household with a
    position, counting its members and marking 党员中心户. No names or identifiers."""
    found = member_list_for_user(user).filter(is_active=True, lon__isnull=False, lat__isnull=False)
    if within:
        found = found.filter(region_path__startswith=within)
    members = found.values(
        "person__household_id", "pk", "lon", "lat", "branch__name", "region_path"
    )
    central = set(
        CentralHousehold.objects.filter(_paths_q(user, VIEW_MEMBER) or Q()).values_list(
            "household_id", flat=True
        )
    )
    groups: dict[Any, dict[str, Any]] = {}
    for row in members[:limit]:
        key = row["person__household_id"] or f"m{row['pk']}"
        g = groups.setdefault(
            key,
            {
                "lon": row["lon"],
                "lat": row["lat"],
                "members": 0,
                "branch": row["branch__name"],
                "central": row["person__household_id"] in central,
            },
        )
        g["members"] += 1
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(g["lon"], 6), round(g["lat"], 6)]},
            "properties": {
                "kind": "central_household" if g["central"] else "member_household",
                "members": g["members"],
                "branch": g["branch"],
                "label": _("%(b)s：党员%(n)d名%(c)s")
                % {
                    "b": g["branch"],
                    "n": g["members"],
                    "c": _("（党员中心户）") if g["central"] else "",
                },
            },
        }
        for g in groups.values()
    ]
    return {"type": "FeatureCollection", "features": features}


def branch_dashboard(branch: PartyOrg) -> dict[str, Any]:
    """Figures of one branch for its dashboard."""
    members = PartyMember.objects.filter(branch=branch, is_active=True)
    now = timezone.now()
    return {
        "members": members.count(),
        "in_service": members.filter(in_service=True).count(),
        "dual_pending": DualReport.objects.filter(
            region_path__in=_prefixes(branch.region_path), state=DualReportState.REQUESTED
        ).count(),
        "dual_serving": DualReport.objects.filter(
            region_path__in=_prefixes(branch.region_path), state__in=DUAL_REPORT_SERVING
        ).count(),
        "open_orders": branch.orders.filter(state__in=OPEN_ORDER_STATES).count(),
        "overdue_orders": branch.orders.filter(state__in=OPEN_ORDER_STATES, due_at__lt=now).count(),
        "activities": branch.activities.count(),
        "upcoming": branch.activities.filter(starts_at__gte=now).order_by("starts_at")[:5],
    }


def _prefixes(path: str) -> list[str]:
    parts = [p for p in path.strip("/").split("/") if p]
    return ["/" + "/".join(parts[:k]) + "/" for k in range(1, len(parts) + 1)]


def party_households_map_layer(user: Any, grid_path: str | None) -> dict[str, Any] | None:
    """The 民情地图 layer "党员户" for roles that may see party members (registered with the
    registers map in PartyConfig.ready)."""
    if not has_perm_anywhere(user, VIEW_MEMBER):
        return None
    data = party_households_geojson(user, within=grid_path)
    return {"id": "party_households", "name": _("党员户"), "features": data["features"]}


# --- for assessment (read by analytics, which is downstream of party) -----------------------------
# Organisations scored as 党支部 assessment objects: the branches and the 社区(大)党委.
ASSESSED_KINDS = (*BRANCH_KINDS, OrgKind.COMMUNITY_COMMITTEE)


def assessable_orgs(region_path: str, start: Any, end: Any) -> list[PartyOrg]:
    """Branches and community committees bound to a region under ``region_path`` that were in
    force on some day of ``[start, end)`` (dates; a dissolved one counts if it was dissolved on or
    after ``start``)."""
    from datetime import timedelta

    last = end - timedelta(days=1)
    qs = (
        PartyOrg.objects.filter(region_path__startswith=region_path, kind__in=ASSESSED_KINDS)
        .filter(Q(start_date__isnull=True) | Q(start_date__lte=last))
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=start))
        .filter(
            Q(status=OrgStatus.ACTIVE)
            | Q(dissolved_at__isnull=True)
            | Q(dissolved_at__date__gte=start)
        )
        .select_related("region")
        .order_by("region_path", "code")
    )
    return list(qs)


def orgs_led_by(user: Any) -> list[int]:
    """Ids of the organisations whose secretary is ``user``'s party member record."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(PartyOrg.objects.filter(secretary__user=user).values_list("pk", flat=True))


def branch_service_figures(
    org_ids: list[int], start: Any, end: Any, *, now: Any = None
) -> dict[int, dict[str, int]]:
    """Per organisation, for the service orders it dispatches created in ``[start, end)``
    (aware datetimes) and its activities starting then (not cancelled, already begun at ``now``):

    ``orders`` (all), ``orders_cancelled``, ``orders_done`` (completed or rated),
    ``orders_rated`` (a rating given), ``orders_satisfied`` (rated 4 or 5), ``activities``,
    ``expected`` (Σ over those activities of the organisation's members now: active home members
    plus attached members) and ``attended`` (sign-ins at those activities by those members)."""
    from .choices import ActivityState, OrderState
    from .models import Attendance

    now = now or timezone.now()
    keys = (
        "orders",
        "orders_cancelled",
        "orders_done",
        "orders_rated",
        "orders_satisfied",
        "activities",
        "expected",
        "attended",
    )
    out = {pk: dict.fromkeys(keys, 0) for pk in org_ids}
    if not org_ids:
        return out
    rows = (
        ServiceOrder.objects.filter(
            branch_id__in=org_ids, created_at__gte=start, created_at__lt=end
        )
        .values("branch_id")
        .annotate(
            orders=Count("id"),
            orders_cancelled=Count("id", filter=Q(state=OrderState.CANCELLED)),
            orders_done=Count("id", filter=Q(state__in=[OrderState.COMPLETED, OrderState.RATED])),
            orders_rated=Count("id", filter=Q(rating__isnull=False)),
            orders_satisfied=Count("id", filter=Q(rating__gte=4)),
        )
        .order_by()
    )
    for row in rows:
        out[row["branch_id"]].update({k: int(row[k]) for k in keys[:5]})
    members: dict[int, set[int]] = {pk: set() for pk in org_ids}
    for branch_id, member_id in PartyMember.objects.filter(
        branch_id__in=org_ids, is_active=True
    ).values_list("branch_id", "pk"):
        members[branch_id].add(member_id)
    through = PartyOrg.attached_members.through
    for org_id, member_id in through.objects.filter(
        partyorg_id__in=org_ids, partymember__is_active=True
    ).values_list("partyorg_id", "partymember_id"):
        members[org_id].add(member_id)
    activities = dict(
        Activity.objects.filter(
            branch_id__in=org_ids, starts_at__gte=start, starts_at__lt=end, starts_at__lte=now
        )
        .exclude(state=ActivityState.CANCELLED)
        .values_list("pk", "branch_id")
    )
    for branch_id in activities.values():
        out[branch_id]["activities"] += 1
        out[branch_id]["expected"] += len(members[branch_id])
    for activity_id, member_id in Attendance.objects.filter(
        activity_id__in=list(activities)
    ).values_list("activity_id", "member_id"):
        branch_id = activities[activity_id]
        if member_id in members[branch_id]:
            out[branch_id]["attended"] += 1
    return out
