from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from apps.activities.models import Activity, ConsentReceipt, SharedSnapshot
from apps.backoffice.admin_audit import AuditedFSMAdminMixin, TransitionInline
from apps.backoffice.admin_tools import BackOfficeAdmin, ReadOnlyAdminMixin


@admin.register(Activity)
class ActivityAdmin(AuditedFSMAdminMixin, BackOfficeAdmin):
    fsm_fields = ["status"]
    list_display = ("id", "type", "status", "organization", "valid_until", "sharing_until", "created_at")
    list_filter = ("type", "status", "organization", "created_at", "valid_until", "sharing_until")
    list_select_related = ("organization",)
    search_fields = ("id", "initiator__id", "receptor__id")
    date_hierarchy = "created_at"
    fields = (
        "id",
        "organization",
        "type",
        "status",
        "initiator",
        "receptor",
        "purpose",
        "requirements",
        "offered_details",
        "accepted_details",
        "authorization",
        "valid_until",
        "sharing_period",
        "sharing_until",
        "accepted_at",
        "initiator_completed_at",
        "receptor_completed_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    inlines = (TransitionInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ConsentReceipt)
class ConsentReceiptAdmin(ReadOnlyAdminMixin, BackOfficeAdmin):
    organization_path = "activity__organization"
    list_display = ("created_at", "activity", "party", "recipient", "organization_name", "sharing_until")
    list_filter = ("party", "activity__organization", "activity__type", "created_at", "sharing_until")
    list_select_related = ("activity",)
    search_fields = ("id", "activity__id", "recipient", "organization_name")
    date_hierarchy = "created_at"
    readonly_fields = (
        "id",
        "activity",
        "person",
        "party",
        "recipient",
        "organization_name",
        "details",
        "purpose",
        "sharing_until",
        "created_at",
    )


@admin.register(SharedSnapshot)
class SharedSnapshotAdmin(ReadOnlyAdminMixin, BackOfficeAdmin):
    """Which sharings still hold values (deleted when the sharing ends); never the values themselves."""

    organization_path = "activity__organization"
    list_display = ("created_at", "activity", "giver")
    list_filter = ("giver", "activity__organization", "activity__type", "created_at")
    list_select_related = ("activity",)
    search_fields = ("activity__id",)
    date_hierarchy = "created_at"
    fields = ("activity", "giver", "created_at")
    readonly_fields = fields
