from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from apps.audit.admin import AuditedFSMAdminMixin, ReadOnlyAdminMixin, TransitionInline
from apps.identifications.models import OtpIdentification, OtpMessage
from apps.identifications.services import identification_image


class OtpMessageInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Every message sent to the actor: to whom, over which channel, when, and its status (never its body)."""

    model = OtpMessage
    fields = ("created_at", "kind", "channel", "destination", "status", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "Messages sent"


@admin.register(OtpIdentification)
class OtpIdentificationAdmin(AuditedFSMAdminMixin, admin.ModelAdmin):
    fsm_fields = ["status"]
    list_display = ("id", "status", "channel", "two_factor_type", "organization", "expires_at", "created_at")
    list_filter = ("status", "channel", "two_factor_type", "organization", "created_at")
    list_select_related = ("organization",)
    search_fields = ("id",)
    date_hierarchy = "created_at"
    fields = (
        "id",
        "organization",
        "status",
        "actor_name",
        "actor_surname",
        "actor_email",
        "actor_phone",
        "actor_document_number",
        "channel",
        "two_factor_type",
        "expires_at",
        "failed_attempts",
        "code_verified_at",
        "cancel_reason",
        "fail_reason",
        "images_submitted_at",
        "document_images",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    inlines = (OtpMessageInline, TransitionInline)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Document images")
    def document_images(self, obj: OtpIdentification) -> str:
        if not obj.images_submitted_at:
            return "—"
        links = [
            format_html(
                '<a class="button" href="{}" target="_blank" rel="noopener">{}</a> ',
                reverse("admin:identifications_otpidentification_image", args=[obj.pk, side]),
                f"View {side} ({getattr(obj, f'{side}_image_type')})",
            )
            for side in ("front", "back")
        ]
        return format_html("{}{}", *links)

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<uuid:object_id>/image/<str:side>/",
                self.admin_site.admin_view(self.image_view),
                name="identifications_otpidentification_image",
            ),
            *super().get_urls(),
        ]

    def image_view(self, request: HttpRequest, object_id: Any, side: str) -> HttpResponse:
        identification = self.get_object(request, str(object_id))
        if identification is None or not self.has_view_permission(request, identification):
            return HttpResponse(status=404)
        image = identification_image(identification=identification, side=side)
        if image is None:
            return HttpResponse(status=404)
        content, content_type = image
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'inline; filename="identification-{identification.pk}-{side}"'
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "sandbox"
        response["Cache-Control"] = "private, no-store"
        return response
