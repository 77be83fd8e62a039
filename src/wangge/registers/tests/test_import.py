from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from wangge.core.exceptions import PermissionDenied
from wangge.core.models import AuditRecord
from wangge.registers.excel.importer import run_import
from wangge.registers.excel.writer import template_bytes
from wangge.registers.jobs import import_job_create, people_export
from wangge.registers.models import Component, House, Household, ImportJob, Organisation, Person
from wangge.registers.tests.factories import credit_code, people_xlsx, resident_id

pytestmark = pytest.mark.django_db


def _row(region, n, **extra):
    return {
        "grid": region.code,
        "name": f"居民{n}",
        "id_number": resident_id(date(1950 + n % 50, 1 + n % 12, 1 + n % 28), seq=n),
        "phone": f"139{n:08d}",
        **extra,
    }


def _run(actor, data, **kw):
    kw.setdefault("dry_run", False)
    return run_import(actor=actor, kind=kw.pop("kind", "people"), source=io.BytesIO(data), **kw)


def test_template_has_chinese_headers_and_instructions():
    wb = load_workbook(io.BytesIO(template_bytes("people")))
    headers = [c.value for c in wb.worksheets[0][1]]
    assert headers[:4] == ["*网格代码", "*姓名", "证件类型", "*证件号码"]
    assert wb.sheetnames[1] == "填写说明"


def test_dry_run_reports_every_bad_row_and_writes_nothing(world):
    bad_id = resident_id(seq=99)
    bad_id = bad_id[:-1] + ("0" if bad_id[-1] != "0" else "1")
    rows = [
        _row(world.g_a, 1),
        _row(world.g_a, 2, id_number=bad_id),
        _row(world.g_a, 3, grid="999999999999999"),
        _row(world.g_a, 4, birth_date="1999-02-30"),
        _row(world.g_a, 1),  # same ID as row 2 of the sheet
        _row(world.g_other, 6),  # another street: unknown to this worker
    ]
    result = _run(world.worker_a, people_xlsx(rows), dry_run=True)
    report = {(e.row, e.column): e.message for e in result.errors}
    assert report[(3, "证件号码")] == "身份证号码校验位错误"
    assert report[(4, "网格代码")] == "网格代码不存在或不在您的管辖范围内"
    assert "日期" in report[(5, "出生日期")]
    assert report[(6, "证件号码")] == "文件内证件号码重复(与第2行)"
    assert report[(7, "网格代码")] == "网格代码不存在或不在您的管辖范围内"
    assert result.error_count == 5 and not result.written
    assert not Person.objects.exists()
    assert bad_id not in str([e.as_dict() for e in result.errors])


def test_clean_dry_run_counts_and_real_run_imports(world):
    rows = [_row(world.g_a, n, household_no="H1" if n < 3 else "") for n in range(1, 6)]
    rows[0]["relation"] = "户主"
    dry = _run(world.worker_a, people_xlsx(rows), dry_run=True)
    assert (dry.ok, dry.created, dry.updated, Person.objects.count()) == (True, 5, 0, 0)
    result = _run(world.worker_a, people_xlsx(rows))
    assert (result.created, result.written) == (5, True)
    assert Person.objects.filter(household__household_no="H1").count() == 2
    assert Household.objects.get().grid == world.g_a
    record = AuditRecord.objects.get(action="registers.import.people")
    assert record.after == {"rows": 5, "created": 5, "updated": 0}


def test_duplicates_are_errors_unless_update_is_chosen(world):
    _run(world.worker_a, people_xlsx([_row(world.g_a, 1)]))
    again = [_row(world.g_a, 1, name="改名", veteran="是"), _row(world.g_a, 2)]
    refused = _run(world.worker_a, people_xlsx(again))
    assert refused.error_count == 1 and "已登记" in refused.errors[0].message
    assert Person.objects.count() == 1
    updated = _run(world.worker_a, people_xlsx(again), on_duplicate="update")
    assert (updated.created, updated.updated) == (1, 1)
    person = Person.objects.get(name="改名")
    assert person.is_veteran and person.version == 2


def test_a_failure_on_row_9999_of_10000_leaves_nothing(world):
    rows = [_row(world.g_a, n) for n in range(10_000)]
    rows[9_998]["id_number"] = rows[9_998]["id_number"][:-1] + (
        "0" if rows[9_998]["id_number"][-1] != "0" else "1"
    )
    result = _run(world.worker_a, people_xlsx(rows))
    assert result.total == 10_000 and result.error_count == 1
    assert result.errors[0].row == 10_000  # spreadsheet row of data row 9,999
    assert not Person.objects.exists() and not Household.objects.exists()


def test_a_database_error_during_the_write_rolls_everything_back(world, monkeypatch):
    from wangge.registers.excel import importer

    def explode(*args, **kwargs):
        from django.db import IntegrityError

        Person.objects.create(grid=world.g_a, region_path=world.g_a.path, name="partial")
        raise IntegrityError("simulated concurrent insert")

    monkeypatch.setattr(importer, "sensitive_count_add", explode)
    rows = [_row(world.g_a, 1, special_groups="吸毒人员")]
    with pytest.raises(Exception, match="未写入任何数据"):
        _run(world.secretary, people_xlsx(rows))
    assert not Person.objects.exists()


def test_special_groups_in_a_sheet_need_the_grant(world):
    rows = [_row(world.g_a, 1, special_groups="社区矫正")]
    result = _run(world.worker_a, people_xlsx(rows))
    assert result.errors[0].column == "特殊人群" and not Person.objects.exists()
    assert _run(world.secretary, people_xlsx(rows)).created == 1


def test_an_id_typed_as_a_number_is_refused(world):
    row = _row(world.g_a, 1)
    row["id_number"] = float(row["id_number"][:17] + "0")
    result = _run(world.worker_a, people_xlsx([row]))
    assert "文本格式" in result.errors[0].message


def test_missing_required_column_and_unreadable_file(world):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["姓名"])
    buffer = io.BytesIO()
    wb.save(buffer)
    with pytest.raises(Exception, match="缺少必填列"):
        _run(world.worker_a, buffer.getvalue())
    with pytest.raises(Exception, match="无法读取文件"):
        _run(world.worker_a, b"not a workbook")


def test_houses_organisations_and_components_import(world):
    houses = [
        {"grid": world.g_a.code, "building_code": "B1", "building_name": "1幢",
         "building_address": "十全街1号1幢", "unit": "1单元", "room": "101", "code": "F1",
         "use": "住宅", "ownership": "私有产权", "rental_status": "出租",
         "hazards": "群租、消防隐患"},
        {"grid": world.g_a.code, "building_code": "B1", "building_name": "1幢",
         "building_address": "十全街1号1幢", "unit": "1单元", "room": "101", "code": "F2",
         "use": "住宅", "ownership": "私有产权"},
    ]  # fmt: skip
    result = _run(world.secretary, people_xlsx(houses, kind="houses"), kind="houses")
    assert result.errors[0].message.startswith("文件内同一楼栋单元房号重复")
    houses[1]["room"] = "102"
    assert _run(world.secretary, people_xlsx(houses, kind="houses"), kind="houses").created == 2
    assert House.objects.get(code="F1").hazards == ["fire", "group_rental"]
    orgs = [{"grid": world.g_a.code, "credit_code": credit_code(5), "name": "某某公司",
             "kind": "企业", "address": "十全街2号", "contact_phone": "13800000000"},
            {"grid": world.g_a.code, "credit_code": "91320508MA00000010", "name": "坏代码",
             "kind": "企业", "address": "x"}]  # fmt: skip
    result = _run(world.secretary, people_xlsx(orgs, kind="organisations"), kind="organisations")
    assert [e.column for e in result.errors] == ["统一社会信用代码"]
    orgs.pop()
    assert _run(world.secretary, people_xlsx(orgs, kind="organisations"),
                kind="organisations").created == 1  # fmt: skip
    assert "13800000000" not in Organisation.objects.get().contact_phone_enc
    comps = [{"grid": world.g_a.code, "identifier": "32057101001000001", "class_code": "01001",
              "class_name": "供水井盖", "lon": 120.61, "lat": 31.31},
             {"grid": world.g_a.code, "identifier": "32057101002000002", "class_code": "01001",
              "class_name": "供水井盖", "lon": 120.61, "lat": 31.31}]  # fmt: skip
    result = _run(world.secretary, people_xlsx(comps, kind="components"), kind="components")
    assert result.errors[0].message == "部件标识码第7–11位应为部件小类代码"
    comps.pop()
    assert _run(world.secretary, people_xlsx(comps, kind="components"),
                kind="components").created == 1  # fmt: skip
    assert Component.objects.get().status == "intact"


def test_import_job_runs_small_files_inline_and_deletes_the_upload(world):
    data = people_xlsx([_row(world.g_a, 1)])
    job = import_job_create(
        actor=world.secretary, kind="people", file_name="p.xlsx", content=data, dry_run=False
    )
    assert job.status == "done" and job.created_count == 1 and not job.file
    with pytest.raises(PermissionDenied):
        import_job_create(
            actor=world.auditor, kind="people", file_name="p.xlsx", content=data, dry_run=True
        )


def test_large_files_go_to_the_worker(world, settings, django_capture_on_commit_callbacks):
    settings.REGISTERS_SYNC_IMPORT_MAX_BYTES = 10
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    data = people_xlsx([_row(world.g_a, n) for n in range(3)])
    with django_capture_on_commit_callbacks(execute=True):
        job = import_job_create(
            actor=world.secretary, kind="people", file_name="p.xlsx", content=data, dry_run=False
        )
    assert job.status == "pending"
    job = ImportJob.objects.get(pk=job.pk)
    assert job.status == "done" and job.created_count == 3 and job.processed_rows == 3


def test_export_is_masked_permissioned_and_audited(world):
    _run(world.secretary, people_xlsx([_row(world.g_a, 1, special_groups="吸毒人员")]))
    number = _row(world.g_a, 1)["id_number"]
    with pytest.raises(PermissionDenied):
        people_export(actor=world.worker_a)
    data, n = people_export(actor=world.secretary)
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    values = [c.value for c in sheet[2]]
    assert n == 1 and number not in values and number[:3] + "*" * 11 + number[-4:] in values
    assert "吸毒人员" in values
    unmasked, _n = people_export(actor=world.secretary, reveal=True, reason="上报民政")
    assert number in [c.value for c in load_workbook(io.BytesIO(unmasked)).worksheets[0][2]]
    records = AuditRecord.objects.filter(action="registers.export.people").order_by("seq")
    assert [r.after["unmasked_rows"] for r in records] == [0, 1]


def test_cli_import_prints_the_row_report(world, tmp_path, capsys):
    path = tmp_path / "people.xlsx"
    bad = _row(world.g_a, 2, birth_date="not a date")
    path.write_bytes(people_xlsx([_row(world.g_a, 1), bad]))
    with pytest.raises(SystemExit):
        call_command("registers", "import", "people", str(path), "--dry-run")
    out = capsys.readouterr().out
    assert "row 3 [出生日期]" in out and "2 rows, 1 errors" in out
    path.write_bytes(people_xlsx([_row(world.g_a, 1)]))
    call_command("registers", "import", "people", str(path))
    assert Person.objects.count() == 1


def test_update_import_does_not_say_where_an_id_number_is_registered(world):
    """An ID number registered in another street answers with the words person_create uses for
    any registered number — never "another area" — and nothing is written."""
    from wangge.core.exceptions import Conflict
    from wangge.registers.tests.factories import make_person

    elsewhere = _row(world.g_other, 7)
    make_person(world.g_other, id_number=elsewhere["id_number"])
    row = {**elsewhere, "grid": world.g_a.code}
    result = _run(world.worker_a, people_xlsx([row]), on_duplicate="update")
    assert [(e.row, e.message) for e in result.errors] == [(2, "该证件号码已登记")]
    assert "辖区" not in result.errors[0].message
    with pytest.raises(Conflict) as direct:
        from wangge.registers.services import person_create

        person_create(actor=world.worker_a, grid=world.g_a, name="某", id_number=row["id_number"])
    assert str(direct.value.message) == result.errors[0].message
    assert Person.objects.count() == 1 and Person.objects.get().grid == world.g_other
