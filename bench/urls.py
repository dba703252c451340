"""The portal's URLs plus the baseline views, mounted only under bench.settings."""

from __future__ import annotations

from django.urls import path

from bench import baseline_views
from config.urls import urlpatterns as portal_urlpatterns

urlpatterns = [
    path("bench/nodb", baseline_views.no_db, name="bench-nodb"),
    path("bench/one-row/<int:pk>", baseline_views.one_row, name="bench-one-row"),
    path("bench/insert", baseline_views.insert_one, name="bench-insert"),
    *portal_urlpatterns,
]
