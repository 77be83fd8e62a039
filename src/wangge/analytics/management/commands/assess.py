from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Assessment: `wangge assess run --scheme CODE --period 2026-10` computes, stores and "
        "prints the ranking."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        run = sub.add_parser("run", help="compute a scheme for a period and print the ranking")
        run.add_argument("--scheme", required=True)
        run.add_argument("--period", required=True, help="2026-10 (monthly) or 2026-Q4 (quarterly)")
        run.add_argument("--explain", action="store_true", help="print each score's explanation")

    def handle(self, *args: Any, **options: Any) -> None:
        from wangge.analytics.assessment import assessment_run_now
        from wangge.analytics.models import AssessmentScheme
        from wangge.core.exceptions import WanggeError

        scheme = (
            AssessmentScheme.objects.filter(code=options["scheme"]).select_related("region").first()
        )
        if scheme is None:
            known = ", ".join(AssessmentScheme.objects.values_list("code", flat=True)) or "-"
            self.stderr.write(f"unknown scheme {options['scheme']!r}; known: {known}")
            sys.exit(2)
        try:
            run = assessment_run_now(actor=None, scheme=scheme, period_label=options["period"])
        except WanggeError as exc:
            self.stderr.write(exc.message)
            sys.exit(2)
        self.stdout.write(
            f"{scheme.code} v{run.scheme_version.version} {run.period}: "
            f"{run.results.count()} results (run {run.pk})"
        )
        for r in run.results.order_by("rank", "object_id"):
            self.stdout.write(f"{r.rank:>4}  {r.score:>6}  {r.grade}  {r.object_name}")
            if options["explain"]:
                for d in r.details:
                    self.stdout.write(f"          {d['text']}")
