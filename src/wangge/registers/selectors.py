"""Reads of the base registers, always scoped to the user (``restrict``) and masked by default.

A person's identifiers are shown masked everywhere (``320***********1234``); only
``services.person_reveal`` returns them in clear, and it writes an audit record. Special groups are
decrypted only for users holding ``registers.view_sensitive`` on the person's area; others get
the per-grid counts of :class:`SensitiveGroupCount`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wangge.accounts.permissions import has_perm_at, path_filter, scope_paths
from wangge.core.exceptions import NotFound
from wangge.geo.models import Region

from . import crypto
from .choices import PersonFlag, SensitiveGroup
from .identity import advanced_age_cutoff, mask_id_number, mask_phone
from .models import (
    FLAG_COLUMNS,
    Building,
    CarePlan,
    Component,
    House,
    Household,
    ImportJob,
    Organisation,
    Person,
    SensitiveGroupCount,
    Tenancy,
    Visit,
)
from .services import O_PHONE, P_ID, P_PHONE, id_hashes, person_sensitive, phone_hashes

NOT_FOUND = _("记录不存在或不在您的管辖范围内")


def subtree_q(path: str, field_name: str = "region_path") -> Q:
    """Rows whose materialized path lies under ``path``, as an index range scan.

    On PostgreSQL ``startswith`` (LIKE 'p%') uses the ``varchar_pattern_ops`` index. SQLite never
    uses an index for a LIKE with an ESCAPE clause, so there the prefix becomes the byte range
    [path, path with its trailing "/" replaced by "0"): "0" is the character after "/", and
    SQLite compares text bytewise (BINARY collation). Checked with EXPLAIN QUERY PLAN."""
    if connection.vendor == "sqlite" and path.endswith("/"):
        return Q(**{f"{field_name}__gte": path, f"{field_name}__lt": path[:-1] + "0"})
    return Q(**{f"{field_name}__startswith": path})


def flag_q(flag: str, *, today: Any = None) -> Q:
    """The ORM filter of an ordinary group (高龄 from the birth date)."""
    if flag == PersonFlag.ADVANCED_AGE:
        return Q(birth_date__lte=advanced_age_cutoff(today))
    return Q(**{FLAG_COLUMNS[flag]: True})


# --- people -------------------------------------------------------------------------------------
@dataclass
class PersonFilters:
    grid: str | None = None  # a region code: the grid or any ancestor
    q: str | None = None  # name, or an exact ID number / phone (blind index)
    flag: str | None = None
    household: str | None = None


def person_list_for_user(user: Any, filters: PersonFilters | None = None) -> QuerySet[Person]:
    f = filters or PersonFilters()
    qs = (
        Person.objects.restrict(user, "view")
        .filter(erased_at__isnull=True)
        .select_related("grid", "household")
    )
    if f.grid:
        region = Region.objects.filter(code=f.grid).first()
        qs = qs.filter(subtree_q(region.path)) if region else qs.none()
    if f.flag:
        qs = qs.filter(flag_q(f.flag)) if f.flag in PersonFlag.values else qs.none()
    if f.household:
        qs = qs.filter(household__household_no=f.household)
    if f.q:
        qs = qs.filter(person_search_q(f.q))
    return qs.order_by("region_path", "id")


def person_search_q(query: str) -> Q:
    """Exact ID number or phone through the blind index; otherwise a name prefix."""
    text = query.strip()
    compact = text.replace(" ", "").upper()
    if len(compact) >= 7 and compact[:-1].isdigit():
        return Q(id_number_hash__in=id_hashes(compact)) | Q(phone_hash__in=phone_hashes(compact))
    return Q(name__startswith=text)


def access_person(user: Any, pk: int | str, action: str = "view") -> Person:
    person = (
        Person.objects.restrict(user, action)
        .select_related("grid", "household", "house")
        .filter(pk=pk)
        .first()
        if str(pk).isdigit()
        else None
    )
    if person is None:
        raise NotFound(NOT_FOUND)
    return person


def can_view_sensitive(user: Any, obj: Any) -> bool:
    return has_perm_at(user, "registers.view_sensitive", obj.region_path)


def can_reveal(user: Any, obj: Any) -> bool:
    return has_perm_at(user, "registers.reveal_pii", obj.region_path)


def person_masked(person: Person) -> dict[str, str]:
    """Masked identifiers: decrypted in memory, masked, never returned whole."""
    return {
        "id_number": mask_id_number(crypto.decrypt(person.id_number_enc, P_ID)),
        "phone": mask_phone(crypto.decrypt(person.phone_enc, P_PHONE)),
    }


def person_groups_for_user(user: Any, person: Person) -> list[str] | None:
    """Special groups for a user allowed to see them; ``None`` (not an empty list) otherwise."""
    if not can_view_sensitive(user, person):
        return None
    return sorted(person_sensitive(person))


def person_dict(person: Person, user: Any) -> dict[str, Any]:
    """The API/page representation of a person: masked, special groups only when permitted."""
    masked = person_masked(person) if not person.erased_at else {"id_number": "", "phone": ""}
    return {
        "id": person.pk,
        "name": person.name,
        "id_type": person.id_type,
        "id_number": masked["id_number"],
        "sex": person.sex,
        "birth_date": person.birth_date,
        "ethnicity": person.ethnicity,
        "phone": masked["phone"],
        "grid": person.grid.code,
        "grid_name": person.grid.name,
        "household_no": person.household.household_no if person.household else None,
        "relation": person.relation,
        "registered_address": person.registered_address,
        "current_address": person.current_address,
        "registration_matches": person.registration_matches,
        "flags": person.flags(),
        "special_groups": person_groups_for_user(user, person),
        "last_visit_at": person.last_visit_at,
        "erased": bool(person.erased_at),
        "version": person.version,
    }


def sensitive_people_for_user(user: Any, grid: Region, group: str) -> list[Person]:
    """Individuals of one special group in one grid — only with ``view_sensitive``; decrypts
    every record of the grid (there is deliberately no plaintext to filter on)."""
    if not has_perm_at(user, "registers.view_sensitive", grid.path):
        return []
    people = Person.objects.filter(grid=grid, erased_at__isnull=True).select_related("grid")
    return [p for p in people if group in person_sensitive(p)]


# --- households, houses, organisations, components ----------------------------------------------
def household_list_for_user(user: Any) -> QuerySet[Household]:
    return Household.objects.restrict(user, "view").select_related("grid", "house")


def access_household(user: Any, pk: int | str) -> Household:
    obj = household_list_for_user(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if obj is None:
        raise NotFound(NOT_FOUND)
    return obj


def building_list_for_user(user: Any) -> QuerySet[Building]:
    return Building.objects.restrict(user, "view").select_related("grid")


def house_list_for_user(user: Any, grid: str | None = None) -> QuerySet[House]:
    qs = House.objects.restrict(user, "view").select_related("grid", "building")
    if grid:
        region = Region.objects.filter(code=grid).first()
        qs = qs.filter(subtree_q(region.path)) if region else qs.none()
    return qs.order_by("code")


def access_house(user: Any, pk: int | str) -> House:
    obj = house_list_for_user(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if obj is None:
        raise NotFound(NOT_FOUND)
    return obj


def organisation_list_for_user(user: Any, grid: str | None = None) -> QuerySet[Organisation]:
    qs = Organisation.objects.restrict(user, "view").select_related("grid")
    if grid:
        region = Region.objects.filter(code=grid).first()
        qs = qs.filter(subtree_q(region.path)) if region else qs.none()
    return qs.order_by("name")


def access_organisation(user: Any, pk: int | str) -> Organisation:
    obj = organisation_list_for_user(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if obj is None:
        raise NotFound(NOT_FOUND)
    return obj


def organisation_masked_phone(org: Organisation) -> str:
    return mask_phone(crypto.decrypt(org.contact_phone_enc, O_PHONE))


def component_list_for_user(
    user: Any, grid: str | None = None, status: str | None = None
) -> QuerySet[Component]:
    qs = Component.objects.restrict(user, "view").select_related("grid")
    if grid:
        region = Region.objects.filter(code=grid).first()
        qs = qs.filter(subtree_q(region.path)) if region else qs.none()
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("identifier")


def access_component(user: Any, pk_or_identifier: int | str) -> Component:
    key = str(pk_or_identifier)
    qs = component_list_for_user(user)
    obj = qs.filter(identifier=key).first() if len(key) == 17 else None
    if obj is None and key.isdigit() and len(key) < 17:
        obj = qs.filter(pk=int(key)).first()
    if obj is None:
        raise NotFound(NOT_FOUND)
    return obj


def visit_list_for_user(user: Any) -> QuerySet[Visit]:
    return Visit.objects.restrict(user, "view").select_related(
        "grid", "visitor", "person", "household", "house", "organisation", "component"
    )


def import_jobs_for_user(user: Any) -> QuerySet[ImportJob]:
    """A user sees their own import jobs (superusers see all)."""
    if getattr(user, "is_superuser", False):
        return ImportJob.objects.all()
    if not getattr(user, "is_authenticated", False):
        return ImportJob.objects.none()
    return ImportJob.objects.filter(created_by=user)


def access_import_job(user: Any, pk: int | str) -> ImportJob:
    job = import_jobs_for_user(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if job is None:
        raise NotFound(NOT_FOUND)
    return job


# --- care plans: due and overdue visits ---------------------------------------------------------
def careplans_for_path(path: str) -> list[CarePlan]:
    """Active plans covering ``path`` (plans on it or on an ancestor), deepest first."""
    ancestors = [p for p in path.strip("/").split("/") if p]
    prefixes = ["/" + "/".join(ancestors[: i + 1]) + "/" for i in range(len(ancestors))]
    plans = CarePlan.objects.filter(region_path__in=prefixes, active=True)
    return sorted(plans, key=lambda p: -len(p.region_path))


def _effective_plans(paths: list[str] | None) -> list[CarePlan]:
    """The plans relevant to an area: those on the area's ancestors and those inside it."""
    qs = CarePlan.objects.filter(active=True)
    if paths is None:
        return list(qs)
    q = path_filter("region_path", paths)
    for path in paths:
        q |= Q(region_path__in=_prefixes(path))
    return list(qs.filter(q))


def _prefixes(path: str) -> list[str]:
    parts = [p for p in path.strip("/").split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def overdue_visit_q(plans: list[CarePlan], *, now: Any = None) -> Q:
    """People whose group has a plan and whose last visit is older than the plan's interval.

    For each group the deepest plan covering a person wins: a person under a deeper plan of the
    same group is judged by that one only."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    q = Q(pk__in=[])
    by_group: dict[str, list[CarePlan]] = {}
    for plan in plans:
        by_group.setdefault(plan.group, []).append(plan)
    for group, group_plans in by_group.items():
        ordered = sorted(group_plans, key=lambda p: -len(p.region_path))
        deeper: list[str] = []
        for plan in ordered:
            cutoff = now - timedelta(days=plan.interval_days)
            cond = (
                flag_q(group, today=today)
                & subtree_q(plan.region_path)
                & (Q(last_visit_at__isnull=True) | Q(last_visit_at__lt=cutoff))
            )
            for d in deeper:
                if d.startswith(plan.region_path) and d != plan.region_path:
                    cond &= ~subtree_q(d)
            q |= cond
            deeper.append(plan.region_path)
    return q


def overdue_visits_for_user(user: Any, *, now: Any = None) -> QuerySet[Person]:
    """Due/overdue care visits in the user's area: the grid worker's visit task list."""
    paths = scope_paths(user, "registers.view_person")
    plans = _effective_plans(paths)
    if not plans:
        return Person.objects.none()
    return (
        person_list_for_user(user)
        .filter(overdue_visit_q(plans, now=now))
        .order_by("last_visit_at", "id")
    )


# --- grid profile -------------------------------------------------------------------------------
@dataclass
class GridProfile:
    region: Region
    households: int = 0
    people: int = 0
    by_flag: dict[str, int] = field(default_factory=dict)
    special_groups: dict[str, int] = field(default_factory=dict)
    houses: int = 0
    rented_houses: int = 0
    hazard_houses: int = 0
    organisations: int = 0
    components: int = 0
    components_by_status: dict[str, int] = field(default_factory=dict)
    overdue_visits: int = 0
    open_cases: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "region": self.region.summary(),
            "households": self.households,
            "people": self.people,
            "by_flag": self.by_flag,
            "special_groups": self.special_groups,
            "houses": self.houses,
            "rented_houses": self.rented_houses,
            "hazard_houses": self.hazard_houses,
            "organisations": self.organisations,
            "components": self.components,
            "components_by_status": self.components_by_status,
            "overdue_visits": self.overdue_visits,
            "open_cases": self.open_cases,
        }


def grid_profile(user: Any, region: Region, *, now: Any = None) -> GridProfile:
    """Counts for one region (a grid or any ancestor) inside the user's area: every number is
    one indexed aggregate over the region's subtree (``region_path`` prefix)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    prefix = region.path
    profile = GridProfile(region=region)
    # The grids of the subtree (the region table is small): every count below is then an
    # indexed lookup on the ``grid`` foreign key, whose cost follows the size of the area, not
    # of the city (bench/bench_registers.py).
    grid_ids = list(Region.objects.filter(subtree_q(prefix, "path")).values_list("pk", flat=True))
    in_area = Q(grid_id__in=grid_ids)
    people = Person.objects.filter(in_area, erased_at__isnull=True)
    aggregates: dict[str, Any] = {"people": Count("id")}
    for flag in PersonFlag.values:
        aggregates[flag] = Count("id", filter=flag_q(flag, today=today))
    row = people.aggregate(**aggregates)
    profile.people = row.pop("people")
    profile.by_flag = {k: int(v) for k, v in row.items()}
    profile.households = Household.objects.filter(in_area).count()
    counts = SensitiveGroupCount.objects.filter(in_area).values("group").annotate(n=Sum("count"))
    by_group = {c["group"]: int(c["n"] or 0) for c in counts}
    profile.special_groups = {g: by_group.get(g, 0) for g in SensitiveGroup.values}
    house_row = House.objects.filter(in_area).aggregate(
        total=Count("id"),
        rented=Count("id", filter=Q(rental_status__in=["rented", "partly_rented"])),
        hazards=Count("id", filter=~Q(hazards=[])),
    )
    profile.houses = house_row["total"]
    profile.rented_houses = house_row["rented"]
    profile.hazard_houses = house_row["hazards"]
    profile.organisations = Organisation.objects.filter(in_area, is_active=True).count()
    comp = Component.objects.filter(in_area).values("status").annotate(n=Count("id"))
    profile.components_by_status = {c["status"]: c["n"] for c in comp}
    profile.components = sum(profile.components_by_status.values())
    plans = _effective_plans([prefix])
    profile.overdue_visits = people.filter(overdue_visit_q(plans, now=now)).count() if plans else 0
    profile.open_cases = _open_cases(user, prefix)
    return profile


def _open_cases(user: Any, prefix: str) -> int | None:
    """Open cases under the region, for users who may see cases (the cases app is above us, so
    it is looked up lazily; registers works without it)."""
    from django.apps import apps

    if not apps.is_installed("wangge.cases"):
        return None
    if not has_perm_at(user, "cases.view_case", prefix):
        return None
    from wangge.cases.choices import OPEN_STATES

    case_model = apps.get_model("cases", "Case")
    return case_model.objects.filter(subtree_q(prefix), state__in=OPEN_STATES).count()


# --- visits: targets, single visits, care plans of an area (field pages and API) ----------------
VISIT_TARGETS = ("person", "household", "house", "organisation", "component")


def access_visit_target(user: Any, target_type: str, pk: int | str) -> Any:
    """The person, household, house, organisation or component a visit is about, visible to
    the user; NotFound for an unknown type, a missing object or one out of the user's area.
    An erased person cannot be visited (there is nobody left on record)."""
    loaders: dict[str, Callable[[Any, int | str], Any]] = {
        "person": access_person,
        "household": access_household,
        "house": access_house,
        "organisation": access_organisation,
        "component": access_component,
    }
    loader = loaders.get(target_type)
    if loader is None:
        raise NotFound(NOT_FOUND)
    target = loader(user, pk)
    if target_type == "person" and target.erased_at:
        raise NotFound(NOT_FOUND)
    return target


def visit_list_filtered(
    user: Any, *, person: int | None = None, grid: str | None = None
) -> QuerySet[Visit]:
    """Visits in the user's area, newest first, optionally of one person or under one area."""
    qs = visit_list_for_user(user).prefetch_related("photos")
    if person is not None:
        qs = qs.filter(person_id=person)
    if grid:
        region = Region.objects.filter(code=grid).first()
        qs = qs.filter(subtree_q(region.path)) if region else qs.none()
    return qs.order_by("-visited_at", "-id")


def access_visit(user: Any, pk: int | str) -> Visit:
    obj = visit_list_for_user(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if obj is None:
        raise NotFound(NOT_FOUND)
    return obj


@dataclass
class CarePlanRow:
    plan: CarePlan
    inherited: bool  # set on an ancestor of the area (changed there, not here)
    effective: bool  # the deepest active plan of its group covering the area itself


def careplans_for_area(region: Region) -> list[CarePlanRow]:
    """Care plans that matter for ``region``: those on its ancestors (inherited) and those
    inside it (active or not), ancestors first; for each group the deepest active plan covering
    the region itself is marked effective."""
    prefixes = _prefixes(region.path)
    plans = list(
        CarePlan.objects.filter(Q(region_path__in=prefixes) | subtree_q(region.path))
        .select_related("region")
        .order_by("region_path", "group")
    )
    effective: dict[str, CarePlan] = {}
    for plan in plans:
        if plan.active and plan.region_path in prefixes:
            best = effective.get(plan.group)
            if best is None or len(plan.region_path) > len(best.region_path):
                effective[plan.group] = plan
    chosen = {p.pk for p in effective.values()}
    return [
        CarePlanRow(p, p.region_path != region.path and p.region_path in prefixes, p.pk in chosen)
        for p in plans
    ]


# --- pages: filters, buildings, tenancies, a component's cases ------------------------------------
def in_region(qs: QuerySet[Any], code: str | None) -> QuerySet[Any]:
    """Rows under the region ``code`` (a grid or any ancestor); none for an unknown code."""
    if not code:
        return qs
    region = Region.objects.filter(code=code).first()
    return qs.filter(subtree_q(region.path)) if region else qs.none()


def access_building(user: Any, pk: int | str) -> Building:
    obj = building_list_for_user(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if obj is None:
        raise NotFound(NOT_FOUND)
    return obj


def building_by_code_for_user(user: Any, code: str) -> Building:
    obj = building_list_for_user(user).filter(code=str(code or "").strip()).first()
    if obj is None:
        raise NotFound(_("楼栋编码不存在或不在您的管辖范围内"))
    return obj


def household_by_no_for_user(user: Any, household_no: str) -> Household:
    obj = household_list_for_user(user).filter(household_no=str(household_no or "").strip()).first()
    if obj is None:
        raise NotFound(_("户号不存在或不在您的管辖范围内"))
    return obj


def house_by_code_for_user(user: Any, code: str) -> House:
    obj = house_list_for_user(user).filter(code=str(code or "").strip()).first()
    if obj is None:
        raise NotFound(_("房屋编码不存在或不在您的管辖范围内"))
    return obj


def access_tenancy(user: Any, house: House, pk: int | str) -> Tenancy:
    obj = house.tenancies.filter(pk=pk).first() if str(pk).isdigit() else None
    if obj is None:
        raise NotFound(NOT_FOUND)
    return obj


def tenancies_for_user(user: Any, house: House) -> list[dict[str, Any]]:
    """A house's tenants: the person (masked) when the user may see them, else a placeholder."""
    rows = []
    for t in house.tenancies.select_related("person", "person__grid", "person__household"):
        visible = has_perm_at(user, "registers.view_person", t.person.region_path)
        rows.append(
            {
                "tenancy": t,
                "person": person_dict(t.person, user) if visible else None,
                "current": t.end_date is None or t.end_date >= timezone.localdate(),
            }
        )
    return rows


def component_cases_for_user(user: Any, component: Component) -> list[Any] | None:
    """The cases about a component that the user may see; ``None`` without the cases app or
    without ``cases.view_case`` (cases are above registers, so looked up lazily)."""
    from django.apps import apps

    if not apps.is_installed("wangge.cases"):
        return None
    if not has_perm_at(user, "cases.view_case", component.region_path):
        return None
    case_model = apps.get_model("cases", "Case")
    return list(case_model.objects.restrict(user, "view").filter(component=component)[:50])
