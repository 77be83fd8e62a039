"""Seed GeoReport v2 attribute definitions for a few public matter types, covering every datatype
(string, number, datetime, text, singlevaluelist, multivaluelist). Used by migration
``api.0002`` and by tests that flush the database (live-server tests)."""

from __future__ import annotations

from typing import Any

# fmt: off
SEED = [
    # 01001 供水井盖异常
    ("01001", "cover_state", 1, "singlevaluelist", True, "井盖状况",
     "", [("broken", "破损"), ("missing", "缺失"), ("displaced", "移位"), ("noise", "异响")]),
    ("01001", "traffic_risk", 2, "singlevaluelist", False, "是否影响通行安全",
     "", [("yes", "是"), ("no", "否")]),
    # 06010 暴露垃圾
    ("06010", "volume", 1, "number", False, "垃圾量约多少立方米",
     "数字，例如1.5", []),
    ("06010", "waste_kinds", 2, "multivaluelist", False, "垃圾种类",
     "可多选", [("household", "生活垃圾"), ("construction", "建筑垃圾"), ("bulky", "大件垃圾"),
               ("garden", "园林垃圾")]),
    # 06028 噪声扰民
    ("06028", "noise_source", 1, "string", True, "噪声来源",
     "例如：施工、商铺音响、广场舞", []),
    ("06028", "noise_time", 2, "datetime", False, "噪声发生时间",
     "W3C时间，例如2026-05-01T22:30:00+08:00", []),
    # 91001 邻里纠纷
    ("91001", "details", 1, "text", False, "纠纷经过（仅工作人员可见）",
     "", []),
]
# fmt: on


def seed_service_attributes(model: Any) -> None:
    """Create or refresh the seeded rows (``model``: the real or the historical model)."""
    for code, attr, order, datatype, required, description, hint, values in SEED:
        model.objects.update_or_create(
            service_code=code,
            code=attr,
            defaults={
                "order": order,
                "datatype": datatype,
                "required": required,
                "variable": True,
                "description": description,
                "datatype_description": hint,
                "values": [{"key": k, "name": n} for k, n in values],
            },
        )
