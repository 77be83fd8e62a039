"""Driving cases through the real services for analytics tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from wangge.cases.models import Case
from wangge.cases.services import attachment_add, case_create, case_transition
from wangge.cases.tests.factories import PNG, centre

SH = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def report(
    world: Any, *, now: datetime, matter: str = "91001", grid: Any = None, **kw: Any
) -> Case:
    """A case filed by the district commander through intake (``case.created`` fires)."""
    lon, lat = centre(grid or world.grid)
    kw.setdefault("source", "hotline")
    return case_create(
        actor=world.commander,
        title="测试问题",
        lon=lon,
        lat=lat,
        matter_type_code=matter,
        now=now,
        **kw,
    ).case


def act(actor: Any, case: Case, action: str, now: datetime, **data: Any) -> Case:
    case.refresh_from_db()
    if action == "handle":
        attachment_add(actor=actor, case=case, kind="after", content=PNG)
        case.refresh_from_db()
    return case_transition(
        actor=actor, case=case, action=action, expected_version=case.version, now=now, **data
    )


def walk(
    world: Any, case: Case, steps: list[tuple[str, float, dict[str, Any]]], start: datetime
) -> Case:
    """Apply ``(action, hours after start, data)`` steps as the district commander (who may do
    everything in the area)."""
    for action, hours, data in steps:
        case = act(world.commander, case, action, start + timedelta(hours=hours), **data)
    return case
