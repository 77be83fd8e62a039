"""Locator: points/s and agreement vs brute-force containment and per-point PostGIS queries.

Loads the real 苏州工业园区 grid layer from ``../shared/data`` through the importers (falling
back, loudly, to the demo city or a generated Voronoi city), draws 200,000 seeded random points
in the layer's bounding box and reports:

(a) agreement of ``locate_many`` with brute-force exact containment over all grid polygons
    (``covers`` + lowest code on ties; must be 100 %);
(b) throughput ratio against that brute force (per point as a naive request would, and as a
    vectorised batch);
(c) throughput ratio against PostGIS ``ST_Covers``/``ST_Contains`` with a GiST index, one query
    per point over a psycopg connection (installs ``postgresql-15-postgis-3`` with apt-get when
    missing; skipped with the reason when it cannot);
plus the single-point ``locate()`` rate (what a web request does).

Usage: ``bench/run.py locator [--points N] [--sample N] [--seed N] [--no-postgis]
[--source auto|demo|voronoi]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one thread: the target is per core

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("WANGGE_SHARED_DATA", REPO.parent / "shared" / "data"))
GEO = SHARED / "geo"
CODES = SHARED / "codes"
SIP_LAYERS = {
    "street": GEO / "sip_streets_dissolved_cgcs2000.geojson",
    "community": GEO / "sip_communities_cgcs2000.geojson",
    "grid": GEO / "sip_grids_cgcs2000.geojson",
}
PG_DSN = os.environ.get(
    "BENCH_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"
)
TARGET_RATE = 50_000
TARGET_POSTGIS_RATIO = 20.0


def say(text: str = "") -> None:
    print(text, flush=True)


# --- set-up ------------------------------------------------------------------------------------


def setup_django(workdir: Path) -> None:
    """A scratch SQLite database, so the bench never touches the developer's data."""
    os.environ["SQLITE_PATH"] = str(workdir / "bench.sqlite3")
    os.environ["WANGGE_VAR_DIR"] = str(workdir)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "wangge.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def load_sip() -> str:
    from wangge.geo.choices import Level
    from wangge.geo.importers import LayerOptions, codes_import, layer_import, load_features
    from wangge.geo.services import region_create

    tables = [CODES / f"statscode2023_{n}.csv" for n in ("provinces", "cities", "counties")]
    if all(t.exists() for t in tables):
        report = codes_import(actor="bench", paths=tables, prefix="320576")
        assert report.applied, report.format_text()
    else:
        province = region_create(
            actor=None, level=Level.PROVINCE, code="320000", name="江苏省", parent=None
        )
        city = region_create(
            actor=None, level=Level.CITY, code="320500", name="苏州市", parent=province
        )
        region_create(
            actor=None, level=Level.COUNTY, code="320576", name="苏州工业园区", parent=city
        )
    towns = CODES / "statscode2023_towns_streets.csv"
    villages = CODES / "statscode2023_villages_communities.csv.gz"
    steps = [
        (
            "street",
            LayerOptions(
                level="street",
                name_field="street",
                parent="320576",
                assign_codes=True,
                code_tables=[str(towns)] if towns.exists() else [],
            ),
        ),
        (
            "community",
            LayerOptions(
                level="community",
                code_field="community_code_12",
                name_field="community",
                parent="320576",
                parent_spatial=True,
                renumber=True,
                code_tables=[str(villages)] if villages.exists() else [],
            ),
        ),
        (
            "grid",
            LayerOptions(
                level="grid",
                code_field="grid_code_15",
                name_field="grid_name",
                parent="320576",
                parent_spatial=True,
                parent_field="community",
                parent_key="name",
                renumber=True,
                grid_type_field="grid_type",
            ),
        ),
    ]
    for layer, options in steps:
        started = time.perf_counter()
        report = layer_import(
            actor="bench",
            features=load_features(SIP_LAYERS[layer]),
            options=options,
            source=SIP_LAYERS[layer].name,
        )
        if not report.applied:
            say(report.format_text())
            raise SystemExit(f"importing {SIP_LAYERS[layer].name} failed")
        say(
            f"  imported {report.created:>5} {layer:<9} in {time.perf_counter() - started:5.1f} s"
            f"  ({len(report.warnings)} warnings, 0 errors)"
        )
    return "real SIP grid layer (苏州工业园区, ../shared/data/geo/sip_grids_cgcs2000.geojson)"


def load_demo() -> str | None:
    from django.core.management import call_command, get_commands

    if "demo" not in get_commands():
        return None
    try:
        call_command("demo", "--no-cases", verbosity=0)
    except Exception as exc:  # the demo command belongs to another module; fall back
        say(f"  `wangge demo` failed ({exc!r}); using a generated Voronoi city instead")
        return None
    return "demo city (`wangge demo`)"


def load_voronoi(n: int = 1300, seed: int = 2026) -> str:
    """A generated city: ``n`` Voronoi cells tiling a box at Suzhou's coordinates."""
    import shapely
    from shapely.geometry import mapping

    from wangge.geo.choices import Level
    from wangge.geo.services import region_create

    rng = np.random.default_rng(seed)
    box = shapely.box(120.55, 31.22, 120.85, 31.42)
    seeds = shapely.multipoints(
        np.column_stack([rng.uniform(120.55, 120.85, n), rng.uniform(31.22, 31.42, n)])
    )
    cells = [c.intersection(box) for c in shapely.voronoi_polygons(seeds, extend_to=box).geoms]
    cells.sort(key=lambda c: (c.representative_point().x, -c.representative_point().y))
    province = region_create(
        actor=None, level=Level.PROVINCE, code="320000", name="江苏省", parent=None, audit=False
    )
    city = region_create(
        actor=None, level=Level.CITY, code="320500", name="苏州市", parent=province, audit=False
    )
    county = region_create(
        actor=None, level=Level.COUNTY, code="320599", name="基准区", parent=city, audit=False
    )
    street = region_create(
        actor=None,
        level=Level.STREET,
        code="320599001",
        name="基准街道",
        parent=county,
        audit=False,
    )
    per_community = 100
    for c in range(0, len(cells), per_community):
        community = region_create(
            actor=None,
            level=Level.COMMUNITY,
            code=f"320599001{c // per_community + 1:03d}",
            name=f"基准社区{c // per_community + 1}",
            parent=street,
            audit=False,
        )
        for g, cell in enumerate(cells[c : c + per_community], start=1):
            region_create(
                actor=None,
                level=Level.GRID,
                code=f"{community.code}{g:03d}",
                name=f"网格{g}",
                parent=community,
                boundary=dict(mapping(cell)),
                audit=False,
            )
    return f"generated Voronoi city ({len(cells)} cells at Suzhou's coordinates)"


# --- baselines ----------------------------------------------------------------------------------


def brute_force_batch(polys: np.ndarray, ranks: np.ndarray, x: np.ndarray, y: np.ndarray) -> Any:
    """Exact containment of every point against every polygon, no spatial index: per polygon,
    a numpy bounding-box filter then ``covers`` on the unprepared polygon; lowest code wins."""
    import shapely

    best = np.full(len(x), np.iinfo(np.int64).max)
    result = np.full(len(x), -1, dtype=np.int64)
    bounds = shapely.bounds(polys)
    for j, poly in enumerate(polys):
        minx, miny, maxx, maxy = bounds[j]
        idx = np.flatnonzero((x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy))
        if not len(idx):
            continue
        hit = idx[shapely.covers(poly, shapely.points(x[idx], y[idx]))]
        better = hit[ranks[j] < best[hit]]
        best[better] = ranks[j]
        result[better] = j
    return result


def brute_force_point(polys: np.ndarray, ranks: np.ndarray, lon: float, lat: float) -> int:
    """One point as a naive request would: test it against every polygon."""
    import shapely

    hits = np.flatnonzero(shapely.covers(polys, shapely.Point(lon, lat)))
    if not len(hits):
        return -1
    return int(hits[np.argmin(ranks[hits])])


def timed(fn: Any, repeat: int = 1) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


# --- PostGIS ----------------------------------------------------------------------------------


def ensure_postgis(conn: Any) -> str | None:
    """None when the postgis extension is available (installing it if needed), else why not."""

    def available() -> bool:
        row = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
        return row.fetchone() is not None

    if available():
        return None
    if not shutil.which("apt-get"):
        return "postgis is not installed and apt-get is not available"
    say("  postgis missing: apt-get update && apt-get install -y postgresql-15-postgis-3 …")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "postgresql-15-postgis-3"],
    ):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return f"`{' '.join(cmd)}` failed: {(done.stderr or done.stdout).strip()[-300:]}"
    return None if available() else "postgis still unavailable after installing the package"


def bench_postgis(
    polys: np.ndarray, codes: list[str], x: np.ndarray, y: np.ndarray
) -> dict[str, Any]:
    import psycopg
    import shapely

    try:
        admin = psycopg.connect(PG_DSN, autocommit=True)
    except Exception as exc:
        return {"skipped": f"PostgreSQL unreachable ({PG_DSN}): {exc}"}
    reason = ensure_postgis(admin)
    if reason:
        admin.close()
        return {"skipped": reason}
    dbname = f"wangge_bench_locator_{os.getpid()}"
    admin.execute(f'CREATE DATABASE "{dbname}"')
    out: dict[str, Any] = {}
    try:
        dsn = PG_DSN.replace("dbname=postgres", f"dbname={dbname}")
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")
            out["version"] = conn.execute("SELECT postgis_lib_version()").fetchone()[0]
            conn.execute(
                "CREATE TABLE grid (id int PRIMARY KEY, code text NOT NULL,"
                " geom geometry(MultiPolygon, 4326) NOT NULL)"
            )
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO grid VALUES (%s, %s, ST_Multi(ST_GeomFromWKB(%s, 4326)))",
                    [(i, codes[i], shapely.to_wkb(p)) for i, p in enumerate(polys.tolist())],
                )
            conn.execute("CREATE INDEX grid_geom_gist ON grid USING gist (geom)")
            conn.execute("ANALYZE grid")
            by_code = {c: i for i, c in enumerate(codes)}
            for name, predicate in (("ST_Covers", "ST_Covers"), ("ST_Contains", "ST_Contains")):
                sql = (
                    f"SELECT code FROM grid WHERE {predicate}"
                    "(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326)) ORDER BY code LIMIT 1"
                )
                with conn.cursor() as cur:
                    for i in range(50):  # warm up (psycopg prepares after 5 executions)
                        cur.execute(sql, (float(x[i]), float(y[i])))
                        cur.fetchone()
                    found = np.full(len(x), -1, dtype=np.int64)
                    started = time.perf_counter()
                    for i in range(len(x)):
                        cur.execute(sql, (float(x[i]), float(y[i])))
                        row = cur.fetchone()
                        if row:
                            found[i] = by_code[row[0]]
                    elapsed = time.perf_counter() - started
                out[name] = {"rate": len(x) / elapsed, "found": found}
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        admin.close()
    return out


# --- main ---------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py locator")
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--sample", type=int, default=5_000, help="per-point baselines")
    parser.add_argument("--seed", type=int, default=20_261_122)
    parser.add_argument("--no-postgis", action="store_true")
    parser.add_argument(
        "--source",
        choices=("auto", "demo", "voronoi"),
        default="auto",
        help="auto: the SIP layer when ../shared/data is present, else the demo city, else a "
        "generated Voronoi city",
    )
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO / "src"))
    workdir = Path(tempfile.mkdtemp(prefix="wangge-bench-locator-"))
    try:
        return run(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run(args: argparse.Namespace, workdir: Path) -> int:
    import shapely

    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    say(
        f"machine: {platform.node()} · {os.cpu_count()} cores · load {load} · "
        f"Python {platform.python_version()} · shapely {shapely.__version__} "
        f"(GEOS {shapely.geos_version_string}) · {now}"
    )
    setup_django(workdir)
    started = time.perf_counter()
    if args.source == "auto" and SIP_LAYERS["grid"].exists():
        say(f"data: {SHARED}")
        source = load_sip()
    else:
        if args.source == "auto":
            say(f"NOTE: ../shared/data is ABSENT (looked for {SIP_LAYERS['grid']}).")
        say("NOTE: the figures below are NOT on the real SIP layer.")
        source = (load_demo() if args.source in ("auto", "demo") else None) or load_voronoi()
    say(f"layer: {source}; loaded in {time.perf_counter() - started:.1f} s")

    from django.conf import settings

    from wangge.geo import locator
    from wangge.geo.geometry import to_shape
    from wangge.geo.models import Region

    locator.reset()
    build_s, index = timed(locator.get_index)
    leaf_ids = index.leaf_ids
    regions = Region.objects.in_bulk(leaf_ids.tolist())
    codes = [regions[int(i)].code for i in leaf_ids]
    # The baselines get their own, unprepared copies of the polygons.
    polys = np.array([to_shape(regions[int(i)].boundary) for i in leaf_ids], dtype=object)
    ranks = np.argsort(np.argsort(np.array(codes, dtype=object), kind="stable"))
    say(
        f"index: {len(leaf_ids)} leaf polygons ({len(index.parent_ids)} parents) "
        f"built in {build_s * 1000:.0f} ms"
    )

    rng = np.random.default_rng(args.seed)
    minx, miny, maxx, maxy = shapely.total_bounds(polys)
    x = rng.uniform(minx, maxx, args.points)
    y = rng.uniform(miny, maxy, args.points)
    say(
        f"points: {args.points:,} uniform in [{minx:.5f}, {maxx:.5f}] × [{miny:.5f}, {maxy:.5f}]"
        f" (seed {args.seed}); per-point baselines on the first {args.sample:,}"
    )
    say()

    # Our batch path: rule step 1 only (contains), the same question the baselines answer.
    many_s, ids = timed(lambda: index.locate_ids(x, y, max_distance_m=0), repeat=3)
    many_rate = args.points / many_s
    pos = {int(pk): j for j, pk in enumerate(leaf_ids)}
    ours = np.array([pos.get(int(pk), -1) for pk in ids], dtype=np.int64)
    fallback_s, _ids = timed(
        lambda: index.locate_ids(x, y, max_distance_m=settings.LOCATOR_FALLBACK_METRES)
    )

    brute_s, brute = timed(lambda: brute_force_batch(polys, ranks, x, y))
    agree = float(np.mean(ours == brute)) * 100
    inside = int(np.sum(brute >= 0))

    n = min(args.sample, args.points)
    started = time.perf_counter()
    naive = np.array([brute_force_point(polys, ranks, x[i], y[i]) for i in range(n)])
    naive_rate = n / (time.perf_counter() - started)
    naive_agree = float(np.mean(naive == ours[:n])) * 100

    # Single points through the public API, as a request does (rule with fallback, paths).
    locator.locate(float(x[0]), float(y[0]))
    started = time.perf_counter()
    for i in range(n):
        locator.locate(float(x[i]), float(y[i]))
    single_rate = n / (time.perf_counter() - started)
    inside_idx = np.flatnonzero(brute[:n] >= 0)
    started = time.perf_counter()
    for i in inside_idx:
        locator.locate(float(x[i]), float(y[i]))
    single_inside_rate = len(inside_idx) / (time.perf_counter() - started)

    say(f"(a) agreement with brute-force exact containment: {agree:.4f} % of {args.points:,}")
    say(f"    ({inside:,} points inside a grid; per-point brute force agrees {naive_agree:.2f} %)")
    say(f"    locate_many, contains only     {many_rate:>12,.0f} points/s  (best of 3)")
    say(
        f"    locate_many, with {settings.LOCATOR_FALLBACK_METRES:g} m fallback"
        f" {args.points / fallback_s:>10,.0f} points/s"
    )
    say(f"(b) brute force, per point        {naive_rate:>12,.0f} points/s")
    say(f"    brute force, vectorised batch {args.points / brute_s:>12,.0f} points/s")
    say(f"    ratio locate_many / per-point brute force   {many_rate / naive_rate:>8.1f} ×")
    batch_rate = args.points / brute_s
    say(f"    ratio locate_many / batch brute force       {many_rate / batch_rate:>8.1f} ×")
    say(f"    single-point locate() (API path), all points {single_rate:>10,.0f} points/s")
    say(f"    single-point locate(), inside points only    {single_inside_rate:>10,.0f} points/s")

    postgis: dict[str, Any] = (
        {"skipped": "--no-postgis"}
        if args.no_postgis
        else bench_postgis(polys, codes, x[:n], y[:n])
    )
    if "skipped" in postgis:
        say(f"(c) PostGIS: SKIPPED — {postgis['skipped']}")
        postgis_ok: bool | None = None
    else:
        say(f"(c) PostGIS {postgis['version']}, GiST index, one query per point over psycopg:")
        for name in ("ST_Covers", "ST_Contains"):
            r = postgis[name]
            same = float(np.mean(r["found"] == ours[:n])) * 100
            say(
                f"    {name:<11} {r['rate']:>9,.0f} points/s · agrees {same:.2f} % · "
                f"locate_many {many_rate / r['rate']:>7.1f} × · "
                f"single locate() {single_rate / r['rate']:>5.1f} ×"
            )
        postgis_ok = many_rate / postgis["ST_Covers"]["rate"] >= TARGET_POSTGIS_RATIO
    say()
    checks = {
        "agreement 100 %": agree == 100.0,
        f"locate_many ≥ {TARGET_RATE:,} points/s": many_rate >= TARGET_RATE,
        f"≥ {TARGET_POSTGIS_RATIO:g}× PostGIS per point": postgis_ok,
    }
    for label, ok in checks.items():
        say(f"  [{'skipped' if ok is None else 'ok' if ok else 'FAIL'}] {label}")
    return 0 if all(ok is not False for ok in checks.values()) else 1
