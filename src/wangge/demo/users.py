"""Demo logins and generated staff, planned in memory (no database access here).

Every demo account shares one documented password. The ten named logins (one per system role
of DESIGN §1) sit on the first street / community / grid of the city; besides them every street
gets a dispatcher, every community a secretary, every grid a grid worker and every functional
department (``departments.py``) one handler, with deterministic Chinese names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from wangge.geo.choices import Level

from . import names
from .city import DISTRICT, CityPlan, PlannedRegion, rng_for
from .departments import plan_departments

DEMO_PASSWORD = "wangge-demo-2026"  # noqa: S105 - public by design, documented
# Marks accounts created by the demo (``--force`` rebuilds only these). ``.invalid`` is a
# reserved top-level domain: no mail is ever sent there.
DEMO_EMAIL_DOMAIN = "demo.wangge.invalid"


class DemoLogin(NamedTuple):
    username: str
    role: str  # role label, as the system role is named
    region: str  # name of the region the role is granted on


# Role labels as named in wangge.accounts.roles.SYSTEM_ROLES (plain strings, so they can be
# printed before any translation is active; a test keeps them in step).
ROLE_LABELS: dict[str, str] = {
    "resident": "居民",
    "grid_worker": "网格员",
    "micro_grid_worker": "微网格员(楼栋长)",
    "community_secretary": "网格长/社区书记",
    "street_dispatcher": "街道指挥中心调度员",
    "district_commander": "区县指挥中心",
    "department_staff": "职能部门处置人员",
    "party_member": "党员/志愿者",
    "sysadmin": "系统管理员",
    "auditor": "审计员",
}


@dataclass(frozen=True)
class LoginSpec:
    username: str
    role: str
    anchor: str  # which region: district | street | community | grid | micro_grid
    title: str = ""
    mobile: str | None = None
    superuser: bool = False


LOGIN_SPECS: list[LoginSpec] = [
    LoginSpec("admin", "sysadmin", "district", "系统管理员", superuser=True),
    LoginSpec("district", "district_commander", "district", "区指挥中心值班长"),
    LoginSpec("auditor", "auditor", "district", "审计员"),
    LoginSpec("dispatcher", "street_dispatcher", "street", "街道指挥中心调度员"),
    LoginSpec("secretary", "community_secretary", "community", "社区党委书记"),
    LoginSpec("gridworker", "grid_worker", "grid", "网格员", mobile="13800000001"),
    LoginSpec("microgrid", "micro_grid_worker", "micro_grid", "楼栋长"),
    LoginSpec("dept", "department_staff", "district", "城管执法"),
    LoginSpec("party", "party_member", "community", "在职党员"),
    LoginSpec("resident", "resident", "community", "", mobile="13900000001"),
]

# The named logins and where they act, for the default seed. ``wangge run`` prints these;
# ``demo_logins()`` reads the same from the database, and a test keeps the two equal.
DEMO_LOGINS: list[DemoLogin] = [
    DemoLogin("admin", ROLE_LABELS["sysadmin"], DISTRICT[1]),
    DemoLogin("district", ROLE_LABELS["district_commander"], DISTRICT[1]),
    DemoLogin("auditor", ROLE_LABELS["auditor"], DISTRICT[1]),
    DemoLogin("dispatcher", ROLE_LABELS["street_dispatcher"], "白洋湾街道"),
    DemoLogin("secretary", ROLE_LABELS["community_secretary"], "新星社区"),
    DemoLogin("gridworker", ROLE_LABELS["grid_worker"], "新星社区第1网格"),
    DemoLogin("microgrid", ROLE_LABELS["micro_grid_worker"], "第1微网格（1–5幢）"),
    DemoLogin("dept", ROLE_LABELS["department_staff"], DISTRICT[1]),
    DemoLogin("party", ROLE_LABELS["party_member"], "新星社区"),
    DemoLogin("resident", ROLE_LABELS["resident"], "新星社区"),
]


@dataclass(frozen=True)
class PlannedUser:
    username: str
    display_name: str
    role: str
    region_code: str
    title: str = ""
    mobile: str | None = None
    superuser: bool = False

    @property
    def email(self) -> str:
        return f"{self.username}@{DEMO_EMAIL_DOMAIN}"


def anchors(plan: CityPlan) -> dict[str, PlannedRegion]:
    """The first street, its first community, that community's first grid and micro-grid."""
    street = plan.district.children[0]
    community = street.children[0]
    grid = community.children[0]
    return {
        "district": plan.district,
        "street": street,
        "community": community,
        "grid": grid,
        "micro_grid": grid.children[0],
    }


def plan_users(plan: CityPlan) -> list[PlannedUser]:
    """The named logins first, then one dispatcher per street, one secretary per community and
    one grid worker per grid (the first of each is the named login), then one handler per
    functional department."""
    at = anchors(plan)
    users = [
        PlannedUser(
            username=spec.username,
            display_name=names.person_name(rng_for(plan.seed, "person", spec.username)),
            role=spec.role,
            region_code=at[spec.anchor].code,
            title=spec.title,
            mobile=spec.mobile,
            superuser=spec.superuser,
        )
        for spec in LOGIN_SPECS
    ]
    staffed = {(u.role, u.region_code) for u in users}
    staff_roles = [
        (Level.STREET, "street_dispatcher", "disp", "街道指挥中心调度员"),
        (Level.COMMUNITY, "community_secretary", "sec", "社区党委书记"),
        (Level.GRID, "grid_worker", "gw", "网格员"),
    ]
    for level, role, prefix, title in staff_roles:
        for region in plan.at_level(level):
            if (role, region.code) in staffed:
                continue
            username = f"{prefix}{region.code}"
            # 138 + street, community and grid sequence: stable for a grid across rebuilds.
            mobile = f"138{region.code[7:]}" if role == "grid_worker" else None
            users.append(
                PlannedUser(
                    username=username,
                    display_name=names.person_name(rng_for(plan.seed, "person", username)),
                    role=role,
                    region_code=region.code,
                    title=title,
                    mobile=mobile,
                )
            )
    for dept in plan_departments(plan):
        username = dept.staff_username
        users.append(
            PlannedUser(
                username=username,
                display_name=names.person_name(rng_for(plan.seed, "person", username)),
                role="department_staff",
                region_code=dept.region_code,
                title=f"{dept.name.removeprefix(plan.district.name)}工作人员",
            )
        )
    return users
