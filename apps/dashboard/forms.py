from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.dashboard.selectors import DEFAULT_PERIOD, PERIODS
from apps.organizations.models import Organization


class DashboardFilterForm(forms.Form):
    """The dashboard's GET filters. A value that does not validate falls back to its default."""

    organization = forms.ModelChoiceField(
        label=_("Organization"),
        queryset=Organization.objects.none(),
        to_field_name="slug",
        required=False,
        empty_label=_("All my organizations"),
    )
    days = forms.TypedChoiceField(
        label=_("Period"),
        choices=[(days, days) for days in PERIODS],
        coerce=int,
        required=False,
        empty_value=DEFAULT_PERIOD,  # type: ignore[arg-type]  # any value works (Django: empty_value=''); the stubs say str | None
    )

    def __init__(self, *args: Any, organizations: QuerySet[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["organization"]).queryset = organizations
        cast(forms.ChoiceField, self.fields["days"]).choices = [
            (days, ngettext("Last %(days)d day", "Last %(days)d days", days) % {"days": days}) for days in PERIODS
        ]

    def filters(self) -> tuple[Organization | None, int]:
        """The chosen organization (None: all visible ones) and period, defaults for invalid values."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return data.get("organization"), data.get("days") or DEFAULT_PERIOD
