"""Domain events: how a lower app tells higher apps that something happened without importing them.

Dependencies point one way (core ← accounts, geo ← registers ← cases ← analytics, api): the case
services cannot call analytics or the webhook dispatcher, so they ``emit`` named events and those
apps ``subscribe`` in their ``AppConfig.ready``.

Handlers run synchronously inside the emitting service's transaction, so a handler that keeps
derived data (the analytics rollups) commits or rolls back with the change itself. A handler with
outside effects (webhooks, messages) must register them with ``transaction.on_commit``. A handler
that raises aborts the service call: keep handlers small and exact.

Events emitted today (payload keywords):

* ``case.created`` — ``case``, ``actor``: a case was filed (any channel, on-the-spot included).
* ``case.transitioned`` — ``case`` (after), ``previous`` (a shallow copy of the ``Case`` as it
  was before the transition), ``action``, ``actor``.
* ``case.escalated`` — ``case``, ``from_level``, ``to_level``: an overdue case climbed a rung.
* ``case.subtask`` — ``subtask``, ``action``, ``actor``: a 吹哨 sub-task changed state.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

Handler = Callable[..., None]

_handlers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(event: str, handler: Handler) -> None:
    """Call ``handler(**payload)`` whenever ``event`` is emitted; subscribing twice is a no-op."""
    if handler not in _handlers[event]:
        _handlers[event].append(handler)


def unsubscribe(event: str, handler: Handler) -> None:
    if handler in _handlers.get(event, []):
        _handlers[event].remove(handler)


def emit(event: str, **payload: Any) -> None:
    """Run every handler of ``event`` now, in the caller's transaction, in subscription order."""
    for handler in list(_handlers.get(event, ())):
        handler(**payload)
