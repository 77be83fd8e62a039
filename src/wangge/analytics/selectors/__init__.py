"""Reads for the command centre, the indicators API, assessments and reports.

All aggregate reads come from ``CaseRollup`` (a handful of rows per region, bucket and
dimension) and from the *open* cases (indexed by state and deadline); none scans the case
table. Everything is scoped: an area is opened with :func:`access_area` (404 when missing or
outside the user's grants).

* :mod:`.areas` — opening an area, its sub-areas and grids;
* :mod:`.sums` — the general rollup and live reads, indicator values and labels;
* :mod:`.page` — the command centre's page data (``data.json``, ``map.geojson``);
* :mod:`.assessments` — schemes, runs, results and reports the user may see."""

from .areas import (
    RUN_ASSESSMENT,
    VIEW_ASSESSMENT,
    VIEW_DASHBOARD,
    VIEW_REPORT,
    access_area,
    breadcrumbs,
    children,
    default_area,
    grids_under,
)
from .assessments import (
    access_report,
    access_run,
    departments_in,
    may_view_assessments,
    report_list_for_user,
    result_list_for_user,
    run_list_for_user,
    scheme_list_for_user,
)
from .page import (
    OVERDUE_LIST,
    TOP_TYPES,
    boundaries,
    dashboard_data,
    map_data,
    map_numbers,
    page_reads,
)
from .sums import (
    area_indicators,
    breakdown,
    breakdowns,
    indicator_values,
    labels,
    open_by_grid,
    overdue_by,
    overdue_by_prefix,
    overdue_cases,
    overdue_groups,
    sums_by_region,
    trend,
)

__all__ = [
    "OVERDUE_LIST",
    "RUN_ASSESSMENT",
    "TOP_TYPES",
    "VIEW_ASSESSMENT",
    "VIEW_DASHBOARD",
    "VIEW_REPORT",
    "access_area",
    "access_report",
    "access_run",
    "area_indicators",
    "boundaries",
    "breadcrumbs",
    "breakdown",
    "breakdowns",
    "children",
    "dashboard_data",
    "default_area",
    "departments_in",
    "grids_under",
    "indicator_values",
    "labels",
    "map_data",
    "map_numbers",
    "may_view_assessments",
    "open_by_grid",
    "overdue_by",
    "overdue_by_prefix",
    "overdue_cases",
    "overdue_groups",
    "page_reads",
    "report_list_for_user",
    "result_list_for_user",
    "run_list_for_user",
    "scheme_list_for_user",
    "sums_by_region",
    "trend",
]
