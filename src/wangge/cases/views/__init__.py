"""Case pages. Each view parses input, calls a selector or service and renders; domain errors
become form errors or messages (409 for a stale or illegal step), out of area is 404."""

from .detail import case_act, case_detail, case_photo, case_supervise_view
from .public import report, report_grids, report_phone_code, track, track_feedback, track_lookup
from .staff import (
    my_tasks,
    notification_list,
    notification_read,
    queue,
    queue_map,
    subtask_act,
    work_orders,
    worker_report,
)

__all__ = [
    "case_act",
    "case_detail",
    "case_photo",
    "case_supervise_view",
    "my_tasks",
    "notification_list",
    "notification_read",
    "queue",
    "queue_map",
    "report",
    "report_grids",
    "report_phone_code",
    "subtask_act",
    "track",
    "track_feedback",
    "track_lookup",
    "work_orders",
    "worker_report",
]
