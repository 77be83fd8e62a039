"""OpenAPI components are keyed by class name: two schemas with one name would document one
endpoint with the other's shape (it happened: accounts' and party's ``MeOut``)."""

from __future__ import annotations

from collections import defaultdict

from ninja import Schema


def test_every_api_schema_has_a_unique_name() -> None:
    from wangge.api.api import api

    api.get_openapi_schema()  # imports every router and its schemas
    modules: dict[str, set[str]] = defaultdict(set)

    def walk(cls: type) -> None:
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("wangge."):
                modules[sub.__name__].add(sub.__module__)
            walk(sub)

    walk(Schema)
    assert {name: mods for name, mods in modules.items() if len(mods) > 1} == {}
