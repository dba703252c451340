"""The audit log in the back office: its changelist, the audit trail on every audited object's
page, and transition buttons that run through the audited service path. (The audit app is in
the base layer; what the back office shows of it lives here, above it.)"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from django.contrib import admin, messages
from django.contrib.contenttypes.admin import GenericTabularInline
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django_fsm import Transition as FSMTransition
from django_fsm.admin import FSMAdminMixin, FSMObjectTransition

from apps.audit.errors import StateConflict
from apps.audit.models import ActorType, Transition
from apps.audit.services import Actor, transition_apply
from apps.backoffice.admin_privacy import actor_labels
from apps.backoffice.admin_tools import BackOfficeAdmin, ReadOnlyAdminMixin, ReasonForm

# Transition fields that hold an account's id when the actor is a user.
ACCOUNT_ID_FIELDS = ("actor_id", "actor_label")


def actor_column(request: HttpRequest) -> Any:
    """The "actor" column for this viewer: staff emails only to those allowed, never an
    account id (the stored label of a user actor is "user <id>")."""
    column = getattr(request, "_audit_actor_column", None)
    if column is not None:
        return column
    labels: dict[str, str] = {}

    def actor(transition: Transition) -> str:
        if transition.actor_type != ActorType.USER:
            return transition.actor_label
        if transition.actor_id not in labels:
            labels.update(actor_labels({transition.actor_id}, request.user))
        return labels[transition.actor_id]

    actor.short_description = "actor"  # type: ignore[attr-defined]
    request._audit_actor_column = actor  # type: ignore[attr-defined]
    return actor


def _with_actor_column(request: HttpRequest, names: Any, *, keep_id: bool = False) -> list[Any]:
    """`names` with the stored label replaced by the viewer's actor column; the id is kept only
    where a field must stay out of the form (read-only fields), never where it would show."""
    return [actor_column(request) if name == "actor_label" else name for name in names if keep_id or name != "actor_id"]


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

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return _with_actor_column(request, super().get_fields(request, obj))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return _with_actor_column(request, super().get_readonly_fields(request, obj), keep_id=True)


@admin.register(Transition)
class TransitionAdmin(ReadOnlyAdminMixin, BackOfficeAdmin):
    list_display = ("created_at", "event_type", "object_id", "from_state", "to_state", "actor_label", "reason")
    list_filter = ("event_type", "to_state", "actor_type", "organization", "created_at")
    search_fields = ("object_id", "actor_id", "reason")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Transition._meta.fields]
    list_select_related = ("content_type",)

    def get_list_display(self, request: HttpRequest) -> Any:
        return _with_actor_column(request, super().get_list_display(request))

    def get_search_fields(self, request: HttpRequest) -> Any:
        # An account id is no search term for staff who cannot see account ids.
        fields = super().get_search_fields(request)
        return fields if request.user.is_superuser else [f for f in fields if f != "actor_id"]

    def lookup_allowed(self, lookup: str, value: Any, request: HttpRequest) -> bool:
        # Nor a filter in the URL: a user actor's id (and its stored label, "user <id>") is an
        # account id, and filtering by prefix would spell it out row count by row count.
        if not request.user.is_superuser and lookup.split("__")[0] in ACCOUNT_ID_FIELDS:
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return _with_actor_column(request, super().get_fields(request, obj))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return _with_actor_column(request, super().get_readonly_fields(request, obj), keep_id=True)


class AuditedFSMAdminMixin(FSMAdminMixin):
    """django-fsm-2's transition buttons, applied through the audited service path.

    The stock mixin calls the transition and saves; here the change goes through
    transition_apply (or the admin's service for it, see `fsm_apply`), so the row is locked
    and the audit log written like any other change. Buttons show only to staff who may
    change the object, and only for transitions its state allows. Transitions named in
    `fsm_reason_transitions` first ask for a reason, which goes to the audit log.
    """

    change_form_template = "admin/backoffice/change_form.html"
    # Transitions marked admin=False on the model that staff may still run here.
    fsm_extra_transitions: tuple[str, ...] = ()
    fsm_reason_transitions: tuple[str, ...] = ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # An audited object ends through its transitions (deactivate, cancel, expire), which write
        # the audit trail and the integrator's events. A delete would do neither, and would drop
        # an identity's link to its person, or a person's pending request, without their act.
        # Nobody deletes one here, whatever the role's permissions say (superusers included).
        return False

    def is_fsm_transition_visible(self, transition: FSMTransition) -> bool:
        return transition.name in self.fsm_extra_transitions or super().is_fsm_transition_visible(transition)

    def get_fsm_transition_form(self, transition: FSMTransition) -> Any:
        if transition.name in self.fsm_reason_transitions:
            return ReasonForm
        return super().get_fsm_transition_form(transition)

    def _get_fsm_extra_context(self, *, request: HttpRequest, obj: Any) -> Generator[FSMObjectTransition, None, None]:
        if obj is None or not self.has_change_permission(request, obj):
            return
        yield from super()._get_fsm_extra_context(request=request, obj=obj)

    def fsm_allowed(self, request: HttpRequest, obj: Any, transition_name: str) -> bool:
        """Whether `transition_name` is one of the buttons this staff member sees on `obj`."""
        return any(
            transition.name == transition_name
            for block in self._get_fsm_extra_context(request=request, obj=obj)
            for transition in block.available_transitions
        )

    def response_change(self, request: HttpRequest, obj: Any) -> HttpResponse:
        name = request.POST.get(self.fsm_post_param)
        if name and not self.fsm_allowed(request, obj, name):
            # Checked before django-fsm-2 looks the name up on the object, where a method that is
            # no transition (or no attribute at all) would be a server error.
            self.message_user(request, "That transition is not allowed here.", level=messages.ERROR)
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def fsm_transition_view(
        self, request: HttpRequest, object_id: str, transition_name: str, **kwargs: Any
    ) -> HttpResponse:
        obj = self.get_object(request, object_id)
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)  # type: ignore[attr-defined]
        if not self.fsm_allowed(request, obj, transition_name):
            raise PermissionDenied
        return super().fsm_transition_view(request, object_id, transition_name, **kwargs)

    def fsm_apply(self, request: HttpRequest, obj: Any, transition_name: str, *, reason: str, **kwargs: Any) -> Any:
        """Run one transition for a staff member; admins override it to go through a service."""
        return transition_apply(obj, transition_name, actor=Actor.user(request.user), reason=reason, **kwargs)

    def _apply_fsm_transition(
        self, *, obj: Any, transition_name: str, request: HttpRequest, kwargs: Any = None
    ) -> bool:
        label = transition_name.replace("_", " ").capitalize()
        if not self.fsm_allowed(request, obj, transition_name):
            self.message_user(request, f"{label}: not allowed.", level=messages.ERROR)
            return False
        arguments = dict(kwargs or {})
        reason = arguments.pop("reason", "") or "back office"
        try:
            self._get_fsm_transition_func(obj=obj, transition_name=transition_name)
            self.fsm_apply(request, obj, transition_name, reason=reason, **arguments)
        except StateConflict as exc:
            self.message_user(request, str(exc), level=messages.ERROR)
            return False
        self.message_user(request, f"{label}: done.", level=messages.SUCCESS)
        return True
