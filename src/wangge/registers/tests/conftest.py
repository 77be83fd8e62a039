from __future__ import annotations

import pytest

from wangge.accounts.tests.factories import make_user


@pytest.fixture
def world(tree):
    """Street 1 (communities A, B) and street 2; users with registers roles in each."""
    s1, s2 = tree.streets
    com_a, com_b = tree.communities[0], tree.communities[1]
    g_a, g_b = tree.grids[0], tree.grids[2]  # grid in community A and in community B
    g_other = tree.grids[4]  # a grid of street 2
    assert g_a.path.startswith(com_a.path) and g_b.path.startswith(com_b.path)
    assert g_other.path.startswith(s2.path)

    class W:
        pass

    w = W()
    w.tree, w.s1, w.s2, w.com_a, w.com_b = tree, s1, s2, com_a, com_b
    w.g_a, w.g_b, w.g_other = g_a, g_b, g_other
    w.worker_a = make_user("worker_a", role="grid_worker", region=com_a)
    w.secretary = make_user("secretary1", role="community_secretary", region=s1)
    w.dispatcher2 = make_user("dispatcher2", role="street_dispatcher", region=s2)
    w.auditor = make_user("auditor1", role="auditor", region=s1)
    w.resident = make_user("resident1", role="resident", region=s1)
    return w
