from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.utils.urls import remove_query_param


class CursorPagination(pagination.CursorPagination):
    """`{"results", "next", "previous"}`, newest first; keyset pagination on (created_at, id).

    A cursor holds the created_at and id of the row a page ended (or, going back, began) at,
    and the next page is the rows strictly past it in that order. Rows created in the same
    instant are ordered by id, so none is shown twice or skipped, whichever way one pages;
    rows created meanwhile land before the first page, never inside the pages being walked.
    (DRF's own cursor counts rows sharing a created_at with an offset, which loses its place
    when it turns back inside such a run.)"""

    ordering = ("-created_at", "-pk")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100
    invalid_cursor_message = "Invalid cursor: use the `next` or `previous` link of a page."

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list[Any]:
        self.request = request
        self.page_size = self.get_page_size(request) or self.page_size
        self.base_url = request.build_absolute_uri()
        self.cursor = self.decode_cursor(request)
        reverse = bool(self.cursor and self.cursor.reverse)
        position = self._position(queryset, self.cursor.position) if self.cursor else None  # type: ignore[arg-type]  # DRF's Cursor.position holds the encoded text (decode_cursor); the stubs say int

        queryset = queryset.order_by(*(("created_at", "pk") if reverse else self.ordering))
        if position is not None:
            created_at, pk = position
            if reverse:  # the page before: rows newer than the first one of the page seen
                queryset = queryset.filter(Q(created_at__gt=created_at) | Q(created_at=created_at, pk__gt=pk))
            else:
                queryset = queryset.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=pk))
        rows = list(queryset[: self.page_size + 1])
        more = len(rows) > self.page_size
        self.page = rows[: self.page_size]
        if reverse:
            self.page.reverse()
        self.has_next = more if not reverse else position is not None
        self.has_previous = more if reverse else position is not None
        return self.page

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        if not self.page:  # only if rows went away meanwhile: start again from the newest
            return self.base_url_without_cursor()
        return self.encode_cursor(pagination.Cursor(offset=0, reverse=False, position=self._key(self.page[-1])))  # type: ignore[arg-type]  # DRF's Cursor.position holds the encoded text (decode_cursor); the stubs say int

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        if not self.page:
            return self.base_url_without_cursor()
        return self.encode_cursor(pagination.Cursor(offset=0, reverse=True, position=self._key(self.page[0])))  # type: ignore[arg-type]  # DRF's Cursor.position holds the encoded text (decode_cursor); the stubs say int

    def base_url_without_cursor(self) -> str:
        return remove_query_param(self.base_url or "", self.cursor_query_param)

    def decode_cursor(self, request: Any) -> pagination.Cursor | None:
        try:
            return super().decode_cursor(request)
        except NotFound:  # DRF answers a bad cursor with 404; it is bad input, named like any other
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]}) from None

    @staticmethod
    def _key(row: Any) -> str:
        return f"{row.created_at.isoformat()}|{row.pk}"

    def _position(self, queryset: Any, text: str | None) -> tuple[datetime, Any] | None:
        if text is None:
            return None
        try:
            created_at, pk = text.split("|", 1)
            when = datetime.fromisoformat(created_at)
            if when.tzinfo is None:
                raise ValueError(created_at)
            return when, queryset.model._meta.pk.to_python(pk)
        except (ValueError, DjangoValidationError):
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]}) from None
