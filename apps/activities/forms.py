"""The receptor's answer on the consent page: which details, for how long."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.activities.models import Activity, ActivityType
from apps.people.models import PersonalDetail
from apps.people.vocabulary import detail_display_label as detail_label

# The periods a person can choose from; the API accepts any duration, people get round numbers.
SHARING_PERIODS: dict[str, tuple[Any, timedelta]] = {
    "P1D": (_("1 day"), timedelta(days=1)),
    "P7D": (_("7 days"), timedelta(days=7)),
    "P30D": (_("30 days"), timedelta(days=30)),
    "P90D": (_("90 days"), timedelta(days=90)),
    "P365D": (_("1 year"), timedelta(days=365)),
}


@dataclass(frozen=True)
class DetailRow:
    """One requested detail as the consent form shows it: the value that would leave, and whether it may be left out."""

    name: str
    label: str
    required: bool
    value: str | None
    checked: bool

    @property
    def missing(self) -> bool:
        return self.value is None

    @property
    def locked(self) -> bool:
        # Required details cannot be unticked; a detail without a value cannot be ticked.
        return self.required or self.missing


class ConsentForm(forms.Form):
    """The receptor's acceptance. Field names match activity_accept's, so its errors land next to them."""

    accepted_details = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    sharing_period = forms.ChoiceField(
        label=_("Share them for how long?"),
        choices=[(key, label) for key, (label, _) in SHARING_PERIODS.items()],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how long the details are shared.")},
    )

    def __init__(self, *args: Any, activity: Activity, values: dict[str, PersonalDetail], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.activity = activity
        self.values = values
        self.requirements = list(activity.requirements)
        self.fields["accepted_details"].choices = [(r["detail"], detail_label(r["detail"])) for r in self.requirements]
        if activity.type not in (ActivityType.REQUEST, ActivityType.SWAP):
            # An authorization shares nothing, so there is no period to choose.
            del self.fields["sharing_period"]

    @property
    def asks_for_details(self) -> bool:
        return bool(self.requirements)

    @property
    def asks_for_period(self) -> bool:
        return "sharing_period" in self.fields

    def detail_rows(self) -> list[DetailRow]:
        if self.is_bound:
            chosen = set(self.data.getlist("accepted_details"))
        else:
            chosen = {r["detail"] for r in self.requirements if r["detail"] in self.values}
        rows = []
        for r in self.requirements:
            name, required = r["detail"], bool(r.get("required"))
            detail = self.values.get(name)
            value = detail.value if detail else None
            rows.append(
                DetailRow(
                    name=name,
                    label=detail_label(name),
                    required=required,
                    value=value,
                    checked=value is not None and (required or name in chosen),
                )
            )
        return rows

    def missing_required(self) -> list[DetailRow]:
        return [row for row in self.detail_rows() if row.required and row.missing]

    def clean_sharing_period(self) -> timedelta:
        return SHARING_PERIODS[self.cleaned_data["sharing_period"]][1]
