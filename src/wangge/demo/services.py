"""Loading the demo city into the database (and rebuilding it with ``force``).

Regions and generated staff are written with ``bulk_create`` (a full city is ~2,200 regions and
~600 users); the Argon2 hash of the shared demo password is computed once and reused. Then the
matter catalogue (when the database has none), the functional departments with their routes
(``departments.py``) and a year of case history (``cases.py``). One ``demo.load`` audit record
summarises the load.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from wangge.accounts.models import Role, RoleAssignment, User
from wangge.accounts.permissions import grants_changed
from wangge.accounts.services import role_assign, user_create
from wangge.cases.catalogue import load_default_catalogue
from wangge.cases.models import Department, MatterType
from wangge.core.audit import audit_log
from wangge.core.exceptions import Conflict
from wangge.core.models import AuditRecord
from wangge.geo.choices import LEVEL_ORDER, Level
from wangge.geo.geometry import derived_fields
from wangge.geo.models import PATH_SEP, Region
from wangge.geo.services import locator_generation_bump, region_create

from .analytics import analytics_delete, analytics_load
from .api import interfaces_load
from .cases import cases_load, demo_cases_delete
from .city import DEFAULT_SEED, DISTRICT, CityPlan, PlannedRegion, plan_city
from .departments import DISTRICT_DEPARTMENTS, STREET_DEPARTMENTS, departments_load
from .party import demo_party_delete, party_load
from .registers import demo_registers_delete, registers_load
from .users import DEMO_EMAIL_DOMAIN, DEMO_PASSWORD, LOGIN_SPECS, DemoLogin, plan_users

# ``Region.source_code`` of every region the demo creates: what ``--force`` may delete.
DEMO_SOURCE = "wangge-demo"
BATCH = 500


@dataclass
class DemoResult:
    created: bool  # False: the demo was already loaded and nothing changed
    seed: int = DEFAULT_SEED
    small: bool = False
    rebuilt: bool = False
    counts: dict[str, int] = field(default_factory=dict)  # regions per level
    users: int = 0
    departments: int = 0
    cases: int = 0  # generated history plus the few filed through the services
    case_states: dict[str, int] = field(default_factory=dict)
    escalations: int = 0
    seconds: float = 0.0


def demo_is_loaded() -> bool:
    """Whether the demo district exists (built by ``wangge demo``)."""
    return Region.objects.filter(code=DISTRICT[0], source_code=DEMO_SOURCE).exists()


def demo_users() -> Any:
    """Accounts created by the demo."""
    return User.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}")


def demo_logins() -> list[DemoLogin]:
    """The named logins as they are in the database: username, role label, region name."""
    from .users import ROLE_LABELS

    usernames = [spec.username for spec in LOGIN_SPECS]
    assignments = (
        RoleAssignment.objects.filter(user__username__in=usernames)
        .select_related("user", "role", "region")
        .order_by("region__depth")
    )
    by_user = {a.user.username: a for a in assignments}
    return [
        DemoLogin(
            spec.username,
            ROLE_LABELS[by_user[spec.username].role.code],
            by_user[spec.username].region.name,
        )
        for spec in LOGIN_SPECS
        if spec.username in by_user
    ]


@transaction.atomic
def demo_load(
    *, seed: int = DEFAULT_SEED, small: bool = False, force: bool = False, cases: bool = True
) -> DemoResult:
    """Build the demo city, its accounts, departments and (unless ``cases`` is false) a year of
    case history, unless it is already there.

    With ``force`` an existing demo district and demo accounts are deleted first; this refuses
    (``Conflict``, nothing changed) when the district holds regions, role assignments or other
    records that the demo did not create."""
    started = time.perf_counter()
    existing = Region.objects.filter(code=DISTRICT[0]).first()
    if existing is not None and existing.source_code != DEMO_SOURCE:
        raise Conflict(
            _("区域代码%(code)s（%(name)s）已存在且不是演示数据，不能加载演示城市。")
            % {"code": existing.code, "name": existing.name}
        )
    if existing is not None and not force:
        return DemoResult(created=False, seed=seed, small=small)
    if force:
        _delete_demo_regions(existing)

    plan = plan_city(seed, small=small)
    district = _create_regions(plan)
    users = _create_users(plan)
    locator_generation_bump()
    if not MatterType.objects.exists():
        load_default_catalogue(actor=None)
    departments = departments_load(plan)
    registers = registers_load(seed=seed, small=small)
    history = cases_load(plan=plan, seed=seed, small=small) if cases else None
    party = party_load(district=district, seed=seed, small=small)
    # Open311 client, webhook; the two Open311 requests only with case history (issue 7).
    interfaces_load(plan=plan, seed=seed, district=district, requests=cases)
    analytics_load(with_cases=cases)
    counts = plan.counts()
    case_count = history.cases + history.live if history else 0
    audit_log(
        actor=None,
        action="demo.load",
        obj=district,
        after={
            "seed": seed,
            "small": small,
            "rebuilt": existing is not None,
            "regions": counts,
            "users": users,
            "departments": len(departments),
            "cases": case_count,
            "case_events": history.events if history else 0,
            "case_states": history.states if history else {},
            "escalations": history.escalations if history else 0,
            "registers": registers,
            "party": party.counts,
        },
    )
    return DemoResult(
        created=True,
        seed=seed,
        small=small,
        rebuilt=existing is not None,
        counts=counts,
        users=users,
        departments=len(departments),
        cases=case_count,
        case_states=history.states if history else {},
        escalations=history.escalations if history else 0,
        seconds=time.perf_counter() - started,
    )


# --- deleting ------------------------------------------------------------------------------


def _delete_demo_regions(district: Region | None) -> None:
    """Delete the demo district's subtree and the demo accounts' role assignments."""
    accounts = demo_users()
    RoleAssignment.objects.filter(user__in=accounts).delete()
    if district is None:
        return
    demo_cases_delete(district)
    demo_party_delete(district)  # members point at register people
    analytics_delete(district)
    demo_registers_delete(district)
    _delete_demo_departments(district)
    subtree = Region.objects.filter(path__startswith=district.path)
    foreign = subtree.exclude(source_code=DEMO_SOURCE).order_by("path").first()
    if foreign is not None:
        raise Conflict(
            _("演示区内有非演示区域（%(code)s %(name)s），拒绝重建。")
            % {"code": foreign.code, "name": foreign.name}
        )
    granted = RoleAssignment.objects.filter(region__path__startswith=district.path)
    other = granted.select_related("user").first()
    if other is not None:
        raise Conflict(
            _("非演示用户%(user)s在演示区内有授权，拒绝重建。") % {"user": other.user.username}
        )
    depths = sorted(set(subtree.values_list("depth", flat=True)), reverse=True)
    try:
        for depth in depths:  # children first: Region.parent is PROTECT
            Region.objects.filter(path__startswith=district.path, depth=depth).delete()
    except ProtectedError as exc:
        raise Conflict(
            _("其他数据引用了演示区域（%(what)s），拒绝重建。")
            % {
                "what": ", ".join(
                    sorted({str(o._meta.verbose_name) for o in exc.protected_objects})
                )
            }
        ) from exc


def _delete_demo_departments(district: Region) -> None:
    """The departments the demo made: ``<region code>-<known suffix>`` inside the district."""
    suffixes = {s for s, _n, _h in DISTRICT_DEPARTMENTS} | {s for s, _n, _h in STREET_DEPARTMENTS}
    ours = [
        d.pk
        for d in Department.objects.filter(region__path__startswith=district.path).select_related(
            "region"
        )
        if d.code.partition("-")[0] == d.region.code and d.code.partition("-")[2] in suffixes
    ]
    try:
        Department.objects.filter(pk__in=ours).delete()
    except ProtectedError as exc:
        raise Conflict(_("非演示事件引用了演示部门，拒绝重建。")) from exc


# --- regions ---------------------------------------------------------------------------------


def _ancestor(planned: PlannedRegion, parent: Region | None) -> Region:
    found = Region.objects.filter(code=planned.code).first()
    if found is not None:
        return found
    region = region_create(
        actor=None,
        level=planned.level,
        code=planned.code,
        name=planned.name,
        parent=parent,
        audit=False,
    )
    region.source_code = DEMO_SOURCE
    region.save(update_fields=["source_code"])
    return region


def _region_row(planned: PlannedRegion, parent: Region) -> Region:
    return Region(
        level=planned.level,
        code=planned.code,
        name=planned.name,
        parent=parent,
        depth=parent.depth + 1,
        path="",
        grid_type=planned.grid_type,
        households=planned.households,
        population=planned.population,
        boundary=planned.geojson(),
        source_code=DEMO_SOURCE,
        **derived_fields(planned.geom),
    )


def _create_regions(plan: CityPlan) -> Region:
    province = _ancestor(plan.province, None)
    city = _ancestor(plan.city, province)
    by_code: dict[str, Region] = {province.code: province, city.code: city}
    clash = (
        Region.objects.filter(code__in=[r.code for r in plan.district.walk()])
        .values_list("code", flat=True)
        .first()
    )
    if clash:
        raise Conflict(_("区域代码%(code)s已存在，不能加载演示城市。") % {"code": clash})
    below_city = LEVEL_ORDER[LEVEL_ORDER.index(Level.COUNTY) :]
    planned_by_level = {level: plan.at_level(level) for level in below_city}
    for level in below_city:
        rows = [_region_row(p, by_code[p.parent_code or ""]) for p in planned_by_level[level]]
        Region.objects.bulk_create(rows, batch_size=BATCH)
        if any(row.pk is None for row in rows):  # backends that cannot return ids
            ids = dict(
                Region.objects.filter(code__in=[r.code for r in rows]).values_list("code", "pk")
            )
            for row in rows:
                row.pk = ids[row.code]
        for row in rows:
            row.path = f"{row.parent.path if row.parent else PATH_SEP}{row.pk}{PATH_SEP}"
            by_code[row.code] = row
        Region.objects.bulk_update(rows, ["path"], batch_size=BATCH)
    return by_code[plan.district.code]


# --- accounts --------------------------------------------------------------------------------


def _create_users(plan: CityPlan) -> int:
    """Create (or, after a forced rebuild, refresh) every planned account and its role."""
    planned = plan_users(plan)
    password = make_password(DEMO_PASSWORD)  # Argon2 once; every demo account shares it
    roles = {role.code: role for role in Role.objects.all()}
    regions = dict(
        Region.objects.filter(code__in={u.region_code for u in planned}).values_list("code", "pk")
    )
    by_name = {u.username: u for u in planned}
    existing = {u.username: u for u in User.objects.filter(username__in=by_name)}
    for username, account in existing.items():
        if not account.email.endswith(f"@{DEMO_EMAIL_DOMAIN}"):
            raise Conflict(_("用户名%(u)s已被非演示账号使用，不能创建演示账号。") % {"u": username})
    taken = (
        User.objects.filter(mobile__in=[u.mobile for u in planned if u.mobile])
        .exclude(email__endswith=f"@{DEMO_EMAIL_DOMAIN}")
        .values_list("mobile", flat=True)
        .first()
    )
    if taken:
        raise Conflict(_("手机号%(m)s已被非演示账号使用。") % {"m": taken})
    # Demo accounts get their numbers again below; clearing first avoids unique clashes when
    # a rebuild hands a number to a different account.
    demo_users().exclude(mobile=None).update(mobile=None)

    # Old demo accounts that the new plan does not have (e.g. after switching to --small).
    stale = demo_users().exclude(username__in=by_name)
    acted = set(AuditRecord.objects.filter(actor_id__in=stale).values_list("actor_id", flat=True))
    # Deleting a user would null ``actor`` on their audit records and break the hash chain,
    # so accounts that appear in the log are deactivated instead.
    stale.filter(pk__in=acted).update(is_active=False)
    try:
        stale.exclude(pk__in=acted).delete()
    except ProtectedError:  # referenced by other records: keep them, switched off
        stale.update(is_active=False)

    new: list[User] = []
    for planned_user in planned:
        user = existing.get(planned_user.username)
        if user is None and planned_user.username in {s.username for s in LOGIN_SPECS}:
            user = user_create(
                actor=None,
                username=planned_user.username,
                password=None,
                display_name=planned_user.display_name,
                mobile=planned_user.mobile,
                title=planned_user.title,
                email=planned_user.email,
                validate=False,
                audit=False,
            )
        if user is None:
            new.append(
                User(
                    username=planned_user.username,
                    password=password,
                    display_name=planned_user.display_name,
                    mobile=planned_user.mobile,
                    title=planned_user.title,
                    email=planned_user.email,
                )
            )
            continue
        user.password = password
        user.display_name = planned_user.display_name
        user.mobile = planned_user.mobile
        user.title = planned_user.title
        user.email = planned_user.email
        user.is_active = True
        user.is_superuser = user.is_staff = planned_user.superuser
        user.save(
            update_fields=[
                "password",
                "display_name",
                "mobile",
                "title",
                "email",
                "is_active",
                "is_superuser",
                "is_staff",
            ]
        )
        existing[user.username] = user
    User.objects.bulk_create(new, batch_size=BATCH)
    for user in User.objects.filter(username__in=[u.username for u in new]):
        existing[user.username] = user

    named = {spec.username for spec in LOGIN_SPECS}
    bulk: list[RoleAssignment] = []
    for planned_user in planned:
        user = existing[planned_user.username]
        role = roles[planned_user.role]
        region_pk = regions[planned_user.region_code]
        if planned_user.username in named:
            # The documented logins go through the accounts service like any grant.
            role_assign(
                actor=None,
                user=user,
                role=role,
                region=Region.objects.get(pk=region_pk),
                audit=False,
            )
        else:
            bulk.append(RoleAssignment(user=user, role=role, region_id=region_pk))
    RoleAssignment.objects.bulk_create(bulk, batch_size=BATCH)
    grants_changed(a.user_id for a in bulk)  # bulk_create sends no signals
    return len(planned)
