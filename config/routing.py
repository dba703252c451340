"""WebSocket routes; each capability that pushes live status adds its consumer here."""

from __future__ import annotations

from django.urls import URLPattern

from apps.transfers.routing import websocket_urlpatterns as transfer_patterns

websocket_urlpatterns: list[URLPattern] = [*transfer_patterns]
