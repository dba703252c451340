from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from apps.backoffice.admin_audit import TransitionInline
from apps.backoffice.admin_tools import BackOfficeAdmin, ReadOnlyAdminMixin, short_id
from apps.transfers.models import TransferSession


@admin.register(TransferSession)
class TransferSessionAdmin(ReadOnlyAdminMixin, BackOfficeAdmin):
    """Staff may look at sessions and their audit trail; the shared values stay out of sight."""

    list_display = ("status", "organization", "expires_at", "answered_at", "created_at", "session_short_id")
    list_filter = ("status", "organization", "created_at", "expires_at", "answered_at")
    list_select_related = ("organization",)
    search_fields = ("id",)
    date_hierarchy = "created_at"
    fields = (
        "id",
        "organization",
        "status",
        "scopes",
        "accepted_scopes",
        "vendor_data",
        "callback",
        "person",
        "expires_at",
        "answered_at",
        "data_purged_at",
        "replaced_by",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    inlines = (TransitionInline,)

    @admin.display(description=_("Short id"))
    def session_short_id(self, obj: TransferSession) -> str:
        return short_id(obj)
