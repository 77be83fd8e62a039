"""``wangge geo import FILE.geojson``: one layer of regions (streets, communities, grids, …).

Every feature is checked before anything is written; the report lists every problem with its
1-based feature number. Errors abort the whole import (nothing is written); warnings are
applied. Creation goes through :func:`wangge.geo.services.region_create` in one transaction
and the import writes one audit record that summarises it.

Checks (kind identifiers in the report):

* geometry: ``missing_geometry``, ``non_polygon``, ``coordinates_out_of_range``,
  ``invalid_polygon_repaired`` (warning: ``make_valid``), ``invalid_polygon`` (unrepairable or
  empty);
* codes: ``missing_code``, ``malformed_code`` (:func:`wangge.geo.codes.code_problems`),
  ``duplicate_code`` (in the file or in the database), ``code_not_extending_parent``;
  ``renumbered`` and ``code_assigned`` are the warnings of ``--renumber``/``--assign-codes``;
* parents: ``missing_parent``, ``ambiguous_parent``, ``parent_mismatch`` (warning: the parent
  field disagrees with the geometry under ``--parent-spatial``);
* topology: ``sibling_overlap`` (intersection / smaller area above the tolerance),
  ``outside_parent`` (warning; an error when most of the child lies outside), ``gap`` (warning:
  share of the parent not covered by its children);
* attributes: ``missing_name``, ``bad_number``, ``bad_grid_type``.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from shapely.geometry.base import BaseGeometry

from wangge.core.audit import audit_log
from wangge.core.exceptions import ValidationError

from ..choices import GRID_TYPE_ALIASES, LEVEL_ORDER, LEVEL_RANK, Level
from ..codes import CODE_LENGTH, code_problems
from ..crs import convert_geometry, normalize_crs
from ..geometry import repair, to_geojson, to_shape
from ..models import Region
from ..services import region_create
from .report import ImportAborted, ImportReport

# Shares below this are float noise from digitising, not real gaps or overhangs.
NOISE_SHARE = 0.001
# A child with more than this share outside its parent is assigned to the wrong parent.
OUTSIDE_ERROR_SHARE = 0.5


@dataclass
class LayerOptions:
    level: str
    code_field: str = "code"
    name_field: str = "name"
    parent: str | None = None  # code of the parent (or of the scope for field/spatial lookup)
    parent_field: str | None = None
    parent_key: str = "code"  # code | name
    parent_spatial: bool = False
    assign_codes: bool = False
    renumber: bool = False
    grid_type_field: str | None = None
    households_field: str | None = None
    population_field: str | None = None
    crs: str = "wgs84"
    overlap_tolerance: float | None = None
    dry_run: bool = False
    # NBS code tables (towns / villages CSV): a feature whose name matches a row under its
    # parent takes that official code; the others fall back to the rules above.
    code_tables: list[str] = field(default_factory=list)


@dataclass
class _Row:
    n: int  # 1-based feature number
    raw_code: str
    name: str
    geom: BaseGeometry | None = None
    parent: Region | None = None
    code: str = ""
    source_code: str = ""
    table_code: str = ""  # the official code found by name in --code-table
    grid_type: str = ""
    households: int | None = None
    population: int | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.code or self.raw_code


class _Layer:
    def __init__(self, options: LayerOptions, report: ImportReport) -> None:
        self.o = options
        self.report = report
        self.level = Level(options.level)
        self.tolerance = (
            settings.GEO_OVERLAP_TOLERANCE
            if options.overlap_tolerance is None
            else options.overlap_tolerance
        )
        self.rows: list[_Row] = []
        self.raw_features: list[Any] = []

    # --- problems ------------------------------------------------------------------------------

    def error(self, row: _Row | None, kind: str, message: str, code: str = "") -> None:
        if row is not None:
            row.errors.append(kind)
        self.report.error(
            kind, message, feature=row.n if row else None, code=code or (row.label if row else "")
        )

    def warning(self, row: _Row | None, kind: str, message: str, code: str = "") -> None:
        self.report.warning(
            kind, message, feature=row.n if row else None, code=code or (row.label if row else "")
        )

    # --- steps ---------------------------------------------------------------------------------

    def read(self, features: list[Any]) -> None:
        crs = normalize_crs(self.o.crs)
        for i, feature in enumerate(features, start=1):
            if not isinstance(feature, dict):
                feature = {}  # reported below as a feature without name and geometry
            props = feature.get("properties") or {}
            if not isinstance(props, dict):
                props = {}
            row = _Row(
                n=i,
                raw_code=_text(props.get(self.o.code_field)),
                name=_text(props.get(self.o.name_field)),
            )
            self.rows.append(row)
            if not row.name:
                self.error(
                    row,
                    "missing_name",
                    _("缺少名称字段“%(f)s”") % {"f": self.o.name_field},
                )
            self._read_geometry(row, feature.get("geometry"), crs)
            self._read_attributes(row, props)

    def _read_geometry(self, row: _Row, geometry: Any, crs: str) -> None:
        if not geometry:
            self.error(row, "missing_geometry", _("要素没有几何"))
            return
        gtype = geometry.get("type") if isinstance(geometry, dict) else None
        if gtype not in ("Polygon", "MultiPolygon"):
            self.error(
                row,
                "non_polygon",
                _("几何类型为%(t)s，应为Polygon或MultiPolygon") % {"t": gtype},
            )
            return
        try:
            geom = to_shape(convert_geometry(geometry, source=crs, target="wgs84"))
        except ValidationError as exc:
            self.error(row, "coordinates_out_of_range", exc.message)
            return
        except Exception as exc:
            self.error(row, "invalid_polygon", _("无法读取几何：%(e)s") % {"e": exc})
            return
        if geom.is_empty:
            self.error(row, "invalid_polygon", _("几何为空"))
            return
        minx, miny, maxx, maxy = geom.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            self.error(
                row,
                "coordinates_out_of_range",
                _("坐标超出经纬度范围（是否为投影坐标？）：%(b)s")
                % {"b": ", ".join(f"{v:.3f}" for v in geom.bounds)},
            )
            return
        fixed, reason = repair(geom)
        if reason:
            if fixed.is_empty:
                self.error(
                    row,
                    "invalid_polygon",
                    _("无效面且无法修复：%(r)s") % {"r": reason},
                )
                return
            change = abs(fixed.area - geom.area) / geom.area if geom.area else 0.0
            self.warning(
                row,
                "invalid_polygon_repaired",
                _("无效面已用make_valid修复（%(r)s），面积变化%(p).3f%%")
                % {"r": reason, "p": change * 100},
            )
        row.geom = fixed

    def _read_attributes(self, row: _Row, props: dict[str, Any]) -> None:
        if self.o.grid_type_field:
            value = _text(props.get(self.o.grid_type_field))
            if value:
                grid_type = GRID_TYPE_ALIASES.get(value)
                if grid_type is None:
                    self.error(
                        row,
                        "bad_grid_type",
                        _("未知的网格类型：%(v)s（应为综合网格或专属网格）") % {"v": value},
                    )
                else:
                    row.grid_type = str(grid_type)
        numeric_fields: list[tuple[str, str | None]] = [
            ("households", self.o.households_field),
            ("population", self.o.population_field),
        ]
        for attr, field_name in numeric_fields:
            if not field_name or props.get(field_name) in (None, ""):
                continue
            number_raw: Any = props.get(field_name)
            try:
                number = float(number_raw)
                if not math.isfinite(number) or number < 0 or number != int(number):
                    raise ValueError(number_raw)
                setattr(row, attr, int(number))
            except (TypeError, ValueError):
                self.error(
                    row,
                    "bad_number",
                    _("字段“%(f)s”应为非负整数：%(v)s") % {"f": field_name, "v": number_raw},
                )

    # --- parents -------------------------------------------------------------------------------

    def resolve_parents(self) -> None:
        o = self.o
        rank = LEVEL_RANK[self.level]
        scope: Region | None = None
        if o.parent:
            scope = Region.objects.filter(code=o.parent, is_active=True).first()
            if scope is None:
                self.error(None, "missing_parent", _("上级%(c)s不存在") % {"c": o.parent}, o.parent)
                return
            if LEVEL_RANK[scope.level] >= rank:
                self.error(
                    None,
                    "missing_parent",
                    _("%(p)s（%(pl)s）不能作为%(l)s的上级")
                    % {"p": scope.code, "pl": Level(scope.level).label, "l": self.level.label},
                    scope.code,
                )
                return
        if not o.parent_field and not o.parent_spatial:
            if self.level == Level.PROVINCE:
                return
            for row in self.rows:
                row.parent = scope
            return
        parent_level = LEVEL_ORDER[rank - 1]
        candidates = Region.objects.filter(is_active=True, level=parent_level)
        if scope is not None:
            candidates = candidates.filter(path__startswith=scope.path)
        by_field: dict[int, Region] = {}
        if o.parent_field:
            by_field = self._parents_by_field(list(candidates))
        if o.parent_spatial:
            self._parents_by_geometry(list(candidates.exclude(boundary__isnull=True)), by_field)
        else:
            for row in self.rows:
                row.parent = by_field.get(row.n)

    def _parents_by_field(self, candidates: list[Region]) -> dict[int, Region]:
        o = self.o
        index: dict[str, list[Region]] = defaultdict(list)
        fallback: dict[str, list[Region]] = defaultdict(list)
        for region in candidates:
            if o.parent_key == "name":
                index[region.name.strip()].append(region)
            else:
                index[region.code].append(region)
                if region.source_code:
                    fallback[region.source_code].append(region)
        found: dict[int, Region] = {}
        field_name = o.parent_field or ""
        for row in self.rows:
            value = _text(_properties(self.raw_features[row.n - 1]).get(field_name))
            matches = index.get(value) or fallback.get(value) or []
            if not value or not matches:
                if not o.parent_spatial:
                    self.error(
                        row,
                        "missing_parent",
                        _("找不到上级：%(f)s=%(v)s") % {"f": o.parent_field, "v": value or "-"},
                    )
            elif len(matches) > 1:
                if not o.parent_spatial:
                    self.error(
                        row,
                        "ambiguous_parent",
                        _("上级%(f)s=%(v)s不唯一：%(c)s")
                        % {
                            "f": o.parent_field,
                            "v": value,
                            "c": ", ".join(r.code for r in matches),
                        },
                    )
            else:
                found[row.n] = matches[0]
        return found

    def _parents_by_geometry(self, candidates: list[Region], by_field: dict[int, Region]) -> None:
        if not candidates:
            for row in self.rows:
                self.error(row, "missing_parent", _("范围内没有带边界的上级区域"))
            return
        shapes = [to_shape(r.boundary or {}) for r in candidates]
        tree = shapely.STRtree(shapes)
        for row in self.rows:
            if row.geom is None:
                continue
            area = row.geom.area
            shares = sorted(
                (
                    (shapes[j].intersection(row.geom).area / area if area else 0.0, j)
                    for j in tree.query(row.geom)
                ),
                reverse=True,
            )
            good = [(s, j) for s, j in shares if s >= 0.5]
            if not good:
                best = shares[0] if shares else (0.0, -1)
                self.error(
                    row,
                    "missing_parent",
                    _("没有上级区域覆盖该要素的一半以上（最多%(p).1f%%，%(c)s）")
                    % {
                        "p": best[0] * 100,
                        "c": candidates[best[1]].code if best[1] >= 0 else "-",
                    },
                )
                continue
            if len(good) > 1:
                self.error(
                    row,
                    "ambiguous_parent",
                    _("多个上级区域各覆盖一半以上：%(c)s")
                    % {"c": ", ".join(candidates[j].code for _s, j in good)},
                )
                continue
            row.parent = candidates[good[0][1]]
            declared = by_field.get(row.n)
            if self.o.parent_field and (declared is None or declared.pk != row.parent.pk):
                props = _properties(self.raw_features[row.n - 1])
                self.warning(
                    row,
                    "parent_mismatch",
                    _("字段%(f)s=%(v)s，但几何位于%(name)s（%(code)s，%(p).1f%%），按几何归属")
                    % {
                        "f": self.o.parent_field,
                        "v": _text(props.get(self.o.parent_field)) or "-",
                        "name": row.parent.name,
                        "code": row.parent.code,
                        "p": good[0][0] * 100,
                    },
                )

    # --- codes ---------------------------------------------------------------------------------

    def resolve_codes(self) -> None:
        expected = CODE_LENGTH[self.level]
        prefix_len = expected - 3
        existing = self._existing_codes()
        reserved = self._match_code_tables()
        rows = self.rows
        if self.o.assign_codes:
            self._assign_codes(
                [r for r in rows if not r.table_code], existing | reserved, prefix_len
            )
            rows = [r for r in rows if r.table_code]
        seen: dict[str, int] = {}
        claimed: set[str] = set()
        to_renumber: list[tuple[_Row, str, str]] = []  # row, kind, reason
        for row in rows:
            raw = row.table_code or row.raw_code
            parent_code = row.parent.code if row.parent else None
            if not raw:
                self.error(row, "missing_code", _("缺少代码字段“%(f)s”") % {"f": self.o.code_field})
                continue
            own = code_problems(self.level, raw)
            with_parent = code_problems(self.level, raw, parent_code) if parent_code else own
            parent_related = [p for p in with_parent if p not in own]
            if own:
                to_renumber.append((row, "malformed_code", "; ".join(own)))
            elif raw in seen:
                to_renumber.append(
                    (row, "duplicate_code", _("与第%(n)d个要素代码重复") % {"n": seen[raw]})
                )
            elif raw in existing:
                to_renumber.append((row, "duplicate_code", _("代码已存在于数据库中")))
            elif parent_related and row.parent and _extends(raw, row.parent.source_code, expected):
                # The parent was renumbered by an earlier import; the code matches its old code.
                reason = _("上级代码已由%(old)s改为%(new)s") % {
                    "old": row.parent.source_code,
                    "new": row.parent.code,
                }
                to_renumber.append((row, "parent_renumbered", reason))
            elif parent_related:
                to_renumber.append((row, "code_not_extending_parent", "; ".join(parent_related)))
            else:
                row.code = raw
                claimed.add(raw)
                if row.table_code:
                    row.source_code = row.raw_code if row.raw_code != raw else ""
                    self.warning(
                        row,
                        "code_from_table",
                        _("按名称取统计用区划代码%(c)s") % {"c": raw}
                        + (_("（文件中为%(r)s）") % {"r": row.raw_code} if row.raw_code else ""),
                        code=raw,
                    )
            seen.setdefault(raw, row.n)
        reasons: dict[str, int] = defaultdict(int)
        for row, kind, reason in to_renumber:
            parent_unknown = {"missing_parent", "ambiguous_parent"} & set(row.errors)
            if not self.o.renumber or parent_unknown:
                self.error(
                    row,
                    "code_not_extending_parent" if kind == "parent_renumbered" else kind,
                    reason,
                )
                continue
            if row.parent is None or len(row.parent.code) != prefix_len:
                self.error(
                    row,
                    kind,
                    reason + _("；无法重新编号：上级代码不是%(n)d位") % {"n": prefix_len},
                )
                continue
            new = self._renumbered(row.raw_code, row.parent.code, existing | claimed | reserved)
            if new is None:
                self.error(row, kind, reason + _("；上级下已无可用序号"))
                continue
            claimed.add(new)
            reasons[kind] += 1
            row.code, row.source_code = new, row.raw_code
            self.warning(
                row,
                "renumbered",
                _("代码%(old)s → %(new)s（%(why)s）")
                % {"old": row.raw_code, "new": new, "why": reason},
                code=row.raw_code,
            )
        self.report.summary["renumbered_by_reason"] = dict(sorted(reasons.items()))

    def _match_code_tables(self) -> set[str]:
        """Set ``table_code`` on rows whose name matches a table row under their parent;
        return every table code under the parents involved (reserved for their owners)."""
        if not self.o.code_tables:
            return set()
        from .statcodes import table_codes_by_parent_and_name

        parents = {row.parent.code for row in self.rows if row.parent is not None}
        table, reserved = table_codes_by_parent_and_name(self.o.code_tables, self.level, parents)
        matched = 0
        for row in self.rows:
            if row.parent is None:
                continue
            code = table.get((row.parent.code, normalize_name(row.name)))
            if code:  # "" marks a name that is ambiguous in the table
                row.table_code = code
                matched += 1
        self.report.summary["code_table_matches"] = matched
        return reserved

    def _existing_codes(self) -> set[str]:
        prefixes = {row.parent.code for row in self.rows if row.parent is not None}
        raws = {row.raw_code for row in self.rows if row.raw_code}
        codes = set(Region.objects.filter(code__in=raws).values_list("code", flat=True))
        for prefix in prefixes:
            codes |= set(
                Region.objects.filter(code__startswith=prefix).values_list("code", flat=True)
            )
        return codes

    def _renumbered(self, raw: str, parent_code: str, used: set[str]) -> str | None:
        tail = raw[-3:]
        if len(tail) == 3 and tail.isdigit():
            candidate = parent_code + tail
            if candidate not in used and not code_problems(self.level, candidate, parent_code):
                return candidate
        return self._next_free(parent_code, used)

    def _next_free(self, parent_code: str, used: set[str]) -> str | None:
        """The sequence after the highest one in use under the parent, so that retired codes
        are not handed out again; the lowest unused one when the top is exhausted."""
        width = len(parent_code) + 3
        in_use = [int(c[-3:]) for c in used if len(c) == width and c.startswith(parent_code)]
        start = max(in_use, default=0) + 1
        for seq in [*range(start, 1000), *range(1, start)]:
            candidate = f"{parent_code}{seq:03d}"
            if candidate not in used and not code_problems(self.level, candidate, parent_code):
                return candidate
        return None

    def _assign_codes(
        self, rows_to_number: list[_Row], used_codes: set[str], prefix_len: int
    ) -> None:
        groups: dict[int, list[_Row]] = defaultdict(list)
        for row in rows_to_number:
            if row.parent is not None and row.geom is not None:
                groups[row.parent.pk].append(row)
        used = set(used_codes)
        for rows in groups.values():
            parent = rows[0].parent
            assert parent is not None
            if len(parent.code) != prefix_len:
                for row in rows:
                    self.error(
                        row,
                        "missing_code",
                        _("无法自动编号：上级代码%(c)s不是%(n)d位")
                        % {"c": parent.code, "n": prefix_len},
                    )
                continue
            # West → east by representative point, then north → south.
            points = {row.n: row.geom.representative_point() for row in rows if row.geom}
            rows.sort(key=lambda r: (round(points[r.n].x, 7), -round(points[r.n].y, 7), r.n))
            for row in rows:
                code = self._next_free(parent.code, used)
                if code is None:
                    self.error(row, "missing_code", _("上级下已无可用序号"))
                    continue
                used.add(code)
                row.code, row.source_code = code, row.raw_code
                self.warning(row, "code_assigned", _("自动编号为%(c)s") % {"c": code}, code=code)

    # --- topology ------------------------------------------------------------------------------

    def check_topology(self) -> None:
        groups: dict[int, list[_Row]] = defaultdict(list)
        for row in self.rows:
            if row.parent is not None and row.geom is not None:
                groups[row.parent.pk].append(row)
        for rows in groups.values():
            parent = rows[0].parent
            assert parent is not None
            existing = list(
                Region.objects.filter(parent=parent, is_active=True, boundary__isnull=False)
                .exclude(code__in=[r.code for r in rows if r.code])
                .values_list("code", "boundary")
            )
            self._check_overlaps(rows, existing)
            if parent.boundary:
                self._check_inside_and_gaps(parent, rows, existing)

    def _check_overlaps(self, rows: list[_Row], existing: list[tuple[str, Any]]) -> None:
        geoms = [r.geom for r in rows] + [to_shape(b) for _c, b in existing]
        labels: list[_Row | str] = [*rows, *(c for c, _b in existing)]
        tree = shapely.STRtree(geoms)
        left, right = tree.query(np.asarray(geoms[: len(rows)]), predicate="intersects")
        for i, j in zip(left.tolist(), right.tolist(), strict=True):
            if j <= i and j < len(rows):
                continue  # each pair of new features once
            if i == j:
                continue
            a, b = geoms[i], geoms[j]
            inter = a.intersection(b).area
            smaller = min(a.area, b.area)
            share = inter / smaller if smaller else 0.0
            if share <= self.tolerance:
                continue
            # Report on the later feature of a pair, naming the earlier one (or the existing
            # region already in the database).
            at, other = (rows[j], labels[i]) if j < len(rows) else (rows[i], labels[j])
            other_text = (
                _("第%(n)d个要素[%(c)s]") % {"n": other.n, "c": other.label}
                if isinstance(other, _Row)
                else _("已有区域[%(c)s]") % {"c": other}
            )
            self.error(
                at,
                "sibling_overlap",
                _("与%(o)s重叠%(p).2f%%（按较小者面积计，容差%(t).2f%%）")
                % {"o": other_text, "p": share * 100, "t": self.tolerance * 100},
            )

    def _check_inside_and_gaps(
        self, parent: Region, rows: list[_Row], existing: list[tuple[str, Any]]
    ) -> None:
        parent_geom = to_shape(parent.boundary or {})
        shapely.prepare(parent_geom)
        for row in rows:
            assert row.geom is not None
            if parent_geom.contains(row.geom) or not row.geom.area:
                continue
            outside = 1.0 - row.geom.intersection(parent_geom).area / row.geom.area
            if outside <= NOISE_SHARE:
                continue
            message = _("%(p).2f%%的面积位于上级%(name)s（%(code)s）之外") % {
                "p": outside * 100,
                "name": parent.name,
                "code": parent.code,
            }
            if outside > OUTSIDE_ERROR_SHARE:
                self.error(row, "outside_parent", message)
            else:
                self.warning(row, "outside_parent", message)
        children = [r.geom for r in rows] + [to_shape(b) for _c, b in existing]
        covered = shapely.union_all(children).intersection(parent_geom).area
        gap = 1.0 - covered / parent_geom.area if parent_geom.area else 0.0
        if gap > NOISE_SHARE:
            self.warning(
                None,
                "gap",
                _("上级%(name)s有%(p).2f%%的面积未被下级覆盖")
                % {"name": parent.name, "p": gap * 100},
                code=parent.code,
            )

    # --- writing -------------------------------------------------------------------------------

    def write(self, actor: Any) -> None:
        created: list[Region] = []
        for row in self.rows:
            try:
                created.append(
                    region_create(
                        actor=actor,
                        level=self.level,
                        code=row.code,
                        name=row.name,
                        parent=row.parent,
                        boundary=to_geojson(row.geom) if row.geom is not None else None,
                        grid_type=row.grid_type,
                        households=row.households,
                        population=row.population,
                        source_code=row.source_code,
                        audit=False,
                    )
                )
            except ValidationError as exc:
                self.error(row, "rejected", exc.message)
                raise ImportAborted(self.report) from exc
        self.report.created = len(created)
        parents = sorted({r.parent.code for r in self.rows if r.parent is not None})
        common = self.rows[0].parent if len(parents) == 1 and self.rows else None
        audit_log(
            actor=actor,
            action="geo.region_import",
            object_type="geo.region",
            object_id=common.code if common else "",
            object_repr=self.report.source[:255],
            region_path=common.path if common else "",
            after={
                "source": self.report.source,
                "level": str(self.level),
                "created": len(created),
                "codes": [created[0].code, created[-1].code] if created else [],
                "parents": parents[:50],
                "warnings": self.report.counts()["warning"],
                "options": {
                    k: v
                    for k, v in vars(self.o).items()
                    if v not in (None, False, "") and k != "dry_run"
                },
            },
        )


_NAME_SUFFIXES = ("居民委员会", "居委会", "村民委员会", "村委会")


def normalize_name(name: str) -> str:
    """``新苏社区居委会`` and ``新苏社区`` name one community (NBS tables add the committee)."""
    name = "".join(name.split())
    for suffix in _NAME_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _extends(code: str, prefix: str, expected: int) -> bool:
    return bool(prefix) and len(code) == expected and code.startswith(prefix)


def _properties(feature: Any) -> dict[str, Any]:
    props = feature.get("properties") if isinstance(feature, dict) else None
    return props if isinstance(props, dict) else {}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def load_features(path: str | Path) -> list[Any]:
    """The features of a GeoJSON FeatureCollection (or a single Feature) in ``path``."""
    try:
        with open(path, encoding="utf-8-sig") as fh:
            data = json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(_("无法读取GeoJSON文件%(p)s：%(e)s") % {"p": path, "e": exc}) from exc
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features")
        if isinstance(features, list):
            return features
    if isinstance(data, dict) and data.get("type") == "Feature":
        return [data]
    raise ValidationError(_("文件不是GeoJSON FeatureCollection：%(p)s") % {"p": path})


def _check_options(o: LayerOptions) -> None:
    try:
        level = Level(o.level)
    except ValueError as exc:
        raise ValidationError(
            _("未知层级：%(l)s（可选：%(c)s）") % {"l": o.level, "c": ", ".join(Level.values)}
        ) from exc
    normalize_crs(o.crs)
    if o.parent_key not in ("code", "name"):
        raise ValidationError(_("--parent-key 只能是 code 或 name"))
    if level != Level.PROVINCE and not (o.parent or o.parent_field or o.parent_spatial):
        raise ValidationError(_("请用 --parent、--parent-field 或 --parent-spatial 指定上级"))
    if o.assign_codes and o.renumber:
        raise ValidationError(_("--assign-codes 与 --renumber 不能同时使用"))
    if level == Level.PROVINCE and o.assign_codes:
        raise ValidationError(_("省级区域不能自动编号"))
    if o.grid_type_field and level not in (Level.GRID, Level.MICRO_GRID):
        raise ValidationError(_("只有网格可以设置网格类型"))
    tol = o.overlap_tolerance
    if tol is not None and not (0 <= tol < 1):
        raise ValidationError(_("--overlap-tolerance 应在0到1之间"))


def layer_import(
    *,
    actor: Any,
    features: list[Any],
    options: LayerOptions,
    source: str = "",
) -> ImportReport:
    """Validate ``features`` as one layer and, unless there are errors or it is a dry run,
    create them all in one transaction. Returns the report either way."""
    _check_options(options)
    report = ImportReport(source=source, level=str(Level(options.level).label), total=len(features))
    report.dry_run = options.dry_run
    layer = _Layer(options, report)
    layer.raw_features = features
    layer.read(features)
    layer.resolve_parents()
    if not report.errors or any(r.parent for r in layer.rows):
        layer.resolve_codes()
        layer.check_topology()
    report.summary["would_create"] = len(layer.rows)
    report.summary["renumbered"] = sum(1 for p in report.problems if p.kind == "renumbered")
    if report.errors or options.dry_run:
        return report
    try:
        with transaction.atomic():
            layer.write(actor)
            if report.errors:  # pragma: no cover - write() raises on the first rejection
                raise ImportAborted(report)
    except ImportAborted:
        report.created = 0
        return report
    report.applied = True
    return report
