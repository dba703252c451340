from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.contenttypes.admin import GenericTabularInline
from django.http import HttpRequest
from django_fsm.admin import FSMAdminMixin

from apps.audit.errors import StateConflict
from apps.audit.models import Transition
from apps.audit.services import Actor, transition_apply


class ReadOnlyAdminMixin:
    """The audit log is evidence: staff may look, never add, edit or delete."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TransitionInline(ReadOnlyAdminMixin, GenericTabularInline):
    """The audit trail shown on every audited object's admin page."""

    model = Transition
    ct_field = "content_type"
    ct_fk_field = "object_id"
    fields = ("created_at", "from_state", "to_state", "actor_label", "reason")
    readonly_fields = fields
    ordering = ("id",)
    extra = 0
    can_delete = False
    verbose_name = "audit entry"
    verbose_name_plural = "Audit trail"


@admin.register(Transition)
class TransitionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "event_type", "object_id", "from_state", "to_state", "actor_label", "reason")
    list_filter = ("event_type", "to_state", "actor_type", "organization")
    search_fields = ("object_id", "actor_id", "reason")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Transition._meta.fields]
    list_select_related = ("content_type",)


class AuditedFSMAdminMixin(FSMAdminMixin):
    """django-fsm-2's transition buttons, applied through the audited service path.

    The stock mixin calls the transition and saves; here the change goes through
    transition_apply, so the row is locked and the audit log written like any other change.
    """

    def _apply_fsm_transition(
        self, *, obj: Any, transition_name: str, request: HttpRequest, kwargs: Any = None
    ) -> bool:
        try:
            self._get_fsm_transition_func(obj=obj, transition_name=transition_name)
            transition_apply(
                obj, transition_name, actor=Actor.user(request.user), reason="back office", **(kwargs or {})
            )
        except StateConflict as exc:
            self.message_user(request, str(exc), level=messages.ERROR)
            return False
        self.message_user(request, f"{transition_name.replace('_', ' ').capitalize()}: done.", level=messages.SUCCESS)
        return True
