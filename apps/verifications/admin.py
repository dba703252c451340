from __future__ import annotations

import json
from typing import Any, cast

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from apps.audit.errors import StateConflict
from apps.audit.services import Actor
from apps.backoffice.admin_audit import AuditedFSMAdminMixin, TransitionInline
from apps.backoffice.admin_tools import BackOfficeAdmin, ReadOnlyAdminMixin, run_with_reason
from apps.verifications.api.serializers import ProcessSerializer
from apps.verifications.connectors import connectors
from apps.verifications.handoff import connection_delete, connection_put, connection_settings_clean
from apps.verifications.models import ProviderConnection, ProviderRun, VerificationProcess
from apps.verifications.services import ResultRedacted, process_cancel, process_fullresult_zip, process_redact


def _json_block(value: Any) -> str:
    if not value:
        return "—"
    return format_html('<pre class="backoffice-json">{}</pre>', json.dumps(value, indent=2, ensure_ascii=False))


@admin.register(VerificationProcess)
class VerificationProcessAdmin(AuditedFSMAdminMixin, BackOfficeAdmin):
    fsm_fields = ["status"]
    fsm_reason_transitions = ("cancel",)
    list_display = ("id", "provider_label", "process_type", "status", "organization", "created_at")
    list_filter = ("provider", "process_type", "status", "organization", "created_at", "deadline_at")
    list_select_related = ("organization",)
    search_fields = ("id",)
    date_hierarchy = "created_at"
    fields = (
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
        "fail_reason_block",
        "final_result_block",
        "provider_specific_block",
        "full_result",
    )
    readonly_fields = fields
    inlines = (TransitionInline,)
    actions = ("cancel_with_reason", "redact_with_reason")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def fsm_apply(self, request: HttpRequest, obj: Any, transition_name: str, *, reason: str, **kwargs: Any) -> Any:
        if transition_name == "cancel":
            return process_cancel(process=obj, actor=Actor.user(request.user), reason=reason)
        return super().fsm_apply(request, obj, transition_name, reason=reason, **kwargs)

    @admin.action(description="Cancel selected processes (asks for a reason)", permissions=["change"])
    def cancel_with_reason(self, request: HttpRequest, queryset: QuerySet[VerificationProcess]) -> HttpResponse | None:
        return run_with_reason(
            self,
            request,
            queryset,
            action="cancel_with_reason",
            title="Cancel verification processes",
            apply_one=lambda process, reason: process_cancel(
                process=process, actor=Actor.user(request.user), reason=reason
            ),
        )

    @admin.action(
        description="Redact the personal data of selected processes (asks for a reason)", permissions=["change"]
    )
    def redact_with_reason(self, request: HttpRequest, queryset: QuerySet[VerificationProcess]) -> HttpResponse | None:
        """Staff of the process's organization (operator, administrator) remove its personal data;
        status and timestamps stay. Audited with the reason."""
        return run_with_reason(
            self,
            request,
            queryset,
            action="redact_with_reason",
            title="Redact the personal data of verification processes",
            apply_one=lambda process, reason: process_redact(
                process=process, actor=Actor.user(request.user), reason=f"redacted by staff: {reason}"
            ),
        )

    @admin.display(description="Provider", ordering="provider")
    def provider_label(self, obj: VerificationProcess) -> str:
        if obj.is_sandbox:
            replayed = f", replaying {obj.sandbox_provider}" if obj.sandbox_provider else ""
            return f"sandbox (test data{replayed}; never verifies a person)"
        return obj.provider

    @admin.display(description="Fail reason")
    def fail_reason_block(self, obj: VerificationProcess) -> str:
        return _json_block(obj.fail_reason)

    @admin.display(description="Final result")
    def final_result_block(self, obj: VerificationProcess) -> str:
        return _json_block(obj.final_result)

    @admin.display(description="Provider specific")
    def provider_specific_block(self, obj: VerificationProcess) -> str:
        return _json_block(obj.provider_specific)

    @admin.display(description="Full result")
    def full_result(self, obj: VerificationProcess) -> str:
        if obj.redaction_requested:
            return "Redacted: the personal data is gone."
        if not obj.is_final:
            return "Available once the process is final."
        url = reverse("admin:verifications_verificationprocess_fullresult", args=[obj.pk])
        return format_html('<a class="button" href="{}">Download zip</a>', url)

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

    api_url = forms.URLField(required=False, assume_scheme="https", help_text="Onfido: default the EU API.")
    workflow_id = forms.CharField(required=False, help_text="Onfido: the Studio workflow id.")
    issuer = forms.URLField(required=False, assume_scheme="https", help_text="Connect: the provider's issuer.")
    client_id = forms.CharField(required=False, help_text="Connect.")
    scopes = forms.CharField(required=False, help_text="Connect: space-separated, with openid.")
    api_token = forms.CharField(required=False, widget=forms.PasswordInput, help_text="Onfido. Blank: unchanged.")
    webhook_token = forms.CharField(required=False, widget=forms.PasswordInput, help_text="Onfido. Blank: unchanged.")
    client_secret = forms.CharField(
        required=False, widget=forms.PasswordInput, help_text="Connect (empty for a public client). Blank: unchanged."
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
        data = super().clean()
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

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["organization", "provider", *_SETTING_FIELDS, *_SECRET_FIELDS, "created_at", "updated_at"]

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
