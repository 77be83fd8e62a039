"""The page of each register record, for redirects, lists and the 民情地图's features."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from .models import Building, Component, House, Household, Organisation, Person

_NAMES: dict[type[Any], str] = {
    Person: "registers:person",
    Household: "registers:household",
    Building: "registers:building",
    House: "registers:house",
    Organisation: "registers:organisation",
    Component: "registers:component",
}


def record_url(obj: Any) -> str:
    return reverse(_NAMES[type(obj)], args=[obj.pk])
