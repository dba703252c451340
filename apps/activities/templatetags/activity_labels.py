"""Page-side translations of how an activity reads from the person's side.

`{% load activity_labels %}` then `{{ a|headline }}` and `{{ a|status_label }}` for a
PersonActivity (apps.activities.selectors), whose own texts are English."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext, gettext_noop

from apps.activities.models import ActivityType, Party

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
