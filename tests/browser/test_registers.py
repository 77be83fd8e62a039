"""Browser: a newcomer downloads the people template, dry-runs a sheet with a bad ID number and
sees the row report, imports the corrected sheet, opens a person (masked), reveals the ID with a
reason, and the reveal is in the audit log."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import SCREENSHOT_DIR
from .test_login_map import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fast_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_import_with_row_report_then_reveal_is_audited(
    browser: Any, live_server: Any, password: str, tmp_path: Any
) -> None:
    from wangge.accounts.tests.factories import make_user
    from wangge.core.models import AuditRecord
    from wangge.geo.tests.factories import make_tree
    from wangge.registers.models import Person
    from wangge.registers.tests.factories import people_xlsx, resident_id, with_bad_check_digit

    tree = make_tree(streets=1, communities=1, grids=2)
    make_user("dispatcher", role="street_dispatcher", region=tree.streets[0])
    grid = tree.grids[0]
    good = resident_id(seq=11)
    rows = [
        {"grid": grid.code, "name": "张三", "id_number": good, "phone": "13912345678"},
        {"grid": grid.code, "name": "李四", "id_number": with_bad_check_digit(resident_id(seq=12))},
    ]
    bad_file = tmp_path / "people-bad.xlsx"
    bad_file.write_bytes(people_xlsx(rows))
    good_file = tmp_path / "people.xlsx"
    good_file.write_bytes(people_xlsx(rows[:1]))

    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live_server.url, "dispatcher", password)
    page.goto(f"{live_server.url}/registers/imports/")
    with page.expect_download() as download:
        page.get_by_test_id("template-people").click()
    assert download.value.suggested_filename == "template-people.xlsx"

    page.get_by_test_id("import-file").set_input_files(str(bad_file))
    page.get_by_test_id("dry-run").click()
    report = page.get_by_test_id("row-report")
    report.wait_for()
    assert "身份证号码校验位错误" in report.inner_text()
    assert "3" in report.locator("tbody tr td").first.inner_text()  # spreadsheet row 3
    assert not Person.objects.exists()

    page.goto(f"{live_server.url}/registers/imports/")
    page.get_by_test_id("import-file").set_input_files(str(good_file))
    page.get_by_test_id("import").click()
    page.wait_for_selector("[data-testid=job-status][data-status=done]")
    person = Person.objects.get()

    page.goto(f"{live_server.url}/registers/people/{person.pk}/")
    masked = page.get_by_test_id("id-number").inner_text()
    assert masked == good[:3] + "*" * 11 + good[-4:]
    assert good not in page.content()
    page.get_by_test_id("reveal-reason").fill("上门核实身份")
    page.get_by_test_id("reveal-submit").click()
    page.get_by_test_id("revealed-id").wait_for()
    assert page.get_by_test_id("revealed-id").inner_text() == good
    page.screenshot(path=f"{SCREENSHOT_DIR}/wangge_registers_reveal.png", full_page=True)
    record = AuditRecord.objects.get(action="registers.person.reveal")
    assert record.after["reason"] == "上门核实身份"
    page.goto(f"{live_server.url}/audit/")
    assert "registers.person.reveal" in page.content() or "上门核实身份" in page.content()
    assert not errors
