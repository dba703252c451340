"""The API's Idempotency-Key records in the back office (apps.api is in the base layer)."""

from __future__ import annotations

from django.contrib import admin

from apps.api.models import IdempotencyRecord
from apps.backoffice.admin_tools import BackOfficeAdmin, ReadOnlyAdminMixin


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdminMixin, BackOfficeAdmin):
    """Idempotency-Key replays: which key, which request, which status; never the stored body."""

    organization_path = "api_key__organization"
    list_display = ("created_at", "key", "api_key", "status_code")
    list_filter = ("status_code", "api_key__organization", "created_at")
    list_select_related = ("api_key__organization",)
    search_fields = ("key", "api_key__prefix")
    date_hierarchy = "created_at"
    fields = ("api_key", "key", "fingerprint", "status_code", "created_at")
    readonly_fields = fields
