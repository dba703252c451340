from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.activities.models import Activity, ConsentReceipt, SharedSnapshot
from apps.backoffice.admin_audit import AuditedFSMAdminMixin, TransitionInline
from apps.backoffice.admin_tools import BackOfficeAdmin, ReadOnlyAdminMixin, duration_words, short_id
from apps.people.vocabulary import detail_display_label


@admin.register(Activity)
class ActivityAdmin(AuditedFSMAdminMixin, BackOfficeAdmin):
    fsm_fields = ["status"]
    list_display = ("type", "parties", "purpose_summary", "status", "sharing", "created_at", "activity_short_id")
    list_filter = ("type", "status", "organization", "created_at", "valid_until", "sharing_until")
    list_select_related = ("organization", "initiator", "receptor")
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
        "requirements_summary",
        "offered_details",
        "accepted_details",
        "authorization",
        "valid_until",
        "sharing_period_words",
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

    @admin.display(description=_("Parties"))
    def parties(self, obj: Activity) -> str:
        def name(identity: Any) -> str:
            return f"{identity.first_name} {identity.last_name}".strip() if identity else "—"

        return f"{name(obj.initiator)} → {name(obj.receptor)}"

    @admin.display(description=_("Purpose"))
    def purpose_summary(self, obj: Activity) -> str:
        return Truncator(obj.purpose).chars(60) if obj.purpose else "—"

    @admin.display(description=_("Sharing"), ordering="sharing_until")
    def sharing(self, obj: Activity) -> str:
        return duration_words(obj.sharing_period) if obj.sharing_period else "—"

    @admin.display(description=_("Sharing period"))
    def sharing_period_words(self, obj: Activity) -> str:
        return duration_words(obj.sharing_period)

    @admin.display(description=_("Short id"))
    def activity_short_id(self, obj: Activity) -> str:
        return short_id(obj)

    @admin.display(description=_("Requirements"))
    def requirements_summary(self, obj: Activity) -> str:
        items = []
        for entry in obj.requirements or []:
            if isinstance(entry, dict) and "detail" in entry:
                need = gettext("required") if entry.get("required") else gettext("optional")
                items.append((str(detail_display_label(str(entry["detail"]))), need))
        if not items:
            return "—"
        return format_html_join(", ", "{} ({})", items)


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
