"""Changelists whose cost does not grow with the table (docs/benchmarks.md, "Growth at a million rows").

Django's changelist reads the whole (filtered) table several times per page: an exact COUNT(*)
for the paginator and another for "N total", a SELECT DISTINCT for every list filter over a
field without choices, DISTINCT truncated dates for the date hierarchy, and `icontains` on the
text of every searched field, ids included. At a million rows each is a scan of hundreds of
milliseconds. Here:

- Counts are exact up to EXACT_COUNT_LIMIT rows (ten pages) (one bounded COUNT over at most that many);
  beyond, the unfiltered table's count is PostgreSQL's own estimate (pg_class.reltuples) and a
  filtered one the planner's row estimate. No "N total" count (show_full_result_count).
- A list filter over a field without choices offers the values of the newest
  RECENT_VALUES_LIMIT rows (and the value selected), not a DISTINCT over the table.
- The date hierarchy asks, for each year / month / day between the first and the last row,
  whether a row exists in it: an index range probe each, instead of truncating every row.
- A search term that is a UUID matches the id fields exactly (the primary key, foreign keys, an
  audit row's subject id), through their indexes; other terms never search UUID fields as text.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from django.contrib import admin
from django.contrib.admin.utils import NotRelationField, get_fields_from_path, reverse_field_path
from django.contrib.admin.views.main import ChangeList
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db import connections, models
from django.db.models import Max, Min, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext

if TYPE_CHECKING:
    from django.contrib.admin.filters import _ListFilterChoices

EXACT_COUNT_LIMIT = 1_000
UUID_MATCHES_LIMIT = 1_000
RECENT_VALUES_LIMIT = 5_000
# More periods than this between the first and the last row (a date hierarchy over centuries):
# Django's own DISTINCT query answers instead of one probe each.
MAX_PROBES = 400


def table_estimate(model: type[models.Model], using: str) -> int | None:
    """PostgreSQL's estimate of the table's rows (kept by VACUUM/ANALYZE and autovacuum)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] >= 0 else None


def planner_estimate(queryset: QuerySet) -> int | None:
    """The planner's estimate of the rows `queryset` returns."""
    if connections[queryset.db].vendor != "postgresql":
        return None
    try:
        plan = json.loads(queryset.order_by().explain(format="json"))
    except (ValueError, TypeError):
        return None
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """Exact below EXACT_COUNT_LIMIT rows; an estimate (never below the limit) above."""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return super().count
        bounded = queryset.order_by()[: EXACT_COUNT_LIMIT + 1].count()
        if bounded <= EXACT_COUNT_LIMIT:
            return bounded
        if not queryset.query.where:
            estimate = table_estimate(queryset.model, queryset.db)
        else:
            estimate = planner_estimate(queryset)
        if estimate is None:  # not PostgreSQL: the exact count
            return super().count
        return max(estimate, bounded)


class RecentValuesListFilter(admin.AllValuesFieldListFilter):
    """The values of the newest RECENT_VALUES_LIMIT rows, plus the one selected."""

    def __init__(
        self, field: Any, request: HttpRequest, params: Any, model: Any, model_admin: Any, field_path: str
    ) -> None:
        super().__init__(field, request, params, model, model_admin, field_path)
        parent_model, _ = reverse_field_path(model, field_path)
        queryset = model_admin.get_queryset(request) if model == parent_model else parent_model._default_manager.all()
        values = set(queryset.order_by("-pk").values_list(field.name, flat=True)[:RECENT_VALUES_LIMIT])
        selected = self.lookup_val if isinstance(self.lookup_val, list) else [self.lookup_val]
        values.update(value for value in selected if value not in (None, ""))
        # A list where Django keeps a queryset: choices() only iterates it.
        self.lookup_choices = sorted(values, key=lambda value: (value is None, str(value)))  # type: ignore[assignment]

    def choices(self, changelist: Any) -> Iterator[_ListFilterChoices]:
        for choice in super().choices(changelist):
            if choice["display"] == "":
                # A blank value (an empty CharField) is a value too; its link needs words to have a name.
                choice["display"] = gettext("(empty)")
            yield choice


def _periods(first: datetime, last: datetime, kind: str, tz: Any) -> Iterator[tuple[datetime, datetime]]:
    """[start, end) of every year, month or day from `first`'s to `last`'s, aware in `tz`."""
    first_day, last_day = timezone.localtime(first, tz).date(), timezone.localtime(last, tz).date()

    def midnight(day: date) -> datetime:
        return timezone.make_aware(datetime.combine(day, time.min), tz)

    if kind == "year":
        starts = [date(year, 1, 1) for year in range(first_day.year, last_day.year + 2)]
    elif kind == "month":
        starts, day = [], first_day.replace(day=1)
        while len(starts) < 2 or starts[-2] < last_day.replace(day=1):
            starts.append(day)
            day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    else:
        count = (last_day - first_day).days + 2
        starts = [first_day + timedelta(days=offset) for offset in range(count)]
    for start, end in itertools.pairwise(starts):
        yield midnight(start), midnight(end)


class ProbedDatesQuerySet(QuerySet):
    """`datetimes()` (what the date hierarchy lists) by one EXISTS probe per period."""

    def datetimes(
        self,
        field_name: str,
        kind: Literal["year", "month", "week", "day", "hour", "minute", "second"],
        order: Literal["ASC", "DESC"] = "ASC",
        tzinfo: Any = None,
    ) -> Any:
        if kind not in ("year", "month", "day"):
            return super().datetimes(field_name, kind, order, tzinfo)
        bounds = self.aggregate(first=Min(field_name), last=Max(field_name))
        if bounds["first"] is None:
            return []
        tz = tzinfo or timezone.get_current_timezone()
        periods = list(_periods(bounds["first"], bounds["last"], kind, tz))
        if len(periods) > MAX_PROBES:
            return super().datetimes(field_name, kind, order, tzinfo)
        found = [start for start, end in periods if self._any_between(field_name, start, end)]
        return found if order == "ASC" else found[::-1]

    def _any_between(self, field_name: str, start: datetime, end: datetime) -> bool:
        # The first row of the period in the field's order, not EXISTS: with LIMIT 1 and no
        # order, the planner may scan the table in its physical order, betting on a row it would
        # meet early, and read most of a million rows before the period's; ordered by the
        # field, it walks the field's index from the period's start.
        period = self.filter(**{f"{field_name}__gte": start, f"{field_name}__lt": end})
        return bool(period.order_by(field_name).values_list(field_name, flat=True)[:1])


_probed_classes: dict[type, type] = {}


def with_probed_dates(queryset: QuerySet) -> QuerySet:
    cls = type(queryset)
    if not issubclass(cls, ProbedDatesQuerySet):
        if cls not in _probed_classes:
            _probed_classes[cls] = type(f"Probed{cls.__name__}", (ProbedDatesQuerySet, cls), {})
        queryset = queryset._chain()  # type: ignore[attr-defined]
        queryset.__class__ = _probed_classes[cls]
    return queryset


class ScaledChangeList(ChangeList):
    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet:
        return with_probed_dates(super().get_queryset(request, exclude_parameters))


def _is_uuid_field(field: Any) -> bool:
    if isinstance(field, models.UUIDField):
        return True
    target = getattr(field, "target_field", None)
    return field.is_relation and isinstance(target, models.UUIDField)


class ScaledChangeListAdminMixin:
    """The changelist of a table that may hold millions of rows (see the module's docstring)."""

    paginator: ClassVar[type] = EstimatedCountPaginator
    show_full_result_count = False

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return ScaledChangeList

    def get_ordering(self, request: HttpRequest) -> Any:
        # Newest first, through the created_at indexes, rather than by random UUID order.
        ordering = super().get_ordering(request)  # type: ignore[misc]
        model = self.model  # type: ignore[attr-defined]
        if not ordering and not model._meta.ordering and any(f.name == "created_at" for f in model._meta.fields):
            return ("-created_at",)
        return ordering

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = []
        model = self.model  # type: ignore[attr-defined]
        for entry in super().get_list_filter(request):  # type: ignore[misc]
            if isinstance(entry, str):
                try:
                    field = get_fields_from_path(model, entry)[-1]
                except (FieldDoesNotExist, NotRelationField):
                    field = None
                plain = (
                    field is not None
                    and not field.is_relation
                    and not field.choices
                    and not isinstance(field, models.BooleanField | models.DateField)
                )
                if plain:
                    entry = (entry, RecentValuesListFilter)
            filters.append(entry)
        return filters

    def get_search_fields(self, request: HttpRequest) -> Any:
        fields = super().get_search_fields(request)  # type: ignore[misc]
        if getattr(request, "_search_without_uuid_fields", False):
            return [name for name in fields if not self._search_field_is_uuid(name)]
        return fields

    def _search_field(self, name: str) -> Any:
        path = name.lstrip("^=@")
        path = path.removesuffix("__exact").removesuffix("__iexact").removesuffix("__icontains")
        try:
            return path, get_fields_from_path(self.model, path)[-1]  # type: ignore[attr-defined]
        except (FieldDoesNotExist, NotRelationField):
            return path, None

    def _search_field_is_uuid(self, name: str) -> bool:
        _, field = self._search_field(name)
        return field is not None and _is_uuid_field(field)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        try:
            value = uuid.UUID(term)
        except ValueError:
            value = None
        if value is None:
            request._search_without_uuid_fields = True  # type: ignore[attr-defined]
            try:
                if term and not self.get_search_fields(request):
                    return queryset.none(), False
                return super().get_search_results(request, queryset, search_term)  # type: ignore[misc]
            finally:
                del request._search_without_uuid_fields  # type: ignore[attr-defined]
        condition = Q()
        for name in self.get_search_fields(request):
            path, field = self._search_field(name)
            if field is None:
                continue
            if _is_uuid_field(field):
                condition |= Q(**{path: value})
            elif path == "object_id" and self._has_generic_subject():
                # An audit row's subject: (content_type, object_id) is the indexed pair.
                types = list(ContentType.objects.values_list("pk", flat=True))
                condition |= Q(content_type__in=types, object_id=str(value))
        if not condition:
            return queryset.none(), False
        # The matching ids first, by their indexes: filtered and ordered in one query, the planner
        # may walk the changelist's order index instead, reading the table to find one row.
        ids = list(queryset.filter(condition).order_by().values_list("pk", flat=True)[:UUID_MATCHES_LIMIT])
        return queryset.filter(pk__in=ids), False

    def _has_generic_subject(self) -> bool:
        return any(isinstance(f, GenericForeignKey) for f in self.model._meta.private_fields)  # type: ignore[attr-defined]
