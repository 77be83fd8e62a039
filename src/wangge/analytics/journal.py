"""The rollup journal: case writes append their delta; readers and a periodic job fold it in.

Why (issue 3, decision 0023): adding a case's delta to ``CaseRollup`` inside the case's own
transaction touched ≈37 rows — among them the district's, street's and community's "today"
rows that *every* concurrent case write also updates — and held their row locks until COMMIT.
Intake throughput on PostgreSQL fell from 0.43 to 0.26 of a bare GET. Now the case transaction
appends one row to ``RollupDelta`` (an insert into a table nobody updates: no shared lock) and
the deltas are summed and upserted in batches:

* by every reader: ``CaseRollup.objects`` folds before it returns a queryset, so a reader
  always sees every case write committed before it (the rollups stay exact, not eventually
  consistent);
* by the periodic job ``analytics.fold_rollups`` (every minute), so the journal stays short
  when nobody looks;
* by ``rollups_rebuild`` before it compares.

A fold also marks the regions whose rollups changed, after its commit, so their cached
hotspots are recomputed (:func:`.hotspots.areas_changed`); the case write itself does no
after-commit work.

Folding deletes the journal rows it sums in the same transaction as the upsert, so a delta is
applied exactly once; on PostgreSQL concurrent folders skip each other's rows (``FOR UPDATE
SKIP LOCKED``), and a row is only ever visible to a folder once its case write committed.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

from django.db import connection, transaction

from .facts import MEASURES, Key
from .models import RollupDelta

log = logging.getLogger(__name__)
JOURNAL = RollupDelta._meta.db_table
BATCH = 2000  # journal rows per DELETE … RETURNING
N = len(MEASURES)


def encode(rows: dict[Key, list[int]]) -> str:
    return json.dumps(
        [[g, b.isoformat(), r, d, v, vec] for (g, b, r, d, v), vec in rows.items()],
        separators=(",", ":"),
    )


def record(rows: dict[Key, list[int]]) -> None:
    """Append one case write's delta (in the caller's transaction). Nothing when empty."""
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {JOURNAL} (rows) VALUES (%s)", [encode(rows)])  # noqa: S608 - identifiers are constants


def _take(cursor: Any) -> list[str]:
    if connection.vendor == "postgresql":
        pick = f"SELECT id FROM {JOURNAL} ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED"  # noqa: S608 - identifiers are constants
    else:  # SQLite: one writer at a time, nothing to skip
        pick = f"SELECT id FROM {JOURNAL} ORDER BY id LIMIT %s"  # noqa: S608 - identifiers are constants
    cursor.execute(f"DELETE FROM {JOURNAL} WHERE id IN ({pick}) RETURNING rows", [BATCH])  # noqa: S608 - identifiers are constants
    return [row[0] for row in cursor.fetchall()]


def _pending(cursor: Any) -> bool:
    cursor.execute(f"SELECT 1 FROM {JOURNAL} LIMIT 1")  # noqa: S608 - identifiers are constants
    return cursor.fetchone() is not None


def fold() -> int:
    """Sum every pending delta into the rollups; returns the number of journal rows folded.

    A read-only check first, so a reader takes no write lock when nothing is pending."""
    return fold_regions()[0]


def fold_regions() -> tuple[int, set[int]]:
    """:func:`fold`, also returning the ids of the regions whose rollups changed."""
    from .rollups import apply_delta

    with connection.cursor() as cursor:
        if not _pending(cursor):
            return 0, set()
    folded = 0
    regions: set[int] = set()
    with transaction.atomic():
        total: dict[Key, list[int]] = {}
        with connection.cursor() as cursor:
            while True:
                taken = _take(cursor)
                folded += len(taken)
                for payload in taken:
                    for g, b, r, d, v, vec in json.loads(payload):
                        key = (g, date.fromisoformat(b), r, d, v)
                        row = total.get(key)
                        if row is None:
                            total[key] = list(vec)
                        else:
                            for i in range(N):
                                row[i] += vec[i]
                if len(taken) < BATCH:
                    break
        changed = {k: v for k, v in total.items() if any(v)}
        apply_delta(changed)
        if changed:
            from .hotspots import areas_changed

            regions = {key[2] for key in changed}
            # After the commit (a reader racing the fold must not cache the old numbers under
            # the new version); a cache that is down must not fail the read that folded.
            transaction.on_commit(lambda: areas_changed(regions), robust=True)
    if folded:
        log.debug("folded %d rollup deltas", folded)
    return folded, regions
