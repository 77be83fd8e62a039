"""Per-request context (request id, client address) for audit records and logs."""

from __future__ import annotations

import contextvars
import uuid

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
client_ip_var: contextvars.ContextVar[str] = contextvars.ContextVar("client_ip", default="")


def current_request_id() -> str:
    return request_id_var.get() or ""


def new_request_id() -> str:
    return uuid.uuid4().hex
