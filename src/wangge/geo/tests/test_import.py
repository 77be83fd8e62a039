"""``wangge geo import`` / ``import-codes`` / ``export``: validation, report, all-or-nothing."""

from __future__ import annotations

import gzip
import json

import pytest
import shapely
from django.core.management import call_command
from shapely.geometry import shape

from wangge.core.exceptions import ValidationError
from wangge.core.models import AuditRecord
from wangge.geo.choices import Level
from wangge.geo.crs import convert_geometry
from wangge.geo.importers import LayerOptions, codes_import, layer_import
from wangge.geo.models import LocatorGeneration, Region
from wangge.geo.services import region_create, region_update

COMMUNITY = "320571001001"


def rect(lon, lat, w, h):
    return {
        "type": "Polygon",
        "coordinates": [
            [[lon, lat], [lon + w, lat], [lon + w, lat + h], [lon, lat + h], [lon, lat]]
        ],
    }


def feature(code, name="网格", geometry=None, **props):
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name, **props},
        "geometry": geometry,
    }


# The community is 120.60–120.64 × 31.30–31.34; four grids of 0.02° tile it.
NW = rect(120.60, 31.32, 0.02, 0.02)
NE = rect(120.62, 31.32, 0.02, 0.02)
SW = rect(120.60, 31.30, 0.02, 0.02)
SE = rect(120.62, 31.30, 0.02, 0.02)


def good_grids():
    return [
        feature(f"{COMMUNITY}001", "一网格", NW, kind="综合网格", hh=420),
        feature(f"{COMMUNITY}002", "二网格", NE, kind="专属网格", hh=0),
        feature(f"{COMMUNITY}003", "三网格", SW, kind="综合网格", hh=380),
        feature(f"{COMMUNITY}004", "四网格", SE, kind="综合网格", hh=455),
    ]


@pytest.fixture
def community(db):
    province = region_create(
        actor=None, level=Level.PROVINCE, code="320000", name="江苏省", parent=None, audit=False
    )
    city = region_create(
        actor=None, level=Level.CITY, code="320500", name="苏州市", parent=province, audit=False
    )
    county = region_create(
        actor=None, level=Level.COUNTY, code="320571", name="示范区", parent=city, audit=False
    )
    street = region_create(
        actor=None,
        level=Level.STREET,
        code="320571001",
        name="第一街道",
        parent=county,
        boundary=rect(120.60, 31.30, 0.04, 0.04),
        audit=False,
    )
    return region_create(
        actor=None,
        level=Level.COMMUNITY,
        code=COMMUNITY,
        name="第一社区",
        parent=street,
        boundary=rect(120.60, 31.30, 0.04, 0.04),
        audit=False,
    )


def grid_options(**extra):
    return LayerOptions(
        level="grid",
        parent=COMMUNITY,
        grid_type_field="kind",
        households_field="hh",
        **extra,
    )


def run(features, **extra):
    return layer_import(actor="test", features=features, options=grid_options(**extra))


def snapshot():
    gen = LocatorGeneration.objects.filter(id=1).values_list("generation", flat=True).first()
    return (
        sorted(Region.objects.values_list("code", flat=True)),
        AuditRecord.objects.count(),
        gen,
    )


def kinds(report):
    return {(p.feature, p.kind, p.severity) for p in report.problems}


def test_dry_run_validates_and_writes_nothing(community):
    before = snapshot()
    report = run(good_grids(), dry_run=True)
    assert report.ok and not report.applied
    assert report.summary["would_create"] == 4
    assert snapshot() == before
    assert "试运行" in report.format_text()


def test_clean_layer_is_created_with_one_audit_record(community):
    audits = AuditRecord.objects.count()
    report = run(good_grids())
    assert report.ok and report.applied and report.created == 4
    grids = {r.code: r for r in Region.objects.filter(level="grid")}
    assert set(grids) == {f"{COMMUNITY}00{i}" for i in range(1, 5)}
    assert grids[f"{COMMUNITY}002"].grid_type == "dedicated"
    assert grids[f"{COMMUNITY}001"].households == 420
    assert grids[f"{COMMUNITY}001"].parent_id == community.pk
    assert AuditRecord.objects.count() == audits + 1
    record = AuditRecord.objects.order_by("-seq").first()
    assert record.action == "geo.region_import"
    assert record.after["created"] == 4
    assert record.object_id == COMMUNITY


def test_report_names_every_problem_with_its_feature_number(community):
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[120.60, 31.30], [120.62, 31.32], [120.62, 31.30], [120.60, 31.32], [120.60, 31.30]]
        ],
    }
    flat = {
        "type": "Polygon",
        "coordinates": [[[120.60, 31.30], [120.61, 31.30], [120.62, 31.30], [120.60, 31.30]]],
    }
    features = [
        feature(f"{COMMUNITY}001", "一", NW),  # 1 fine
        feature(f"{COMMUNITY}002", "二", bowtie),  # 2 repaired
        feature(f"{COMMUNITY}001", "三", SE),  # 3 duplicate of 1
        feature(f"{COMMUNITY}004", "四", {"type": "Point", "coordinates": [120.61, 31.31]}),
        feature("32057100100A005", "五", SE),  # 5 malformed
        feature("320571002001006", "六", SE),  # 6 does not extend the community's code
        feature(f"{COMMUNITY}007", "七", rect(120.601, 31.321, 0.018, 0.018)),  # 7 overlaps 1
        feature("", "八", SE),  # 8 no code
        feature(f"{COMMUNITY}009", "九", flat),  # 9 empty after repair
        feature(f"{COMMUNITY}010", "十", rect(120.70, 31.50, 0.01, 0.01)),  # 10 outside
        feature(f"{COMMUNITY}011", "", SE, kind="大网格"),  # 11 no name, bad type
        feature(f"{COMMUNITY}012", "十二", None),  # 12 no geometry
    ]
    before = snapshot()
    report = run(features)
    found = kinds(report)
    assert (2, "invalid_polygon_repaired", "warning") in found
    assert (3, "duplicate_code", "error") in found
    assert (4, "non_polygon", "error") in found
    assert (5, "malformed_code", "error") in found
    assert (6, "code_not_extending_parent", "error") in found
    assert (7, "sibling_overlap", "error") in found
    assert (8, "missing_code", "error") in found
    assert (9, "invalid_polygon", "error") in found
    assert (10, "outside_parent", "error") in found
    assert (11, "missing_name", "error") in found
    assert (11, "bad_grid_type", "error") in found
    assert (12, "missing_geometry", "error") in found
    assert not report.applied
    assert snapshot() == before
    text = report.format_text()
    assert "feature 3 [320571001001001] duplicate_code" in text
    assert "未写入任何数据" in text
    assert report.as_dict()["counts"]["error"]["duplicate_code"] == 1


def test_one_bad_feature_at_the_end_leaves_the_database_unchanged(community):
    before = snapshot()
    features = [*good_grids(), feature(f"{COMMUNITY}001", "重复", SE)]
    report = run(features)
    assert {(p.feature, p.kind) for p in report.errors} == {
        (5, "duplicate_code"),
        (5, "sibling_overlap"),  # it lies on feature 4
    }
    assert snapshot() == before


def test_a_failure_while_writing_rolls_everything_back(community, monkeypatch):
    from wangge.geo.importers import layer

    real = layer.region_create
    calls = []

    def flaky(**kwargs):
        calls.append(kwargs["code"])
        if len(calls) == 3:
            raise ValidationError("磁盘坏了")
        return real(**kwargs)

    monkeypatch.setattr(layer, "region_create", flaky)
    before = snapshot()
    report = run(good_grids())
    assert not report.applied and report.created == 0
    assert [(p.feature, p.kind) for p in report.errors] == [(3, "rejected")]
    assert snapshot() == before


def test_database_duplicates_are_errors(community):
    run(good_grids()[:1])
    report = run([feature(f"{COMMUNITY}001", "again", NE)])
    assert (1, "duplicate_code", "error") in kinds(report)


def test_repaired_polygon_is_stored_valid(community):
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[120.60, 31.30], [120.62, 31.32], [120.62, 31.30], [120.60, 31.32], [120.60, 31.30]]
        ],
    }
    report = run([feature(f"{COMMUNITY}001", "蝴蝶", bowtie)])
    assert report.applied
    stored = shape(Region.objects.get(code=f"{COMMUNITY}001").boundary)
    assert stored.is_valid and stored.geom_type == "MultiPolygon"
    assert stored.area == pytest.approx(0.0002, rel=1e-3)


def test_gaps_are_warnings_with_a_percentage(community):
    report = run(good_grids()[:3])
    gaps = [p for p in report.warnings if p.kind == "gap"]
    assert len(gaps) == 1 and gaps[0].code == COMMUNITY
    assert "25.00%" in gaps[0].message
    assert report.applied


def test_overlap_tolerance(community):
    # 1 % of the smaller polygon overlaps: fine at the default 2 %, an error at 0.5 %.
    nudged = rect(120.62 - 0.0002, 31.32, 0.02, 0.02)
    features = [feature(f"{COMMUNITY}001", "一", NW), feature(f"{COMMUNITY}002", "二", nudged)]
    assert run(features, dry_run=True).ok
    strict = run(features, dry_run=True, overlap_tolerance=0.005)
    assert (2, "sibling_overlap", "error") in kinds(strict) or (
        1,
        "sibling_overlap",
        "error",
    ) in kinds(strict)


def test_overlap_with_an_existing_sibling_is_checked(community):
    run(good_grids()[:1])
    report = run([feature(f"{COMMUNITY}002", "压盖", rect(120.605, 31.325, 0.01, 0.01))])
    problems = [p for p in report.errors if p.kind == "sibling_overlap"]
    assert problems and "已有区域" in problems[0].message


def test_slightly_outside_the_parent_is_a_warning(community):
    overhang = rect(120.62, 31.32, 0.0205, 0.02)  # 2.4 % outside the community
    report = run([feature(f"{COMMUNITY}002", "出界", overhang)], dry_run=True)
    assert (1, "outside_parent", "warning") in kinds(report)
    assert report.ok


def test_assign_codes_numbers_west_to_east_then_north_to_south(community):
    features = [
        feature(None, "东南", SE),
        feature(None, "西北", NW),
        feature(None, "东北", NE),
        feature(None, "西南", SW),
    ]
    report = run(features, assign_codes=True)
    assert report.applied
    names = dict(Region.objects.filter(level="grid").values_list("code", "name"))
    assert [names[f"{COMMUNITY}00{i}"] for i in range(1, 5)] == ["西北", "西南", "东北", "东南"]
    assert {p.kind for p in report.warnings} == {"code_assigned"}


def test_assign_codes_continues_after_existing_children(community):
    run(good_grids()[:1])
    report = run([feature(None, "新", NE)], assign_codes=True)
    assert report.applied
    assert Region.objects.filter(code=f"{COMMUNITY}002", name="新").exists()


def test_renumber_fixes_bad_codes_and_keeps_the_source_code(community):
    features = [
        feature(f"{COMMUNITY}001", "好", NW),
        feature(f"{COMMUNITY}001", "重复", NE),  # own tail 001 is taken → next free 002
        feature("3205710010010050", "十六位", SW),  # tail 050 is free
        feature("320599009009003", "别的社区", SE),  # tail 003 is free
    ]
    strict = run(features, dry_run=True)
    assert {p.kind for p in strict.errors} == {
        "duplicate_code",
        "malformed_code",
        "code_not_extending_parent",
    }
    report = run(features, renumber=True)
    assert report.applied
    got = dict(Region.objects.filter(level="grid").values_list("name", "code"))
    assert got == {
        "好": f"{COMMUNITY}001",
        "重复": f"{COMMUNITY}002",
        "十六位": f"{COMMUNITY}050",
        "别的社区": f"{COMMUNITY}003",
    }
    assert Region.objects.get(name="十六位").source_code == "3205710010010050"
    assert Region.objects.get(name="好").source_code == ""
    assert [p.feature for p in report.warnings if p.kind == "renumbered"] == [2, 3, 4]


def test_parent_by_name_field_with_missing_and_ambiguous_parents(community):
    street = community.parent
    region_create(
        actor=None,
        level=Level.COMMUNITY,
        code="320571001002",
        name="同名社区",
        parent=street,
        audit=False,
    )
    region_create(
        actor=None,
        level=Level.COMMUNITY,
        code="320571001003",
        name="同名社区",
        parent=street,
        audit=False,
    )
    features = [
        feature(f"{COMMUNITY}001", "一", NW, community="第一社区"),
        feature("320571001002001", "二", NE, community="同名社区"),
        feature("320571001009001", "三", SW, community="没有这个社区"),
    ]
    options = LayerOptions(
        level="grid", parent="320571", parent_field="community", parent_key="name"
    )
    report = layer_import(actor="test", features=features, options=options)
    found = kinds(report)
    assert (2, "ambiguous_parent", "error") in found
    assert (3, "missing_parent", "error") in found
    assert not any(p.feature == 1 for p in report.errors)


def test_parent_by_code_field(community):
    features = [feature(f"{COMMUNITY}001", "一", NW, parent=COMMUNITY)]
    options = LayerOptions(level="grid", parent_field="parent", parent_key="code")
    report = layer_import(actor="test", features=features, options=options)
    assert report.applied
    assert Region.objects.get(code=f"{COMMUNITY}001").parent_id == community.pk


def test_spatial_parent_wins_over_a_contradicting_field(community):
    features = [feature(f"{COMMUNITY}001", "一", NW, community="别的社区")]
    options = LayerOptions(
        level="grid",
        parent="320571",
        parent_spatial=True,
        parent_field="community",
        parent_key="name",
    )
    report = layer_import(actor="test", features=features, options=options)
    assert report.applied
    assert [p.kind for p in report.warnings] == ["parent_mismatch", "gap"]
    assert Region.objects.get(code=f"{COMMUNITY}001").parent_id == community.pk


def test_spatial_parent_missing_when_nothing_covers_the_feature(community):
    options = LayerOptions(level="grid", parent="320571", parent_spatial=True)
    far = feature("320571001001001", "远", rect(121.5, 31.5, 0.01, 0.01))
    report = layer_import(actor="test", features=[far], options=options)
    assert (1, "missing_parent", "error") in kinds(report)


def test_gcj02_input_is_stored_in_wgs84(community):
    gcj = convert_geometry(NW, source="wgs84", target="gcj02")
    assert gcj["coordinates"][0][0] != NW["coordinates"][0][0]
    report = run([feature(f"{COMMUNITY}001", "一", gcj)], crs="gcj02")
    assert report.applied
    stored = shape(Region.objects.get(code=f"{COMMUNITY}001").boundary)
    assert shapely.equals_exact(stored.normalize(), shape(NW).normalize(), tolerance=2e-7)


def test_bad_options_are_rejected_before_reading(community):
    with pytest.raises(ValidationError):
        run(good_grids(), crs="epsg:3857")
    with pytest.raises(ValidationError):
        layer_import(actor=None, features=[], options=LayerOptions(level="grid"))
    with pytest.raises(ValidationError):
        run(good_grids(), assign_codes=True, renumber=True)


# --- the command line -------------------------------------------------------------------------


def write(path, features):
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        encoding="utf-8",
    )
    return str(path)


def test_cli_import_prints_the_report_and_writes_json(community, tmp_path, capsys):
    src = write(tmp_path / "grids.geojson", good_grids())
    out = tmp_path / "report.json"
    call_command(
        "geo",
        "import",
        src,
        "--level",
        "grid",
        "--parent",
        COMMUNITY,
        "--grid-type-field",
        "kind",
        "--households-field",
        "hh",
        "--report",
        str(out),
    )
    assert "已导入 4 条" in capsys.readouterr().out
    assert json.loads(out.read_text(encoding="utf-8"))["created"] == 4


def test_cli_import_with_errors_exits_non_zero(community, tmp_path, capsys):
    src = write(tmp_path / "bad.geojson", [*good_grids(), feature("1", "坏", SE)])
    before = snapshot()
    with pytest.raises(SystemExit) as exc:
        call_command("geo", "import", src, "--level", "grid", "--parent", COMMUNITY)
    assert exc.value.code == 1
    assert "feature 5 [1] malformed_code" in capsys.readouterr().out
    assert snapshot() == before


def test_export_then_import_round_trips(tree, tmp_path):
    out = tmp_path / "grids.geojson"
    call_command("geo", "export", "--root", "320571", "--level", "grid", "-o", str(out))
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert len(exported["features"]) == 8
    original = {
        r.code: (r.name, r.households, r.grid_type, shape(r.boundary))
        for r in Region.objects.filter(level="grid")
    }
    Region.objects.filter(level="grid").delete()
    options = LayerOptions(
        level="grid",
        parent_field="parent_code",
        grid_type_field="grid_type",
        households_field="households",
    )
    report = layer_import(actor="test", features=exported["features"], options=options)
    assert report.ok and report.applied, report.format_text()
    again = {
        r.code: (r.name, r.households, r.grid_type, shape(r.boundary))
        for r in Region.objects.filter(level="grid")
    }
    assert set(again) == set(original)
    for code, (name, households, grid_type, geom) in original.items():
        assert again[code][:3] == (name, households, grid_type)
        assert shapely.equals_exact(again[code][3].normalize(), geom.normalize(), tolerance=1e-9)


def test_export_in_gcj02(tree, capsys):
    call_command("geo", "export", "--root", "320571001001001", "--crs", "gcj02")
    collection = json.loads(capsys.readouterr().out)
    lon, _lat = collection["features"][0]["geometry"]["coordinates"][0][0]
    assert collection["x_crs"] == "gcj02"
    assert abs(lon - 120.6) > 0.002


# --- statistical code tables ------------------------------------------------------------------


@pytest.fixture
def code_tables(tmp_path):
    (tmp_path / "provinces.csv").write_text('code,name\n32,"江苏省"\n33,"浙江省"\n')
    (tmp_path / "cities.csv").write_text(
        'code,name,provinceCode\n3205,"苏州市",32\n3301,"杭州市",33\n'
    )
    (tmp_path / "counties.csv").write_text(
        "code,name,cityCode,provinceCode\n"
        '320576,"苏州工业园区",3205,32\n320505,"虎丘区",3205,32\n330102,"上城区",3301,33\n'
    )
    (tmp_path / "towns.csv").write_text(
        "code,name,areaCode,provinceCode,cityCode\n"
        '320576050,"娄葑街道",320576,32,3205\n320576051,"斜塘街道",320576,32,3205\n'
    )
    with gzip.open(tmp_path / "villages.csv.gz", "wt", encoding="utf-8") as fh:
        fh.write(
            "code,name,streetCode,provinceCode,cityCode,areaCode\n"
            '320576050001,"东港社区居委会",320576050,32,3205,320576\n'
        )
    names = ["provinces.csv", "cities.csv", "counties.csv", "towns.csv", "villages.csv.gz"]
    return [str(tmp_path / n) for n in names]


def test_import_codes_builds_the_tree_from_codes(db, code_tables):
    report = codes_import(actor="test", paths=code_tables, prefix="320576")
    assert report.applied and report.created == 6
    village = Region.objects.get(code="320576050001")
    assert [r.code for r in village_path(village)] == [
        "320000",
        "320500",
        "320576",
        "320576050",
        "320576050001",
    ]
    assert village.level == "community"
    assert not Region.objects.filter(code__in=["330000", "320505"]).exists()
    assert AuditRecord.objects.filter(action="geo.codes_import").count() == 1
    again = codes_import(actor="test", paths=code_tables, prefix="320576")
    assert again.applied and again.created == 0 and again.skipped == 6


def village_path(region):
    ids = region.ancestor_ids()
    by_id = Region.objects.in_bulk(ids)
    return [by_id[i] for i in ids]


def test_import_codes_dry_run_and_all_or_nothing(db, code_tables, tmp_path):
    dry = codes_import(actor="test", paths=code_tables, prefix="3205", dry_run=True)
    assert dry.ok and dry.summary["would_create"] == 7  # with 虎丘区 320505
    assert not Region.objects.exists()
    bad = tmp_path / "more_towns.csv"
    bad.write_text('code,name,areaCode\n320599001,"孤儿街道",320599\n')
    report = codes_import(actor="test", paths=[*code_tables, str(bad)], prefix="3205")
    assert [(p.kind, p.where) for p in report.errors] == [("missing_parent", "more_towns.csv:2")]
    assert not Region.objects.exists()


def test_import_codes_cli(db, code_tables, capsys):
    call_command("geo", "import-codes", *code_tables[:3], "--prefix", "320576")
    assert "已导入 3 条" in capsys.readouterr().out
    assert Region.objects.get(code="320576").parent.code == "320500"


def test_code_table_gives_official_codes_by_name(community, tmp_path):
    table = tmp_path / "towns.csv.gz"
    with gzip.open(table, "wt", encoding="utf-8") as fh:
        fh.write(
            "code,name,areaCode\n"
            '320571002,"第二街道",320571\n'
            '320571005,"预留街道",320571\n'
            '320571007,"重名街道",320571\n'
            '320571008,"重名街道",320571\n'
            '320599001,"别县街道",320599\n'
        )
    features = [
        feature("", "第二街道", rect(120.70, 31.30, 0.01, 0.01)),
        feature("", "新区街道", rect(120.72, 31.30, 0.01, 0.01)),
        feature("", "重名街道", rect(120.74, 31.30, 0.01, 0.01)),
        feature("", "别县街道", rect(120.76, 31.30, 0.01, 0.01)),
    ]
    options = LayerOptions(
        level="street", parent="320571", assign_codes=True, code_tables=[str(table)]
    )
    report = layer_import(actor="test", features=features, options=options)
    assert report.applied, report.format_text()
    got = dict(Region.objects.filter(level="street").values_list("name", "code"))
    assert got["第二街道"] == "320571002"  # official, by name under its parent
    # The rest are numbered after every code in use or reserved by the table (…008).
    assert got["新区街道"] == "320571009"
    assert got["重名街道"] == "320571010"  # ambiguous in the table: not taken from it
    assert got["别县街道"] == "320571011"  # a row under another county does not apply
    assert [p.kind for p in report.warnings].count("code_from_table") == 1
    assert report.summary["code_table_matches"] == 1


def test_code_table_with_renumber_keeps_the_file_code(community, tmp_path):
    table = tmp_path / "villages.csv"
    table.write_text(
        'code,name,streetCode\n320571001005,"东港社区居委会",320571001\n', encoding="utf-8"
    )
    street = community.parent
    # Make room in the street: the existing community keeps only its southern half.
    region_update(actor=None, region=community, boundary=rect(120.60, 31.30, 0.04, 0.02))
    features = [
        feature("320505006015", "东港社区", rect(120.60, 31.32, 0.02, 0.02)),
        feature("320505006003", "新社区", rect(120.62, 31.32, 0.02, 0.02)),
    ]
    options = LayerOptions(
        level="community",
        parent=street.code,
        renumber=True,
        code_tables=[str(table)],
    )
    report = layer_import(actor="test", features=features, options=options)
    assert report.applied, report.format_text()
    east = Region.objects.get(name="东港社区")
    assert (east.code, east.source_code) == ("320571001005", "320505006015")
    assert Region.objects.get(name="新社区").code == "320571001003"  # own tail, free


def test_code_table_only_for_streets_and_communities(community, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("code,name\n", encoding="utf-8")
    with pytest.raises(ValidationError):
        run(good_grids(), code_tables=[str(table)])


def test_garbage_features_are_reported_not_crashed_on(community):
    report = run([*good_grids(), "not a feature", {"type": "Feature", "properties": [1]}])
    assert (5, "missing_geometry", "error") in kinds(report)
    assert (6, "missing_name", "error") in kinds(report)
    assert not report.applied
