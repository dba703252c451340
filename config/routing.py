"""WebSocket routes; each capability that pushes live status adds its consumer here."""

from __future__ import annotations

from django.urls import URLPattern

websocket_urlpatterns: list[URLPattern] = []
