"""`{% load verification_labels %}` then `{{ provider|provider_label }}`."""

from __future__ import annotations

from django import template

from apps.verifications.providers import provider_label as _provider_label

register = template.Library()


@register.filter
def provider_label(provider: str) -> str:
    """A verification provider's display name ("connect:bankid" → "Signicat Connect")."""
    return _provider_label(provider)
