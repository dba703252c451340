from __future__ import annotations

import json
from typing import Any, cast

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from apps.audit import reasons
from apps.audit.errors import StateConflict
from apps.audit.services import Actor
from apps.backoffice.admin_audit import AuditedFSMAdminMixin, TransitionInline
from apps.backoffice.admin_privacy import actor_labels
from apps.backoffice.admin_tools import BackOfficeAdmin, ReadOnlyAdminMixin, run_with_reason
from apps.verifications.api.serializers import ProcessSerializer
from apps.verifications.connectors import connectors
from apps.verifications.handoff import connection_delete, connection_put, connection_settings_clean
from apps.verifications.models import (
    ProcessReview,
    ProviderConnection,
    ProviderRun,
    ReviewState,
    VerificationProcess,
)
from apps.verifications.services import (
    ResultRedacted,
    process_cancel,
    process_fullresult_zip,
    process_redact,
    review_assign,
    review_decide,
)
from apps.verifications.summary import extracted_fields, failed_checks


def _json_block(value: Any) -> str:
    if not value:
        return "—"
    return format_html('<pre class="backoffice-json">{}</pre>', json.dumps(value, indent=2, ensure_ascii=False))


def process_summary(process: VerificationProcess) -> str:
    """Status, reasons and the fields read from the document, in words (the raw JSON is below)."""
    if process.redaction_requested:
        return gettext("Redacted: the personal data is gone.")
    rows = [(gettext("Status"), process.get_status_display())]
    reasons = failed_checks(process)
    if reasons:
        rows.append((gettext("Checks that did not pass"), "; ".join(reasons)))
    elif process.is_final:
        rows.append((gettext("Checks that did not pass"), gettext("None")))
    rows.extend(extracted_fields(process))
    review = getattr(process, "review", None) if process.status == "inconclusive" else None
    if review is not None:
        rows.append((gettext("Review"), f"{review.get_state_display()} {review.get_decision_display()}".strip()))
    return format_html(
        '<table class="backoffice-summary"><tbody>{}</tbody></table>',
        format_html_join("", '<tr><th scope="row">{}</th><td>{}</td></tr>', rows),
    )


@admin.register(VerificationProcess)
class VerificationProcessAdmin(AuditedFSMAdminMixin, BackOfficeAdmin):
    fsm_fields = ["status"]
    list_display = ("provider_label", "process_type", "status", "organization", "created_at", "short_id")
    list_filter = ("provider", "process_type", "status", "organization", "created_at", "deadline_at")
    list_select_related = ("organization",)
    search_fields = ("id",)
    date_hierarchy = "created_at"
    fieldsets = (
        (_("Summary"), {"fields": ("summary",)}),
        (
            _("Process"),
            {
                "fields": (
                    "id",
                    "organization",
                    "identity",
                    "provider_label",
                    "process_type",
                    "sandbox_provider",
                    "status",
                    "redaction_requested_at",
                    "notification_url",
                    "redirect_url",
                    "deadline_at",
                    "created_at",
                    "updated_at",
                    "full_result",
                )
            },
        ),
        (
            _("The provider's data as received"),
            {
                "classes": ("collapse",),
                "fields": ("fail_reason_block", "final_result_block", "provider_specific_block"),
            },
        ),
    )
    readonly_fields = (
        "summary",
        "id",
        "organization",
        "identity",
        "provider_label",
        "process_type",
        "sandbox_provider",
        "status",
        "redaction_requested_at",
        "notification_url",
        "redirect_url",
        "deadline_at",
        "created_at",
        "updated_at",
        "full_result",
        "fail_reason_block",
        "final_result_block",
        "provider_specific_block",
    )
    inlines = (TransitionInline,)
    actions = ("cancel_with_reason", "redact_with_reason")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def fsm_apply(self, request: HttpRequest, obj: Any, transition_name: str, *, reason: str, **kwargs: Any) -> Any:
        if transition_name == "cancel":
            return process_cancel(process=obj, actor=Actor.user(request.user), reason=reason)
        return super().fsm_apply(request, obj, transition_name, reason=reason, **kwargs)

    @admin.action(description=_("Cancel selected processes (asks for a reason)"), permissions=["change"])
    def cancel_with_reason(self, request: HttpRequest, queryset: QuerySet[VerificationProcess]) -> HttpResponse | None:
        return run_with_reason(
            self,
            request,
            queryset,
            action="cancel_with_reason",
            title=gettext("Cancel verification processes"),
            apply_one=lambda process, reason: process_cancel(
                process=process, actor=Actor.user(request.user), reason=reason
            ),
            refusal=lambda process: None if not process.is_final else self.fsm_refusal_message(process, "cancel"),
            done_message=lambda count: (
                ngettext(
                    "%(count)d verification process canceled; the integrator is notified.",
                    "%(count)d verification processes canceled; the integrator is notified.",
                    count,
                )
                % {"count": count}
            ),
        )

    @admin.action(
        description=_("Redact the personal data of selected processes (asks for a reason)"), permissions=["change"]
    )
    def redact_with_reason(self, request: HttpRequest, queryset: QuerySet[VerificationProcess]) -> HttpResponse | None:
        """Staff of the process's organization (operator, administrator) remove its personal data;
        status and timestamps stay. Audited with the reason."""
        return run_with_reason(
            self,
            request,
            queryset,
            action="redact_with_reason",
            title=gettext("Redact the personal data of verification processes"),
            apply_one=lambda process, reason: process_redact(
                process=process, actor=Actor.user(request.user), reason=reasons.reason_redacted_by_staff(reason)
            ),
            refusal=lambda process: (
                gettext("Its personal data was already redacted.") if process.redaction_requested else None
            ),
            done_message=lambda count: (
                ngettext(
                    "The personal data of %(count)d verification process was redacted.",
                    "The personal data of %(count)d verification processes was redacted.",
                    count,
                )
                % {"count": count}
            ),
        )

    @admin.display(description=_("Summary"))
    def summary(self, obj: VerificationProcess) -> str:
        return process_summary(obj)

    @admin.display(description=_("Short id"))
    def short_id(self, obj: VerificationProcess) -> str:
        return str(obj.pk)[:8]

    @admin.display(description=_("Provider"), ordering="provider")
    def provider_label(self, obj: VerificationProcess) -> str:
        if obj.is_sandbox:
            replayed = (
                gettext(", replaying %(provider)s") % {"provider": obj.sandbox_provider} if obj.sandbox_provider else ""
            )
            return gettext("sandbox (test data%(replayed)s; never verifies a person)") % {"replayed": replayed}
        return obj.provider

    @admin.display(description=_("Fail reason"))
    def fail_reason_block(self, obj: VerificationProcess) -> str:
        return _json_block(obj.fail_reason)

    @admin.display(description=_("Final result"))
    def final_result_block(self, obj: VerificationProcess) -> str:
        return _json_block(obj.final_result)

    @admin.display(description=_("Provider specific"))
    def provider_specific_block(self, obj: VerificationProcess) -> str:
        return _json_block(obj.provider_specific)

    @admin.display(description=_("Full result"))
    def full_result(self, obj: VerificationProcess) -> str:
        if obj.redaction_requested:
            return gettext("Redacted: the personal data is gone.")
        if not obj.is_final:
            return gettext("Available once the process is final.")
        url = reverse("admin:verifications_verificationprocess_fullresult", args=[obj.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, gettext("Download zip"))

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<uuid:object_id>/fullresult/",
                self.admin_site.admin_view(self.fullresult_view),
                name="verifications_verificationprocess_fullresult",
            ),
            *super().get_urls(),
        ]

    def fullresult_view(self, request: HttpRequest, object_id: Any) -> HttpResponse:
        process = self.get_object(request, str(object_id))
        if process is None or not self.has_view_permission(request, process):
            return HttpResponse(status=404)
        try:
            archive = process_fullresult_zip(
                process=cast(VerificationProcess, process), process_json=ProcessSerializer(process).data
            )
        except StateConflict as exc:
            return HttpResponse(str(exc), status=409)
        except ResultRedacted as exc:
            return HttpResponse(str(exc), status=410)
        response = HttpResponse(archive, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="process-{process.pk}.zip"'
        return response


_SETTING_FIELDS = ("api_url", "workflow_id", "issuer", "client_id", "scopes")
_SECRET_FIELDS = ("api_token", "webhook_token", "client_secret")


class ProviderConnectionForm(forms.ModelForm):
    """A connection's settings, field by field. Secrets are write-only: never shown, and left
    blank they keep their current value."""

    api_url = forms.URLField(
        label=_("API URL"), required=False, assume_scheme="https", help_text=_("Onfido: default the EU API.")
    )
    workflow_id = forms.CharField(
        label=_("Workflow ID"), required=False, help_text=_("Onfido: the Studio workflow id.")
    )
    issuer = forms.URLField(
        label=_("Issuer"), required=False, assume_scheme="https", help_text=_("Connect: the provider's issuer.")
    )
    client_id = forms.CharField(label=_("Client ID"), required=False, help_text=_("Connect."))
    scopes = forms.CharField(label=_("Scopes"), required=False, help_text=_("Connect: space-separated, with openid."))
    api_token = forms.CharField(
        label=_("API token"), required=False, widget=forms.PasswordInput, help_text=_("Onfido. Blank: unchanged.")
    )
    webhook_token = forms.CharField(
        label=_("Webhook token"), required=False, widget=forms.PasswordInput, help_text=_("Onfido. Blank: unchanged.")
    )
    client_secret = forms.CharField(
        label=_("Client secret"),
        required=False,
        widget=forms.PasswordInput,
        help_text=_("Connect (empty for a public client). Blank: unchanged."),
    )

    class Meta:
        model = ProviderConnection
        fields = ("organization", "provider")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = (self.instance.settings or {}) if self.instance.pk else {}
        for name in _SETTING_FIELDS:
            self.fields[name].initial = current.get(name, "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        provider = data.get("provider") or self.instance.provider
        connector = connectors().get(provider or "")
        if connector is None:
            return data
        current = (self.instance.settings or {}) if self.instance.pk and self.instance.provider == provider else {}
        names = (*connector.required, *connector.optional)
        settings = {name: data.get(name) for name in names if name in _SETTING_FIELDS and data.get(name)}
        for name in names:
            if name in _SECRET_FIELDS:
                value = data.get(name) or current.get(name)
                if value:
                    settings[name] = value
        try:
            self.cleaned_settings = connection_settings_clean(provider, settings)
        except ValidationError as exc:
            for field, messages_ in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages_)
        return data


@admin.register(ProviderConnection)
class ProviderConnectionAdmin(BackOfficeAdmin):
    """Editable by the organization's administrators (the administrator role's permissions);
    every save and delete goes through the audited service."""

    form = ProviderConnectionForm
    list_display = ("provider", "organization", "created_at", "updated_at")
    list_filter = ("provider", "organization", "created_at")
    search_fields = ("organization__slug",)
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "updated_at")
    inlines = (TransitionInline,)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("organization", "provider", *_SETTING_FIELDS, *_SECRET_FIELDS, "created_at", "updated_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # The organization and provider of an existing connection stay; disconnect and connect anew.
        return (*self.readonly_fields, "organization", "provider") if obj is not None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: ProviderConnection, form: Any, change: bool) -> None:
        connection, _ = connection_put(
            organization=obj.organization,
            provider=obj.provider,
            settings=form.cleaned_settings,
            actor=Actor.user(request.user),
        )
        obj.pk, obj.settings = connection.pk, connection.settings

    def delete_model(self, request: HttpRequest, obj: ProviderConnection) -> None:
        connection_delete(organization=obj.organization, provider=obj.provider, actor=Actor.user(request.user))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for connection in queryset.select_related("organization"):
            self.delete_model(request, connection)


@admin.register(ProviderRun)
class ProviderRunAdmin(ReadOnlyAdminMixin, BackOfficeAdmin):
    """Where a process was started at a connected provider. What the hand-off keeps server-side
    (PKCE verifier, nonce, applicant id) is not shown."""

    organization_path = "process__organization"
    list_display = ("process", "reference", "created_at")
    list_filter = ("connection__provider", "created_at")
    search_fields = ("reference", "process__id")
    date_hierarchy = "created_at"
    fields = ("process", "connection", "reference", "url", "created_at")
    readonly_fields = fields


@admin.register(ProcessReview)
class ProcessReviewAdmin(AuditedFSMAdminMixin, BackOfficeAdmin):
    """The review queue: inconclusive processes waiting for a compliance officer, oldest first.
    "Assign to me", then accept or reject with a reason; every step is audited and sent to the
    organization as a process.status_changed event."""

    fsm_fields = ["state"]
    list_display = ("process_label", "state", "sla_age", "assignee", "decision", "organization")
    list_display_links = ("process_label",)
    list_filter = ("state", "decision", "organization", "entered_at")
    list_select_related = ("process", "organization")
    ordering = ("decided_at", "entered_at")
    date_hierarchy = "entered_at"
    search_fields = ("process__id",)
    search_help_text = _("Search by the process id.")
    fields = (
        "summary",
        "process_link",
        "organization",
        "state",
        "sla_age",
        "assignee",
        "decision",
        "entered_at",
        "assigned_at",
        "decided_at",
    )
    readonly_fields = fields
    inlines = (TransitionInline,)
    actions = ("assign_to_me",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("verifications.view_verificationprocess")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("verifications.change_verificationprocess")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def fsm_apply(self, request: HttpRequest, obj: Any, transition_name: str, *, reason: str, **kwargs: Any) -> Any:
        if transition_name == "assign":
            return review_assign(review=obj, user=request.user, reason=reason)
        return review_decide(
            review=obj,
            user=request.user,
            decision="accepted" if transition_name == "accept" else "rejected",
            reason=reason,
        )

    def fsm_done_message(self, obj: Any, transition_name: str) -> str:
        if transition_name == "assign":
            return gettext("The review is now assigned to you. Decide it with a reason when you are done.")
        return gettext("Review decided: %(decision)s. The organization is notified.") % {
            "decision": obj.get_decision_display().lower()
        }

    @admin.action(description=_("Assign to me (asks for a reason)"), permissions=["change"])
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet[ProcessReview]) -> HttpResponse | None:
        return run_with_reason(
            self,
            request,
            queryset,
            action="assign_to_me",
            title=gettext("Assign reviews to me"),
            apply_one=lambda review, reason: review_assign(review=review, user=request.user, reason=reason),
            refusal=lambda review: (
                None
                if review.state == ReviewState.PENDING
                else gettext("This review is already %(state)s.") % {"state": review.get_state_display().lower()}
            ),
            done_message=lambda count: (
                ngettext("%(count)d review assigned to you.", "%(count)d reviews assigned to you.", count)
                % {"count": count}
            ),
        )

    @admin.display(description=_("Process"), ordering="process__provider")
    def process_label(self, obj: ProcessReview) -> str:
        process = obj.process
        return f"{process.provider} {process.process_type}".strip() + f" · {str(process.pk)[:8]}"

    @admin.display(description=_("Verification process"))
    def process_link(self, obj: ProcessReview) -> str:
        url = reverse("admin:verifications_verificationprocess_change", args=[obj.process_id])
        return format_html('<a href="{}">{}</a>', url, self.process_label(obj))

    @admin.display(description=_("Summary"))
    def summary(self, obj: ProcessReview) -> str:
        return process_summary(obj.process)

    @admin.display(description=_("Time in review"), ordering="entered_at")
    def sla_age(self, obj: ProcessReview) -> str:
        return timesince(obj.entered_at, obj.decided_at or timezone.now())

    def get_list_display(self, request: HttpRequest) -> Any:
        return [assignee_column(request) if n == "assignee" else n for n in super().get_list_display(request)]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [assignee_column(request) if n == "assignee" else n for n in super().get_fields(request, obj)]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*super().get_readonly_fields(request, obj), assignee_column(request)]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        # Everything on the page is read-only: the form edits no field.
        return super().get_form(request, obj, change, **{**kwargs, "fields": []})


def assignee_column(request: HttpRequest) -> Any:
    """The "assigned to" column for this viewer: a staff email to those allowed to see it."""
    column = getattr(request, "_review_assignee_column", None)
    if column is not None:
        return column

    def assignee(review: ProcessReview) -> str:
        if review.assignee_id is None:
            return "—"
        key = str(review.assignee_id)
        return actor_labels({key}, request.user).get(key, "—")

    assignee.short_description = _("Assigned to")  # type: ignore[attr-defined]
    request._review_assignee_column = assignee  # type: ignore[attr-defined]
    return assignee
