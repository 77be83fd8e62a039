from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Party service orders: `wangge service match` runs one batch matching pass."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        match = sub.add_parser(
            "match", help="assign every open (posted) service order in one optimal batch pass"
        )
        match.add_argument("--dry-run", action="store_true", help="compute only, assign nothing")
        match.add_argument("--json", action="store_true", help="print the summary as JSON")
        match.add_argument("--show", type=int, default=10, help="assignments to list (default 10)")
        sub.add_parser("escalate", help="escalate orders not dispatched or accepted in time")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "escalate":
            from wangge.party.services.orders import service_order_escalate_due

            self.stdout.write(json.dumps(service_order_escalate_due()))
            return
        from wangge.party.services.matching import service_match_batch

        s = service_match_batch(dry_run=options["dry_run"])
        if options["json"]:
            body = {
                "orders": s.orders,
                "helpers": s.helpers,
                "assigned": s.assigned,
                "unassigned": s.unassigned,
                "failed": s.failed,
                "total_score": round(s.total_score, 1),
                "mean_score": round(s.mean_score, 1),
                "greedy_total": round(s.greedy_total, 1),
                "greedy_assigned": s.greedy_assigned,
                "solve_seconds": round(s.solve_seconds, 3),
                "seconds": round(s.seconds, 3),
                "dry_run": options["dry_run"],
            }
            self.stdout.write(json.dumps(body, ensure_ascii=False))
            return
        verb = "would assign" if options["dry_run"] else "assigned"
        self.stdout.write(
            f"open orders: {s.orders}; candidate helpers: {s.helpers}\n"
            f"{verb}: {s.assigned}; left unassigned: {s.unassigned}; failed: {s.failed}\n"
            f"total score: {s.total_score:.1f} (mean {s.mean_score:.1f}/100); "
            f"greedy one-by-one would reach {s.greedy_total:.1f} with {s.greedy_assigned}\n"
            f"solve: {s.solve_seconds * 1000:.0f} ms; pass: {s.seconds:.2f} s"
        )
        for code, helper, score in s.assignments[: options["show"]]:
            self.stdout.write(f"  {code} → {helper}  {score:.1f}")
        for err in s.errors[:20]:
            self.stderr.write(f"  failed {err}")
