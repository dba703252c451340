from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.audit.errors import StateConflict
from apps.audit.services import Actor
from apps.backoffice.admin_audit import AuditedFSMAdminMixin, TransitionInline
from apps.backoffice.admin_tools import BackOfficeAdmin, report
from apps.core.counters import LimitExceeded
from apps.core.crypto import lookup_hash, normalize_email
from apps.core.encrypted_fields import EncryptedTextField
from apps.identities.models import ExternalPersonalIdentity
from apps.identities.services import identity_resend_invitation


@admin.register(ExternalPersonalIdentity)
class ExternalPersonalIdentityAdmin(AuditedFSMAdminMixin, BackOfficeAdmin):
    fsm_fields = ["state"]
    list_display = ("__str__", "email_address", "organization", "state", "managed", "created_at")
    list_filter = ("state", "managed", "organization", "created_at", "activated_at")
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
    # Encrypted text is stored as text, but a name or an address is one line.
    formfield_overrides = {EncryptedTextField: {"widget": forms.TextInput(attrs={"class": "vTextField"})}}
    inlines = (TransitionInline,)
    actions = ("resend_invitation",)
    object_actions = ("resend_invitation",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Identities are created by organizations through the API, which also sends the invitation.
        return False

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if "@" in term:
            return queryset.filter(email_hash=lookup_hash(normalize_email(term))), False
        return super().get_search_results(request, queryset, term)

    @admin.action(description="Resend the invitation", permissions=["change"])
    def resend_invitation(self, request: HttpRequest, queryset: QuerySet[ExternalPersonalIdentity]) -> None:
        """A new invitation link by email (the previous one stops working); only INVITED identities."""
        done, failures = 0, []
        for identity in queryset:
            try:
                identity_resend_invitation(identity=identity, actor=Actor.user(request.user))
            except (StateConflict, LimitExceeded) as exc:  # LimitExceeded: the message limits bind staff too
                failures.append(f"{identity.email_address}: {exc}")
                continue
            self.log_change(request, identity, "Invitation resent.")
            done += 1
        report(self, request, done, failures, "Invitation resent")
