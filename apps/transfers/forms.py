"""The phone's consent form for a data-transfer session."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.transfers.models import SessionStatus

NOTHING_CHOSEN = _("Choose at least one detail to share, or decline.")


class SessionConsentForm(forms.Form):
    """Share the ticked details, or decline. Only details the person has a value for can be ticked."""

    decision = forms.ChoiceField(
        choices=[(SessionStatus.CONFIRMED, _("Share")), (SessionStatus.DECLINED, _("Decline"))]
    )
    scopes = forms.MultipleChoiceField(required=False)

    def __init__(self, *args: Any, shareable: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.MultipleChoiceField, self.fields["scopes"]).choices = [(name, name) for name in shareable]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if (
            cleaned.get("decision") == SessionStatus.CONFIRMED
            and not cleaned.get("scopes")
            and "scopes" not in self.errors
        ):
            self.add_error("scopes", NOTHING_CHOSEN)
        return cleaned
