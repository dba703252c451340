"""Page-side translations of labels that the models keep in English (the API's language).

`{% load portal %}` (the library of the person's portal pages, by that name since before the
apps/portal layer) then `{{ name|detail_label }}`, `{{ names|detail_labels }}` and
`{{ value|choice_label }}` for model choice labels. An activity's headline and status are
`activity_labels`' (apps.activities), a provider's name `verification_labels`'
(apps.verifications)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.translation import gettext, gettext_noop

from apps.people.vocabulary import detail_display_label

register = template.Library()

# Status and choice labels shown on pages, as the models and selectors spell them in English.
_LABELS = (
    gettext_noop("Sent"),
    gettext_noop("Action required"),
    gettext_noop("Accepted"),
    gettext_noop("Declined"),
    gettext_noop("Canceled"),
    gettext_noop("Expired"),
    gettext_noop("Completed"),
    gettext_noop("Pending"),
    gettext_noop("Invited"),
    gettext_noop("Active"),
    gettext_noop("Deactivated"),
    gettext_noop("Request details"),
    gettext_noop("Share details"),
    gettext_noop("Swap details"),
    gettext_noop("Authorization request"),
    gettext_noop("Confirmed"),
    gettext_noop("Identified"),
    gettext_noop("Failed"),
    gettext_noop("Created"),
    gettext_noop("In progress"),
    gettext_noop("Initialized"),
    gettext_noop("Retrieved"),
    gettext_noop("Processing"),
    gettext_noop("Rejected"),
    gettext_noop("Inconclusive"),
)
del _LABELS  # only there for the catalogue


@register.filter
def choice_label(value: Any) -> str:
    """A model choice label (get_FOO_display) in the page's language."""
    return gettext(str(value)) if value else ""


@register.filter
def detail_label(name: str) -> str:
    return detail_display_label(name)


@register.filter
def detail_labels(names: Iterable[str]) -> str:
    return ", ".join(detail_label(name) for name in names)
