"""Demo registers: generated households and people (valid, generated ID numbers under the demo
district code 320508 with correct check digits), buildings and houses, organisations,
components, care plans and a visit history — deterministic for a seed, written with
``bulk_create`` and encrypted like real data (through the same ``services.build_*`` builders,
so every generated row passes the validation an import applies)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from stdnum.cn import ric, uscc

from wangge.accounts.models import User
from wangge.geo.choices import Level
from wangge.geo.models import Region
from wangge.registers.models import (
    Building,
    CarePlan,
    Component,
    House,
    Household,
    Organisation,
    Person,
    SensitiveGroupCount,
    Tenancy,
    Visit,
)
from wangge.registers.services import (
    build_component,
    build_house,
    build_organisation,
    build_person,
)

from .city import DISTRICT
from .names import SURNAMES, person_name

FULL_PEOPLE = 52_000
SMALL_PEOPLE = 240
ETHNIC = ["汉族"] * 96 + ["回族", "满族", "蒙古族", "壮族"]
COMPONENT_CLASSES = [
    ("01001", "供水井盖"), ("01002", "污水井盖"), ("01003", "雨水井盖"), ("01037", "路灯"),
    ("01013", "消防设施"), ("01050", "监控电子眼"), ("02001", "停车场"), ("01046", "户外健身设施"),
]  # fmt: skip
COMPONENT_STATUS = ["intact"] * 17 + ["damaged", "lost", "abandoned"]
SENSITIVE = ["key_youth", "released", "correction", "mental", "drug"]
ORG_KINDS = ["enterprise", "enterprise", "individual", "individual", "social", "institution"]
INDUSTRIES = ["餐饮", "零售", "物业管理", "教育培训", "医疗", "美容美发", "快递物流", "软件"]


class _Ids:
    """Unique, valid resident IDs: 320508 + birth date + sequence + check digit."""

    def __init__(self) -> None:
        self.used: Counter[date] = Counter()

    def make(self, birth: date, male: bool) -> str:
        n = self.used[birth]
        self.used[birth] += 1
        seq = n * 2 + (1 if male else 0)  # the 17th digit's parity is the sex
        if seq > 999:
            raise ValueError("sequence overflow")
        body = f"{DISTRICT[0]}{birth:%Y%m%d}{seq:03d}"
        return body + ric.calc_check_digit(body + "0")


def _birth(rng: random.Random, low: int, high: int) -> date:
    start = date(low, 1, 1)
    return start + timedelta(days=rng.randrange((date(high, 12, 31) - start).days))


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def registers_load(*, seed: int, small: bool) -> dict[str, int]:
    """Generate the registers for every demo grid (under the demo district)."""
    rng = random.Random(seed * 7 + 4)
    district = Region.objects.get(code=DISTRICT[0])
    grids = list(
        Region.objects.filter(path__startswith=district.path, level=Level.GRID).order_by("code")
    )
    if not grids:
        return {}
    target = SMALL_PEOPLE if small else FULL_PEOPLE
    per_grid = max(4, target // len(grids))
    ids = _Ids()
    today = timezone.localdate()
    now = timezone.now()
    buildings: list[Building] = []
    houses: list[House] = []
    households: list[Household] = []
    people: list[tuple[Person, int, int]] = []  # person, household index, house index
    orgs: list[Organisation] = []
    components: list[Component] = []
    sensitive: Counter[tuple[int, str]] = Counter()
    serial = 0
    for g_index, grid in enumerate(grids):
        lon0 = grid.center_lon or 120.62
        lat0 = grid.center_lat or 31.31
        count = 0
        b_no = 0
        while count < per_grid:
            b_no += 1
            building = Building(
                grid=grid,
                region_path=grid.path,
                code=f"{grid.code}B{b_no:03d}",
                name=f"{b_no}幢",
                address=f"{grid.name}{b_no}幢",
                floors=rng.choice((6, 6, 7, 11, 18)),
                build_year=rng.randrange(1985, 2020),
                lon=lon0 + rng.uniform(-0.002, 0.002),
                lat=lat0 + rng.uniform(-0.002, 0.002),
            )
            buildings.append(building)
            for unit in range(1, 3):
                for room_no in range(1, 7):
                    if count >= per_grid:
                        break
                    floor = (room_no + 1) // 2
                    rented = rng.random() < 0.18
                    hazards = ["group_rental"] if rented and rng.random() < 0.1 else []
                    if rng.random() < 0.02:
                        hazards.append("fire")
                    house = build_house(
                        building=building,
                        code=f"{building.code}{unit}{floor:02d}{room_no:02d}",
                        unit=f"{unit}单元",
                        floor=floor,
                        room=f"{floor}0{2 - room_no % 2}",
                        use="residential",
                        ownership=rng.choice(("private", "private", "private", "public")),
                        area_m2=rng.randrange(45, 140),
                        rental_status="rented" if rented else "owner_occupied",
                        hazards=hazards,
                    )
                    houses.append(house)
                    h_index = len(houses) - 1
                    household = Household(
                        grid=grid,
                        region_path=grid.path,
                        household_no=f"{grid.code}{b_no:03d}{unit}{room_no:02d}",
                        address=house.address,
                    )
                    households.append(household)
                    hh_index = len(households) - 1
                    members = _household_members(rng, today)
                    surname = rng.choice(SURNAMES)
                    for relation, birth, male, flags in members:
                        name = (
                            surname + person_name(rng)[1:]
                            if relation != "spouse"
                            else person_name(rng)
                        )
                        groups: dict[str, dict[str, Any]] = {}
                        if relation == "head" and 1960 < birth.year < 2005 and rng.random() < 0.012:
                            groups = {rng.choice(SENSITIVE): {}}
                        person = build_person(
                            grid=grid,
                            name=name,
                            id_number=ids.make(birth, male),
                            ethnicity=rng.choice(ETHNIC),
                            phone=_phone(rng) if birth.year < 2008 else "",
                            relation=relation,
                            registered_address="江苏省苏州市姑苏区"
                            if not flags.get("floating")
                            else "安徽省阜阳市",
                            current_address=house.address,
                            registration_matches=not flags.get("floating"),
                            flags=flags,
                            arrival_date=_birth(rng, 2015, 2025) if flags.get("floating") else None,
                            sensitive=groups,
                        )
                        for group in groups:
                            sensitive[(g_index, group)] += 1
                        people.append((person, hh_index, h_index))
                        count += 1
        for o in range(1 if small else 2):
            serial += 1
            body = f"91{DISTRICT[0]}MA{serial:07d}"
            orgs.append(
                build_organisation(
                    grid=grid,
                    credit_code=body + uscc.calc_check_digit(body),
                    name=f"苏州{rng.choice(INDUSTRIES)}{grid.code[-5:]}{o}有限公司",
                    kind=rng.choice(ORG_KINDS),
                    industry=rng.choice(INDUSTRIES),
                    address=f"{grid.name}沿街{o + 1}号",
                    contact_name=person_name(rng),
                    contact_phone=_phone(rng),
                    employees=rng.randrange(2, 80),
                    lon=lon0 + rng.uniform(-0.002, 0.002),
                    lat=lat0 + rng.uniform(-0.002, 0.002),
                )
            )
        for c in range(2 if small else 4):
            serial += 1
            code, name = rng.choice(COMPONENT_CLASSES)
            components.append(
                build_component(
                    grid=grid,
                    identifier=f"{grid.code[:6]}{code}{serial:06d}",
                    class_code=code,
                    class_name=name,
                    name=f"{name}{c + 1}",
                    lon=lon0 + rng.uniform(-0.002, 0.002),
                    lat=lat0 + rng.uniform(-0.002, 0.002),
                    status=rng.choice(COMPONENT_STATUS),
                    managing_department="区市政管理处",
                    maintenance_unit="姑苏区市政养护公司",
                )
            )
    with transaction.atomic():
        Building.objects.bulk_create(buildings, batch_size=1000)
        for house in houses:
            house.building = house.building  # set building_id now that buildings have keys
        House.objects.bulk_create(houses, batch_size=1000)
        for household, house in zip(households, houses, strict=True):
            household.house = house
        Household.objects.bulk_create(households, batch_size=1000)
        persons = []
        for person, hh_index, h_index in people:
            person.household = households[hh_index]
            person.house = houses[h_index]
            persons.append(person)
        Person.objects.bulk_create(persons, batch_size=1000)
        Organisation.objects.bulk_create(orgs, batch_size=1000)
        Component.objects.bulk_create(components, batch_size=1000)
        SensitiveGroupCount.objects.bulk_create(
            [
                SensitiveGroupCount(grid=grids[g], region_path=grids[g].path, group=group, count=n)
                for (g, group), n in sensitive.items()
            ]
        )
        tenancies = [
            Tenancy(house=houses[h], person=p, start_date=today - timedelta(days=200))
            for p, _hh, h in people
            if houses[h].rental_status == "rented" and p.relation == "head"
        ]
        Tenancy.objects.bulk_create(tenancies, batch_size=1000)
        for group, days in (("elderly_alone", 7), ("advanced_age", 30)):
            CarePlan.objects.get_or_create(
                region=district,
                group=group,
                defaults={"region_path": district.path, "interval_days": days},
            )
        visits = _visits(rng, persons, now)
    return {
        "people": len(persons),
        "households": len(households),
        "buildings": len(buildings),
        "houses": len(houses),
        "organisations": len(orgs),
        "components": len(components),
        "visits": visits,
    }


def _household_members(rng: random.Random, today: date) -> list[tuple[str, date, bool, dict]]:
    """(relation, birth date, male, flags) for a plausible household."""
    roll = rng.random()
    if roll < 0.06:  # an elderly person living alone
        return [("head", _birth(rng, 1932, 1955), rng.random() < 0.4, {"elderly_alone": True})]
    floating = rng.random() < 0.15
    head_birth = _birth(rng, 1945, 1998)
    male = rng.random() < 0.55
    extra = {
        "floating": floating,
        "low_income": rng.random() < 0.03,
        "disabled": rng.random() < 0.02,
        "veteran": male and rng.random() < 0.04,
    }
    members = [("head", head_birth, male, extra)]
    if rng.random() < 0.75:
        members.append(("spouse", _birth(rng, head_birth.year - 3, head_birth.year + 3), not male,
                        {"floating": floating}))  # fmt: skip
    for _ in range(rng.choice((0, 1, 1, 2))):
        child_year = min(today.year - 1, head_birth.year + rng.randrange(22, 36))
        members.append(("child", _birth(rng, child_year, child_year), rng.random() < 0.5,
                        {"floating": floating}))  # fmt: skip
    if head_birth.year > 1970 and rng.random() < 0.15:
        members.append(("parent", _birth(rng, 1935, 1950), rng.random() < 0.5, {}))
    return members


def _visits(rng: random.Random, people: list[Person], now: Any) -> int:
    visitor = (
        User.objects.filter(username="gridworker").first() or User.objects.order_by("pk").first()
    )
    if visitor is None:
        return 0
    visits = []
    last: dict[int, Any] = {}
    cutoff = date(now.year - 80, now.month, min(now.day, 28))
    for person in people:
        if not (person.is_elderly_alone or (person.birth_date and person.birth_date <= cutoff)):
            continue
        for _ in range(rng.choice((0, 1, 2, 3))):
            when = now - timedelta(days=rng.uniform(0, 60))
            visits.append(
                Visit(
                    kind="visit",
                    visitor=visitor,
                    visited_at=when,
                    person=person,
                    grid_id=person.grid_id,
                    region_path=person.region_path,
                    notes=rng.choice(
                        ("身体状况良好", "提醒按时服药", "协助联系社区医生", "家中整洁")
                    ),
                    distance_m=round(rng.uniform(2, 60), 1),
                )
            )
            last[person.pk] = max(last.get(person.pk, when), when)
    Visit.objects.bulk_create(visits, batch_size=1000)
    updates = [Person(pk=pk, last_visit_at=when) for pk, when in last.items()]
    Person.objects.bulk_update(updates, ["last_visit_at"], batch_size=1000)
    return len(visits)


def demo_registers_delete(district: Region) -> None:
    """Delete the registers under the demo district (before its regions go)."""
    scope = {"region_path__startswith": district.path}
    Visit.objects.filter(**scope).delete()
    Tenancy.objects.filter(house__region_path__startswith=district.path).delete()
    Person.objects.filter(**scope).delete()
    Household.objects.filter(**scope).delete()
    House.objects.filter(**scope).delete()
    Organisation.objects.filter(**scope).delete()
    Component.objects.filter(**scope).delete()
    Building.objects.filter(**scope).delete()
    SensitiveGroupCount.objects.filter(**scope).delete()
    CarePlan.objects.filter(**scope).delete()
