"""The rollup journal: case writes append, readers fold, nothing is counted twice or lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wangge.analytics import journal
from wangge.analytics.models import CaseRollup, RollupDelta
from wangge.analytics.rollups import rollups_rebuild
from wangge.analytics.tasks import fold_rollups
from wangge.core.periodic import periodic_jobs

from .helpers import act, at, report

pytestmark = pytest.mark.django_db


def _district_month(world) -> CaseRollup:
    return CaseRollup.objects.get(grain="m", region=world.tree.county, dim="", value="")


def test_a_case_write_leaves_a_pending_delta_that_the_next_read_folds_in(world):
    t = at(2026, 11, 2)
    case = report(world, now=t)
    act(world.commander, case, "accept", t + timedelta(hours=1))
    assert RollupDelta.objects.count() == 2  # nothing folded yet: nobody has read
    row = _district_month(world)  # the read folds first
    assert (row.reported, row.filed) == (1, 1)
    assert RollupDelta.objects.count() == 0


def test_folding_sums_many_writes_into_one_upsert_per_key(world):
    t = at(2026, 11, 2)
    for i in range(5):
        report(world, now=t + timedelta(minutes=i))
    with CaptureQueriesContext(connection) as ctx:
        assert journal.fold() == 5
    upserts = [q["sql"] for q in ctx.captured_queries if "INTO analytics_caserollup" in q["sql"]]
    assert len(upserts) == 1
    assert _district_month(world).reported == 5
    assert journal.fold() == 0  # folded exactly once


def test_a_delta_that_cancels_out_is_dropped_not_written(world):
    """A case reported and cancelled before anyone reads nets zero on most keys; only the keys
    whose sums differ from zero are written."""
    t = at(2026, 11, 2)
    case = report(world, now=t)
    act(world.commander, case, "cancel", t + timedelta(minutes=5), reason="测试")
    journal.fold()
    row = _district_month(world)
    assert (row.reported, row.cancelled, row.open) == (1, 1, 0)
    assert not CaseRollup.objects.filter(dim="state", value="reported").exists()


def test_reading_with_nothing_pending_takes_no_write_lock(world):
    with CaptureQueriesContext(connection) as ctx:
        list(CaseRollup.objects.all())
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert not any(s.lstrip().upper().startswith("DELETE") for s in sqls), sqls


def test_the_rebuild_folds_the_journal_before_it_compares(world):
    t = at(2026, 11, 2)
    case = report(world, now=t)
    act(world.commander, case, "accept", t + timedelta(hours=1))
    assert RollupDelta.objects.count() == 2
    result = rollups_rebuild(replace=False)
    assert not result.differs, result.samples
    assert RollupDelta.objects.count() == 0


def test_a_rolled_back_case_write_leaves_no_delta(world):
    from django.db import transaction

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        report(world, now=at(2026, 11, 2))
        raise Boom
    assert RollupDelta.objects.count() == 0
    assert not CaseRollup.objects.exists()


def test_the_periodic_job_folds(world):
    report(world, now=at(2026, 11, 2))
    assert "analytics.fold_rollups" in [job.name for job in periodic_jobs()]
    result = fold_rollups.call()
    assert result == {"folded": 1}
    assert RollupDelta.objects.count() == 0
