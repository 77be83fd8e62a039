"""Reads of cases, always scoped to the user.

A user sees a case when they hold ``cases.view_case`` on a region covering its grid, when it is
assigned to them, when it (or one of its 吹哨 sub-tasks) is assigned to a department they are a
member of, or when they reported it themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wangge.accounts.permissions import path_filter, scope_paths
from wangge.core.exceptions import NotFound

from .choices import OPEN_STATES, CaseState
from .models import Case, CaseEvent, CaseRequest, Department, MatterType, SubTask

NOT_FOUND = _("事件不存在或不在您的管辖范围内。")


def _visible_q(user: Any, perm: str = "cases.view_case") -> Q | None:
    """``None`` = everything; otherwise the Q of cases ``user`` may see."""
    paths = scope_paths(user, perm)
    if paths is None:
        return None
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    q = path_filter("region_path", paths) if paths else Q(pk__in=[])
    dept_ids = list(user.departments.values_list("pk", flat=True))
    q |= Q(assignee=user) | Q(reporter=user)
    if dept_ids:
        q |= Q(department_id__in=dept_ids) | Q(
            pk__in=SubTask.objects.filter(department_id__in=dept_ids).values("case_id")
        )
    return q


def case_queryset_for_user(user: Any) -> QuerySet[Case]:
    qs = Case.objects.select_related(
        "grid", "matter_type", "department", "assignee", "handling_region"
    )
    q = _visible_q(user)
    return qs if q is None else qs.filter(q)


@dataclass
class CaseFilters:
    state: str | None = None
    matter_type: str | None = None
    grid: str | None = None  # a region code: the grid or any ancestor
    overdue: bool | None = None
    source: str | None = None
    department: int | None = None
    mine: bool = False
    q: str | None = None


def case_list_for_user(
    user: Any, filters: CaseFilters | None = None, *, now: datetime | None = None
) -> QuerySet[Case]:
    """The queue: scoped, filtered, newest first."""
    f = filters or CaseFilters()
    qs = case_queryset_for_user(user)
    if f.state == "open":
        qs = qs.filter(state__in=OPEN_STATES)
    elif f.state:
        qs = qs.filter(state=f.state)
    if f.matter_type:
        qs = qs.filter(matter_type__code=f.matter_type)
    if f.grid:
        from wangge.geo.models import Region

        region = Region.objects.filter(code=f.grid).first()
        qs = qs.filter(region_path__startswith=region.path) if region else qs.none()
    if f.overdue is not None:
        overdue = Q(due_at__lt=now or timezone.now(), state__in=OPEN_STATES)
        qs = qs.filter(overdue) if f.overdue else qs.exclude(overdue)
    if f.source:
        qs = qs.filter(source=f.source)
    if f.department:
        qs = qs.filter(department_id=f.department)
    if f.mine and getattr(user, "pk", None):
        qs = qs.filter(Q(assignee=user) | Q(department__members=user)).distinct()
    if f.q:
        qs = qs.filter(Q(title__icontains=f.q) | Q(tracking_code=f.q.upper()))
    return qs.order_by("-reported_at", "-id")


def access_case(user: Any, pk: int | str, action: str = "view") -> Case:
    """Load one case the user may see, or NotFound (missing and out of area look the same)."""
    try:
        key = int(pk)
    except (TypeError, ValueError) as exc:
        raise NotFound(NOT_FOUND) from exc
    case = case_queryset_for_user(user).filter(pk=key).first()
    if case is None:
        raise NotFound(NOT_FOUND)
    return case


def case_timeline(case: Case) -> QuerySet[CaseEvent]:
    return case.events.select_related("actor").order_by("created_at", "id")


def case_phone_verified(case: Case) -> bool:
    """Whether the reporter proved the phone number with an SMS code when filing (recorded on
    the report event, see ``case_create(phone_verification=…)``)."""
    return case.events.filter(action="report", data__phone_verified=True).exists()


def case_public_track(code: str) -> dict[str, Any]:
    """What anyone holding the tracking code may see: status, expected time, a plain-words
    timeline. No names, phones, staff or internal notes."""
    case = (
        Case.objects.select_related("matter_type")
        .filter(tracking_code=(code or "").strip().upper())
        .first()
    )
    if case is None:
        raise NotFound(NOT_FOUND)
    return {
        "code": case.tracking_code,
        "title": case.title,
        "state": case.state,
        "state_label": str(CaseState(case.state).label),
        "matter_type": case.matter_type.name if case.matter_type else None,
        "reported_at": case.reported_at,
        "expected_by": case.due_at if case.state in OPEN_STATES else None,
        "expected_unit": (case.deadlines or {}).get(case.step, {}).get("unit", "")
        if case.step
        else "",
        "closed_at": case.closed_at,
        "rating": case.rating,
        "timeline": [
            {"at": e.created_at, "text": e.public_text}
            for e in case.events.exclude(public_text="").order_by("created_at", "id")
        ],
    }


def matter_type_list(
    *, public_only: bool = False, active_only: bool = True
) -> QuerySet[MatterType]:
    qs = MatterType.objects.all()
    if active_only:
        qs = qs.filter(active=True)
    if public_only:
        qs = qs.filter(is_public=True)
    return qs.order_by("code")


def department_list_for_user(user: Any) -> QuerySet[Department]:
    return Department.objects.restrict(user, "view").select_related("region")


def subtasks_for_user(user: Any) -> QuerySet[SubTask]:
    """Work orders of the user's departments (department handler queue)."""
    return (
        SubTask.objects.filter(department__members=user)
        .select_related("case", "department")
        .order_by("due_at", "id")
    )


def case_requests_pending_for_user(user: Any) -> QuerySet[CaseRequest]:
    """Suspension/extension requests the user may decide (approval queue)."""
    paths = scope_paths(user, "cases.approve_case")
    qs = CaseRequest.objects.filter(status="pending").select_related("case", "requested_by")
    if paths is None:
        return qs.order_by("requested_at")
    return qs.filter(path_filter("case__region_path", paths)).order_by("requested_at")


def case_counts_by_state(user: Any) -> dict[str, int]:
    """State → number of visible cases (queue tabs, dashboard tiles)."""
    rows = case_queryset_for_user(user).order_by().values_list("state").annotate(n=Count("id"))
    return {state: n for state, n in rows}


def case_map_points(user: Any, *, limit: int = 5000) -> list[dict[str, Any]]:
    """Open visible cases as points for the dispatcher's map (WGS-84)."""
    rows = (
        case_queryset_for_user(user)
        .filter(state__in=OPEN_STATES)
        .order_by("-reported_at")
        .values("id", "tracking_code", "title", "state", "lon", "lat", "due_at")[:limit]
    )
    return [dict(r) for r in rows]


# --- Reads for the pages (cases/views) ------------------------------------------------------


def case_actions_for_user(user: Any, case: Case) -> list[str]:
    """The workflow actions ``user`` may take on ``case`` now: legal in its state per the table,
    allowed by ``may_act``, and (for requests and decisions) matching the pending request."""
    from .services.common import may_act
    from .workflow import TRANSITIONS, available_actions

    pending = case.requests.filter(status="pending").values_list("kind", flat=True).first()
    actions = []
    for action in available_actions(case.state):
        if action in ("request_suspend", "request_extend") and pending:
            continue
        if action in ("approve_suspend", "approve_extend") and pending != action[8:]:
            continue
        if action == "deny_request" and not pending:
            continue
        if may_act(user, case, TRANSITIONS[action]):
            actions.append(action)
    return actions


def case_duplicates_for_user(user: Any, case: Case) -> list[Case]:
    """Duplicate suggestions for ``case`` (same/related type, nearby, recent) the user may see."""
    from .services.intake import case_duplicate_candidates

    candidates = case_duplicate_candidates(case=case)
    visible = set(
        case_queryset_for_user(user)
        .filter(pk__in=[c.pk for c in candidates])
        .values_list("pk", flat=True)
    )
    return [c for c in candidates if c.pk in visible]


def case_assignee_candidates(case: Case, *, limit: int = 200) -> QuerySet[Any]:
    """Active users who may handle work in the case's grid: holders of ``transition_case`` and
    ``view_case`` on the grid or a region above it, nearest level first."""
    from wangge.accounts.models import RoleAssignment, User

    region_ids = case.grid.ancestor_ids()
    grants = RoleAssignment.objects.filter(region_id__in=region_ids, user__is_active=True)
    ids = set(
        grants.filter(role__permissions__codename="transition_case").values_list(
            "user_id", flat=True
        )
    ) & set(
        grants.filter(role__permissions__codename="view_case").values_list("user_id", flat=True)
    )
    return (
        User.objects.filter(pk__in=ids)
        .annotate(
            nearest=Max(
                "assignments__region__depth", filter=Q(assignments__region_id__in=region_ids)
            )
        )
        .order_by("-nearest", "username")[:limit]
    )


def user_serves_case(user: Any, case: Case) -> bool:
    """Whether ``user`` may be given work on ``case``: they handle cases (view + transition) on
    the grid or a region above it, or belong to a department serving that area."""
    from wangge.accounts.models import RoleAssignment

    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    grants = RoleAssignment.objects.filter(user=user, region_id__in=case.grid.ancestor_ids())
    if (
        grants.filter(role__permissions__codename="transition_case").exists()
        and grants.filter(role__permissions__codename="view_case").exists()
    ):
        return True
    return departments_for_case(case).filter(members=user).exists()


def departments_for_case(case: Case) -> QuerySet[Department]:
    """Active departments serving the case's area (their region is the grid or above it)."""
    return Department.objects.filter(
        is_active=True, region_id__in=case.grid.ancestor_ids()
    ).order_by("code")


def case_tasks_for_user(user: Any) -> dict[str, QuerySet[Case]]:
    """A handler's task list: open cases assigned to them or their departments, unassigned
    grid-level work they may claim, and handled cases in their area waiting for 核查."""
    from .choices import HandlingLevel

    visible = case_queryset_for_user(user)
    mine = Q(assignee=user)
    dept_ids = list(user.departments.values_list("pk", flat=True))
    if dept_ids:
        mine |= Q(department_id__in=dept_ids)
    # Area work needs both rights there (department staff hold ``transition_case`` on the area
    # their department serves but act only through membership).
    area = Q()
    for perm in ("cases.transition_case", "cases.view_case"):
        paths = scope_paths(user, perm)
        if paths is not None:
            area &= path_filter("region_path", paths) if paths else Q(pk__in=[])
    claimable = area & Q(
        handling_level=HandlingLevel.GRID,
        assignee__isnull=True,
        department__isnull=True,
        state__in=(CaseState.DISPATCHED, CaseState.IN_PROGRESS),
    )
    work = (
        visible.filter((mine | claimable) & Q(state__in=OPEN_STATES))
        .exclude(state__in=(CaseState.HANDLED, CaseState.VERIFIED))
        .order_by("due_at", "id")
    )
    verify = visible.filter(area & Q(state=CaseState.HANDLED)).order_by("due_at", "id")
    return {"work": work, "verify": verify}


def department_cases_for_user(user: Any) -> QuerySet[Case]:
    """Open cases assigned to a department the user is a member of."""
    return (
        case_queryset_for_user(user)
        .filter(department__members=user, state__in=OPEN_STATES)
        .order_by("due_at", "id")
        .distinct()
    )


def access_subtask(user: Any, pk: int | str) -> SubTask:
    """One 吹哨 sub-task whose case the user may see, or NotFound."""
    try:
        key = int(pk)
    except (TypeError, ValueError) as exc:
        raise NotFound(NOT_FOUND) from exc
    subtask = SubTask.objects.select_related("case", "department").filter(pk=key).first()
    if subtask is None:
        raise NotFound(NOT_FOUND)
    access_case(user, subtask.case_id)
    return subtask


def case_audit_for_user(user: Any, case: Case) -> QuerySet[Any]:
    """The case's audit records for holders of ``core.view_auditrecord`` in its area."""
    from wangge.accounts.permissions import has_perm_at
    from wangge.core.models import AuditRecord

    if not has_perm_at(user, "core.view_auditrecord", case.region_path):
        return AuditRecord.objects.none()
    return AuditRecord.objects.filter(object_type="cases.case", object_id=str(case.pk)).order_by(
        "seq"
    )


def public_grid_extent() -> dict[str, float] | None:
    """Bounding box of all active grids (where the public report map opens), or None."""
    from django.db.models import Min

    from wangge.geo.models import Region

    box = Region.objects.filter(level="grid", is_active=True, min_lon__isnull=False).aggregate(
        w=Min("min_lon"), s=Min("min_lat"), e=Max("max_lon"), n=Max("max_lat")
    )
    return box if box["w"] is not None else None


def public_grid_outlines(
    *, west: float, south: float, east: float, north: float, limit: int = 600
) -> list[Any]:
    """Active grids intersecting a box, for the outlines on the public report map: name, code
    and boundary only (what a 网格公示牌 shows on the street)."""
    from wangge.geo.models import Region

    return list(
        Region.objects.filter(
            level="grid",
            is_active=True,
            boundary__isnull=False,
            min_lon__lte=east,
            max_lon__gte=west,
            min_lat__lte=north,
            max_lat__gte=south,
        ).only("code", "name", "boundary")[:limit]
    )


def user_area_extent(user: Any, perm: str = "cases.add_case") -> dict[str, float] | None:
    """Bounding box of the regions where ``user`` holds ``perm`` (where a worker's report map
    opens); the whole deployment for superusers."""
    from django.db.models import Min

    from wangge.geo.models import Region

    paths = scope_paths(user, perm)
    if paths is None:
        return public_grid_extent()
    box = Region.objects.filter(path__in=paths, min_lon__isnull=False).aggregate(
        w=Min("min_lon"), s=Min("min_lat"), e=Max("max_lon"), n=Max("max_lat")
    )
    return box if box["w"] is not None else public_grid_extent()
