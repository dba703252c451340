from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from apps.audit.errors import StateConflict
from apps.audit.services import Actor
from apps.backoffice.admin_audit import AuditedFSMAdminMixin, TransitionInline
from apps.backoffice.admin_tools import BackOfficeAdmin, run_with_reason
from apps.verifications.api.serializers import ProcessSerializer
from apps.verifications.models import VerificationProcess
from apps.verifications.services import ResultRedacted, process_cancel, process_fullresult_zip, process_redact


def _json_block(value: Any) -> str:
    if not value:
        return "—"
    return format_html('<pre class="backoffice-json">{}</pre>', json.dumps(value, indent=2, ensure_ascii=False))


@admin.register(VerificationProcess)
class VerificationProcessAdmin(AuditedFSMAdminMixin, BackOfficeAdmin):
    fsm_fields = ["status"]
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
                process=process, actor=Actor.user(request.user), reason=f"redacted by staff: {reason}"
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
            archive = process_fullresult_zip(process=process, process_json=ProcessSerializer(process).data)
        except StateConflict as exc:
            return HttpResponse(str(exc), status=409)
        except ResultRedacted as exc:
            return HttpResponse(str(exc), status=410)
        response = HttpResponse(archive, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="process-{process.pk}.zip"'
        return response
