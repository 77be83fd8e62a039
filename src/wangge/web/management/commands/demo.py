"""`wangge demo`: build the deterministic demo city (姑苏区), its demo logins, functional
departments and a year of case history."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wangge.cases.choices import CaseState
from wangge.core.exceptions import Conflict
from wangge.demo.city import DEFAULT_SEED, DISTRICT
from wangge.demo.services import demo_load, demo_logins
from wangge.demo.users import DEMO_PASSWORD
from wangge.geo.choices import LEVEL_ORDER

LEVEL_LABELS = {
    "province": "省",
    "city": "市",
    "county": "区县",
    "street": "街道",
    "community": "社区",
    "grid": "网格",
    "micro_grid": "微网格",
}


class Command(BaseCommand):
    help = (
        "生成演示城市（苏州市姑苏区：街道、社区、网格、微网格、各角色演示账号、职能部门"
        "及近一年的事件记录）。"
        "已加载时不做任何改动；--force 仅删除并重建演示数据。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help=f"随机种子（默认 {DEFAULT_SEED}）"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="删除并重建演示区与演示账号（区内有非演示数据时拒绝）",
        )
        parser.add_argument(
            "--small",
            action="store_true",
            help="小规模版本：1个街道、2个社区、8个网格、约200件事件（用于测试）",
        )
        parser.add_argument(
            "--no-cases", action="store_true", help="不生成历史事件（只建区域、账号和部门）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = demo_load(
                seed=options["seed"],
                small=options["small"],
                force=options["force"],
                cases=not options["no_cases"],
            )
        except Conflict as exc:
            raise CommandError(exc.message) from exc
        if not result.created:
            self.stdout.write(
                f"演示城市已加载（{DISTRICT[1]} {DISTRICT[0]}），未做改动。如需重建请使用 --force。"
            )
            write_logins(self.stdout)
            return
        verb = "已重建" if result.rebuilt else "已生成"
        self.stdout.write(
            self.style.SUCCESS(
                f"演示城市{verb}：{DISTRICT[1]}（种子 {result.seed}"
                f"{'，小规模' if result.small else ''}），用时 {result.seconds:.1f} 秒。"
            )
        )
        counts = "，".join(
            f"{LEVEL_LABELS[level.value]} {result.counts.get(level.value, 0)}"
            for level in LEVEL_ORDER
        )
        self.stdout.write(f"区域：{counts}")
        self.stdout.write(
            f"账号：{result.users} 个（含网格员、社区书记、街道调度员、部门处置人员）"
        )
        self.stdout.write(f"职能部门：{result.departments} 个")
        if result.cases:
            states = "，".join(f"{CaseState(s).label} {n}" for s, n in result.case_states.items())
            self.stdout.write(
                f"事件：{result.cases} 件（近一年；{states}；超时升级 {result.escalations} 次）"
            )
        write_logins(self.stdout)


def write_logins(out: Any) -> None:
    """Print the demo logins as stored in this database (used by `wangge run` too)."""
    logins = demo_logins()
    if not logins:
        return
    out.write(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
    width = max(_display_width(login.role) for login in logins)
    for login in logins:
        pad = " " * (width - _display_width(login.role))
        out.write(f"  {login.username:<12} {login.role}{pad}  {login.region}")
    out.write("  网格员也可用手机号 13800000001 登录，居民可用 13900000001 登录。")


def _display_width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
