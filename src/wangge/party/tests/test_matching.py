"""The matching engine: explainable scores, a mismatch never first, capacity respected, and the
batch assignment equal to the optimum of the same transportation problem (an independent LP)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from wangge.accounts.tests.factories import make_user
from wangge.party import matching as engine
from wangge.party.choices import OrderState, Specialty
from wangge.party.models import ServiceOrder
from wangge.party.services import order_candidates, service_match_batch

from .factories import ALWAYS, make_member, make_order, make_volunteer

W = engine.Weights()
MONDAY_10 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def helper(key, specs, *, lon=120.6, lat=31.3, cap=2, load=0, slots=ALWAYS, rating=(0.0, 0)):
    return engine.HelperData(
        key=key,
        name=key,
        specialties=specs,
        availability=slots,
        lon=lon,
        lat=lat,
        capacity=cap,
        load=load,
        rating_sum=rating[0],
        rating_count=rating[1],
    )


def order(key=1, category="repair", lon=120.6, lat=31.3, start=MONDAY_10, hours=2):
    return engine.OrderData(
        key=key,
        category=category,
        window_start=start,
        window_end=start + timedelta(hours=hours),
        lon=lon,
        lat=lat,
    )


def test_scores_are_explained_part_by_part():
    ranked, excluded = engine.rank(order(), [helper("a", ["repair"], lat=31.31)], W)
    assert not excluded
    r = ranked[0]
    assert [p.key for p in r.parts] == list(engine.COMPONENTS)
    assert r.score == pytest.approx(sum(p.points for p in r.parts), abs=0.5)
    detail = {p.key: p.detail for p in r.parts}
    assert detail["specialty"] == "特长对口"
    assert "1.1公里" in detail["distance"]
    assert "100%" in detail["availability"]
    assert "暂无评价" in detail["rating"]


def test_a_near_idle_well_rated_specialist_ranks_first():
    helpers = [
        helper("far", ["repair"], lat=31.34),
        helper("busy", ["repair"], cap=2, load=1),
        helper("related", ["teaching"]),  # no fit for repair
        helper("best", ["repair"], rating=(15.0, 3)),
        helper("night", ["repair"], slots=[[0, 20 * 60, 23 * 60]]),
    ]
    ranked, excluded = engine.rank(order(), helpers, W)
    assert ranked[0].helper.key == "best"
    assert [r.helper.key for r in excluded] == ["related"]
    assert excluded[0].excluded_because == ["特长不符"]


def test_related_specialties_fit_half_and_mismatch_is_never_eligible():
    fit = engine.specialty_fit(
        ["elderly_care", "elderly_care", "law"], [["medicine"], ["elderly_care"], ["repair"]]
    )
    assert fit[0, 0] == 0.5 and fit[1, 1] == 1.0 and fit[2, 2] == 0.0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(Specialty.values), max_size=3),
            st.floats(min_value=-0.05, max_value=0.05),
            st.integers(min_value=0, max_value=3),
            st.integers(min_value=0, max_value=3),
            st.floats(min_value=0, max_value=5),
        ),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from(Specialty.values),
)
def test_a_specialty_mismatch_never_ranks_first(rows, category):
    """Whatever the distances, loads and ratings, the first-ranked helper has the needed (or a
    related) specialty; a mismatched one may be the only helper and still is not ranked."""
    helpers = [
        helper(f"h{k}", specs, lat=31.3 + dlat, cap=cap, load=load, rating=(r * 2, 2))
        for k, (specs, dlat, cap, load, r) in enumerate(rows)
    ]
    ranked, excluded = engine.rank(order(category=category), helpers, W)
    if ranked:
        fit = engine.specialty_fit([category], [ranked[0].helper.specialties])[0, 0]
        assert fit > 0
    for r in excluded:
        assert r.excluded_because
    assert len(ranked) + len(excluded) == len(helpers)


def _lp_optimum(score, eligible, free):
    """The transportation LP solved independently with HiGHS (its optimum is integral)."""
    ii, jj = np.nonzero(eligible & (score > 0))
    if ii.size == 0:
        return 0.0
    n, m = score.shape
    from scipy.sparse import coo_matrix

    k = np.arange(ii.size)
    rows = coo_matrix((np.ones(ii.size), (ii, k)), shape=(n, ii.size))
    cols = coo_matrix((np.ones(ii.size), (jj, k)), shape=(m, ii.size))
    from scipy.sparse import vstack

    res = linprog(
        -score[ii, jj],
        A_ub=vstack([rows, cols]),
        b_ub=np.concatenate([np.ones(n), free]),
        bounds=(0, 1),
        method="highs",
    )
    assert res.status == 0
    return -res.fun


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=1, max_value=8),
    st.integers(min_value=0, max_value=2**31 - 1),
)
def test_batch_assignment_is_optimal_and_respects_capacity(n, m, seed):
    rng = np.random.default_rng(seed)
    score = rng.random((n, m))
    eligible = rng.random((n, m)) < 0.6
    free = rng.integers(0, 3, m)
    pairs = engine.optimal_assignment(score, eligible, free)
    rows = [i for i, _ in pairs]
    assert len(rows) == len(set(rows))  # each order once
    for j in range(m):
        assert sum(1 for _, c in pairs if c == j) <= free[j]  # capacity
    assert all(eligible[i, j] for i, j in pairs)
    best = _lp_optimum(score, eligible, free)
    assert engine.total_score(score, pairs) == pytest.approx(best, rel=1e-9, abs=1e-9)
    greedy = engine.greedy_assignment(score, eligible, free)
    assert engine.total_score(score, greedy) <= best + 1e-9


def test_greedy_can_be_beaten_by_the_optimal_assignment():
    # Order 0 likes both helpers; order 1 only helper 0. Greedy gives helper 0 to order 0.
    score = np.array([[0.9, 0.8], [0.85, 0.0]])
    eligible = np.array([[True, True], [True, False]])
    free = np.array([1, 1])
    assert engine.optimal_assignment(score, eligible, free) == [(0, 1), (1, 0)]
    assert engine.greedy_assignment(score, eligible, free) == [(0, 0)]


@pytest.mark.django_db
def test_the_batch_pass_assigns_through_the_workflow_within_capacity(pw, tree):
    grid = tree.grids[0]
    resident = make_user("r1", role="resident", region=grid)
    fixer = make_member(pw.branch(grid), specialties=["repair"], capacity=2, username="fixer")
    lawyer = make_member(pw.branch(grid), specialties=["law"], capacity=1)
    volunteer = make_volunteer(tree.communities[0], specialties=["repair"], capacity=1)
    make_member(pw.branch(tree.grids[-1]), specialties=["repair"], capacity=5)  # other street
    orders = [make_order(grid, actor=resident) for _ in range(4)]
    orders.append(make_order(grid, actor=resident, category="law"))
    ranked, _excluded = order_candidates(orders[0])
    assert {r.helper.key for r in ranked} == {f"member:{fixer.pk}", f"volunteer:{volunteer.pk}"}
    summary = service_match_batch()
    assert summary.orders == 5 and summary.assigned == 4 and summary.unassigned == 1
    assert summary.total_score >= summary.greedy_total - 1e-6
    assigned = ServiceOrder.objects.filter(state=OrderState.ASSIGNED)
    assert assigned.filter(member=fixer).count() == 2
    assert assigned.filter(volunteer=volunteer).count() == 1
    assert assigned.filter(member=lawyer, category="law").count() == 1
    # A second pass finds everyone at capacity: nothing more is assigned.
    again = service_match_batch()
    assert again.orders == 1 and again.assigned == 0
