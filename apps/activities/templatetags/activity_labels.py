"""How an activity reads from the person's side, in the page's language.

`{% load activity_labels %}` then `{{ a|headline }}` and `{{ a|status_label }}` for a
PersonActivity (apps.activities.selectors), which holds the one table of both."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def headline(mine: Any) -> str:
    """The activity's one-line summary from the person's side, following its state."""
    return mine.headline


@register.filter
def status_label(mine: Any) -> str:
    return mine.status_label
