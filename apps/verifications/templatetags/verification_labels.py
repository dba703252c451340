"""`{% load verification_labels %}` then `{{ provider|provider_label }}`."""

from __future__ import annotations

from django import template

from apps.verifications.providers import PROVIDER_LABELS

register = template.Library()


@register.filter
def provider_label(provider: str) -> str:
    """A verification provider's display name ("connect:bankid" → "Signicat Connect")."""
    return PROVIDER_LABELS.get((provider or "").split(":", 1)[0], provider)
