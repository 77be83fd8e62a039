"""Prepared statements on PostgreSQL for the few hot statements whose text never changes.

Django binds parameters on the client (psycopg ``ClientCursor``), so PostgreSQL parses and plans
every statement it receives. A hot statement with a stable text (the command centre's per-poll
reads, decision 0024; the audit append, decision 0025) is instead sent through a server-binding
psycopg cursor that prepares it: PostgreSQL plans it a few times and then keeps one generic plan
for the connection, which Django holds for ``CONN_MAX_AGE`` seconds.

On SQLite (and with prepared statements switched off, below) the ordinary Django cursor runs the
same SQL. Both kinds of cursor go through Django's cursor wrapper, so ``execute_wrapper`` hooks
and the test suite's query counting see these statements."""

from __future__ import annotations

import functools
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection

# Django switches psycopg's prepared statements off on every connection (``prepare_threshold``
# None) so that a transaction-mode pooler in front of PostgreSQL keeps working; a deployment that
# needs that says so explicitly with ``OPTIONS={"prepare_threshold": None}``, and then these
# statements are not prepared either. Otherwise the connection prepares only what asks for it.
_ASK_ONLY = 1 << 30
_GENERIC: weakref.WeakSet[Any] = weakref.WeakSet()  # connections told to keep generic plans


def prepared() -> bool:
    """Whether this connection's page statements are prepared (PostgreSQL unless switched off)."""
    if connection.vendor != "postgresql":
        return False
    options = connection.settings_dict.get("OPTIONS") or {}
    return not ("prepare_threshold" in options and options["prepare_threshold"] is None)


@contextmanager
def prepared_cursor() -> Iterator[Any]:
    """A Django cursor whose statements PostgreSQL prepares (see the module docstring)."""
    if not prepared():
        with connection.cursor() as plain:
            yield plain
        return
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = connection.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = _ASK_ONLY
    if raw not in _GENERIC:
        _GENERIC.add(raw)
        if "prepare_threshold" not in (connection.settings_dict.get("OPTIONS") or {}):
            # PostgreSQL keeps custom plans (planning on every execution) when a generic plan's
            # estimate looks dearer, which it does for one grid: its default selectivities for
            # a parameter are far above one grid's share. The generic plans are the ones the
            # custom plans are (index scans on the rollup key and on case_live_path; checked
            # for the district and a grid at 5,000,000 cases), so take them. The setting acts
            # on prepared statements only, and on this connection only these are prepared
            # (Django's own cursors bind on the client). Inside a transaction that is rolled
            # back the setting goes with it: then the plans are chosen as usual, same results.
            with connection.cursor() as plain:
                plain.execute("SET plan_cache_mode = force_generic_plan")
    inner = _preparing_cursor_class()(raw)
    wrapped = (
        connection.make_debug_cursor(inner)
        if connection.queries_logged
        else connection.make_cursor(inner)
    )
    with wrapped:
        yield wrapped


@functools.cache
def _preparing_cursor_class() -> Any:
    from psycopg import Cursor

    class Preparing(Cursor):
        """Binds on the server and prepares every statement it executes."""

        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            kwargs.setdefault("prepare", True)
            return super().execute(query, params, **kwargs)

        def _maybe_prepare_gen(self, pgq: Any, **kwargs: Any) -> Any:
            # psycopg records the query it sent only when it sends it unprepared; Django's
            # query log (DEBUG, the tests' query capture) reads it, so record it here too.
            self._query = pgq
            return super()._maybe_prepare_gen(pgq, **kwargs)

    return Preparing
