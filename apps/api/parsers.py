"""The API's JSON parser, with a nesting limit.

Python's json module parses nested arrays and objects recursively: a body nested a few thousand
levels deep raises RecursionError, which DRF's JSONParser lets through as a 500. No request of
this API needs more than a handful of levels (a provider's raw result perhaps a dozen), so a
body nested deeper than MAX_JSON_DEPTH answers 400 `too_deep` in the error shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_JSON_DEPTH = 64


def json_depth_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `value` (parsed JSON) nests arrays and objects deeper than `limit`; without recursion."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


class DepthLimitedJSONParser(JSONParser):
    """DRF's JSONParser; a body nested deeper than MAX_JSON_DEPTH is a 400, never a RecursionError."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        too_deep = ParseError(f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.", code="too_deep")
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise too_deep from None
        if json_depth_exceeds(data):
            raise too_deep
        return data
