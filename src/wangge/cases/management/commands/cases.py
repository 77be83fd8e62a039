from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wangge.core.exceptions import WanggeError


class Command(BaseCommand):
    help = (
        "Cases tools: `wangge cases load-catalogue` (idempotent), "
        "`export-catalogue FILE.xlsx`, `import-catalogue FILE.xlsx [--dry-run]`, "
        "`escalate` (one reminder/escalation pass)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        load = sub.add_parser("load-catalogue", help="load the shipped matter catalogue")
        load.add_argument("--file", help="another catalogue JSON in the same format")
        exp = sub.add_parser("export-catalogue", help="write the catalogue as .xlsx")
        exp.add_argument("file")
        imp = sub.add_parser("import-catalogue", help="import an .xlsx (all-or-nothing)")
        imp.add_argument("file")
        imp.add_argument("--dry-run", action="store_true")
        sub.add_parser("escalate", help="run one reminder and escalation pass")

    def handle(self, *args: Any, **options: Any) -> None:
        from wangge.cases import catalogue
        from wangge.cases.services import case_escalate_overdue

        cmd = options["subcommand"]
        try:
            if cmd == "load-catalogue":
                path = Path(options["file"]) if options.get("file") else None
                result = catalogue.load_default_catalogue(actor=None, path=path)
                version = f"v{result.version.number}" if result.version else "unchanged"
                self.stdout.write(
                    f"catalogue {version}: {len(result.created)} created, "
                    f"{len(result.updated)} updated, {len(result.unchanged)} unchanged"
                )
            elif cmd == "export-catalogue":
                with open(options["file"], "wb") as fh:
                    n = catalogue.catalogue_export_xlsx(fh)
                self.stdout.write(f"{n} matter types written to {options['file']}")
            elif cmd == "import-catalogue":
                with open(options["file"], "rb") as fh:
                    report = catalogue.catalogue_import_xlsx(
                        actor=None, stream=fh, dry_run=options["dry_run"]
                    )
                for row in report.rows:
                    if row.status != "unchanged":
                        msg = "; ".join(row.messages)
                        self.stdout.write(f"row {row.row} {row.code}: {row.status} {msg}".rstrip())
                counts: dict[str, int] = {}
                for row in report.rows:
                    counts[row.status] = counts.get(row.status, 0) + 1
                self.stdout.write(
                    ("applied " if report.applied else "not applied ") + json.dumps(counts)
                )
                if not report.ok:
                    sys.exit(1)
            elif cmd == "escalate":
                self.stdout.write(json.dumps(case_escalate_overdue().as_dict()))
        except WanggeError as exc:
            raise CommandError(exc.message) from exc
