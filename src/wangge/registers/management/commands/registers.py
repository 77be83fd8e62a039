from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wangge.core.exceptions import WanggeError

KINDS = ["people", "houses", "organisations", "components"]


class SystemActor:
    """The command line acts for the installation, like a superuser, and is audited by name."""

    pk = None
    is_authenticated = True
    is_active = True
    is_superuser = True

    def __init__(self, name: str = "system:cli") -> None:
        self.name = name

    def get_username(self) -> str:
        return self.name


class Command(BaseCommand):
    help = (
        "Registers tools: `wangge registers import KIND FILE.xlsx [--dry-run] [--update]`, "
        "`template KIND FILE.xlsx`, `export KIND FILE.xlsx`, `rotate-key`, `generate-key`. "
        "KIND is people, houses, organisations or components."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        imp = sub.add_parser("import", help="import a register from .xlsx (all-or-nothing)")
        imp.add_argument("kind", choices=KINDS)
        imp.add_argument("file")
        imp.add_argument("--dry-run", action="store_true", help="validate only, write nothing")
        imp.add_argument(
            "--update",
            action="store_true",
            help="update records whose key (ID number, code) exists instead of failing",
        )
        imp.add_argument("--user", help="import as this user (their area and permissions)")
        tpl = sub.add_parser("template", help="write the empty import template")
        tpl.add_argument("kind", choices=KINDS)
        tpl.add_argument("file")
        exp = sub.add_parser("export", help="export a register (identifiers masked)")
        exp.add_argument("kind", choices=KINDS)
        exp.add_argument("file")
        rot = sub.add_parser(
            "rotate-key",
            help="re-encrypt personal data under the current key (first of WANGGE_PII_KEYS) and "
            "recompute the blind indexes under WANGGE_PII_INDEX_KEY",
        )
        rot.add_argument("--batch-size", type=int, default=2000)
        sub.add_parser("generate-key", help="print a new random WANGGE_PII_KEYS key")

    def handle(self, *args: Any, **options: Any) -> None:
        cmd = options["subcommand"]
        try:
            if cmd == "import":
                self._import(options)
            elif cmd == "template":
                from wangge.registers.excel.writer import template_bytes

                Path(options["file"]).write_bytes(template_bytes(options["kind"]))
                self.stdout.write(f"template written to {options['file']}")
            elif cmd == "export":
                from wangge.registers.jobs import people_export, register_export

                actor = SystemActor()
                if options["kind"] == "people":
                    data, n = people_export(actor=actor)
                else:
                    data, n = register_export(actor=actor, kind=options["kind"])
                Path(options["file"]).write_bytes(data)
                self.stdout.write(f"{n} rows written to {options['file']}")
            elif cmd == "rotate-key":
                from wangge.registers.crypto import keyring
                from wangge.registers.services import rotate_keys

                counts = rotate_keys(actor="system:cli", batch_size=options["batch_size"])
                self.stdout.write(f"re-encrypted {json.dumps(counts, sort_keys=True)}")
                ring = keyring()
                self.stdout.write(
                    f"data key {ring.current_kid}, index key {ring.index_kid}: every record is "
                    "under the current keys"
                )
                if ring.old_index_keys:
                    self.stdout.write(
                        "remove WANGGE_PII_OLD_INDEX_KEYS (and retired WANGGE_PII_KEYS) from the "
                        "environment and restart the web and task workers"
                    )
            elif cmd == "generate-key":
                from wangge.registers.crypto import generate_key

                self.stdout.write(generate_key())
        except WanggeError as exc:
            raise CommandError(exc.message) from exc

    def _import(self, options: dict[str, Any]) -> None:
        from wangge.registers.choices import DuplicatePolicy
        from wangge.registers.excel.importer import run_import

        actor: Any = SystemActor()
        if options.get("user"):
            from wangge.accounts.models import User

            user = User.objects.filter(username=options["user"], is_active=True).first()
            if user is None:
                raise CommandError(f"no active user {options['user']!r}")
            actor = user

        def progress(done: int, total: int, phase: str) -> None:
            if phase == "writing" or done == total or done % 10000 == 0:
                self.stderr.write(f"{phase} {done}/{total}")

        result = run_import(
            actor=actor,
            kind=options["kind"],
            source=options["file"],
            dry_run=options["dry_run"],
            on_duplicate=DuplicatePolicy.UPDATE if options["update"] else DuplicatePolicy.ERROR,
            progress=progress,
        )
        for error in result.errors:
            self.stdout.write(f"row {error.row} [{error.column}]: {error.message}")
        if result.error_count > len(result.errors):
            self.stdout.write(f"… {result.error_count - len(result.errors)} more errors")
        verb = "would create" if result.dry_run else "created"
        self.stdout.write(
            f"{result.total} rows, {result.error_count} errors; "
            f"{verb} {result.created}, updated {result.updated}"
            + ("" if result.written or result.dry_run else " — nothing written")
        )
        if not result.ok:
            sys.exit(1)
