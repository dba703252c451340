"""Serializer fields for URLs the portal will later POST to."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.webhooks.destinations import UnsafeDestination, destination_precheck


class NotificationUrlField(serializers.URLField):
    """An http(s) URL that may receive notifications: refused at creation when it points at a
    private, loopback or link-local address (SSRF); checked again at every send."""

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if value:
            try:
                destination_precheck(value)
            except UnsafeDestination as exc:
                raise serializers.ValidationError(str(exc), code="unsafe_url") from None
        return value
