"""Photo files of a step that rolls back do not stay on disk (the rows roll back by themselves;
the files are deleted by ``atomic_with_files``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from wangge.cases.choices import CaseState
from wangge.cases.models import Attachment, Case
from wangge.cases.services import attachment_add
from wangge.cases.services.attachments import atomic_with_files

from .factories import PNG, centre, make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()]


def test_a_photo_written_in_a_block_that_rolls_back_is_deleted(world, media):
    case = make_case(world, state=CaseState.IN_PROGRESS)
    with pytest.raises(RuntimeError), atomic_with_files():
        attachment_add(actor=None, case=case, kind="after", content=PNG)
        assert len(files(media)) == 1  # written …
        raise RuntimeError("the step failed")
    assert files(media) == [] and not Attachment.objects.exists()  # … and gone with the rows
    # A block that commits keeps its file.
    with atomic_with_files():
        kept = attachment_add(actor=None, case=case, kind="after", content=PNG)
    assert [p.name for p in files(media)] == [Path(kept.file.name).name]


def test_an_inner_block_that_succeeded_is_undone_by_the_outer_rollback(world, media):
    case = make_case(world, state=CaseState.IN_PROGRESS)
    with pytest.raises(RuntimeError), atomic_with_files():
        with atomic_with_files():
            attachment_add(actor=None, case=case, kind="after", content=PNG)
        attachment_add(actor=None, case=case, kind="after", content=PNG + b"2")
        raise RuntimeError
    assert files(media) == []


def test_a_report_whose_second_photo_is_refused_leaves_no_file(world, media):
    lon, lat = centre(world.grid)
    data = {
        "title": "小区门口暴露垃圾",
        "lon": lon,
        "lat": lat,
        "crs": "wgs84",
        "client_key": "k-files",
        "photos": [
            SimpleUploadedFile("a.png", PNG, "image/png"),
            SimpleUploadedFile("b.png", b"not an image", "image/png"),
        ],
    }
    response = Client().post("/report/", data)
    assert (
        response.status_code == 422
        and "只支持JPEG、PNG或WebP格式的照片" in response.content.decode()
    )
    assert not Case.objects.exists() and files(media) == []


def test_a_refused_handle_step_leaves_no_after_photo(world, media):
    case = make_case(world, state=CaseState.IN_PROGRESS, assignee=world.worker)
    client = Client()
    client.force_login(world.worker)
    stale = {
        "action": "handle",
        "expected_version": case.version + 5,
        "result": "已清理",
        "photos": [SimpleUploadedFile("after.png", PNG, "image/png")],
    }
    response = client.post(f"/cases/{case.pk}/act/", stale)
    assert response.status_code == 409
    assert not Attachment.objects.exists() and files(media) == []
    ok = {**stale, "expected_version": case.version, "photos": [SimpleUploadedFile("a.png", PNG)]}
    assert client.post(f"/cases/{case.pk}/act/", ok).status_code == 302
    assert Attachment.objects.count() == 1 and len(files(media)) == 1
