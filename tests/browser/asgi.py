"""The portal's ASGI application as a browser test serves it: HTTP and WebSockets from one
daphne process, static files from the finders (the test settings leave WhiteNoise out)."""

from __future__ import annotations

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

from config.asgi import application as portal
from config.asgi import django_asgi_app

application = type(portal)(
    {
        "http": ASGIStaticFilesHandler(django_asgi_app),
        "websocket": portal.application_mapping["websocket"],
    }
)
