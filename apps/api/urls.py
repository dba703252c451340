"""Routing helper: every API path works with and without a trailing slash."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path


def api_path(route: str, view: Any, name: str) -> list[URLPattern]:
    # The slash-less form is the documented one; the schema hook drops the other.
    return [path(route, view, name=name), path(f"{route}/", view)]
