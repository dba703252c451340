from __future__ import annotations

from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """`{"results", "next", "previous"}`, newest first; stable under concurrent inserts."""

    ordering = "-created_at"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100
