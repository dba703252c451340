from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from apps.audit.admin import AuditedFSMAdminMixin, TransitionInline
from apps.audit.errors import StateConflict
from apps.verifications.api.serializers import ProcessSerializer
from apps.verifications.models import VerificationProcess
from apps.verifications.services import process_fullresult_zip


def _json_block(value: Any) -> str:
    if not value:
        return "—"
    return format_html(
        '<pre style="white-space: pre-wrap; max-width: 60rem">{}</pre>', json.dumps(value, indent=2, ensure_ascii=False)
    )


@admin.register(VerificationProcess)
class VerificationProcessAdmin(AuditedFSMAdminMixin, admin.ModelAdmin):
    fsm_fields = ["status"]
    list_display = ("id", "provider", "process_type", "status", "organization", "created_at")
    list_filter = ("provider", "status", "organization", "created_at")
    list_select_related = ("organization",)
    search_fields = ("id",)
    date_hierarchy = "created_at"
    fields = (
        "id",
        "organization",
        "identity",
        "provider",
        "process_type",
        "sandbox_provider",
        "status",
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

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
        response = HttpResponse(archive, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="process-{process.pk}.zip"'
        return response
