"""The ``wangge`` command: Django's management commands under one name.

``wangge geo import …``, ``wangge audit verify``, ``wangge demo`` and ``wangge run`` are
management commands of the apps; this entry point only selects the settings module.
"""

from __future__ import annotations

import os
import sys

GROUPS = """Wangge commands (wangge COMMAND --help for details):
  run                    migrate, load the demo city on first run, start worker and web server
  demo                   build the deterministic demo city and demo logins
  geo import FILE        import a GeoJSON layer (dry run, report, all-or-nothing)
  geo import-codes CSV   import statistical division code tables
  geo export             export regions as GeoJSON
  geo locate LON LAT     locate a point to its deepest region (JSON)
  audit verify           verify the hash chain of the audit log
  registers import KIND FILE.xlsx [--dry-run] [--update]
                         import people/houses/organisations/components (row report)
  registers template|export KIND FILE.xlsx, registers rotate-key | generate-key
  service match          one optimal batch matching pass over open service orders (党员派单)
  timebank check         verify the time-bank ledger (double entry, sum zero); non-zero on error
  worker                 run the background task worker (with heartbeat and periodic jobs)
  analytics rebuild-rollups  recompute the case rollups from the raw cases (prints differences)
  assess run --scheme CODE --period 2026-10   compute an assessment and print the ranking
  open311 create-key NAME  print a new Open311 client key (also revoke-key, list-keys)

All Django management commands are available too (migrate, createsuperuser, …).
"""


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wangge.settings")
    from django.core.management import execute_from_command_line

    if len(argv) < 2 or (argv[1] in {"-h", "--help", "help"} and len(argv) == 2):
        print(GROUPS)
        return
    argv[0] = "wangge"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
