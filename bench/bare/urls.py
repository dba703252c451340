"""The bare Django's URLs: the same three baseline views the portal's stack serves."""

from __future__ import annotations

from django.urls import path

from bench import baseline_views

urlpatterns = [
    path("bench/nodb", baseline_views.no_db),
    path("bench/one-row/<int:pk>", baseline_views.one_row),
    path("bench/insert", baseline_views.insert_one),
    path("healthz", baseline_views.no_db),
]
