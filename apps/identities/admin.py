from __future__ import annotations

import uuid
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from apps.audit.errors import StateConflict
from apps.audit.services import Actor
from apps.backoffice.admin_audit import AuditedFSMAdminMixin, TransitionInline
from apps.backoffice.admin_tools import BackOfficeAdmin, run_with_reason
from apps.core.counters import LimitExceeded
from apps.core.crypto import lookup_hash, name_token_hashes, normalize_email
from apps.core.encrypted_fields import EncryptedTextField
from apps.identities.models import ExternalPersonalIdentity, IdentityNameToken
from apps.identities.selectors import identity_email_taken
from apps.identities.services import identity_invitation_refusal, identity_resend_invitation, identity_update


def _is_uuid(term: str) -> bool:
    try:
        uuid.UUID(term)
    except ValueError:
        return False
    return True


def identities_named(queryset: QuerySet, term: str) -> QuerySet:
    """The identities whose name has every word of `term` (normalised, through the blind index)."""
    digests = name_token_hashes(term)
    if not digests:
        return queryset.none()
    for digest in digests:
        queryset = queryset.filter(pk__in=IdentityNameToken.objects.filter(digest=digest).values("identity_id"))
    return queryset


class IdentityForm(forms.ModelForm):
    """Staff change names and the email as an integrator's PATCH does (identity_update)."""

    class Meta:
        model = ExternalPersonalIdentity
        fields = ("email_address", "first_name", "last_name")

    def clean_email_address(self) -> str:
        email = self.cleaned_data["email_address"]
        if identity_email_taken(organization=self.instance.organization, email=email, exclude_id=self.instance.pk):
            raise forms.ValidationError(gettext("Another identity of this organization has this email address."))
        return email


@admin.register(ExternalPersonalIdentity)
class ExternalPersonalIdentityAdmin(AuditedFSMAdminMixin, BackOfficeAdmin):
    form = IdentityForm
    fsm_fields = ["state"]
    # Whether the organization answers for the person is a filter and on the object page: with
    # it as a column too, the list did not fit 1280 px.
    list_display = ("__str__", "email_address", "organization", "state", "created_at")
    list_filter = ("state", "managed", "organization", "created_at", "activated_at")
    list_select_related = ("organization",)
    search_fields = ("id", "email_hash")
    search_help_text = _("Search by name (whole words), the exact email address or the id.")
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

    def save_model(self, request: HttpRequest, obj: models.Model, form: Any, change: bool) -> None:
        # Through the API's service: the address normalised, and a corrected address of an
        # INVITED identity gets a new invitation link (the old one stopped working with it).
        data = {name: form.cleaned_data[name] for name in IdentityForm.Meta.fields if name in form.changed_data}
        if data:
            identity_update(identity=cast(ExternalPersonalIdentity, obj), data=data, actor=Actor.user(request.user))

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        # A corrected address of an INVITED identity sends an invitation, which the message limits
        # bind (staff too): the whole change is rolled back and the form says why, never a 500.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except LimitExceeded as exc:
            self.message_user(request, str(exc), level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if "@" in term:
            return queryset.filter(email_hash=lookup_hash(normalize_email(term))), False
        if not term or _is_uuid(term):
            return super().get_search_results(request, queryset, term)
        return identities_named(queryset, term), False

    def object_action_refusal(self, obj: Any, action: str) -> str | None:
        if action == "resend_invitation":
            return identity_invitation_refusal(obj)
        return super().object_action_refusal(obj, action)

    @admin.action(description=_("Resend the invitation (asks for a reason)"), permissions=["change"])
    def resend_invitation(
        self, request: HttpRequest, queryset: QuerySet[ExternalPersonalIdentity]
    ) -> HttpResponse | None:
        """A new invitation link by email (the previous one stops working); only INVITED identities."""

        def resend(identity: ExternalPersonalIdentity, reason: str) -> None:
            try:
                identity_resend_invitation(identity=identity, actor=Actor.user(request.user), reason=reason)
            except LimitExceeded as exc:  # the message limits bind staff too: reported as a refusal
                raise StateConflict(str(exc)) from exc
            self.log_change(request, identity, "Invitation resent.")

        return run_with_reason(
            self,
            request,
            queryset,
            action="resend_invitation",
            title=gettext("Resend the invitation"),
            apply_one=resend,
            refusal=identity_invitation_refusal,
            done_message=lambda count: (
                ngettext(
                    "%(count)d invitation sent again; the previous link no longer works.",
                    "%(count)d invitations sent again; the previous links no longer work.",
                    count,
                )
                % {"count": count}
            ),
        )
