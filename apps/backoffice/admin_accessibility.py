"""Names for the admin's controls that Django leaves without one: the date and the time box of a
date-time field, and a tabular inline row's delete checkbox (only its column header says what it
does). Screen readers announce these names; tests/browser/test_accessibility.py checks every page."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.widgets import AdminSplitDateTime
from django.forms import BaseInlineFormSet
from django.forms.formsets import DELETION_FIELD_NAME
from django.http import HttpRequest
from django.utils.text import capfirst
from django.utils.translation import gettext


class NamedDateTimeInputsAdminMixin:
    """Each box of a date-time field says whose part it is: "Created at: date", "Created at: time"."""

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
        if formfield is not None and isinstance(formfield.widget, AdminSplitDateTime):
            label = capfirst(str(formfield.label or db_field.verbose_name))
            date_input, time_input = formfield.widget.widgets
            date_input.attrs["aria-label"] = gettext("%(field)s: date") % {"field": label}
            time_input.attrs["aria-label"] = gettext("%(field)s: time") % {"field": label}
        return formfield


class NamedDeletionInlineFormSet(BaseInlineFormSet):
    """A tabular inline whose delete checkboxes each name the row they delete."""

    def add_fields(self, form: Any, index: Any) -> None:
        super().add_fields(form, index)
        deletion = form.fields.get(DELETION_FIELD_NAME)
        if deletion is not None:
            name = gettext("Delete %(object)s") % {"object": form.instance} if form.instance.pk else gettext("Delete")
            deletion.widget.attrs["aria-label"] = name
