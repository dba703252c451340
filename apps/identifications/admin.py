from __future__ import annotations

from typing import Any, cast

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from apps.audit.errors import StateConflict
from apps.audit.services import Actor
from apps.backoffice.admin_audit import AuditedFSMAdminMixin, TransitionInline
from apps.backoffice.admin_privacy import actor_labels
from apps.backoffice.admin_tools import BackOfficeAdmin, ReadOnlyAdminMixin, report, run_with_reason, short_id
from apps.identifications.models import (
    OPEN_STATUSES,
    IdentificationStatus,
    MessageStatus,
    OtpIdentification,
    OtpMessage,
)
from apps.identifications.services import (
    RateLimited,
    identification_cancel,
    identification_image,
    identification_images_assign,
    identification_images_decide,
    identification_resend,
)


class OtpMessageInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Every message sent to the actor: to whom, over which channel, when, and its status (never its body)."""

    model = OtpMessage
    fields = ("created_at", "kind", "channel", "destination", "status", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("Messages sent")


class ImageReviewFilter(admin.SimpleListFilter):
    """The document-image review queue: identifications whose images wait for staff, oldest first."""

    title = _("document image review")
    parameter_name = "review"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("waiting", _("Images waiting for review")),
            ("unassigned", _("Waiting, not taken by anyone")),
            ("mine", _("Assigned to me")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[OtpIdentification]) -> QuerySet[OtpIdentification]:
        waiting = queryset.filter(status=IdentificationStatus.IN_PROGRESS, images_submitted_at__isnull=False)
        if self.value() == "waiting":
            return waiting.order_by("images_submitted_at")
        if self.value() == "unassigned":
            return waiting.filter(images_reviewer__isnull=True).order_by("images_submitted_at")
        if self.value() == "mine":
            return waiting.filter(images_reviewer=request.user.pk).order_by("images_submitted_at")
        return queryset


@admin.register(OtpIdentification)
class OtpIdentificationAdmin(AuditedFSMAdminMixin, BackOfficeAdmin):
    fsm_fields = ["status"]
    # Integrators cancel through the API; staff may too, always with a reason.
    fsm_extra_transitions = ("cancel",)
    list_display = (
        "status",
        "channel",
        "two_factor_type",
        "organization",
        # When it expires is a filter and on the object page, so that the list fits 1280 px.
        "created_at",
        "images_waiting",
        "identification_short_id",
    )
    list_filter = (
        ImageReviewFilter,
        "status",
        "channel",
        "two_factor_type",
        "organization",
        "created_at",
        "expires_at",
    )
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
        "images_assigned_at",
        "document_images",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    inlines = (OtpMessageInline, TransitionInline)
    actions = ("resend_message", "cancel_with_reason", "assign_images_to_me")
    object_actions = ("resend_message",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def fsm_apply(self, request: HttpRequest, obj: Any, transition_name: str, *, reason: str, **kwargs: Any) -> Any:
        if transition_name == "cancel":
            return identification_cancel(identification=obj, reason=reason, actor=Actor.user(request.user))
        if transition_name == "assign_images":
            return identification_images_assign(identification=obj, user=request.user, reason=reason)
        if transition_name in ("approve", "reject"):
            return identification_images_decide(
                identification=obj, user=request.user, approve=transition_name == "approve", reason=reason
            )
        return super().fsm_apply(request, obj, transition_name, reason=reason, **kwargs)

    def fsm_done_message(self, obj: Any, transition_name: str) -> str:
        if transition_name == "assign_images":
            return gettext("You are now reviewing these document images. Approve or reject them with a reason.")
        return super().fsm_done_message(obj, transition_name)

    @admin.action(description=_("Assign the images' review to me (asks for a reason)"), permissions=["change"])
    def assign_images_to_me(self, request: HttpRequest, queryset: QuerySet[OtpIdentification]) -> HttpResponse | None:
        return run_with_reason(
            self,
            request,
            queryset,
            action="assign_images_to_me",
            title=gettext("Assign document image reviews to me"),
            apply_one=lambda identification, reason: identification_images_assign(
                identification=identification, user=request.user, reason=reason
            ),
            refusal=lambda identification: (
                gettext("Its document images are not waiting for review.")
                if not identification.awaiting_review
                else gettext("Someone else is reviewing its document images.")
                if identification.images_reviewer_id not in (None, request.user.pk)
                else None
            ),
            done_message=lambda count: (
                ngettext(
                    "%(count)d document image review assigned to you.",
                    "%(count)d document image reviews assigned to you.",
                    count,
                )
                % {"count": count}
            ),
        )

    @admin.action(description=_("Resend the identification link"), permissions=["change"])
    def resend_message(self, request: HttpRequest, queryset: QuerySet[OtpIdentification]) -> None:
        """The link to the actor's page again, over the identification's channel; only open ones."""
        done, failures = 0, []
        for identification in queryset.select_related("organization"):
            try:
                message = identification_resend(identification=identification)
            except (StateConflict, RateLimited) as exc:  # RateLimited: the message limits bind staff too
                failures.append(f"{identification}: {exc}")
                continue
            if message.status != MessageStatus.SENT:
                failures.append(
                    gettext("%(identification)s: the message could not be sent (%(error)s).")
                    % {"identification": identification, "error": message.error}
                )
                continue
            self.log_change(request, identification, f"Identification link resent over {message.channel}.")
            done += 1
        report(
            self,
            request,
            done,
            failures,
            ngettext(
                "The identification link was sent again to %(count)d person.",
                "The identification link was sent again to %(count)d people.",
                done,
            )
            % {"count": done},
        )

    @admin.action(description=_("Cancel selected identifications (asks for a reason)"), permissions=["change"])
    def cancel_with_reason(self, request: HttpRequest, queryset: QuerySet[OtpIdentification]) -> HttpResponse | None:
        return run_with_reason(
            self,
            request,
            queryset,
            action="cancel_with_reason",
            title=gettext("Cancel OTP identifications"),
            apply_one=lambda identification, reason: identification_cancel(
                identification=identification, reason=reason, actor=Actor.user(request.user)
            ),
            refusal=lambda identification: (
                None if identification.status in OPEN_STATUSES else self.fsm_refusal_message(identification, "cancel")
            ),
            done_message=lambda count: (
                ngettext(
                    "%(count)d identification canceled; the integrator is notified.",
                    "%(count)d identifications canceled; the integrator is notified.",
                    count,
                )
                % {"count": count}
            ),
        )

    @admin.display(description=_("Images waiting"), ordering="images_submitted_at")
    def images_waiting(self, obj: OtpIdentification) -> str:
        """How long submitted document images have waited for a decision (the review's age)."""
        if not obj.awaiting_review or obj.images_submitted_at is None:
            return "—"
        return timesince(obj.images_submitted_at, timezone.now())

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The reviewer's name depends on who is looking, so its column is made per request.
        fields: list[Any] = []
        for name in super().get_fields(request, obj):
            fields += [images_reviewer_column(request), name] if name == "images_assigned_at" else [name]
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*super().get_readonly_fields(request, obj), images_reviewer_column(request)]

    @admin.display(description=_("Short id"))
    def identification_short_id(self, obj: OtpIdentification) -> str:
        return short_id(obj)

    @admin.display(description=_("Document images"))
    def document_images(self, obj: OtpIdentification) -> str:
        if not obj.images_submitted_at:
            return "—"
        links = [
            format_html(
                '<a class="button" href="{}" target="_blank" rel="noopener">{}</a> ',
                reverse("admin:identifications_otpidentification_image", args=[obj.pk, side]),
                (gettext("View front (%(type)s)") if side == "front" else gettext("View back (%(type)s)"))
                % {"type": getattr(obj, f"{side}_image_type")},
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
        image = identification_image(identification=cast(OtpIdentification, identification), side=side)
        if image is None:
            return HttpResponse(status=404)
        content, content_type = image
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'inline; filename="identification-{identification.pk}-{side}"'
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "sandbox"
        response["Cache-Control"] = "private, no-store"
        return response


def images_reviewer_column(request: HttpRequest) -> Any:
    """Who took the images' review, for this viewer: a staff email to those allowed to see it
    (built per request: the ModelAdmin is shared between threads)."""
    column = getattr(request, "_images_reviewer_column", None)
    if column is not None:
        return column

    def images_reviewer(identification: OtpIdentification) -> str:
        if identification.images_reviewer_id is None:
            return "—"
        key = str(identification.images_reviewer_id)
        return actor_labels({key}, request.user).get(key, "—")

    images_reviewer.short_description = _("Images reviewer")  # type: ignore[attr-defined]
    request._images_reviewer_column = images_reviewer  # type: ignore[attr-defined]
    return images_reviewer


@admin.register(OtpMessage)
class OtpMessageAdmin(ReadOnlyAdminMixin, BackOfficeAdmin):
    """Every message sent to actors, across identifications (never its body nor, here, its destination)."""

    organization_path = "identification__organization"
    list_display = ("created_at", "identification", "kind", "channel", "status", "error")
    list_filter = ("status", "kind", "channel", "identification__organization", "created_at")
    list_select_related = ("identification",)
    search_fields = ("identification__id", "error")
    date_hierarchy = "created_at"
    fields = ("identification", "kind", "channel", "status", "error", "created_at")
    readonly_fields = fields
