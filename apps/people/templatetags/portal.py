"""Page-side translations of labels that the models keep in English (the API's language).

`{% load portal %}` (the library of the person's portal pages, by that name since before the
apps/portal layer) then `{{ name|detail_label }}`, `{{ names|detail_labels }}` and
`{{ value|choice_label }}` for model choice labels, `{{ value|detail_value:name }}` for a
detail's value. An activity's headline and status are
`activity_labels`' (apps.activities), a provider's name `verification_labels`'
(apps.verifications)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template

from apps.people.vocabulary import detail_display_label, detail_display_value

register = template.Library()


@register.filter
def choice_label(value: Any) -> str:
    """A model choice label (get_FOO_display): the choices' labels are lazy translations, so
    this is the label in the page's language."""
    return str(value) if value else ""


@register.filter
def detail_label(name: str) -> str:
    return detail_display_label(name)


@register.filter
def detail_labels(names: Iterable[str]) -> str:
    return ", ".join(detail_label(name) for name in names)


@register.filter
def detail_value(value: str, name: str) -> str:
    """`{{ detail.value|detail_value:detail.name }}`: the value as a person reads it (country
    names, document types, genders, dates in the page's language)."""
    return detail_display_value(name, value)
