"""Routing helpers for the API: every path works with and without a trailing slash, and each
app's routes sit behind one quick check."""

from __future__ import annotations

import re
from typing import Any

from django.urls import URLPattern, URLResolver, include, path
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RoutePattern
from django.utils.functional import cached_property

_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


def api_path(route: str, view: Any, name: str) -> list[URLPattern]:
    # The slash-less form is the documented one; the schema hook drops the other.
    return [path(route, view, name=name), path(f"{route}/", view)]


class SectionResolver(URLResolver):
    """`path("", include(app))` that first checks the path against all of the app's routes at
    once, in one regex made from theirs.

    Django's resolver tries an included app's routes one by one and, when none matches, raises
    and builds the list of every route it tried (for the debug 404 page). The API mounts six
    apps side by side under /api/v1/, so a request to the last one paid that for the five
    before it, on every request (a fifth of a cached status poll's time). The combined regex
    is the union of the routes' own regexes, so it matches exactly when one of them would.
    """

    @cached_property
    def section(self) -> re.Pattern[str] | None:
        alternatives = []
        for pattern in self.url_patterns:
            if not isinstance(pattern, URLPattern):
                return None  # a nested include: resolve it the usual way
            alternatives.append("(?:" + _NAMED_GROUP.sub("(?:", pattern.pattern.regex.pattern) + ")")
        return re.compile("|".join(alternatives))

    def resolve(self, path: Any) -> Any:
        section = self.section
        if section is not None and not section.search(str(path)):
            raise Resolver404({"path": str(path)})
        return super().resolve(path)


def api_section(urlconf: str) -> SectionResolver:
    """An app's API routes, mounted at the API's root behind one quick check."""
    urlconf_module, app_name, namespace = include(urlconf)
    return SectionResolver(RoutePattern("", is_endpoint=False), urlconf_module, app_name=app_name, namespace=namespace)
