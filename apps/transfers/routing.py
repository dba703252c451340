from __future__ import annotations

from django.urls import path

from apps.transfers.consumers import SessionStatusConsumer

websocket_urlpatterns = [
    path("ws/session/<uuid:session_id>", SessionStatusConsumer.as_asgi()),
]
