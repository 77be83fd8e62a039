from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook

from wangge.cases.catalogue import (
    CATALOGUE_FILE,
    catalogue_apply,
    catalogue_export_xlsx,
    catalogue_import_xlsx,
    load_default_catalogue,
    matter_type_update,
)
from wangge.cases.models import CatalogueVersion, MatterType, MatterTypeVersion
from wangge.core.exceptions import PermissionDenied, ValidationError
from wangge.core.models import AuditRecord

from .factories import load_small_catalogue, make_case

pytestmark = pytest.mark.django_db


def test_the_shipped_file_has_every_standard_matter_and_social_governance_types():
    data = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    matters = data["matters"]
    codes = [m["code"] for m in matters]
    assert len(codes) == len(set(codes))
    standard = [m for m in matters if m["kind"] in ("component", "matter")]
    assert len(standard) == 250
    assert sum(m["kind"] == "component" for m in matters) == 153
    social = {m["name"] for m in matters if m["kind"] == "social"}
    assert {"邻里纠纷", "婚姻家庭纠纷", "物业纠纷", "劳资纠纷", "土地纠纷", "治安隐患"} <= social
    assert {"安全生产隐患", "消防隐患", "民生服务诉求", "政策咨询", "独居老人帮扶"} <= social
    assert all(m["code"].startswith("9") for m in matters if m["kind"] == "social")


def test_loading_the_default_catalogue_is_idempotent_and_audited():
    first = load_default_catalogue()
    assert first.version is not None and len(first.created) == MatterType.objects.count()
    assert AuditRecord.objects.filter(action="cases.catalogue_apply").count() == 1
    second = load_default_catalogue()
    assert second.version is None and not second.created and not second.updated
    assert CatalogueVersion.objects.count() == 1
    garbage = MatterType.objects.get(code="06010")
    assert (garbage.name, garbage.handle_limit, garbage.handle_unit) == ("暴露垃圾", 4, "work_hour")
    assert garbage.pushdown_allowed and garbage.on_spot_allowed
    building = MatterType.objects.get(code="06001")
    assert (building.handle_limit, building.handle_unit) == (15, "work_day")
    assert not building.pushdown_allowed
    water = MatterType.objects.get(name="道路积水")
    assert (water.handle_limit, water.handle_unit) == (4, "work_hour")


def test_an_edit_makes_a_new_version_and_an_old_case_keeps_its_rules(world):
    case = make_case(world, matter="06010")
    mt = world.matters["06010"]
    matter_type_update(actor=None, matter_type=mt, handle_limit=8)
    mt.refresh_from_db()
    assert mt.handle_limit == 8
    assert MatterTypeVersion.objects.filter(matter_type=mt).count() == 2
    case.refresh_from_db()
    assert case.rules["handle_limit"] == 4
    assert case.matter_version.rules["handle_limit"] == 4


def test_a_bad_item_changes_nothing():
    load_small_catalogue()
    before = CatalogueVersion.objects.count()
    items = [
        {
            "code": "06010",
            "name": "暴露垃圾",
            "handle_limit": 2,
            "kind": "matter",
            "default_level": "grid",
            "pushdown_allowed": True,
        },
        {"code": "123", "name": "", "kind": "x", "default_level": "grid"},
    ]
    with pytest.raises(ValidationError) as exc:
        catalogue_apply(actor=None, items=items)
    assert "2" in exc.value.errors
    assert MatterType.objects.get(code="06010").handle_limit == 4
    assert CatalogueVersion.objects.count() == before


def test_on_spot_without_admission_to_grids_is_refused():
    with pytest.raises(ValidationError):
        catalogue_apply(
            actor=None,
            items=[
                {
                    "code": "06099",
                    "name": "x",
                    "kind": "matter",
                    "default_level": "grid",
                    "on_spot_allowed": True,
                    "pushdown_allowed": False,
                }
            ],
        )


def test_only_catalogue_keepers_may_change_it(world):
    with pytest.raises(PermissionDenied):
        matter_type_update(
            actor=world.dispatcher, matter_type=world.matters["06010"], handle_limit=1
        )
    matter_type_update(actor=world.commander, matter_type=world.matters["06010"], handle_limit=1)


def _export() -> io.BytesIO:
    buf = io.BytesIO()
    catalogue_export_xlsx(buf)
    buf.seek(0)
    return buf


def test_excel_round_trip_changes_nothing_and_an_edit_is_applied():
    load_small_catalogue()
    report = catalogue_import_xlsx(actor=None, stream=_export())
    assert report.ok and {r.status for r in report.rows} == {"unchanged"}
    wb = load_workbook(_export())
    ws = wb.active
    header = [c.value for c in ws[1]]
    col = header.index("处置时限") + 1
    for row in ws.iter_rows(min_row=2):
        if row[0].value == "06010":
            ws.cell(row=row[0].row, column=col, value=6)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    dry = catalogue_import_xlsx(actor=None, stream=io.BytesIO(buf.getvalue()), dry_run=True)
    assert not dry.applied and [r.code for r in dry.rows if r.status == "updated"] == ["06010"]
    assert MatterType.objects.get(code="06010").handle_limit == 4
    done = catalogue_import_xlsx(actor=None, stream=buf)
    assert done.applied and MatterType.objects.get(code="06010").handle_limit == 6


def test_excel_import_with_a_bad_row_reports_it_and_applies_nothing():
    load_small_catalogue()
    wb = load_workbook(_export())
    ws = wb.active
    ws.append(["9999X", "坏行", "99", "其他", "事项", "网格", "abc"])
    ws.append(["99002", "新事项", "99", "其他", "社会治理", "社区"])
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    report = catalogue_import_xlsx(actor=None, stream=buf)
    assert not report.ok and not report.applied
    bad = [r for r in report.rows if r.status == "error"]
    assert len(bad) == 1 and bad[0].row == ws.max_row - 1 and bad[0].messages
    assert not MatterType.objects.filter(code="99002").exists()


def test_a_non_excel_file_is_a_clear_error():
    with pytest.raises(ValidationError):
        catalogue_import_xlsx(actor=None, stream=io.BytesIO(b"not a workbook"))
