"""The demo district's functional departments (职能部门) and who answers for which matter.

The plan is pure (no database): district-level departments plus a 派出所 and a 司法所 in every
street. ``departments_load`` writes them as :class:`~wangge.cases.models.Department` rows with a
:class:`~wangge.cases.models.MatterRoute` for every catalogue matter whose ``department_hint``
names one of them (the street's 派出所 / 司法所 win inside their street: the deepest route wins).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .city import DISTRICT, CityPlan

if TYPE_CHECKING:
    from wangge.cases.models import Department

# (code suffix, name, catalogue ``department_hint`` values the department answers for)
DISTRICT_DEPARTMENTS: list[tuple[str, str, tuple[str, ...]]] = [
    ("CGZF", "城管执法局", ("城管",)),
    ("SRHW", "市容环卫管理处", ("环卫",)),
    ("SZSS", "市政设施管理处", ("市政",)),
    ("ZJ", "住建局", ("住建",)),
    ("YLLH", "园林绿化局", ("园林",)),
    ("SW", "水务局", ("水务",)),
    ("JTYS", "交通运输局", ("交通",)),
    ("GAFJ", "公安分局", ("派出所",)),
    ("JJDD", "公安分局交警大队", ("交警",)),
    ("SFJ", "司法局", ("司法所",)),
    ("XFJY", "消防救援大队", ("消防",)),
    ("MZ", "民政局", ("民政",)),
    ("RS", "人社局", ("人社",)),
    ("YJGL", "应急管理局", ("应急管理",)),
    ("ZRZY", "自然资源和规划分局", ("自然资源",)),
    ("RQ", "燃气管理办公室", ("燃气",)),
    ("CL", "残联", ("残联",)),
    ("SCJG", "市场监管局", ()),
    ("STHJ", "生态环境局", ()),
]
# Per street: (code suffix, name suffix, hints). 白洋湾街道 → 白洋湾派出所.
STREET_DEPARTMENTS: list[tuple[str, str, tuple[str, ...]]] = [
    ("PCS", "派出所", ("派出所",)),
    ("SFS", "司法所", ("司法所",)),
]
# The department of the ``dept`` demo login (title 城管执法).
DEPT_LOGIN_DEPARTMENT = f"{DISTRICT[0]}-CGZF"


@dataclass(frozen=True)
class PlannedDepartment:
    code: str
    name: str
    region_code: str
    hints: tuple[str, ...]

    @property
    def staff_username(self) -> str:
        """The generated handler of this department (``dept320508cgzf``)."""
        return "dept" + self.code.replace("-", "").lower()


def plan_departments(plan: CityPlan) -> list[PlannedDepartment]:
    district = plan.district
    planned = [
        PlannedDepartment(
            f"{district.code}-{suffix}", f"{district.name}{name}", district.code, hints
        )
        for suffix, name, hints in DISTRICT_DEPARTMENTS
    ]
    for street in district.children:
        short = street.name.removesuffix("街道")
        planned += [
            PlannedDepartment(f"{street.code}-{suffix}", f"{short}{name}", street.code, hints)
            for suffix, name, hints in STREET_DEPARTMENTS
        ]
    return planned


def departments_load(plan: CityPlan) -> dict[str, Department]:
    """Write the planned departments, their routes and members; returns them by code.

    Expects the regions, the demo accounts and the matter catalogue to be loaded."""
    from wangge.accounts.models import User
    from wangge.cases.models import Department, MatterRoute, MatterType
    from wangge.geo.models import Region

    planned = plan_departments(plan)
    regions = dict(
        Region.objects.filter(code__in={p.region_code for p in planned}).values_list("code", "pk")
    )
    rows = [Department(code=p.code, name=p.name, region_id=regions[p.region_code]) for p in planned]
    Department.objects.bulk_create(rows)
    by_code = {d.code: d for d in Department.objects.filter(code__in=[p.code for p in planned])}

    hinted: dict[str, list[int]] = {}
    for pk, hint in MatterType.objects.exclude(department_hint="").values_list(
        "pk", "department_hint"
    ):
        hinted.setdefault(hint, []).append(pk)
    routes = [
        MatterRoute(matter_type_id=mt, region_id=regions[p.region_code], department=by_code[p.code])
        for p in planned
        for hint in p.hints
        for mt in hinted.get(hint, [])
    ]
    MatterRoute.objects.bulk_create(routes, batch_size=500)

    users = dict(
        User.objects.filter(
            username__in=["dept", *(p.staff_username for p in planned)]
        ).values_list("username", "pk")
    )
    through = Department.members.through
    links = [
        through(department_id=by_code[p.code].pk, user_id=users[p.staff_username])
        for p in planned
        if p.staff_username in users
    ]
    if "dept" in users:
        links.append(
            through(department_id=by_code[DEPT_LOGIN_DEPARTMENT].pk, user_id=users["dept"])
        )
    through.objects.bulk_create(links)
    return by_code
