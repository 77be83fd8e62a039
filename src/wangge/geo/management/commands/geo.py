"""``wangge geo …``: import, import-codes, export and locate."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wangge.core.exceptions import ValidationError
from wangge.geo.choices import Level
from wangge.geo.crs import CRS_CHOICES


class Command(BaseCommand):
    help = (
        "Region tree tools: `geo import FILE.geojson`, `geo import-codes CSV…`, "
        "`geo export`, `geo locate LON LAT`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)

        imp = sub.add_parser("import", help="import a GeoJSON layer (all or nothing)")
        imp.add_argument("file", help="GeoJSON FeatureCollection")
        imp.add_argument("--level", required=True, choices=Level.values)
        imp.add_argument("--code-field", default="code")
        imp.add_argument("--name-field", default="name")
        imp.add_argument("--parent", help="code of the parent (or of the scope of the lookup)")
        imp.add_argument("--parent-field", help="property naming each feature's parent")
        imp.add_argument("--parent-key", choices=("code", "name"), default="code")
        imp.add_argument(
            "--parent-spatial",
            action="store_true",
            help="parent = the region one level up covering most of the feature",
        )
        imp.add_argument(
            "--assign-codes",
            action="store_true",
            help="number children parent code + 001… west→east, north→south",
        )
        imp.add_argument(
            "--renumber",
            action="store_true",
            help="give malformed/duplicate/non-extending codes parent code + own last 3 digits "
            "(or the next free); the source code is kept",
        )
        imp.add_argument(
            "--code-table",
            action="append",
            default=[],
            metavar="CSV",
            help="NBS towns/villages table (repeatable): a feature whose name matches a row "
            "under its parent takes that official code",
        )
        imp.add_argument("--grid-type-field")
        imp.add_argument("--households-field")
        imp.add_argument("--population-field")
        imp.add_argument("--crs", default="wgs84", help="wgs84 (cgcs2000) | gcj02 | bd09")
        imp.add_argument("--overlap-tolerance", type=float, default=None)
        imp.add_argument("--dry-run", action="store_true")
        imp.add_argument("--report", help="write the report as JSON to this file")

        codes = sub.add_parser("import-codes", help="import NBS statistical code tables")
        codes.add_argument("files", nargs="+", help="CSV (or .csv.gz) tables")
        codes.add_argument("--prefix", default="", help="only rows under this code (+ ancestors)")
        codes.add_argument("--dry-run", action="store_true")
        codes.add_argument("--report", help="write the report as JSON to this file")

        exp = sub.add_parser("export", help="export regions as a GeoJSON FeatureCollection")
        exp.add_argument("--root", help="code of the subtree to export (default: everything)")
        exp.add_argument("--level", choices=Level.values)
        exp.add_argument("--crs", default="wgs84", choices=CRS_CHOICES)
        exp.add_argument("-o", "--output", help="file (default: standard output)")

        loc = sub.add_parser("locate", help="locate a point (JSON)")
        loc.add_argument("lon", type=float)
        loc.add_argument("lat", type=float)
        loc.add_argument("--crs", default="wgs84", help="wgs84 | gcj02 | bd09")
        loc.add_argument("--max-distance", type=float, default=None, help="fallback, metres")

    def handle(self, *args: Any, **options: Any) -> None:
        handler = {
            "import": self.do_import,
            "import-codes": self.do_import_codes,
            "export": self.do_export,
            "locate": self.do_locate,
        }[options["subcommand"]]
        try:
            handler(options)
        except ValidationError as exc:
            raise CommandError(exc.message) from exc

    # --- subcommands ------------------------------------------------------------------------

    def do_import(self, options: dict[str, Any]) -> None:
        from wangge.geo.importers import LayerOptions, layer_import, load_features

        layer = LayerOptions(
            level=options["level"],
            code_field=options["code_field"],
            name_field=options["name_field"],
            parent=options["parent"],
            parent_field=options["parent_field"],
            parent_key=options["parent_key"],
            parent_spatial=options["parent_spatial"],
            assign_codes=options["assign_codes"],
            renumber=options["renumber"],
            grid_type_field=options["grid_type_field"],
            households_field=options["households_field"],
            population_field=options["population_field"],
            crs=options["crs"],
            overlap_tolerance=options["overlap_tolerance"],
            dry_run=options["dry_run"],
            code_tables=options["code_table"],
        )
        features = load_features(options["file"])
        report = layer_import(
            actor=_actor(), features=features, options=layer, source=Path(options["file"]).name
        )
        self._finish(report, options.get("report"))

    def do_import_codes(self, options: dict[str, Any]) -> None:
        from wangge.geo.importers import codes_import

        report = codes_import(
            actor=_actor(),
            paths=options["files"],
            prefix=options["prefix"],
            dry_run=options["dry_run"],
        )
        self._finish(report, options.get("report"))

    def _finish(self, report: Any, report_path: str | None) -> None:
        if report_path:
            Path(report_path).write_text(
                json.dumps(report.as_dict(), ensure_ascii=False, indent=2), encoding="utf-8"
            )
        self.stdout.write(report.format_text())
        if report.errors:
            sys.exit(1)

    def do_export(self, options: dict[str, Any]) -> None:
        from wangge.geo.crs import convert_geometry
        from wangge.geo.exporters import feature_collection
        from wangge.geo.models import Region

        qs = Region.objects.filter(is_active=True).select_related("parent").order_by("path")
        name = "regions"
        if options["root"]:
            root = Region.objects.filter(code=options["root"]).first()
            if root is None:
                raise CommandError(f"no region with code {options['root']}")
            qs = qs.filter(path__startswith=root.path)
            name = root.code
        if options["level"]:
            qs = qs.filter(level=options["level"])
            name = f"{name}_{options['level']}"
        collection = feature_collection(qs, name=name)
        if options["crs"] != "wgs84":
            for feature in collection["features"]:
                if feature["geometry"]:
                    feature["geometry"] = convert_geometry(
                        feature["geometry"], source="wgs84", target=options["crs"]
                    )
            collection.pop("crs", None)  # GCJ-02/BD-09 have no CRS URN
            collection["x_crs"] = options["crs"]
        text = json.dumps(collection, ensure_ascii=False)
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
            self.stderr.write(f"{len(collection['features'])} features → {options['output']}")
        else:
            self.stdout.write(text)

    def do_locate(self, options: dict[str, Any]) -> None:
        from wangge.geo.crs import normalize_crs
        from wangge.geo.locator import locate

        crs = normalize_crs(options["crs"])
        result = locate(
            options["lon"], options["lat"], crs=crs, max_distance_m=options["max_distance"]
        )
        body = result.as_dict()
        body["input"] = {
            "lon": options["lon"],
            "lat": options["lat"],
            "crs": crs,
            "wgs84": [result.lon, result.lat],
        }
        self.stdout.write(json.dumps(body, ensure_ascii=False))


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name in some containers
        return "cli"
