"""What every back-office ModelAdmin shares: organization scoping, what it shows of accounts and
writes to the admin log, CSV export of the filtered list, and object buttons that run the
admin's own actions on one object."""

from __future__ import annotations

import csv
import datetime
from collections.abc import Callable, Iterator
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import (
    display_for_field,
    display_for_value,
    flatten_fieldsets,
    label_for_field,
    lookup_field,
)
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseBase,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.formats import get_format
from django.utils.html import format_html, strip_tags
from django.utils.text import slugify
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from apps.audit.errors import StateConflict
from apps.backoffice.admin_accessibility import NamedDateTimeInputsAdminMixin
from apps.backoffice.admin_privacy import AdminPrivacyMixin
from apps.backoffice.admin_scale import ScaledChangeListAdminMixin
from apps.backoffice.admin_scoping import OrganizationScopedAdminMixin

EXPORT_PERMISSION = "backoffice.export_csv"
# Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
EXPORT_CHUNK = 500


def csv_safe(value: str) -> str:
    """A cell a spreadsheet shows as text: formula-like values get a leading apostrophe."""
    return f"'{value}" if value.startswith(FORMULA_PREFIXES) else value


class _Echo:
    """csv.writer writes into this and gets the line back, for streaming."""

    def write(self, value: str) -> str:
        return value


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Required. Written to the audit trail with your name."),
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(gettext("Say why."))
        return reason


def duration_words(value: datetime.timedelta | None) -> str:
    """A duration as people say it: "30 days", "2 days, 3 hours", "45 minutes" (never "30 days, 0:00:00")."""
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    if days:
        parts.append(ngettext("%(n)d day", "%(n)d days", days) % {"n": days})
    if hours:
        parts.append(ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours})
    if minutes and not days:
        parts.append(ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes})
    return ", ".join(parts) or gettext("less than a minute")


def short_id(obj: models.Model) -> str:
    """The first characters of an id: enough to tell rows apart, never the first column."""
    return str(obj.pk)[:8]


def object_label(obj: models.Model) -> str:
    """How a message names an object: its own words, never a bare id."""
    return str(obj)


class ReadOnlyAdminMixin:
    """Evidence (the audit log, receipts, delivery logs): staff may look, never add, edit or delete."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CsvExportAdminMixin:
    """An "Export CSV" button on the changelist: the rows the current filters, search and
    ordering select, with the columns the list shows and nothing else."""

    def has_export_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request) and request.user.has_perm(EXPORT_PERMISSION)  # type: ignore[attr-defined]

    def get_urls(self) -> list[Any]:
        opts = self.model._meta  # type: ignore[attr-defined]
        return [
            path(
                "export-csv/",
                self.admin_site.admin_view(self.export_csv_view),  # type: ignore[attr-defined]
                name=f"{opts.app_label}_{opts.model_name}_export",
            ),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        context = {**(extra_context or {}), "can_export_csv": self.has_export_permission(request)}
        return super().changelist_view(request, extra_context=context)  # type: ignore[misc]

    def export_csv_columns(self, changelist: Any) -> list[Any]:
        # A moment the list shows compactly (CompactMomentsAdminMixin) is exported as its field.
        return [getattr(name, "field_name", name) for name in changelist.list_display if name != "action_checkbox"]

    def export_csv_view(self, request: HttpRequest) -> HttpResponseBase:
        if not self.has_export_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)  # type: ignore[attr-defined]
        except IncorrectLookupParameters:
            return HttpResponseBadRequest(gettext("Unknown filter."))
        columns = self.export_csv_columns(changelist)
        opts = self.model._meta  # type: ignore[attr-defined]
        filename = f"{slugify(opts.verbose_name_plural)}-{timezone.now():%Y%m%d-%H%M%S}.csv"
        response = StreamingHttpResponse(self._csv_rows(changelist.queryset, columns), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "private, no-store"
        return response

    def _csv_rows(self, queryset: models.QuerySet, columns: list[Any]) -> Iterator[str]:
        writer = csv.writer(_Echo())
        model_admin = cast("admin.ModelAdmin[Any]", self)  # mixed into one
        header = [str(label_for_field(name, model_admin.model, model_admin)) for name in columns]
        yield writer.writerow([csv_safe(label) for label in header])
        for obj in queryset.iterator(chunk_size=EXPORT_CHUNK):
            yield writer.writerow([csv_safe(self._csv_cell(obj, name)) for name in columns])

    def _csv_cell(self, obj: models.Model, name: Any) -> str:
        """The value as the changelist shows it, as plain text."""
        try:
            field, attr, value = lookup_field(name, obj, cast("admin.ModelAdmin[Any]", self))
        except (AttributeError, ObjectDoesNotExist):
            return ""
        if isinstance(value, datetime.datetime):
            # Machine-readable in a spreadsheet, in the back office's time zone.
            return (
                timezone.localtime(value).isoformat(timespec="seconds")
                if timezone.is_aware(value)
                else value.isoformat()
            )
        if isinstance(value, datetime.date):
            return value.isoformat()
        if field is None:
            boolean = getattr(attr, "boolean", False)
            text = display_for_value(value, "", boolean)
        elif isinstance(field, models.ForeignKey) and value is not None:
            text = str(value)
        else:
            text = display_for_field(value, field, "")
        return strip_tags(str(text))


def moment_column(field: models.DateTimeField) -> Callable[[models.Model], str | None]:
    """A list column showing `field` as the short date and the time, which may go on two lines
    when the list would otherwise be wider than the window; sorted, labelled and exported as the field."""

    @admin.display(description=field.verbose_name, ordering=field.name)
    def column(obj: models.Model) -> str | None:
        value = getattr(obj, field.attname)
        if value is None:
            return None
        local = timezone.localtime(value)
        return format_html(
            '<time datetime="{}"><span class="nowrap">{},</span> <span class="nowrap">{}</span></time>',
            value.isoformat(),
            date_format(local, get_format("SHORT_DATE_FORMAT")),
            date_format(local, get_format("TIME_FORMAT")),
        )

    column.__name__ = field.name  # the column's CSS class stays column-<field name>
    column.field_name = field.name  # type: ignore[attr-defined]
    return column


class CompactMomentsAdminMixin:
    """Date-and-time columns of a list as `moment_column`s, so every list fits 1280 px in both
    languages; the object page and the CSV export keep the full moment."""

    def get_list_display(self, request: HttpRequest) -> Any:
        fields = {field.name: field for field in self.model._meta.fields}  # type: ignore[attr-defined]
        return [
            moment_column(fields[name])
            if isinstance(name, str) and isinstance(fields.get(name), models.DateTimeField)
            else name
            for name in super().get_list_display(request)  # type: ignore[misc]
        ]


class ObjectActionsAdminMixin:
    """Buttons on an object's page that run one of the admin's actions on that object only.

    `object_actions` names actions of the admin; a button shows only when the action is
    available to the staff member (Django filters actions by their permissions).
    """

    object_actions: tuple[str, ...] = ()

    def get_urls(self) -> list[Any]:
        opts = self.model._meta  # type: ignore[attr-defined]
        return [
            path(
                "<path:object_id>/run/<str:action>/",
                self.admin_site.admin_view(self.object_action_view),  # type: ignore[attr-defined]
                name=f"{opts.app_label}_{opts.model_name}_object_action",
            ),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def available_object_actions(self, request: HttpRequest, obj: Any = None) -> list[tuple[str, str]]:
        actions = self.get_actions(request)  # type: ignore[attr-defined]
        return [
            (name, str(actions[name][2]))
            for name in self.object_actions
            if name in actions and (obj is None or self.object_action_refusal(obj, name) is None)
        ]

    def object_action_refusal(self, obj: Any, action: str) -> str | None:
        """Why `action` cannot run on `obj` in its current state (a sentence), or None when it can.
        Only actions that can run are offered as buttons."""
        return None

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        opts = self.model._meta  # type: ignore[attr-defined]
        obj = self.get_object(request, object_id)  # type: ignore[attr-defined]
        buttons = [
            (label, reverse(f"admin:{opts.app_label}_{opts.model_name}_object_action", args=[object_id, name]))
            for name, label in self.available_object_actions(request, obj)
        ]
        context: dict[str, Any] = {**(extra_context or {}), "object_action_buttons": buttons}
        if obj is not None and not self._has_editable_parts(request, obj):
            # Nothing on the page can be edited: a Save button would only confuse.
            context.update(show_save=False, show_save_and_continue=False, show_save_and_add_another=False)
        return super().change_view(request, object_id, form_url, extra_context=context)  # type: ignore[misc]

    def _has_editable_parts(self, request: HttpRequest, obj: models.Model) -> bool:
        fields = set(flatten_fieldsets(self.get_fieldsets(request, obj)))  # type: ignore[attr-defined]
        if fields - set(self.get_readonly_fields(request, obj)):  # type: ignore[attr-defined]
            return True
        return any(
            inline.has_change_permission(request, obj) or inline.has_add_permission(request, obj)
            for inline in self.get_inline_instances(request, obj)  # type: ignore[attr-defined]
        )

    def object_action_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        obj = self.get_object(request, object_id)  # type: ignore[attr-defined]
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.model._meta, object_id)  # type: ignore[attr-defined]
        actions = self.get_actions(request)  # type: ignore[attr-defined]
        if action not in self.object_actions or action not in actions:
            raise PermissionDenied
        opts = self.model._meta  # type: ignore[attr-defined]
        change_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        if request.method != "POST":
            return HttpResponseRedirect(change_url)
        refusal = self.object_action_refusal(obj, action)
        if refusal is not None:
            self.message_user(request, refusal, level=messages.ERROR)  # type: ignore[attr-defined]
            return HttpResponseRedirect(change_url)
        func = actions[action][0]
        queryset = self.get_queryset(request).filter(pk=obj.pk)  # type: ignore[attr-defined]
        request._backoffice_return_url = change_url  # type: ignore[attr-defined]
        response = func(self, request, queryset)
        return response if isinstance(response, HttpResponse) else HttpResponseRedirect(change_url)


class SelectedIdsAdminMixin:
    """An action posted with a selected id that is no id of the model is a 400: Django would pass
    it to the database as it is (a UUID primary key raises there, a server error)."""

    # *args: Django 6 adds an action_location argument (in django-stubs already).
    def response_action(
        self, request: HttpRequest, queryset: models.QuerySet[Any], *args: Any, **kwargs: Any
    ) -> HttpResponse | None:
        pk = self.model._meta.pk  # type: ignore[attr-defined]
        try:
            for value in request.POST.getlist(ACTION_CHECKBOX_NAME):
                pk.to_python(value)
        except ValidationError:
            return HttpResponseBadRequest(gettext("Unknown selection."))
        return super().response_action(request, queryset, *args, **kwargs)  # type: ignore[misc]


class BackOfficeAdmin(
    NamedDateTimeInputsAdminMixin,
    AdminPrivacyMixin,
    OrganizationScopedAdminMixin,
    CsvExportAdminMixin,
    CompactMomentsAdminMixin,
    ObjectActionsAdminMixin,
    SelectedIdsAdminMixin,
    ScaledChangeListAdminMixin,
    admin.ModelAdmin,
):
    """The base of every back-office ModelAdmin."""

    change_list_template = "admin/backoffice/change_list.html"
    change_form_template = "admin/backoffice/change_form.html"


def report(model_admin: Any, request: HttpRequest, done: int, failures: list[str], what: str) -> None:
    """One success message saying what was done (`what`, a sentence for `done` objects), one
    error message per refusal; a warning when nothing was selected that could change."""
    if done:
        model_admin.message_user(request, what, level=messages.SUCCESS)
    for failure in failures:
        model_admin.message_user(request, failure, level=messages.ERROR)
    if not done and not failures:
        model_admin.message_user(request, gettext("Nothing was changed."), level=messages.WARNING)


def run_with_reason(
    model_admin: Any,
    request: HttpRequest,
    queryset: models.QuerySet,
    *,
    action: str,
    title: str,
    apply_one: Any,
    done_message: Any,
    refusal: Any = None,
    describe: Any = object_label,
) -> HttpResponse | None:
    """An action that asks for a reason on an intermediate page, then applies `apply_one(obj, reason)`
    to each selected object.

    `refusal(obj)` says (a sentence) why an object cannot take the action in its current state, or
    None: the page lists those apart and offers the action only for the others. Refusals that
    happen meanwhile (StateConflict, a race) become error messages. `done_message(count)` is the
    sentence that says what happened."""
    objects = list(queryset)
    refused = [(obj, refusal(obj)) for obj in objects] if refusal is not None else [(obj, None) for obj in objects]
    ready = [obj for obj, why in refused if why is None]
    blocked = [(obj, why) for obj, why in refused if why is not None]
    form = ReasonForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        done, failures = 0, [f"{describe(obj)}: {why}" for obj, why in blocked]
        for obj in ready:
            try:
                apply_one(obj, form.cleaned_data["reason"])
            except StateConflict as exc:
                obj.refresh_from_db()
                why = refusal(obj) if refusal is not None else None
                failures.append(f"{describe(obj)}: {why or exc}")
            else:
                done += 1
        report(model_admin, request, done, failures, done_message(done))
        return None
    opts = model_admin.model._meta
    changelist_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "subtitle": None,
        "opts": opts,
        "app_label": opts.app_label,
        "form": form,
        "objects": [(obj, describe(obj)) for obj in ready],
        "blocked": [(obj, describe(obj), why) for obj, why in blocked],
        "action": action,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "changelist_url": changelist_url,
        "return_url": getattr(request, "_backoffice_return_url", changelist_url),
        "form_url": request.path,
    }
    return TemplateResponse(request, "admin/backoffice/reason_form.html", context)
