"""The demo's analytics: rollups rebuilt from the generated history (the loader bulk-creates
cases without the services, so no case event fired) and the default assessment schemes."""

from __future__ import annotations

from typing import Any


def analytics_load(*, with_cases: bool = True) -> None:
    from wangge.analytics.assessment import default_schemes_create
    from wangge.analytics.rollups import rollups_rebuild

    if with_cases:
        rollups_rebuild(samples=0)
        from wangge.analytics.hotspots import invalidate_all

        invalidate_all()
    default_schemes_create()


def analytics_delete(district: Any) -> int:
    """Before a forced rebuild: the default schemes the demo made in its district (their runs
    and results go with them; rollups and reports go with the regions)."""
    from wangge.analytics.assessment import DEFAULT_SCHEMES
    from wangge.analytics.models import AssessmentScheme

    deleted, _ = AssessmentScheme.objects.filter(
        code__in=[code for code, *_rest in DEFAULT_SCHEMES],
        region__path__startswith=district.path,
    ).delete()
    return deleted
