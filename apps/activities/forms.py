"""The person's forms under /me/: the receptor's answer on the consent page (which details, for
how long), and a share or swap the person starts themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from apps.activities.models import Activity, ActivityType
from apps.activities.selectors import ShareCounterpart
from apps.people.models import PersonalDetail
from apps.people.vocabulary import DETAIL_CHOICES, detail_display_value
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
        cast(forms.ChoiceField, self.fields["accepted_details"]).choices = [
            (r["detail"], detail_label(r["detail"])) for r in self.requirements
        ]
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
            chosen = set(cast(QueryDict, self.data).getlist("accepted_details"))
        else:
            chosen = {r["detail"] for r in self.requirements if r["detail"] in self.values}
        rows = []
        for r in self.requirements:
            name, required = r["detail"], bool(r.get("required"))
            detail = self.values.get(name)
            value = detail_display_value(name, detail.value) if detail else None
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


class StartActivityForm(forms.Form):
    """A person starts a share (AT_002) or a swap (AT_003) with someone they already deal with.

    Field names match activity_create's, so its errors land next to them. `counterpart` is
    "<own identity id>:<their identity id>" from person_share_counterparts; anything else is
    refused as an invalid choice, so a tampered form cannot reach another member of the
    organization."""

    counterpart = forms.ChoiceField(
        label=_("With whom?"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose whom to share with."),
            "invalid_choice": _("Choose one of the people listed."),
        },
    )
    offered_details = forms.MultipleChoiceField(
        label=_("Details you share"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one detail to share."),
            "invalid_choice": _("You can only share details you have added to your page."),
        },
    )
    requested_details = forms.MultipleChoiceField(
        label=_("Details you ask for in exchange"),
        widget=forms.CheckboxSelectMultiple,
        choices=DETAIL_CHOICES,
        error_messages={
            "required": _("Choose at least one detail you would like in exchange."),
            "invalid_choice": _("Choose details from the list."),
        },
    )
    sharing_period = forms.ChoiceField(
        label=_("Share them for how long?"),
        choices=[(key, label) for key, (label, _) in SHARING_PERIODS.items()],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how long the details are shared.")},
    )
    purpose = forms.CharField(
        label=_("A note for them (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(
        self,
        *args: Any,
        type: str,
        counterparts: list[ShareCounterpart],
        values: dict[str, PersonalDetail],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.type = type
        self.counterparts = {c.key: c for c in counterparts}
        self.values = values
        cast(forms.ChoiceField, self.fields["counterpart"]).choices = [
            (c.key, f"{c.name}, {c.own.organization.name}") for c in counterparts
        ]
        cast(forms.ChoiceField, self.fields["offered_details"]).choices = [
            (name, detail_label(name)) for name in values
        ]
        if type == ActivityType.SHARE:
            # The receptor of a share gives nothing; the person sets how long theirs are shared.
            del self.fields["requested_details"]
        else:
            # In a swap the receptor chooses the period when accepting (API.md, seed 000).
            del self.fields["sharing_period"]

    @property
    def is_swap(self) -> bool:
        return self.type == ActivityType.SWAP

    def offered_rows(self) -> list[DetailRow]:
        chosen = set(cast(QueryDict, self.data).getlist("offered_details")) if self.is_bound else set()
        return [
            DetailRow(
                name=name,
                label=detail_label(name),
                required=False,
                value=detail_display_value(name, detail.value),
                checked=name in chosen,
            )
            for name, detail in self.values.items()
        ]

    def requested_rows(self) -> list[tuple[str, str, bool]]:
        chosen = set(cast(QueryDict, self.data).getlist("requested_details")) if self.is_bound else set()
        return [(name, str(label), name in chosen) for name, label in DETAIL_CHOICES]

    def clean_sharing_period(self) -> timedelta:
        return SHARING_PERIODS[self.cleaned_data["sharing_period"]][1]

    def chosen_counterpart(self) -> ShareCounterpart:
        return self.counterparts[self.cleaned_data["counterpart"]]

    def service_arguments(self) -> dict[str, Any]:
        """activity_create's arguments for what the person chose (after is_valid)."""
        counterpart = self.chosen_counterpart()
        data = self.cleaned_data
        arguments: dict[str, Any] = {
            "organization": counterpart.own.organization,
            "type": self.type,
            "initiator_id": counterpart.own.pk,
            "receptor_id": counterpart.other.pk,
            "offered_details": list(data["offered_details"]),
            "purpose": data.get("purpose", "").strip(),
        }
        if self.is_swap:
            arguments["requirements"] = [{"detail": name, "required": False} for name in data["requested_details"]]
        else:
            arguments["sharing_period"] = data["sharing_period"]
        return arguments
