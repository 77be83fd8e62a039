"""The fuzzing loop shared by ``test_fuzz.py`` (bounded, in the suite) and ``bench/bench_fuzz.py``
(longer): schemathesis cases from the OpenAPI document, sent to a live server with a token."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

# No 5xx; every documented response matches its schema and content type.
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def fuzz_operation(
    operation: Any, base_url: str, token: str, examples: int, statuses: Counter[int]
) -> list[str]:
    """Run ``examples`` generated requests against one operation; the failures, as text."""
    from hypothesis import given

    failures: list[str] = []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        try:
            response = case.call(base_url=base_url, headers=headers)
        except (Exception, BaseExceptionGroup) as exc:  # a transport error is a failure too
            failures.append(f"{operation.label}: {str(exc)[:800]}")
            return
        statuses[response.status_code] += 1
        try:
            case.validate_response(
                response,
                checks=CHECKS,
                headers=headers,
                transport_kwargs={"base_url": base_url, "headers": headers},
            )
        except (Exception, BaseExceptionGroup) as exc:  # collect all failures, keep fuzzing
            failures.append(f"{operation.label}: {str(exc)[:800]}")

    run()
    return failures


def operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]
