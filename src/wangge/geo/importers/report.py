"""The import report: every problem with where it is, what kind it is and why."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils.translation import gettext as _

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    severity: str  # error | warning
    kind: str  # a stable identifier, e.g. "duplicate_code"
    message: str  # the reason, in the user's language
    feature: int | None = None  # 1-based feature number (GeoJSON) or None
    code: str = ""  # the code as read (or the parent's code for gap warnings)
    where: str = ""  # for CSV rows: "file.csv:line"

    def line(self) -> str:
        if self.where:
            place = self.where
        elif self.feature:
            place = f"feature {self.feature}"
        else:
            place = "region" if self.code else "file"  # e.g. a gap in an existing parent
        code = f" [{self.code}]" if self.code else ""
        return f"{place}{code} {self.kind}: {self.message}"


@dataclass
class ImportReport:
    source: str
    level: str = ""
    total: int = 0  # features (or rows) read
    dry_run: bool = False
    applied: bool = False
    created: int = 0
    skipped: int = 0
    problems: list[Problem] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    def error(self, kind: str, message: str, **where: Any) -> None:
        self.problems.append(Problem(ERROR, kind, message, **where))

    def warning(self, kind: str, message: str, **where: Any) -> None:
        self.problems.append(Problem(WARNING, kind, message, **where))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {ERROR: {}, WARNING: {}}
        for (severity, kind), n in sorted(
            Counter((p.severity, p.kind) for p in self.problems).items()
        ):
            out[severity][kind] = n
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "level": self.level,
            "total": self.total,
            "dry_run": self.dry_run,
            "applied": self.applied,
            "created": self.created,
            "skipped": self.skipped,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "counts": self.counts(),
            "summary": self.summary,
            "problems": [asdict(p) for p in self.problems],
        }

    def format_text(self) -> str:
        lines = [
            _("导入 %(source)s（层级：%(level)s，共 %(n)d 条）")
            % {"source": self.source, "level": self.level or "-", "n": self.total}
        ]
        counts = self.counts()
        lines.append(
            _("错误 %(e)d 个，警告 %(w)d 个") % {"e": len(self.errors), "w": len(self.warnings)}
        )
        for severity, label in ((ERROR, _("错误")), (WARNING, _("警告"))):
            for kind, n in counts[severity].items():
                lines.append(f"  {label} {kind}: {n}")
        for reason, n in (self.summary.get("renumbered_by_reason") or {}).items():
            lines.append(_("  重新编号原因 %(r)s: %(n)d") % {"r": reason, "n": n})
        for p in sorted(self.problems, key=_order):
            lines.append(("E " if p.severity == ERROR else "W ") + p.line())
        if self.errors:
            lines.append(_("结果：有错误，未写入任何数据。"))
        elif self.dry_run:
            lines.append(
                _("结果：试运行通过，可导入 %(n)d 条（未写入）。")
                % {"n": self.summary.get("would_create", 0)}
            )
        else:
            lines.append(
                _("结果：已导入 %(c)d 条，跳过 %(s)d 条。") % {"c": self.created, "s": self.skipped}
            )
        return "\n".join(lines)


def _order(p: Problem) -> tuple[int, int, str]:
    # Errors first, then by feature number (file-level problems last), stable otherwise.
    return (0 if p.severity == ERROR else 1, p.feature or 10**9, p.where)


class ImportAborted(Exception):
    """Raised inside the import transaction to roll everything back."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__("import aborted")
        self.report = report
