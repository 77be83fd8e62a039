from __future__ import annotations

import json
from typing import Any

from django import template
from django.core.serializers.json import DjangoJSONEncoder

register = template.Library()


@register.filter
def compact_json(value: Any) -> str:
    """Audit before/after payloads as readable JSON (Chinese kept, not \\u-escaped)."""
    if value in (None, "", {}):
        return ""
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(", ", ": "))
