from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.audit.admin import AuditedFSMAdminMixin, TransitionInline
from apps.identities.models import ExternalPersonalIdentity
from apps.people.crypto import lookup_hash, normalize_email


@admin.register(ExternalPersonalIdentity)
class ExternalPersonalIdentityAdmin(AuditedFSMAdminMixin, admin.ModelAdmin):
    fsm_fields = ["state"]
    list_display = ("__str__", "email_address", "organization", "state", "managed", "created_at")
    list_filter = ("state", "managed", "organization", "created_at")
    list_select_related = ("organization",)
    search_fields = ("id", "email_hash")
    search_help_text = "Search by id or the exact email address."
    date_hierarchy = "created_at"
    fields = (
        "id",
        "organization",
        "email_address",
        "first_name",
        "last_name",
        "managed",
        "state",
        "person",
        "invitation_sent_at",
        "invitation_count",
        "activated_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = (
        "id",
        "organization",
        "managed",
        "person",
        "invitation_sent_at",
        "invitation_count",
        "activated_at",
        "created_at",
        "updated_at",
    )
    inlines = (TransitionInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Identities are created by organizations through the API, which also sends the invitation.
        return False

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if "@" in term:
            return queryset.filter(email_hash=lookup_hash(normalize_email(term))), False
        return super().get_search_results(request, queryset, term)
