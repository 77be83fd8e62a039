from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Time bank tools: `wangge timebank check` verifies the ledger invariants."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser(
            "check",
            help="every transfer one debit + one credit, balances = entries, sum zero; "
            "non-zero exit on any violation",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from wangge.party.services.timebank import timebank_check

        result = timebank_check()
        summary = (
            f"{result.accounts} accounts, {result.transfers} transfers, {result.entries} entries; "
            f"entries sum {result.total_entries}, balances sum {result.total_balance}"
        )
        if result.ok:
            self.stdout.write(f"OK: {summary}.")
            return
        for problem in result.problems:
            self.stderr.write(f"BROKEN: {problem}")
        self.stderr.write(f"{len(result.problems)} problem(s): {summary}.")
        sys.exit(1)
