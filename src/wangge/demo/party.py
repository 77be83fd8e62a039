"""The demo party layer: a 街道党工委 per street, a 社区大党委 per community, a 网格党支部 per
grid (each with a secretary), ≥ 3,000 members with specialties and weekly time slots, 双报到
records, half a year of 主题党日 with attendance and points, and a service-order history with its
time-bank transfers — written with ``bulk_create`` (deterministic for a seed).

Members are adults of the registers demo in their grid; where a grid has too few (the
``--small`` registers), stand-in ``registers.Person`` rows marked ``registered_address =
DEMO_MARK`` make up the shortfall (and are deleted with the party demo). The demo login
``party`` is the member with the busiest history in the first grid; ``secretary`` dispatches
in 新星社区.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F
from django.utils import timezone

from wangge.accounts.models import User
from wangge.geo.choices import Level
from wangge.geo.models import Region
from wangge.registers.models import Person

from ..party.choices import (
    ActivityKind,
    ActivityState,
    CheckinMethod,
    DualReportState,
    OrderState,
    OrgKind,
    PointEvent,
    Position,
    Specialty,
    TransferKind,
)
from ..party.models import (
    Activity,
    Attendance,
    DualReport,
    PartyMember,
    PartyOrg,
    PointEntry,
    PointRule,
    ServiceOrder,
    ServiceOrderEvent,
    TimeAccount,
    TimeEntry,
    TimeTransfer,
)
from . import names
from .city import rng_for

DEMO_MARK = "演示数据(党建)"
MEMBERS_FULL = 3200
MEMBERS_PER_GRID_SMALL = 6
ORDERS_FULL = 4000
ORDERS_SMALL = 60
DAYS = 180
BATCH = 1000
SPECIALTIES = list(Specialty.values)
SPEC_WEIGHTS = [4, 6, 10, 14, 4, 10, 16, 14, 16, 6]


@dataclass
class PartyLoadResult:
    orgs: int = 0
    members: int = 0
    dual_reports: int = 0
    activities: int = 0
    orders: int = 0
    transfers: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def _bulk(model: Any, rows: list[Any]) -> list[Any]:
    return model.objects.bulk_create(rows, batch_size=BATCH)


def _orgs(district: Region) -> tuple[dict[int, PartyOrg], dict[int, PartyOrg]]:
    """Street committees, community committees and grid branches; (community → committee,
    grid → branch)."""
    regions = list(
        Region.objects.filter(
            path__startswith=district.path, level__in=[Level.STREET, Level.COMMUNITY, Level.GRID]
        ).order_by("path")
    )
    by_level: dict[str, list[Region]] = {Level.STREET: [], Level.COMMUNITY: [], Level.GRID: []}
    for r in regions:
        by_level[r.level].append(r)
    made: dict[int, PartyOrg] = {}
    spec = [
        (Level.STREET, OrgKind.STREET_COMMITTEE, "党工委", "DS"),
        (Level.COMMUNITY, OrgKind.COMMUNITY_COMMITTEE, "党委", "DC"),
        (Level.GRID, OrgKind.GRID_BRANCH, "党支部", "DG"),
    ]
    for level, kind, suffix, prefix in spec:
        rows = [
            PartyOrg(
                kind=kind,
                code=f"{prefix}{r.code}",
                name=f"{r.name}{suffix}",
                region=r,
                region_path=r.path,
                parent=made.get(r.parent_id or 0),
                is_big_committee=kind == OrgKind.COMMUNITY_COMMITTEE,
                start_date=timezone.localdate() - timedelta(days=3 * 365),
            )
            for r in by_level[level]
        ]
        _bulk(PartyOrg, rows)
        ids = dict(
            PartyOrg.objects.filter(code__in=[o.code for o in rows]).values_list("code", "pk")
        )
        for row in rows:
            row.pk = ids[row.code]
            made[row.region_id] = row
    committees = {r.pk: made[r.pk] for r in by_level[Level.COMMUNITY]}
    branches = {r.pk: made[r.pk] for r in by_level[Level.GRID]}
    return committees, branches


def _slots(rng: Any) -> list[list[int]]:
    slots = []
    for day in range(7):
        if rng.random() < 0.55:
            start = rng.choice([8, 9, 14, 15, 18]) * 60
            slots.append([day, start, min(1440, start + rng.choice([2, 3, 4]) * 60)])
    return slots or [[5, 9 * 60, 12 * 60]]


def party_load(
    *, district: Region, seed: int, small: bool, now: datetime | None = None
) -> PartyLoadResult:
    now = now or timezone.now()
    rng = rng_for(seed, "party", district.code)
    result = PartyLoadResult()
    committees, branches = _orgs(district)
    result.orgs = PartyOrg.objects.filter(region_path__startswith=district.path).count()
    grids = list(Region.objects.filter(pk__in=branches).order_by("path"))
    per_grid = (
        MEMBERS_PER_GRID_SMALL if small else max(1, math.ceil(MEMBERS_FULL / max(1, len(grids))))
    )

    # People and members: adults (18–75) of the registers demo in each grid; a grid with fewer
    # (the --small registers) gets marked stand-ins for the shortfall.
    today = timezone.localdate(now)
    adults = (
        Person.objects.filter(
            grid__in=grids,
            erased_at__isnull=True,
            birth_date__lte=today.replace(year=today.year - 18),
            birth_date__gte=today.replace(year=today.year - 75),
        )
        .order_by("grid_id", "id")
        .only("id", "grid_id", "name")
    )
    by_grid: dict[int, list[Person]] = {}
    for person in adults:
        found = by_grid.setdefault(person.grid_id, [])
        if len(found) < per_grid:
            found.append(person)
    people: list[Person] = []
    standins: list[Person] = []
    for grid in grids:
        chosen = by_grid.get(grid.pk, [])
        for _k in range(per_grid - len(chosen)):
            chosen.append(
                Person(
                    grid=grid,
                    region_path=grid.path,
                    name=names.person_name(rng),
                    sex=rng.choice(["male", "female"]),
                    registered_address=DEMO_MARK,
                )
            )
            standins.append(chosen[-1])
        people.extend(chosen)
    _bulk(Person, standins)
    if any(p.pk is None for p in people):  # pragma: no cover - backends without RETURNING
        raise RuntimeError("bulk_create did not return primary keys")
    members: list[PartyMember] = []
    for k, person in enumerate(people):
        grid = grids[k // per_grid]
        lon = (grid.min_lon or 120.6) + rng.random() * (
            (grid.max_lon or 120.6) - (grid.min_lon or 120.6)
        )
        lat = (grid.min_lat or 31.3) + rng.random() * (
            (grid.max_lat or 31.3) - (grid.min_lat or 31.3)
        )
        count = rng.choice([1, 1, 2, 2, 3])
        specs = sorted(set(rng.choices(SPECIALTIES, weights=SPEC_WEIGHTS, k=count)))
        members.append(
            PartyMember(
                person=person,
                branch=branches[grid.pk],
                region_path=grid.path,
                position=Position.SECRETARY if k % per_grid == 0 else Position.MEMBER,
                joined_party_on=(now - timedelta(days=rng.randint(365, 40 * 365))).date(),
                in_service=rng.random() < 0.3,
                work_unit_name=rng.choice(
                    ["区税务局", "区人民医院", "第一实验小学", "苏州供电公司", ""]
                ),
                specialties=specs,
                availability=_slots(rng),
                capacity=rng.choice([1, 2, 2, 3]),
                lon=lon,
                lat=lat,
            )
        )
    _bulk(PartyMember, members)
    if any(m.pk is None for m in members):  # pragma: no cover
        by_person = dict(
            PartyMember.objects.filter(person__in=people).values_list("person_id", "pk")
        )
        for m in members:
            m.pk = by_person[m.person_id]
    result.members = len(members)
    for m in members:
        if m.position == Position.SECRETARY:
            m.branch.secretary_id = m.pk
    PartyOrg.objects.bulk_update(list(branches.values()), ["secretary"], batch_size=BATCH)
    demo_party = User.objects.filter(username="party").first()
    if demo_party is not None and members:
        PartyMember.objects.filter(pk=members[1].pk).update(user=demo_party)

    # 双报到: most in-service members report to a community (often where they live).
    community_list = list(committees)
    regions = {r.pk: r for r in Region.objects.filter(pk__in=community_list)}
    reports = []
    state: str
    for m in members:
        if not m.in_service or rng.random() > 0.7:
            continue
        community = regions[rng.choice(community_list)]
        state = rng.choices(
            [
                DualReportState.REPORTED,
                DualReportState.APPROVED,
                DualReportState.REQUESTED,
                DualReportState.REJECTED,
            ],
            weights=[70, 10, 15, 5],
        )[0]
        asked = now - timedelta(days=rng.randint(1, DAYS))
        reports.append(
            DualReport(
                member=m,
                community=community,
                region_path=community.path,
                state=state,
                work_unit_name=m.work_unit_name,
                commitments=rng.sample(
                    [
                        "每月参加一次志愿服务",
                        "结对帮扶一户困难家庭",
                        "提供专业咨询",
                        "参与文明创建",
                    ],
                    2,
                ),
                requested_at=asked,
                decided_at=asked + timedelta(days=2)
                if state != DualReportState.REQUESTED
                else None,
                reported_on=(asked + timedelta(days=7)).date()
                if state == DualReportState.REPORTED
                else None,
                decision_note="请先向单位党组织报备" if state == DualReportState.REJECTED else "",
            )
        )
    _bulk(DualReport, reports)
    result.dual_reports = len(reports)

    # Activities: a 主题党日 every month per branch, attended by most members.
    from ..party.services.points import point_rules_ensure_defaults

    point_rules_ensure_defaults()
    rules = dict(PointRule.objects.values_list("event", "pk"))
    points_of = dict(PointRule.objects.values_list("event", "points"))
    by_branch: dict[int, list[PartyMember]] = {}
    for m in members:
        by_branch.setdefault(m.branch.pk, []).append(m)
    activities = []
    months = 2 if small else 6
    for branch in branches.values():
        for month in range(months):
            start = (now - timedelta(days=30 * month + 10)).replace(
                hour=2, minute=0, second=0, microsecond=0
            )
            activities.append(
                Activity(
                    branch=branch,
                    region_path=branch.region_path,
                    kind=ActivityKind.THEME_DAY if month % 2 == 0 else ActivityKind.STUDY,
                    title=f"{timezone.localtime(start).month}月主题党日"
                    if month % 2 == 0
                    else "理论学习",
                    starts_at=start,
                    ends_at=start + timedelta(hours=2),
                    location="社区党群服务中心",
                    checkin_code=secrets.token_urlsafe(12),
                    credit_minutes=120,
                    state=ActivityState.HELD,
                    minutes_text="传达学习上级精神，讨论网格服务安排。",
                )
            )
    _bulk(Activity, activities)
    attendance = []
    points = []
    for a in activities:
        for m in by_branch.get(a.branch.pk, []):
            if rng.random() < 0.75:
                attendance.append(
                    Attendance(
                        activity=a,
                        member=m,
                        method=CheckinMethod.QR,
                        checked_in_at=a.starts_at,
                        minutes=120,
                    )
                )
                points.append(
                    PointEntry(
                        member=m,
                        rule_id=rules.get(PointEvent.ATTEND_ACTIVITY),
                        event=PointEvent.ATTEND_ACTIVITY,
                        points=points_of.get(PointEvent.ATTEND_ACTIVITY, 0),
                        reason=f"参加“{a.title}”",
                        source_type="activity",
                        source_id=str(a.pk),
                        created_at=a.starts_at,
                    )
                )
    _bulk(Attendance, attendance)
    result.activities = len(activities)

    # Service orders: mostly rated history, some open now.
    org_accounts = {
        b.pk: TimeAccount(kind="organisation", org=b, name=b.name, region_path=b.region_path)
        for b in branches.values()
    }
    _bulk(TimeAccount, list(org_accounts.values()))
    person_accounts: dict[int, TimeAccount] = {}
    total = ORDERS_SMALL if small else ORDERS_FULL
    orders, plans = [], []
    for k in range(total):
        m = members[1] if k % 25 == 0 else rng.choice(members)  # the demo login gets some
        category = rng.choice(m.specialties) if m.specialties else "errands"
        created = now - timedelta(days=rng.random() * DAYS)
        recent = (now - created) < timedelta(days=3)
        state = (
            rng.choice([OrderState.POSTED, OrderState.ASSIGNED, OrderState.ACCEPTED])
            if recent
            else (OrderState.RATED if rng.random() < 0.85 else OrderState.COMPLETED)
        )
        start = created + timedelta(hours=rng.randint(4, 48))
        minutes = rng.choice([30, 45, 60, 90, 120])
        done = state in (OrderState.COMPLETED, OrderState.RATED)
        helper = m if state != OrderState.POSTED else None
        rating = (
            rng.choices([5, 4, 3, 2], weights=[70, 20, 7, 3])[0]
            if state == OrderState.RATED
            else None
        )
        orders.append(
            ServiceOrder(
                code=f"FW{timezone.localtime(created):%Y%m%d}D{k:05d}",
                state=state,
                category=category,
                description=rng.choice(
                    [
                        "上门帮忙修理",
                        "陪同就医",
                        "代买生活用品",
                        "手机使用辅导",
                        "法律咨询",
                        "心理陪伴",
                        "理发",
                        "打扫卫生",
                    ]
                ),
                window_start=start,
                window_end=start + timedelta(hours=3),
                address=f"{rng.randint(1, 30)}幢{rng.randint(1, 6)}0{rng.randint(1, 4)}室",
                lon=m.lon,
                lat=m.lat,
                region_id=m.branch.region_id,
                region_path=m.region_path,
                branch=m.branch,
                contact_name=names.person_name(rng),
                member=helper,
                assigned_at=created + timedelta(hours=1) if helper else None,
                accepted_at=created + timedelta(hours=2)
                if state not in (OrderState.POSTED, OrderState.ASSIGNED)
                else None,
                checkin_at=start if done else None,
                checkout_at=start + timedelta(minutes=minutes) if done else None,
                completed_at=start + timedelta(minutes=minutes) if done else None,
                rated_at=start + timedelta(days=1) if rating else None,
                rating=rating,
                result="已完成服务" if done else "",
                service_minutes=minutes if done else 0,
                due_at=created + timedelta(hours=4)
                if state in (OrderState.POSTED, OrderState.ASSIGNED)
                else None,
                created_at=created,
            )
        )
        plans.append((m, done, minutes, rating))
    _bulk(ServiceOrder, orders)
    ServiceOrder.objects.filter(pk__in=[o.pk for o in orders]).update(updated_at=F("created_at"))
    events = []
    for o in orders:
        steps: list[tuple[str, str, str, Any]] = [("post", "", OrderState.POSTED, o.created_at)]
        if o.assigned_at:
            steps.append(("assign", OrderState.POSTED, OrderState.ASSIGNED, o.assigned_at))
        if o.accepted_at:
            steps.append(("accept", OrderState.ASSIGNED, OrderState.ACCEPTED, o.accepted_at))
        if o.checkin_at:
            steps.append(("check_in", OrderState.ACCEPTED, OrderState.IN_SERVICE, o.checkin_at))
            steps.append(("check_out", OrderState.IN_SERVICE, OrderState.COMPLETED, o.checkout_at))
        if o.rated_at:
            steps.append(("rate", OrderState.COMPLETED, OrderState.RATED, o.rated_at))
        events += [
            ServiceOrderEvent(
                order=o, created_at=at, actor_name="demo", action=a, from_state=f, to_state=t
            )
            for a, f, t, at in steps
        ]
    _bulk(ServiceOrderEvent, events)
    for m, done, _minutes, _rating in plans:
        if done and m.person_id not in person_accounts:
            person_accounts[m.person_id] = TimeAccount(
                kind="person", person_id=m.person_id, name=m.person.name, region_path=m.region_path
            )
    _bulk(TimeAccount, list(person_accounts.values()))
    transfers, balances = [], {a: 0 for a in [*org_accounts.values(), *person_accounts.values()]}
    for o, (m, done, minutes, rating) in zip(orders, plans, strict=True):
        if not done:
            continue
        debit, credit = org_accounts[m.branch.pk], person_accounts[m.person_id]
        transfers.append(
            TimeTransfer(
                kind=TransferKind.SERVICE,
                minutes=minutes,
                debit=debit,
                credit=credit,
                reason=f"服务订单{o.code}",
                order=o,
                created_at=o.completed_at or now,
            )
        )
        balances[debit] -= minutes
        balances[credit] += minutes
        points.append(
            PointEntry(
                member=m,
                rule_id=rules.get(PointEvent.COMPLETE_ORDER),
                event=PointEvent.COMPLETE_ORDER,
                points=points_of.get(PointEvent.COMPLETE_ORDER, 0),
                reason=f"完成服务订单{o.code}",
                source_type="order",
                source_id=str(o.pk),
                created_at=o.completed_at or now,
            )
        )
        if rating == 5:
            points.append(
                PointEntry(
                    member=m,
                    rule_id=rules.get(PointEvent.RATED_FIVE),
                    event=PointEvent.RATED_FIVE,
                    points=points_of.get(PointEvent.RATED_FIVE, 0),
                    reason=f"服务订单{o.code}获五星好评",
                    source_type="order",
                    source_id=str(o.pk),
                    created_at=o.rated_at or now,
                )
            )
    _bulk(TimeTransfer, transfers)
    entries = []
    for t in transfers:
        entries.append(
            TimeEntry(transfer=t, account=t.debit, minutes=-t.minutes, created_at=t.created_at)
        )
        entries.append(
            TimeEntry(transfer=t, account=t.credit, minutes=t.minutes, created_at=t.created_at)
        )
    _bulk(TimeEntry, entries)
    for account, balance in balances.items():
        account.balance = balance
    TimeAccount.objects.bulk_update(list(balances), ["balance"], batch_size=BATCH)
    _bulk(PointEntry, points)
    result.orders = len(orders)
    result.transfers = len(transfers)
    result.counts = {
        "orgs": result.orgs,
        "members": result.members,
        "dual_reports": result.dual_reports,
        "activities": result.activities,
        "attendance": len(attendance),
        "orders": result.orders,
        "time_transfers": result.transfers,
        "point_entries": len(points),
    }
    return result


def demo_party_delete(district: Region) -> None:
    """Delete the demo's party data in ``district`` (before its regions go)."""
    inside = {"region_path__startswith": district.path}
    orders = ServiceOrder.objects.filter(**inside)
    accounts = TimeAccount.objects.filter(**inside)
    TimeEntry.objects.filter(account__in=accounts).delete()
    TimeEntry.objects.filter(transfer__order__in=orders).delete()
    TimeTransfer.objects.filter(order__in=orders).delete()
    TimeTransfer.objects.filter(debit__in=accounts).delete()
    TimeTransfer.objects.filter(credit__in=accounts).delete()
    accounts.delete()
    members = PartyMember.objects.filter(**inside)
    PointEntry.objects.filter(member__in=members).delete()
    orders.delete()
    Activity.objects.filter(**inside).delete()
    DualReport.objects.filter(member__in=members).delete()
    DualReport.objects.filter(**inside).delete()
    PartyOrg.objects.filter(**inside).update(secretary=None)
    members.delete()
    for kind in (
        OrgKind.BUILDING_GROUP,
        OrgKind.GRID_BRANCH,
        OrgKind.TEMPORARY_BRANCH,
        OrgKind.JOINT_BRANCH,
        OrgKind.FLOATING_BRANCH,
        OrgKind.COMMUNITY_COMMITTEE,
        OrgKind.STREET_COMMITTEE,
    ):
        PartyOrg.objects.filter(kind=kind, **inside).delete()
    Person.objects.filter(registered_address=DEMO_MARK, **inside).delete()
