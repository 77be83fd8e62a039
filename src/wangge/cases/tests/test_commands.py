from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from wangge.cases.models import MatterType

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("cases", *args, stdout=out)
    return out.getvalue()


def test_load_export_and_import_the_catalogue_from_the_command_line(tmp_path):
    assert "created" in run("load-catalogue")
    assert "unchanged" in run("load-catalogue") and "0 created" in run("load-catalogue")
    path = tmp_path / "catalogue.xlsx"
    assert f"{MatterType.objects.count()} matter types" in run("export-catalogue", str(path))
    out = run("import-catalogue", str(path), "--dry-run")
    assert "not applied" in out and '"unchanged"' in out


def test_a_broken_file_is_a_command_error(tmp_path):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(b"nope")
    with pytest.raises(CommandError):
        run("import-catalogue", str(path))
