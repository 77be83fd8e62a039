"""Batch matching of 2,000 orders to 3,000 members: quality vs the LP optimum, time vs greedy.

The instance is generated (seeded): a 20 km × 20 km district; members at random homes with 1–3
specialties (weighted as in the demo city), 1–3 weekly time slots on most days, capacity 1–3 of
which 0–1 already taken, and a rating history; orders at random places with a category and a
2–4 hour window in the coming week. Scores come from the product's engine
(``wangge.party.matching.features``: specialty, distance ≤ 5 km, availability, load, rating).

Three solvers on the same score matrix and capacities, timed in the same run:

* **ours** — ``matching.optimal_assignment`` (linear_sum_assignment on the matrix with each
  member's column repeated per free slot), what ``wangge service match`` runs;
* **greedy** — the baseline: the best remaining eligible pair, one by one;
* **LP** — an independent exact method: the transportation LP (each order ≤ 1, each member ≤ its
  free capacity, 0 ≤ x ≤ 1 on eligible pairs) solved by HiGHS through ``scipy.optimize.linprog``;
  its constraint matrix is totally unimodular, so its optimum is the integral optimum.

Prints each solver's total score, assigned count and time; the quality ratios ours/LP and
greedy/LP (target: ours ≥ 0.98); the time ratio ours/greedy; and checks that no member exceeds
its capacity and no ineligible pair is used. Exit 1 when the target or a check fails.

Usage: ``bench/run.py matching [--orders 2000] [--members 3000] [--seed 7] [--km 20]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
TARGET = 0.98
BASE_LON, BASE_LAT = 120.55, 31.25
# Specialty frequencies among members (repair and elderly care are common, law is rare).
SPEC_WEIGHTS = {
    "law": 4,
    "medicine": 6,
    "teaching": 10,
    "repair": 14,
    "psychology": 4,
    "it": 10,
    "elderly_care": 16,
    "housework": 14,
    "errands": 16,
    "haircut": 6,
}
# What residents order (needs skew toward errands, care and repair).
ORDER_WEIGHTS = {
    "law": 5,
    "medicine": 8,
    "teaching": 6,
    "repair": 18,
    "psychology": 4,
    "it": 12,
    "elderly_care": 18,
    "housework": 10,
    "errands": 15,
    "haircut": 4,
}


def _setup() -> None:
    sys.path.insert(0, str(REPO / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wangge.settings")
    import django

    django.setup()


def _km_to_deg(km: float, lat: float) -> tuple[float, float]:
    return km / (111.32 * np.cos(np.radians(lat))), km / 110.57


def generate(n_orders: int, n_members: int, seed: int, km: float):
    from wangge.party.matching import HelperData, OrderData

    rng = np.random.default_rng(seed)
    dlon, dlat = _km_to_deg(km, BASE_LAT)
    specs = list(SPEC_WEIGHTS)
    sp = np.array(list(SPEC_WEIGHTS.values()), dtype=float)
    sp /= sp.sum()
    helpers = []
    for k in range(n_members):
        count = int(rng.integers(1, 4))
        chosen = list(rng.choice(specs, size=count, replace=False, p=sp))
        slots = []
        for day in range(7):
            if rng.random() < 0.6:
                start = int(rng.integers(7, 18)) * 60
                slots.append([day, start, min(1440, start + int(rng.integers(2, 6)) * 60)])
        cap = int(rng.integers(1, 4))
        n_ratings = int(rng.integers(0, 8))
        helpers.append(
            HelperData(
                key=f"member:{k}",
                name=f"m{k}",
                specialties=chosen,
                availability=slots,
                lon=BASE_LON + rng.random() * dlon,
                lat=BASE_LAT + rng.random() * dlat,
                capacity=cap,
                load=int(rng.integers(0, min(cap, 1) + 1)),
                rating_sum=float(sum(rng.integers(3, 6, n_ratings))),
                rating_count=n_ratings,
            )
        )
    cats = list(ORDER_WEIGHTS)
    op = np.array(list(ORDER_WEIGHTS.values()), dtype=float)
    op /= op.sum()
    monday = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # 08:00 Shanghai
    orders = []
    for i in range(n_orders):
        start = monday + timedelta(hours=int(rng.integers(0, 24 * 7)))
        orders.append(
            OrderData(
                key=i,
                category=str(rng.choice(cats, p=op)),
                window_start=start,
                window_end=start + timedelta(hours=int(rng.integers(2, 5))),
                lon=BASE_LON + rng.random() * dlon,
                lat=BASE_LAT + rng.random() * dlat,
            )
        )
    return orders, helpers


def lp_optimum(score: np.ndarray, eligible: np.ndarray, free: np.ndarray) -> tuple[float, int]:
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix, vstack

    usable = eligible & (score > 0)
    ii, jj = np.nonzero(usable)
    n, m = score.shape
    k = np.arange(ii.size)
    a_rows = coo_matrix((np.ones(ii.size), (ii, k)), shape=(n, ii.size))
    a_cols = coo_matrix((np.ones(ii.size), (jj, k)), shape=(m, ii.size))
    res = linprog(
        -score[ii, jj],
        A_ub=vstack([a_rows, a_cols]).tocsr(),
        b_ub=np.concatenate([np.ones(n), free.astype(float)]),
        bounds=(0, 1),
        method="highs",
    )
    if res.status != 0:
        raise RuntimeError(f"LP failed: {res.message}")
    x = res.x
    fractional = int(np.sum((x > 1e-6) & (x < 1 - 1e-6)))
    return float(-res.fun), fractional


def check(pairs, eligible, free, n) -> list[str]:
    problems = []
    rows = [i for i, _ in pairs]
    if len(rows) != len(set(rows)):
        problems.append("an order assigned twice")
    used = np.bincount([j for _, j in pairs], minlength=len(free)) if pairs else np.zeros(len(free))
    if np.any(used > free):
        problems.append(f"{int(np.sum(used > free))} members over capacity")
    if any(not eligible[i, j] for i, j in pairs):
        problems.append("an ineligible pair assigned")
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py matching")
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--members", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--km", type=float, default=20.0, help="side of the square district")
    args = parser.parse_args(argv)
    _setup()
    from wangge.party import matching as engine

    t = time.perf_counter()
    orders, helpers = generate(args.orders, args.members, args.seed, args.km)
    gen_s = time.perf_counter() - t
    weights = engine.Weights()
    t = time.perf_counter()
    in_area = np.ones((len(orders), len(helpers)), dtype=bool)
    f = engine.features(orders, helpers, weights, in_area=in_area)
    feat_s = time.perf_counter() - t
    free = engine.free_capacity(helpers)
    score, eligible = f.total, f.eligible
    print(
        f"instance: {len(orders)} orders × {len(helpers)} members, seed {args.seed}, "
        f"{args.km:g} km district; eligible pairs {int(eligible.sum()):,} "
        f"({100 * eligible.mean():.1f}%); free slots {int(free.sum())}; "
        f"generated in {gen_s:.1f} s, scored in {feat_s:.2f} s"
    )

    t = time.perf_counter()
    ours = engine.optimal_assignment(score, eligible, free)
    ours_s = time.perf_counter() - t
    t = time.perf_counter()
    greedy = engine.greedy_assignment(score, eligible, free)
    greedy_s = time.perf_counter() - t
    t = time.perf_counter()
    best, fractional = lp_optimum(score, eligible, free)
    lp_s = time.perf_counter() - t

    ours_total = engine.total_score(score, ours)
    greedy_total = engine.total_score(score, greedy)
    rows = [
        ("ours   (assignment, column per slot)", ours_total, f"assigned {len(ours):5d}", ours_s),
        (
            "greedy (best pair first, baseline)",
            greedy_total,
            f"assigned {len(greedy):5d}",
            greedy_s,
        ),
        ("LP     (HiGHS, independent exact)", best, f"fractional vars {fractional}", lp_s),
    ]
    for label, total, extra, seconds in rows:
        print(f"  {label:<38} total {total:9.3f}  {extra}  {seconds * 1000:8.0f} ms")
    problems = check(ours, eligible, free, len(orders)) + [
        f"greedy: {p}" for p in check(greedy, eligible, free, len(orders))
    ]
    quality = ours_total / best if best else 1.0
    greedy_quality = greedy_total / best if best else 1.0
    ok = quality >= TARGET and not problems
    print(
        f"RATIO quality ours / optimum = {ours_total:.3f} / {best:.3f} = {quality:.4f}  "
        f"[{'ok' if quality >= TARGET else 'FAIL'}] (target ≥ {TARGET})"
    )
    print(f"RATIO quality greedy / optimum = {greedy_quality:.4f}")
    print(
        f"RATIO time ours / greedy = {ours_s * 1000:.0f} / {greedy_s * 1000:.0f} ms = "
        f"{ours_s / greedy_s:.2f}; ours / LP = {ours_s / lp_s:.2f}"
    )
    print(
        f"checks: {'capacity and eligibility respected' if not problems else '; '.join(problems)}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
