"""The command centre's per-poll statements, planned once per database connection.

On the grid page PostgreSQL's planning was ≈1.1 ms of ≈3 ms (issue 6, decision 0024). The page's
few statements are therefore written with a text that does not change between polls — constants
inlined, lists as one array parameter, area prefixes as a range — and sent through
``core.db.prepared_cursor``, which prepares them. On SQLite the same SQL text runs with ``IN``
lists through the ordinary cursor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection

from wangge.core.db import prepared
from wangge.core.db import prepared_cursor as cursor

__all__ = ["any_of", "cursor", "json_rows", "literal", "prepared", "starts_with"]


def any_of(column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """``column`` equal to one of ``values``: one array parameter on PostgreSQL (the same text
    for any number of values), an ``IN`` list elsewhere."""
    if prepared():
        return f"{column} = ANY(%s)", [list(values)]
    if not values:
        return "1 = 0", []
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def starts_with(column: str, prefix: str) -> tuple[str, list[Any]]:
    """``column`` starts with ``prefix`` (a non-empty area path), as a range: the strings from
    ``prefix`` up to, not including, ``prefix`` with its last character incremented. Unlike
    ``LIKE %s`` a range keeps its index bounds in a generic plan. On PostgreSQL it compares
    byte-wise with the pattern operators, which the path indexes (``varchar_pattern_ops``)
    serve; SQLite compares text byte-wise already."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    if connection.vendor == "postgresql":
        return f"{column} ~>=~ %s AND {column} ~<~ %s", [prefix, upper]
    return f"{column} >= %s AND {column} < %s", [prefix, upper]


def literal(value: str) -> str:
    """A constant of the code (a state, a dimension) as an SQL string literal: inlined, so a
    generic plan sees it (e.g. the live states that a partial index is defined by)."""
    return "'" + str(value).replace("'", "''") + "'"


def json_rows(columns: str) -> str:
    """An aggregate of the group's rows as one JSON array (text) of ``[columns…]`` arrays: a
    branch of a page's statement that answers one row, which the driver converts as one string
    and ``json.loads`` parses in C, instead of one Python object per column of every row.
    PostgreSQL answers NULL for no rows, SQLite ``[]``."""
    if connection.vendor == "postgresql":
        return f"CAST(json_agg(json_build_array({columns})) AS text)"
    return f"json_group_array(json_array({columns}))"
