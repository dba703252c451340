"""The person's activity pages, mounted under /me/ by apps.portal.urls."""

from __future__ import annotations

from django.urls import path

from apps.activities import views

app_name = "activities"

urlpatterns = [
    path("share/", views.activity_start, {"kind": "share"}, name="start-share"),
    path("swap/", views.activity_start, {"kind": "swap"}, name="start-swap"),
    path("activities/<uuid:activity_id>/", views.activity_page, name="activity"),
    path("activities/<uuid:activity_id>/decline", views.activity_decline_view, name="decline"),
    path("activities/<uuid:activity_id>/revoke", views.activity_revoke_view, name="revoke"),
    path("activities/<uuid:activity_id>/complete", views.activity_complete_view, name="complete"),
    path("activities/<uuid:activity_id>/bioface", views.activity_bioface_view, name="bioface"),
    path("receipts/<uuid:receipt_id>/", views.receipt_page, name="receipt"),
    path("receipts/<uuid:receipt_id>.json", views.receipt_json, name="receipt-json"),
]
