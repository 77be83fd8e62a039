"""Reports: the produced Excel and PDF files are opened and their content checked."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from wangge.analytics.assessment import DEFAULT_ITEMS, assessment_run_now, scheme_save
from wangge.analytics.choices import RunStatus
from wangge.analytics.reports import cjk_font, report_generate, report_request
from wangge.core.exceptions import PermissionDenied, ValidationError

from .helpers import at, report, walk

pytestmark = pytest.mark.django_db


@pytest.fixture
def november(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    t = at(2026, 11, 2)
    walk(
        world,
        report(world, now=at(2026, 11, 2, 9)),
        [
            ("accept", 1, {}),
            ("dispatch", 2, {"department": world.dept.pk}),
            ("claim", 3, {}),
            ("handle", 5, {"result": "ok"}),
            ("verify", 6, {}),
            ("close", 7, {}),
            ("rate", 8, {"score": 5}),
        ],
        t,
    )
    report(world, now=at(2026, 11, 4, 9), grid=world.other_grid)
    scheme = scheme_save(
        actor=None,
        code="communities",
        name="社区月度考核",
        object_kind="community",
        period_kind="month",
        region=world.tree.county,
        items=DEFAULT_ITEMS,
    )
    assessment_run_now(actor=None, scheme=scheme, period_label="2026-11")
    return world


def _generate(world, fmt_, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        queued = report_request(
            actor=world.commander, region=world.tree.county, period_label="2026-11", fmt_=fmt_
        )
    assert queued.status == RunStatus.PENDING
    done = report_generate(report_id=queued.pk)
    assert done.status == RunStatus.DONE, done.error
    return done.file.read()


def test_the_excel_report_has_chinese_sheets_and_the_numbers(
    november, django_capture_on_commit_callbacks
):
    wb = load_workbook(io.BytesIO(_generate(november, "xlsx", django_capture_on_commit_callbacks)))
    assert wb.sheetnames == [
        "概览",
        "下级区域",
        "事项类型",
        "部门排行",
        "每日趋势",
        "超期清单",
        "考核结果",
    ]
    overview = {r[0]: r[1] for r in wb["概览"].iter_rows(min_row=2, values_only=True)}
    assert overview["立案数"] == "1" and overview["群众满意率"] == "100.0%"
    areas = list(wb["下级区域"].iter_rows(values_only=True))
    assert areas[0][:3] == ("区域", "代码", "上报数")
    assert [(r[0], r[2]) for r in areas[1:]] == [("第1街道", 1), ("第2街道", 1)]
    ranks = list(wb["考核结果"].iter_rows(min_row=2, values_only=True))
    assert ranks and ranks[0][0] == "社区月度考核" and "按期结案率" in ranks[0][6]
    assert next(wb["部门排行"].iter_rows(min_row=2, values_only=True))[1] == "城管"


def test_the_pdf_report_embeds_a_cjk_font_and_its_text_extracts(
    november, django_capture_on_commit_callbacks
):
    try:
        cjk_font()
    except ValidationError:
        pytest.fail("no CJK font installed: run `make chromium` (installs fonts-wqy-microhei)")
    pdf = PdfReader(io.BytesIO(_generate(november, "pdf", django_capture_on_commit_callbacks)))
    text = "".join(page.extract_text() for page in pdf.pages)
    for expected in (
        "示范区 2026-11 网格化治理工作报告",
        "按期结案率",
        "群众满意率",
        "第1街道",
        "社区月度考核",
        "城管",
    ):
        assert expected in text
    fonts = pdf.pages[0]["/Resources"]["/Font"]
    embedded = []
    for ref in fonts.values():
        font = ref.get_object()
        for desc in font.get("/DescendantFonts", []):
            fd = desc.get_object()["/FontDescriptor"].get_object()
            embedded.append(any(k in fd for k in ("/FontFile", "/FontFile2", "/FontFile3")))
    assert embedded and all(embedded)
    # Charts are drawn as vector paths (rectangles of the bar chart) on the page.
    assert b" re" in pdf.pages[0].get_contents().get_data()


def test_reports_are_refused_outside_the_area_and_for_bad_periods(world):
    with pytest.raises(PermissionDenied):
        report_request(
            actor=world.outsider, region=world.tree.streets[0], period_label="2026-11", fmt_="xlsx"
        )
    with pytest.raises(ValidationError):
        report_request(
            actor=world.commander, region=world.tree.county, period_label="2026", fmt_="xlsx"
        )
    with pytest.raises(ValidationError):
        report_request(
            actor=world.commander, region=world.tree.county, period_label="2026-11", fmt_="doc"
        )
