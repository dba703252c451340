from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from apps.activities.models import Activity, ConsentReceipt
from apps.audit.admin import AuditedFSMAdminMixin, ReadOnlyAdminMixin, TransitionInline


@admin.register(Activity)
class ActivityAdmin(AuditedFSMAdminMixin, admin.ModelAdmin):
    fsm_fields = ["status"]
    list_display = ("id", "type", "status", "organization", "valid_until", "sharing_until", "created_at")
    list_filter = ("type", "status", "organization", "created_at")
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
class ConsentReceiptAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "activity", "party", "recipient", "organization_name", "sharing_until")
    list_filter = ("party", "created_at")
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
