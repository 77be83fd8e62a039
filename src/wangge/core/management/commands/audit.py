from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from wangge.core.audit import audit_verify
from wangge.core.models import AuditRecord


class Command(BaseCommand):
    help = "Audit log tools: `wangge audit verify` checks the hash chain."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("verify", help="verify the hash chain; non-zero exit when broken")

    def handle(self, *args: Any, **options: Any) -> None:
        problems = list(audit_verify())
        total = AuditRecord.objects.count()
        if not problems:
            self.stdout.write(f"OK: {total} audit records, chain intact.")
            return
        for p in problems:
            self.stderr.write(f"BROKEN [{p.kind}] seq={p.seq} id={p.record_id}: {p.detail}")
        self.stderr.write(f"{len(problems)} problem(s) in {total} audit records.")
        sys.exit(1)
