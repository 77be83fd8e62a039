"""Browser: a grid worker registers a person through the page (full ID number typed once), lands
on the person's page and finds them masked in the people list; a bad ID number is refused with a
Chinese error and nothing is saved."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import SCREENSHOT_DIR
from .test_login_map import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fast_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_register_a_person_then_find_them_masked_in_the_list(
    browser: Any, live_server: Any, password: str
) -> None:
    from wangge.accounts.tests.factories import make_user
    from wangge.geo.tests.factories import make_tree
    from wangge.registers.models import Person
    from wangge.registers.tests.factories import resident_id, with_bad_check_digit

    tree = make_tree(streets=1, communities=1, grids=2)
    make_user("worker", role="grid_worker", region=tree.communities[0])
    grid = tree.grids[0]
    number = resident_id(seq=31)
    phone = "13912340031"

    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")  # a phone
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live_server.url, "worker", password)
    page.goto(f"{live_server.url}/registers/people/")
    page.get_by_test_id("new-person").click()
    form = page.get_by_test_id("record-form")
    form.wait_for()
    page.fill("input[name=grid]", grid.code)
    page.fill("input[name=name]", "赵六")
    page.fill("input[name=id_number]", with_bad_check_digit(number))
    page.fill("input[name=phone]", phone)
    page.check("input[name=flags][value=elderly_alone]")
    page.get_by_test_id("save").click()
    page.wait_for_selector(".has-error")
    assert "身份证号码校验位错误" in form.inner_text()
    assert not Person.objects.exists()
    page.screenshot(path=f"{SCREENSHOT_DIR}/wangge_registers_person_form.png", full_page=True)

    page.fill("input[name=id_number]", number)
    page.get_by_test_id("save").click()
    page.get_by_test_id("person-facts").wait_for()
    person = Person.objects.get()
    assert page.url.endswith(f"/registers/people/{person.pk}/")
    assert page.get_by_test_id("id-number").inner_text() == number[:3] + "*" * 11 + number[-4:]
    assert number not in page.content() and phone not in page.content()

    page.goto(f"{live_server.url}/registers/people/?grid={grid.code}")
    table = page.get_by_test_id("people-table")
    assert "赵六" in table.inner_text()
    assert "139****0031" in table.inner_text()
    assert number not in page.content() and phone not in page.content()
    page.screenshot(path=f"{SCREENSHOT_DIR}/wangge_registers_person_new.png", full_page=True)
    assert not errors
