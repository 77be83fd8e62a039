from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Analytics tools: `wangge analytics rebuild-rollups` recomputes the case rollups from the "
        "raw cases, prints any difference and replaces them; `wangge analytics hotspots` lists "
        "rising grid × matter combinations."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        rebuild = sub.add_parser("rebuild-rollups", help="rebuild rollups from the raw cases")
        rebuild.add_argument("--check", action="store_true", help="report differences only")
        rebuild.add_argument("--samples", type=int, default=20, help="differing rows to print")
        hot = sub.add_parser("hotspots", help="rising grid × matter type this week")
        hot.add_argument("--area", required=True, help="region code")
        hot.add_argument("--top", type=int, default=20)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "rebuild-rollups":
            self._rebuild(check=options["check"], samples=options["samples"])
        else:
            self._hotspots(options["area"], options["top"])

    def _rebuild(self, *, check: bool, samples: int) -> None:
        from wangge.analytics.rollups import rollups_rebuild

        started = time.perf_counter()
        result = rollups_rebuild(replace=not check, samples=samples)
        took = time.perf_counter() - started
        if result.replaced:
            from wangge.analytics.hotspots import invalidate_all

            invalidate_all()
        self.stdout.write(
            f"{result.cases} cases → {result.rows} rollup rows in {took:.1f} s; "
            f"{result.missing} missing or different, {result.extra} extra."
        )
        for line in result.samples:
            self.stdout.write(f"  {line}")
        if result.differs:
            self.stdout.write(
                "replaced the stored rollups." if result.replaced else "not changed (--check)."
            )
            if check:
                sys.exit(1)
        else:
            self.stdout.write("OK: stored rollups equal the rebuild.")

    def _hotspots(self, area: str, top: int) -> None:
        from wangge.analytics.hotspots import hotspots_for
        from wangge.geo.models import Region

        region = Region.objects.filter(code=area).first()
        if region is None:
            self.stderr.write(f"unknown region {area}")
            sys.exit(2)
        result = hotspots_for(region)
        self.stdout.write(result.summary())
        for h in result.hotspots[:top]:
            self.stdout.write(f"  {h.text()}")
