"""Case services announce what happened through ``wangge.core.events`` (for analytics, webhooks)."""

from __future__ import annotations

from typing import Any

import pytest

from wangge.cases.choices import CaseState
from wangge.cases.services import case_transition
from wangge.core import events
from wangge.core.exceptions import Conflict

from .factories import make_case
from .test_intake import report

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    seen: list[tuple[str, dict[str, Any]]] = []

    def make(name: str):
        def handler(**payload: Any) -> None:
            seen.append((name, payload))

        return handler

    handlers = {name: make(name) for name in ("case.created", "case.transitioned")}
    for name, handler in handlers.items():
        events.subscribe(name, handler)
    yield seen
    for name, handler in handlers.items():
        events.unsubscribe(name, handler)


def test_filing_a_case_emits_case_created_once(world, heard):
    result = report(world, client_key="k-1")
    report(world, client_key="k-1")  # an idempotent retry announces nothing new
    assert [(n, p["case"].pk) for n, p in heard] == [("case.created", result.case.pk)]


def test_a_transition_emits_the_case_before_and_after(world, heard):
    case = make_case(world, state=CaseState.REPORTED)
    case_transition(actor=world.secretary, case=case, action="accept", expected_version=1)
    ((name, payload),) = heard
    assert name == "case.transitioned" and payload["action"] == "accept"
    assert payload["previous"].state == CaseState.REPORTED
    assert payload["case"].state == CaseState.ACCEPTED and payload["case"].version == 2


def test_a_refused_transition_emits_nothing(world, heard):
    case = make_case(world, state=CaseState.REPORTED)
    with pytest.raises(Conflict):
        case_transition(actor=world.secretary, case=case, action="accept", expected_version=7)
    assert heard == []
