"""The 民情地图 shows party member households to roles that may see party members."""

from __future__ import annotations

import pytest
from django.test import Client

from wangge.accounts.tests.factories import make_user

from .factories import make_member

pytestmark = pytest.mark.django_db


def _layers(user, grid=None) -> dict[str, list]:
    client = Client()
    client.force_login(user)
    url = "/registers/map/layers.json" + (f"?grid={grid.code}" if grid else "")
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return {layer["id"]: layer["features"] for layer in response.json()["layers"]}


def test_the_party_household_layer_is_on_the_map_for_party_staff_only(tree, pw):
    first, other = tree.grids[0], tree.grids[1]
    make_member(pw.branch(first))
    make_member(pw.branch(first))
    make_member(pw.branch(other))
    secretary = make_user("sec1", role="community_secretary", region=tree.communities[0])
    layers = _layers(secretary)
    assert sum(f["properties"]["members"] for f in layers["party_households"]) == 3
    assert "党员" in layers["party_households"][0]["properties"]["label"]
    only_first = _layers(secretary, grid=first)["party_households"]
    assert sum(f["properties"]["members"] for f in only_first) == 2
    # A grid worker sees the register layers, not who is a party member.
    worker = make_user("worker", role="grid_worker", region=first)
    layers = _layers(worker)
    assert "elderly_alone" in layers and "party_households" not in layers
