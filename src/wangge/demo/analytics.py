"""The demo's analytics: rollups rebuilt from the generated history (the loader bulk-creates
cases without the services, so no case event fired) and the default assessment schemes."""

from __future__ import annotations


def analytics_load(*, with_cases: bool = True) -> None:
    from wangge.analytics.assessment import default_schemes_create
    from wangge.analytics.rollups import rollups_rebuild

    if with_cases:
        rollups_rebuild(samples=0)
    default_schemes_create()
