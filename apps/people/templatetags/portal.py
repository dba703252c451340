"""Page-side translations of labels that other modules keep in English (the API's language).

`{% load portal %}` then `{{ a|headline }}`, `{{ a|status_label }}`, `{{ name|detail_label }}`,
`{{ names|detail_labels }}` and `{{ value|choice_label }}` for model choice labels."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.translation import gettext, gettext_noop

from apps.activities.models import ActivityType, Party
from apps.people.vocabulary import detail_display_label

register = template.Library()

_HEADLINES = {
    (Party.RECEPTOR, ActivityType.REQUEST): gettext_noop("%(who)s asks for your details"),
    (Party.RECEPTOR, ActivityType.SHARE): gettext_noop("%(who)s shared details with you"),
    (Party.RECEPTOR, ActivityType.SWAP): gettext_noop("%(who)s proposes to swap details with you"),
    (Party.RECEPTOR, ActivityType.AUTHORIZATION): gettext_noop("%(who)s asks for your authorization"),
    (Party.INITIATOR, ActivityType.REQUEST): gettext_noop("You asked %(who)s for details"),
    (Party.INITIATOR, ActivityType.SHARE): gettext_noop("You shared details with %(who)s"),
    (Party.INITIATOR, ActivityType.SWAP): gettext_noop("You proposed to swap details with %(who)s"),
    (Party.INITIATOR, ActivityType.AUTHORIZATION): gettext_noop("You asked %(who)s for an authorization"),
}

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
def headline(mine: Any) -> str:
    """The activity's one-line summary from the person's side, in the page's language."""
    text = _HEADLINES.get((mine.party, mine.activity.type))
    if text is None:
        return mine.headline
    return gettext(text) % {"who": mine.counterpart_name}


@register.filter
def status_label(mine: Any) -> str:
    return gettext(mine.status_label)


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


@register.filter
def provider_label(provider: str) -> str:
    """A verification provider's display name ("connect:bankid" → "Signicat Connect")."""
    from apps.verifications.providers import PROVIDER_LABELS

    return PROVIDER_LABELS.get((provider or "").split(":", 1)[0], provider)
