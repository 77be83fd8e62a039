"""The demo case history: a year of cases, generated in memory and written with ``bulk_create``.

Every case is planned as the list of transitions it went through (report → accept → dispatch →
claim → handle → verify → close → rate, with rejections, merges, rework, reopening, suspension
and extension mixed in), each at a time drawn from the catalogue's limits on the working-time
calendar. Only the transitions that happened before *now* are replayed onto the case, so its
state matches its age: old cases are closed or rated, recent ones are spread over the open
states, and a case that sat in a step past its deadline carries the escalation rungs
(:class:`~wangge.cases.models.Escalation` + 督办 :class:`~wangge.cases.models.Supervision`) the
periodic scan would have added by now. The replay mirrors ``cases.services.transitions`` and
uses its helpers (``step_fields``, ``step_limit``) and ``cases.deadlines`` for every deadline;
``route_case`` decides levels and departments.

A handful of cases then go through the real services (``case_create`` + ``case_transition``)
so the generated rows can be compared with what the services write. Demo cases carry a
``client_key`` starting with ``demo-``: that is what ``wangge demo --force`` deletes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import shapely
from django.utils import timezone

from wangge.cases.choices import (
    OPEN_STATES,
    CaseState,
    HandlingLevel,
    RequestKind,
    RequestStatus,
    Source,
    Step,
    TimeUnit,
    Urgency,
)
from wangge.cases.deadlines import SHANGHAI, WorkCalendar, advance, elapsed, limit_duration
from wangge.cases.models import (
    Case,
    CaseEvent,
    CaseRequest,
    Department,
    Escalation,
    MatterRoute,
    MatterType,
    Supervision,
    Suspension,
)
from wangge.cases.services.common import rules_for, step_fields, step_limit
from wangge.cases.services.escalation import MIN_RUNG, NEXT_LEVEL
from wangge.cases.services.intake import DUPLICATE_WINDOW
from wangge.cases.workflow import TRANSITIONS
from wangge.geo.choices import Level
from wangge.geo.models import Region

from . import names
from .city import CityPlan, rng_for

CASES_FULL = 20_000
CASES_SMALL = 200
DAYS = 365
CLIENT_KEY_PREFIX = "demo-"
BATCH = 1000
_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

# How often each matter comes up, relative to each other (a typical 城市管理 + 社会治理 mix:
# garbage, clutter, street vending and parking dominate). Other active matters share OTHER.
MATTER_WEIGHTS: dict[str, float] = {
    "06010": 90,  # 暴露垃圾
    "06036": 70,  # 乱堆杂物
    "09006": 60,  # 占道经营
    "07001": 45,  # 非法小广告
    "06013": 45,  # 道路破损
    "06042": 40,  # 垃圾站（箱）满溢
    "09005": 40,  # 店外经营
    "06028": 35,  # 噪声扰民
    "09010": 35,  # 非机动车乱停放
    "91001": 30,  # 邻里纠纷
    "06012": 30,  # 道路不洁
    "09009": 25,  # 机动车乱停放
    "09011": 25,  # 共享单车乱象
    "91003": 20,  # 物业纠纷
    "95001": 20,  # 民生服务诉求
    "95002": 18,  # 小区设施维修
    "06001": 15,  # 私搭乱建
    "06007": 15,  # 沿街晾挂
    "06041": 15,  # 垃圾未分类
    "94002": 15,  # 电动车违规充电
    "94003": 15,  # 楼道堆物占用疏散通道
    "96001": 15,  # 政策咨询
    "01003": 12,  # 雨水井盖异常
    "01002": 10,  # 污水井盖异常
    "01001": 8,  # 供水井盖异常
    "01037": 12,  # 路灯异常
    "06027": 12,  # 油烟污染
    "08001": 12,  # 施工扰民
    "06029": 10,  # 露天烧烤
    "97001": 10,  # 独居老人帮扶
    "06040": 8,  # 私设地锁、阻车桩
    "08004": 8,  # 工地扬尘
    "98001": 8,  # 道路积水
    "92001": 6,  # 治安隐患
    "94001": 6,  # 消防隐患
    "96002": 6,  # 社保医保咨询
    "91002": 5,  # 婚姻家庭纠纷
    "92002": 5,  # 群租房隐患
    "93001": 5,  # 安全生产隐患
    "99001": 5,  # 其他事项
    "91004": 4,  # 劳资纠纷
    "97002": 4,  # 困难群众救助
    "98002": 4,  # 树木倒伏
}
OTHER_WEIGHT = 0.4
# Reports by hour of day (Asia/Shanghai): office hours, with an evening tail from residents.
# fmt: off
HOUR_WEIGHTS = [
    0.2, 0.1, 0.1, 0.1, 0.2, 0.4, 1.0, 3.0, 7.0, 9.0, 9.0, 7.0,
    4.0, 5.0, 8.0, 9.0, 8.0, 6.0, 4.0, 3.0, 2.5, 2.0, 1.0, 0.5,
]
# fmt: on
SOURCE_WEIGHTS: dict[str, float] = {
    Source.PATROL: 40,
    Source.HOTLINE: 25,
    Source.RESIDENT: 22,
    Source.TRANSFER: 5,
    Source.IOT: 5,
    Source.LEADER: 2,
    Source.API: 1,
}
# Sensors report only what they can sense: manhole covers, lamps, flooding, full bins, e-bikes.
IOT_CODES = {"01001", "01002", "01003", "01037", "06042", "94002", "98001"}
# fmt: off
PLACES = [
    "小区东门", "小区西门", "菜场门口", "沿街商铺前", "公交站旁", "学校门口",
    "地铁站出口", "河边步道", "老新村内", "停车场", "楼道内", "巷口",
    "桥下", "农贸市场", "社区广场", "绿化带旁",
]
ROADS = [
    "人民路", "干将路", "十全街", "凤凰街", "养育巷", "学士街", "景德路", "临顿路",
    "平江路", "山塘街", "石路", "桃花坞大街", "虎丘路", "金门路", "三香路", "胥江路",
]
# fmt: on
DETAILS = [
    "影响居民出行，请尽快处理。",
    "已经好几天了，没人管。",
    "周边居民意见很大。",
    "存在安全隐患，希望尽快解决。",
    "多次反映未解决。",
    "早晚高峰尤其严重。",
]
RESULTS = [
    "已处置完毕，现场恢复正常。",
    "已联系责任单位整改到位。",
    "经协调，问题已解决。",
    "已现场清理，后续纳入日常巡查。",
    "已督促当事人整改，复查合格。",
]
REASONS = {
    "reject": ["经核实不属于受理范围。", "现场未发现反映的问题。", "信息不全，无法核实。"],
    "cancel": ["重复录入，作废。", "反映人撤回诉求。"],
    "verify_fail": ["现场仍有残留，需返工。", "整改不到位。"],
    "reopen": ["问题再次出现。", "居民对处理结果不满意。"],
    "suspend": ["需待汛期后施工。", "涉及多方产权，待协调。"],
    "extend": ["需采购材料，申请延期。", "涉及多个部门，需延长办理时限。"],
}


@dataclass
class _Who:
    pk: int | None
    name: str


@dataclass
class _Area:
    """Where a point fell: the locator's leaf (grid or micro-grid), the unit grid a case is
    filed on (as ``case_create`` does) and the regions above."""

    leaf: Region
    unit: Region
    grid: int
    community: int
    street: int
    district: int


@dataclass
class _Plan:
    """One case as planned: its row, its timeline and the rows that hang off it."""

    case: Case
    index: int
    events: list[CaseEvent] = field(default_factory=list)
    escalations: list[Escalation] = field(default_factory=list)
    supervisions: list[Supervision] = field(default_factory=list)
    requests: list[CaseRequest] = field(default_factory=list)
    suspensions: list[Suspension] = field(default_factory=list)
    merge_into: int | None = None  # index of the case this one was merged into


@dataclass
class CaseLoadResult:
    cases: int = 0
    live: int = 0
    events: int = 0
    escalations: int = 0
    states: dict[str, int] = field(default_factory=dict)


@contextmanager
def _stored_timestamps(*fields: Any) -> Iterator[None]:
    """Let ``bulk_create`` keep the historical ``created_at``/``updated_at`` values."""
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    try:
        for f in fields:
            f.auto_now = f.auto_now_add = False
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def full_calendar(base: WorkCalendar, start: date, end: date) -> WorkCalendar:
    """``base`` with every day of [start, end] decided up front: the same answers, looked up."""
    days = {
        start + timedelta(days=i): base.is_workday(start + timedelta(days=i))
        for i in range((end - start).days + 1)
    }
    return WorkCalendar(periods=base.periods, tz=base.tz, overrides=days)


class _Generator:
    def __init__(self, *, seed: int, now: datetime, calendar: WorkCalendar) -> None:
        self.seed = seed
        self.now = now
        self.cal = calendar
        self.rng = rng_for(seed, "cases")
        self.codes: set[str] = set(Case.objects.values_list("tracking_code", flat=True))
        self._routes: dict[tuple[int, int, bool], Any] = {}
        self._classified: dict[str, list[dict[str, Any]]] = {}
        # The latest case per (matter type, community) with when it was reported and when it
        # stopped being open: what a duplicate reported soon after is merged into.
        self.latest: dict[tuple[int | None, int], tuple[int, datetime, datetime]] = {}

    # --- reference data ---------------------------------------------------------------------

    def load(self, plan: CityPlan) -> None:
        from wangge.accounts.models import RoleAssignment
        from wangge.cases.classify import get_classifier

        district = Region.objects.get(code=plan.district.code)
        self.regions = {
            r.pk: r for r in Region.objects.filter(path__startswith=district.path, is_active=True)
        }
        self.district = district
        self.by_code = {r.code: r for r in self.regions.values()}
        self.classifier = get_classifier()
        matter_types = list(
            MatterType.objects.filter(active=True).select_related("current_version")
        )
        self.matter_types = matter_types
        self.rules = {mt.pk: rules_for(mt) for mt in matter_types}
        self.mt_weights = [MATTER_WEIGHTS.get(mt.code, OTHER_WEIGHT) for mt in matter_types]
        # Who holds which desk, by region: the first account of each role.
        desks: dict[tuple[str, int], _Who] = {}
        for a in (
            RoleAssignment.objects.filter(region_id__in=self.regions, user__is_active=True)
            .select_related("user", "role")
            .order_by("user__username")
        ):
            desks.setdefault((a.role.code, a.region_id), _Who(a.user.pk, str(a.user)))
        self.desks = desks
        self.resident = desks.get(("resident", self.by_code[plan.district.code].pk)) or next(
            (w for (role, _r), w in desks.items() if role == "resident"), None
        )
        self.departments = {
            d.pk: d for d in Department.objects.filter(region_id__in=self.regions, is_active=True)
        }
        staff: dict[int, _Who] = {}
        through = Department.members.through
        for link in through.objects.filter(department_id__in=self.departments).select_related(
            "user"
        ):
            staff.setdefault(link.department_id, _Who(link.user.pk, str(link.user)))
        self.dept_staff = staff
        # The department a street command centre sends a street-level matter to (by hint).
        self.hint_department: dict[int, int] = {}
        for mt_id, dept_id in MatterRoute.objects.filter(
            region=district, department__is_active=True
        ).values_list("matter_type_id", "department_id"):
            self.hint_department[mt_id] = dept_id
        # Supervision notices go to dispatch/supervise holders at the rung's region.
        from wangge.cases.notifications import users_with_perm_at
        from wangge.cases.workflow import DISPATCH, SUPERVISE

        self.told: dict[int, list[dict[str, Any]]] = {}
        for region in self.regions.values():
            if region.level in (Level.COMMUNITY, Level.STREET, Level.COUNTY):
                users = list(users_with_perm_at(region, SUPERVISE)) + list(
                    users_with_perm_at(region, DISPATCH)
                )
                seen: set[int] = set()
                self.told[region.pk] = [
                    {"id": u.pk, "name": str(u)}
                    for u in users
                    if not (u.pk in seen or seen.add(u.pk))  # type: ignore[func-returns-value]
                ]
        self.grid_weights = self._grid_weights(plan)

    def _grid_weights(self, plan: CityPlan) -> list[tuple[Any, float]]:
        """(planned grid, weight): households, with a floor so campus grids see a few cases."""
        return [(g, max(g.households or 0, 40)) for g in plan.at_level(Level.GRID)]

    def area(self, leaf_id: int) -> _Area:
        leaf = self.regions[leaf_id]
        ids = leaf.ancestor_ids()
        by_level = {self.regions[i].level: i for i in ids if i in self.regions}
        grid = by_level.get(Level.GRID, leaf.pk)
        return _Area(
            leaf=leaf,
            unit=self.regions[grid],
            grid=grid,
            community=by_level[Level.COMMUNITY],
            street=by_level[Level.STREET],
            district=self.district.pk,
        )

    def route(self, mt: MatterType, area: _Area, *, on_spot: bool) -> tuple[Any, int | None]:
        """``route_case`` once per matter and street, and the handling region for this case:
        within a street only the region of the answer's level differs (departments are routed
        by district or street), so that is taken from the case's own grid and community."""
        from wangge.cases.routing import route_case

        key = (mt.pk, area.street, on_spot)
        if key not in self._routes:
            self._routes[key] = route_case(
                matter_type=mt, rules=self.rules[mt.pk], grid=area.unit, on_spot=on_spot
            )
        route = self._routes[key]
        region = {
            HandlingLevel.GRID: area.grid,
            HandlingLevel.COMMUNITY: area.community,
        }.get(route.level, route.region.pk if route.region is not None else None)
        return route, region

    def classify(self, title: str) -> list[dict[str, Any]]:
        if title not in self._classified:
            self._classified[title] = [
                s.as_dict() for s in self.classifier.suggest(title=title, text="")
            ]
        return self._classified[title]

    # --- drawing ------------------------------------------------------------------------------

    def points(self, count: int) -> list[tuple[float, float, Any]]:
        """``count`` points inside grids drawn by households: (lon, lat, planned grid)."""
        grids, weights = zip(*self.grid_weights, strict=True)
        chosen = self.rng.choices(grids, weights=weights, k=count)
        out: list[tuple[float, float, Any]] = []
        for grid in chosen:
            minx, miny, maxx, maxy = grid.geom.bounds
            while True:
                x = round(self.rng.uniform(minx, maxx), 7)
                y = round(self.rng.uniform(miny, maxy), 7)
                if shapely.contains_xy(grid.geom, x, y):
                    out.append((x, y, grid))
                    break
        return out

    def arrivals(self, count: int) -> list[datetime]:
        """Report times over the past year: fewer at weekends, mostly in working hours."""
        out: list[datetime] = []
        today = timezone.localtime(self.now, SHANGHAI).date()
        hours = list(range(24))
        while len(out) < count:
            day = today - timedelta(days=self.rng.randrange(DAYS))
            if day.weekday() >= 5 and self.rng.random() < 0.45:
                continue
            hour = self.rng.choices(hours, weights=HOUR_WEIGHTS)[0]
            at = datetime.combine(day, time(hour), tzinfo=SHANGHAI) + timedelta(
                seconds=self.rng.randrange(3600)
            )
            if at < self.now:
                out.append(at)
        out.sort()
        return out

    def tracking_code(self, at: datetime) -> str:
        prefix = timezone.localtime(at, SHANGHAI).strftime("%y%m%d")
        while True:
            code = prefix + "".join(self.rng.choice(_CODE_ALPHABET) for _ in range(6))
            if code not in self.codes:
                self.codes.add(code)
                return code

    def share(self) -> float:
        """How much of a step's allowed time was used: mostly well within, some late."""
        r = self.rng.random()
        if r < 0.005:
            return 4 + self.rng.random() * 30  # stalled
        if r < 0.035:
            return 1.05 + self.rng.expovariate(1.5)  # late
        return 0.05 + self.rng.betavariate(2, 4) * 0.9

    def took(self, rules: dict[str, Any], step: str, urgency: str, start: datetime) -> datetime:
        limit, unit = step_limit(rules, step, urgency)
        return advance(start, limit_duration(limit, unit) * self.share(), unit, self.cal)

    def soon(self, start: datetime, low: int, high: int) -> datetime:
        """A few working minutes later."""
        minutes = timedelta(minutes=self.rng.randint(low, high))
        return advance(start, minutes, TimeUnit.WORK_HOUR, self.cal)

    # --- one case -----------------------------------------------------------------------------

    def plan_case(
        self, index: int, reported_at: datetime, point: tuple[float, float], leaf_id: int
    ) -> _Plan:
        rng = self.rng
        area = self.area(leaf_id)
        mt = rng.choices(self.matter_types, weights=self.mt_weights)[0]
        rules = self.rules[mt.pk]
        source = rng.choices(list(SOURCE_WEIGHTS), weights=list(SOURCE_WEIGHTS.values()))[0]
        if source == Source.IOT and mt.code not in IOT_CODES:
            source = Source.PATROL
        levels = rules["urgency_levels"]
        urgency = Urgency.NORMAL
        r = rng.random()
        if Urgency.CRITICAL in levels and r < 0.02:
            urgency = Urgency.CRITICAL
        elif Urgency.URGENT in levels and r < 0.10:
            urgency = Urgency.URGENT
        on_spot = bool(
            source == Source.PATROL
            and rules.get("on_spot_allowed")
            and rules.get("pushdown_allowed")
            and rng.random() < 0.4
        )
        route, handling_region = self.route(mt, area, on_spot=on_spot)
        worker = self.desks.get(("grid_worker", area.grid))
        reporter_user = None
        reporter_name, reporter_phone = "", ""
        report_actor: _Who | None = None
        if source == Source.PATROL:
            report_actor = worker
            reporter_name = worker.name if worker else ""
        elif source == Source.RESIDENT:
            if self.resident is not None and rng.random() < 0.05:
                reporter_user = self.resident
                report_actor = self.resident
                reporter_name = self.resident.name
            else:
                reporter_name = names.person_name(rng_for(self.seed, "reporter", str(index)))
            reporter_phone = f"13{rng.randrange(10**9):09d}"
        elif source == Source.HOTLINE:
            reporter_name = names.person_name(rng_for(self.seed, "reporter", str(index)))
            reporter_phone = f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
            report_actor = _Who(None, "12345热线")
        elif source == Source.IOT:
            reporter_name = "物联感知设备"
            report_actor = _Who(None, "物联感知平台")
        elif source == Source.TRANSFER:
            reporter_name = "区级部门移交"
            report_actor = _Who(None, "部门移交")
        elif source == Source.LEADER:
            reporter_name = "区领导交办"
            report_actor = _Who(None, "领导交办")
        else:
            reporter_name = "开放接口"
            report_actor = _Who(None, "api")
        place = rng.choice(PLACES)
        road = rng.choice(ROADS)
        title = f"{place}{mt.name}"
        address = f"{road}{rng.randint(1, 400)}号附近"
        case = Case(
            tracking_code=self.tracking_code(reported_at),
            client_key=f"{CLIENT_KEY_PREFIX}{self.seed}-{index}",
            source=source,
            reporter_id=reporter_user.pk if reporter_user else None,
            reporter_name=reporter_name,
            reporter_phone=reporter_phone,
            title=title[:200],
            description=f"{address}，{mt.name}。{rng.choice(DETAILS)}",
            lon=point[0],
            lat=point[1],
            address=address,
            grid_id=area.grid,
            region_path=area.unit.path,
            matter_type_id=mt.pk,
            matter_version_id=mt.current_version_id,
            rules=rules,
            classification=self.classify(title),
            urgency=urgency,
            state=CaseState.REPORTED,
            handling_level=route.level,
            handling_region_id=handling_region,
            routing_reasons=route.reasons,
            department_id=route.department.pk if route.department else None,
            reported_at=reported_at,
            created_at=reported_at,
            updated_at=reported_at,
        )
        p = _Plan(case, index)
        replay = _Replay(self, p, area, worker)
        replay.report(reported_at, report_actor, route)
        if on_spot:
            replay.on_spot(reported_at, worker)
        else:
            self._lifecycle(replay, rules, urgency, source, reporter_user)
        replay.finish()
        return p

    def _lifecycle(
        self,
        replay: _Replay,
        rules: dict[str, Any],
        urgency: str,
        source: str,
        reporter_user: _Who | None,
    ) -> None:
        rng = self.rng
        c = replay.case
        t = self.took(rules, Step.ACCEPT, urgency, c.reported_at)
        r = rng.random()
        if r < 0.03:
            replay.step(t, "reject", replay.dispatcher, reason=rng.choice(REASONS["reject"]))
            return
        if r < 0.045 and replay.merge_target(t) is not None:
            replay.step(t, "merge", replay.dispatcher)
            return
        if r < 0.052:
            replay.step(t, "cancel", replay.dispatcher, reason=rng.choice(REASONS["cancel"]))
            return
        if not replay.step(t, "accept", replay.dispatcher):
            return
        t = self.took(rules, Step.DISPATCH, urgency, t)
        if not replay.step(t, "dispatch", replay.dispatcher):
            return
        handle_start = t
        t = self.soon(t, 3, 90)
        if not replay.step(t, "claim", replay.handler):
            return
        r = rng.random()
        if r < 0.015:  # 挂账: waits for outside conditions, then resumes
            t = self.soon(t, 60, 600)
            if not replay.step(t, "request_suspend", replay.handler):
                return
            t = self.soon(t, 30, 240)
            if not replay.step(t, "approve_suspend", replay.dispatcher):
                return
            t = t + timedelta(days=rng.randint(5, 40))
            if not replay.step(t, "resume", replay.dispatcher):
                return
            handle_start = t
        elif r < 0.05:  # 延期 before the deadline
            due = c.due_at or t
            t = max(t, due - (due - t) / 3)
            if not replay.step(t, "request_extend", replay.handler):
                return
            t = self.soon(t, 15, 120)
            if not replay.step(t, "approve_extend", replay.dispatcher):
                return
        done = max(self.took(rules, Step.HANDLE, urgency, handle_start), self.soon(t, 10, 60))
        if not replay.step(done, "handle", replay.handler):
            return
        t = done
        if rng.random() < 0.07:  # 核查不通过, 返工
            t = self.soon(t, 30, 300)
            if not replay.step(t, "verify_fail", replay.worker):
                return
            t = self.took(rules, Step.HANDLE, urgency, t)
            if not replay.step(t, "handle", replay.handler):
                return
        t = self.took(rules, Step.VERIFY, urgency, t)
        if not replay.step(t, "verify", replay.worker):
            return
        t = self.soon(t, 5, 60)
        if not replay.step(t, "close", replay.dispatcher):
            return
        rates = source in (Source.RESIDENT, Source.HOTLINE) and rng.random() < 0.8
        if not rates:
            return
        t = t + timedelta(hours=rng.uniform(1, 48))
        score = rng.choices([5, 4, 3, 2, 1], weights=[62, 25, 8, 3, 2])[0]
        rater = reporter_user or _Who(None, c.reporter_name or "反映人")
        if not replay.step(t, "rate", rater, score=score):
            return
        if score <= 3 and rng.random() < 0.5:  # 重办
            t = t + timedelta(hours=rng.uniform(2, 72))
            if not replay.step(t, "reopen", replay.dispatcher):
                return
            t = self.took(rules, Step.HANDLE, urgency, t)
            if not replay.step(t, "handle", replay.handler):
                return
            t = self.took(rules, Step.VERIFY, urgency, t)
            if not replay.step(t, "verify", replay.worker):
                return
            t = self.soon(t, 5, 60)
            replay.step(t, "close", replay.dispatcher)


class _Replay:
    """Applies planned transitions to a case as ``case_transition`` would, up to *now*."""

    def __init__(self, gen: _Generator, plan: _Plan, area: _Area, worker: _Who | None):
        self.gen = gen
        self.plan = plan
        self.case = plan.case
        self.area = area
        self.worker = worker
        level = self.case.handling_level
        if level in (HandlingLevel.GRID, HandlingLevel.COMMUNITY):
            self.dispatcher = gen.desks.get(("community_secretary", area.community))
        else:
            self.dispatcher = gen.desks.get(("street_dispatcher", area.street))
        self.handler = worker
        self.pending_request: CaseRequest | None = None
        self.open_suspension: Suspension | None = None

    def _event(
        self, at: datetime, who: _Who | None, action: str, frm: str, to: str, **extra: Any
    ) -> None:
        t = TRANSITIONS.get(action)
        self.plan.events.append(
            CaseEvent(
                created_at=at,
                actor_id=who.pk if who else None,
                actor_name=who.name if who else "system",
                action=action,
                from_state=frm,
                to_state=to,
                note=extra.pop("note", ""),
                public_text=extra.pop("public_text", str(t.public_text) if t else "")[:255],
                data=extra,
            )
        )

    def _enter_step(self, state: str, at: datetime) -> None:
        c = self.case
        fields = step_fields(
            state=state,
            rules=c.rules,
            urgency=c.urgency,
            now=at,
            calendar=self.gen.cal,
            deadlines=c.deadlines,
        )
        for name, value in fields.items():
            setattr(c, name, value)

    def _clear_step(self) -> None:
        c = self.case
        c.step, c.due_at, c.remind_at, c.escalation_level = "", None, None, ""
        c.step_started_at = None

    def report(self, at: datetime, who: _Who | None, route: Any) -> None:
        self._enter_step(CaseState.REPORTED, at)
        self._event(
            at,
            who,
            "report",
            "",
            CaseState.REPORTED,
            note="；".join(route.reasons),
            public_text=f"您反映的问题已收到，查询码 {self.case.tracking_code}。",
            source=self.case.source,
            route=route.level,
        )

    def on_spot(self, at: datetime, who: _Who | None) -> None:
        c = self.case
        c.state = CaseState.CLOSED
        c.self_resolved = True
        c.assignee_id = who.pk if who else None
        c.result = self.gen.rng.choice(RESULTS)
        c.accepted_at = c.dispatched_at = c.claimed_at = at
        c.handled_at = c.verified_at = c.closed_at = at
        self._clear_step()
        self._event(
            at,
            who,
            "on_spot",
            CaseState.REPORTED,
            CaseState.CLOSED,
            note=c.result,
            public_text="网格员已现场处置，问题已办结。",
        )

    def merge_target(self, at: datetime) -> int | None:
        """A case of the same matter in the same community, reported within the duplicate
        window before ``at`` and still open then."""
        found = self.gen.latest.get((self.case.matter_type_id, self.area.community))
        if found is None:
            return None
        index, reported_at, open_until = found
        if at - reported_at > DUPLICATE_WINDOW or open_until <= at:
            return None
        return index

    def escalate_until(self, end: datetime) -> None:
        """The rungs the 5-minute scan added while the case sat past its deadline."""
        c = self.case
        if c.due_at is None or c.state not in OPEN_STATES or c.due_at > end:
            return
        info = c.deadlines.get(c.step) or {}
        unit = str(info.get("unit") or TimeUnit.WORK_HOUR)
        rung = max(limit_duration(int(info.get("limit") or 1), unit), MIN_RUNG)
        done = sum(1 for e in self.plan.escalations if e.due_at == c.due_at)
        while True:
            current = c.escalation_level or c.handling_level
            target = NEXT_LEVEL.get(current)  # type: ignore[call-overload]
            if target is None:
                return
            at = advance(c.due_at, rung * done, unit, self.gen.cal) if done else c.due_at
            if at > end or elapsed(c.due_at, end, unit, self.gen.cal) < rung * done:
                return
            region = {
                HandlingLevel.COMMUNITY: self.area.community,
                HandlingLevel.STREET: self.area.street,
                HandlingLevel.DISTRICT: self.area.district,
            }[target]
            escalation = Escalation(
                step=c.step,
                due_at=c.due_at,
                from_level=current,
                to_level=target,
                region_id=region,
                created_at=at,
            )
            self.plan.escalations.append(escalation)
            message = (
                f"【督办】事件{c.tracking_code}“{c.title}”已超过{Step(c.step).label}时限"
                f"（{timezone.localtime(c.due_at, SHANGHAI):%Y-%m-%d %H:%M}），"
                f"已升级至{HandlingLevel(target).label}，请督促办理。"
            )
            self.plan.supervisions.append(
                Supervision(
                    level=target,
                    region_id=region,
                    message=message,
                    recipients=self.gen.told.get(region, []),
                    created_at=at,
                )
            )
            c.escalation_level = target
            done += 1

    def step(self, at: datetime, action: str, who: _Who | None, **data: Any) -> bool:
        """Apply ``action`` at ``at``; False (and nothing applied) when ``at`` is after now."""
        if at > self.gen.now:
            return False
        self.escalate_until(at)
        c, gen = self.case, self.gen
        rng = gen.rng
        frm = c.state
        t = TRANSITIONS[action]
        to = t.target or frm
        note = str(data.get("reason", ""))
        extra: dict[str, Any] = {}
        new_step = False
        if action == "accept":
            c.accepted_at = at
            new_step = True
        elif action in ("reject", "cancel"):
            c.ended_at = at
        elif action == "merge":
            self.plan.merge_into = self.merge_target(at)
            c.ended_at = at
        elif action == "dispatch":
            c.dispatched_at = at
            new_step = True
            if c.handling_level == HandlingLevel.DEPARTMENT and c.department_id:
                self.handler = gen.dept_staff.get(c.department_id)
            elif c.handling_level == HandlingLevel.STREET and c.matter_type_id in (
                gen.hint_department
            ):
                c.department_id = gen.hint_department[c.matter_type_id]
                self.handler = gen.dept_staff.get(c.department_id)
                extra["department"] = c.department_id
            else:
                c.assignee_id = self.worker.pk if self.worker else None
                extra["assignee"] = c.assignee_id
        elif action == "claim":
            if c.assignee_id is None and who is not None:
                c.assignee_id = who.pk
            c.claimed_at = at
        elif action == "handle":
            c.result = rng.choice(RESULTS)
            note = c.result
            c.handled_at = at
            c.checkin_lon = round(c.lon + rng.uniform(-2e-4, 2e-4), 7)
            c.checkin_lat = round(c.lat + rng.uniform(-2e-4, 2e-4), 7)
            new_step = True
        elif action == "verify_fail":
            note = rng.choice(REASONS["verify_fail"])
            c.rework_count += 1
            c.handled_at = None
            new_step = True
        elif action == "verify":
            c.verified_at = at
        elif action == "close":
            c.closed_at = at
        elif action == "rate":
            c.rating = int(data["score"])
            c.rated_at = at
            c.rating_reason = "" if c.rating >= 4 else "处理不够及时。"
            note = c.rating_reason
            extra["score"] = c.rating
        elif action == "reopen":
            note = rng.choice(REASONS["reopen"])
            c.reopen_count += 1
            c.closed_at = c.verified_at = c.handled_at = c.rated_at = None
            c.rating, c.rating_reason = None, ""
            new_step = True
        elif action in ("request_suspend", "request_extend"):
            kind = RequestKind.SUSPEND if action == "request_suspend" else RequestKind.EXTEND
            note = rng.choice(REASONS["suspend" if kind == RequestKind.SUSPEND else "extend"])
            limit, unit = step_limit(c.rules, Step.HANDLE, c.urgency)
            self.pending_request = CaseRequest(
                kind=kind,
                status=RequestStatus.PENDING,
                reason=note,
                extra_limit=limit if kind == RequestKind.EXTEND else None,
                extra_unit=unit if kind == RequestKind.EXTEND else "",
                requested_by_id=who.pk if who else None,
                requested_at=at,
            )
            self.plan.requests.append(self.pending_request)
            extra.update(
                kind=kind,
                extra_limit=self.pending_request.extra_limit,
                extra_unit=self.pending_request.extra_unit or None,
            )
        elif action in ("approve_suspend", "approve_extend"):
            req = self.pending_request
            assert req is not None
            req.status = RequestStatus.APPROVED
            req.decided_by_id = who.pk if who else None
            req.decided_at = at
            self.pending_request = None
            extra.update(kind=req.kind, decision=RequestStatus.APPROVED)
            info = c.deadlines.get(c.step) or {}
            unit = str(info.get("unit") or TimeUnit.WORK_HOUR)
            if action == "approve_suspend":
                remaining = elapsed(at, c.due_at, unit, gen.cal) if c.due_at else timedelta(0)
                self.open_suspension = Suspension(
                    started_at=at, remaining_seconds=int(remaining.total_seconds())
                )
                self.plan.suspensions.append(self.open_suspension)
                c.suspended_from = frm
                c.due_at = c.remind_at = None
            else:
                extra_time = limit_duration(req.extra_limit or 0, req.extra_unit)
                base = c.due_at or at
                new_due = advance(base, extra_time, req.extra_unit, gen.cal)
                c.deadlines = {
                    **c.deadlines,
                    c.step: {**info, "due": new_due.isoformat(), "extended": True},
                }
                c.due_at, c.escalation_level, c.remind_at = new_due, "", None
                extra.update(old_due=base.isoformat(), new_due=new_due.isoformat())
        elif action == "resume":
            suspension = self.open_suspension
            assert suspension is not None
            suspension.ended_at = at
            self.open_suspension = None
            info = c.deadlines.get(c.step) or {}
            unit = str(info.get("unit") or TimeUnit.WORK_HOUR)
            new_due = advance(at, timedelta(seconds=suspension.remaining_seconds), unit, gen.cal)
            to = c.suspended_from or CaseState.IN_PROGRESS
            c.due_at, c.suspended_from, c.escalation_level = new_due, "", ""
            if c.step in c.deadlines:
                c.deadlines = {**c.deadlines, c.step: {**info, "due": new_due.isoformat()}}
        c.state = to
        if new_step:
            self._enter_step(to, at)
        elif to in (
            CaseState.CLOSED,
            CaseState.RATED,
            CaseState.REJECTED,
            CaseState.MERGED,
            CaseState.CANCELLED,
        ):
            self._clear_step()
        c.version += 1
        c.updated_at = at
        self._event(at, who, action, frm, to, note=note, **extra)
        return True

    def finish(self) -> None:
        """Bring the case up to now: escalations so far, reminders already sent."""
        c = self.case
        self.escalate_until(self.gen.now)
        if c.remind_at is not None and c.remind_at <= self.gen.now:
            c.remind_at = None  # the reminder went out
        open_until = c.closed_at or c.ended_at or datetime.max.replace(tzinfo=SHANGHAI)
        key = (c.matter_type_id, self.area.community)
        self.gen.latest[key] = (self.plan.index, c.reported_at, open_until)


def generate(
    *, plan: CityPlan, count: int, seed: int, now: datetime, calendar: WorkCalendar
) -> list[_Plan]:
    """Plan ``count`` cases in memory (no writes)."""
    from wangge.geo.locator import LocatorIndex

    gen = _Generator(seed=seed, now=now, calendar=calendar)
    gen.load(plan)
    arrivals = gen.arrivals(count)
    points = gen.points(count)
    index = LocatorIndex.from_database()
    ids = index.locate_ids([p[0] for p in points], [p[1] for p in points], max_distance_m=50.0)
    plans: list[_Plan] = []
    for at, point, leaf in zip(arrivals, points, ids, strict=True):
        if int(leaf) not in gen.regions:  # pragma: no cover - every point is drawn inside
            continue
        plans.append(gen.plan_case(len(plans), at, (point[0], point[1]), int(leaf)))
    return plans


def write(plans: list[_Plan]) -> CaseLoadResult:
    """Bulk-write planned cases and everything that hangs off them."""
    ts = [Case._meta.get_field(name) for name in ("created_at", "updated_at")]
    with _stored_timestamps(*ts):
        Case.objects.bulk_create([p.case for p in plans], batch_size=BATCH)
    merged = []
    for p in plans:
        if p.merge_into is not None:
            p.case.duplicate_of_id = plans[p.merge_into].case.pk
            merged.append(p.case)
    Case.objects.bulk_update(merged, ["duplicate_of"], batch_size=BATCH)
    events: list[CaseEvent] = []
    escalations, requests, suspensions = [], [], []
    for p in plans:
        for e in p.events:
            e.case_id = p.case.pk
            if e.action == "merge" and p.merge_into is not None:
                target = plans[p.merge_into].case
                e.data = {**e.data, "duplicate_of": target.tracking_code}
                # As case_merge does: a note on the main case, outside its state changes.
                events.append(
                    CaseEvent(
                        case_id=target.pk,
                        created_at=e.created_at,
                        actor_id=e.actor_id,
                        actor_name=e.actor_name,
                        action="merged_in",
                        note=f"合并了重复件 {p.case.tracking_code}",
                    )
                )
        events += p.events
        for row in (*p.escalations, *p.supervisions, *p.requests):
            row.case_id = p.case.pk  # type: ignore[attr-defined]
        escalations += p.escalations
        requests += p.requests
    CaseEvent.objects.bulk_create(events, batch_size=BATCH)
    Escalation.objects.bulk_create(escalations, batch_size=BATCH)
    supervisions = []
    for p in plans:
        for esc, sup in zip(p.escalations, p.supervisions, strict=True):
            sup.escalation_id = esc.pk
            supervisions.append(sup)
    Supervision.objects.bulk_create(supervisions, batch_size=BATCH)
    CaseRequest.objects.bulk_create(requests, batch_size=BATCH)
    for p in plans:
        for s, req in zip(
            p.suspensions,
            [r for r in p.requests if r.kind == RequestKind.SUSPEND],
            strict=False,
        ):
            s.case_id = p.case.pk
            s.request_id = req.pk
            suspensions.append(s)
    Suspension.objects.bulk_create(suspensions, batch_size=BATCH)
    states: dict[str, int] = {}
    for p in plans:
        states[p.case.state] = states.get(p.case.state, 0) + 1
    return CaseLoadResult(
        cases=len(plans),
        events=len(events),
        escalations=len(escalations),
        states=dict(sorted(states.items())),
    )


def cases_load(
    *, plan: CityPlan, seed: int, small: bool, now: datetime | None = None
) -> CaseLoadResult:
    """Generate and write the demo history, then a few cases through the real services."""
    from wangge.cases.deadlines import load_calendar

    now = now or timezone.now()
    today = timezone.localtime(now, SHANGHAI).date()
    calendar = full_calendar(
        load_calendar(), today - timedelta(days=DAYS + 10), today + timedelta(days=400)
    )
    count = CASES_SMALL if small else CASES_FULL
    plans = generate(plan=plan, count=count, seed=seed, now=now, calendar=calendar)
    result = write(plans)
    result.live = len(live_cases(plan=plan))
    return result


def demo_cases_delete(district: Region) -> int:
    """Delete the demo's cases in ``district`` (those the demo filed, by their client key)."""
    qs = Case.objects.filter(
        region_path__startswith=district.path, client_key__startswith=CLIENT_KEY_PREFIX
    )
    Case.objects.filter(duplicate_of__in=qs).update(duplicate_of=None)
    deleted, _ = qs.delete()
    return deleted


# --- through the real services -------------------------------------------------------------

# A 1×1 PNG: the after-photo that ``handle`` requires.
_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201"
    "e2215bc40000000049454e44ae426082"
)


def live_cases(*, plan: CityPlan) -> list[Case]:
    """Three cases through ``case_create`` and ``case_transition``, as a user would: an
    on-the-spot patrol fix, a resident's report walked to a rating, and a street-level matter
    left with 城管执法局 in progress (for the ``dept`` login)."""
    from wangge.accounts.models import User
    from wangge.cases.services import attachment_add, case_create, case_transition

    from .departments import DEPT_LOGIN_DEPARTMENT
    from .users import anchors

    users = {u.username: u for u in User.objects.filter(username__in=LIVE_LOGINS)}
    if set(users) != set(LIVE_LOGINS):
        return []
    grid = anchors(plan)["grid"].geom
    assert grid is not None
    point = grid.representative_point()
    lon, lat = round(point.x, 6), round(point.y, 6)
    seed = plan.seed
    done: list[Case] = []

    spot = case_create(
        actor=users["gridworker"],
        source=Source.PATROL,
        title="楼道堆放杂物",
        description="3幢楼道堆放纸箱杂物，已现场清理。",
        lon=lon,
        lat=lat,
        matter_type_code="06036",
        on_spot_result="已劝导住户清理楼道杂物，现场恢复通畅。",
        client_key=f"{CLIENT_KEY_PREFIX}live-{seed}-1",
    ).case
    done.append(spot)

    resident = users["resident"]
    case = case_create(
        actor=resident,
        source=Source.RESIDENT,
        title="小区东门暴露垃圾",
        description="东门垃圾堆放两天没人清理，气味很大。",
        lon=lon,
        lat=lat,
        reporter_phone="13900000001",
        client_key=f"{CLIENT_KEY_PREFIX}live-{seed}-2",
    ).case

    def step(actor: Any, action: str, **data: Any) -> None:
        nonlocal case
        case = case_transition(
            actor=actor, case=case, action=action, expected_version=case.version, **data
        )

    step(users["dispatcher"], "accept", matter_type="06010")
    step(users["dispatcher"], "dispatch", assignee=users["gridworker"].pk)
    step(users["gridworker"], "claim")
    attachment_add(actor=users["gridworker"], case=case, kind="after", content=_PNG)
    step(
        users["gridworker"],
        "handle",
        result="已联系保洁清运，现场清理干净。",
        checkin_lon=lon,
        checkin_lat=lat,
    )
    step(users["gridworker"], "verify")
    step(users["dispatcher"], "close")
    step(resident, "rate", score=5, reason="处理很及时。")
    done.append(case)

    noise = case_create(
        actor=users["dispatcher"],
        source=Source.HOTLINE,
        title="夜间噪声扰民",
        description="沿街酒吧每晚十一点后仍播放音乐，噪声很大。",
        lon=lon,
        lat=lat,
        matter_type_code="06028",
        reporter_name="王先生",
        reporter_phone="13512345678",
        client_key=f"{CLIENT_KEY_PREFIX}live-{seed}-3",
    ).case
    case = noise
    department = Department.objects.get(code=DEPT_LOGIN_DEPARTMENT)
    step(users["dispatcher"], "accept")
    step(users["dispatcher"], "dispatch", department=department.pk)
    step(users["dept"], "claim")
    done.append(case)
    return done


LIVE_LOGINS = ("gridworker", "dispatcher", "resident", "dept")
