"""URLs for the error page tests: a view that is refused and one that crashes."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as portal_urlpatterns


def forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


urlpatterns = [path("forbidden/", forbidden), path("crash/", crash), *portal_urlpatterns]
