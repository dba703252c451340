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
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import Transition as FSMTransition
from django_fsm.admin import FSMAdminMixin, FSMObjectTransition

from apps.audit.errors import StateConflict
from apps.audit.models import ActorType, Transition
from apps.audit.reasons import reason_display
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

    actor.short_description = _("actor")  # type: ignore[attr-defined]
    request._audit_actor_column = actor  # type: ignore[attr-defined]
    return actor


@admin.display(description=_("reason"), ordering="reason")
def reason_column(transition: Transition) -> str:
    """The reason in the viewer's language when it is one of the fixed ones; staff's own words as written."""
    return reason_display(transition.reason)


reason_column.field_name = "reason"  # type: ignore[attr-defined]


def _with_actor_column(request: HttpRequest, names: Any, *, keep_id: bool = False) -> list[Any]:
    """`names` with the stored label replaced by the viewer's actor column and the stored reason
    by its translation; the id is kept only where a field must stay out of the form (read-only
    fields), never where it would show."""
    columns = {"actor_label": actor_column(request), "reason": reason_column}
    return [
        columns.get(name, name) if isinstance(name, str) else name for name in names if keep_id or name != "actor_id"
    ]


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
    verbose_name = _("audit entry")
    verbose_name_plural = _("Audit trail")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return _with_actor_column(request, super().get_fields(request, obj))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return _with_actor_column(request, super().get_readonly_fields(request, obj), keep_id=True)


# The audit log's columns, narrow enough for the list to fit 1280 px with the navigation open;
# the object page and the CSV export keep each field whole (`field_name`).
@admin.display(description=_("event type"), ordering="event_type")
def event_column(transition: Transition) -> SafeString:
    """The event type, which may break after a dot ("detail_proposal.<wbr>status_changed")."""
    return mark_safe(".<wbr>".join(escape(part) for part in transition.event_type.split(".")))


event_column.field_name = "event_type"  # type: ignore[attr-defined]


@admin.display(description=_("object ID"), ordering="object_id")
def object_column(transition: Transition) -> SafeString:
    """The object id's first eight characters (as the other lists show ids), the whole on hover."""
    return format_html('<span title="{}">{}</span>', transition.object_id, transition.object_id[:8])


object_column.field_name = "object_id"  # type: ignore[attr-defined]


@admin.display(description=_("change"), ordering="to_state")
def change_column(transition: Transition) -> str:
    """The state before and after, in one column: "INVITED → ACTIVE", "→ INVITED" when created."""
    return f"{transition.from_state} → {transition.to_state}".strip()


@admin.register(Transition)
class TransitionAdmin(ReadOnlyAdminMixin, BackOfficeAdmin):
    list_display = ("created_at", event_column, object_column, change_column, "actor_label", "reason")
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
    change the object, and only for transitions its state allows (django-fsm's available
    transitions). Every transition first asks for a reason on a confirmation page; the reason
    goes to the audit log with the staff member as the actor, and the message says what happened.
    """

    change_form_template = "admin/backoffice/change_form.html"
    fsm_transition_form_template = "admin/backoffice/transition_form.html"
    # Transitions marked admin=False on the model that staff may still run here.
    fsm_extra_transitions: tuple[str, ...] = ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # An audited object ends through its transitions (deactivate, cancel, expire), which write
        # the audit trail and the integrator's events. A delete would do neither, and would drop
        # an identity's link to its person, or a person's pending request, without their act.
        # Nobody deletes one here, whatever the role's permissions say (superusers included).
        return False

    def is_fsm_transition_visible(self, transition: FSMTransition) -> bool:
        return transition.name in self.fsm_extra_transitions or super().is_fsm_transition_visible(transition)

    def get_fsm_transition_form(self, transition: FSMTransition) -> Any:
        # Every staff transition asks for a reason and is confirmed on its own page.
        return ReasonForm

    @staticmethod
    def get_fsm_block_label(fsm_field_name: str) -> str:
        return gettext("Change the state")

    def get_fsm_label(self, transition: FSMTransition) -> str:
        label = transition.custom.get("label")
        return str(label) if label else transition.name.replace("_", " ").capitalize()

    def fsm_state_label(self, obj: Any) -> str:
        """The object's state in words (its choices' label), for messages."""
        (field,) = self.fsm_fields[:1]
        return str(getattr(obj, f"get_{field}_display")()).lower()

    def fsm_refusal_message(self, obj: Any, transition_name: str) -> str:
        """Why `transition_name` cannot run now, as a sentence about the object's current state."""
        return gettext("This %(object)s is already %(state)s, so “%(action)s” is no longer possible.") % {
            "object": self.opts.verbose_name,
            "state": self.fsm_state_label(obj),
            "action": self._transition_label(obj, transition_name),
        }

    def fsm_done_message(self, obj: Any, transition_name: str) -> str:
        """What happened, as a sentence."""
        return gettext("“%(action)s” done: the %(object)s “%(label)s” is now %(state)s.") % {
            "action": self._transition_label(obj, transition_name),
            "object": self.opts.verbose_name,
            "label": str(obj),
            "state": self.fsm_state_label(obj),
        }

    def _transition_label(self, obj: Any, transition_name: str) -> str:
        method = getattr(type(obj), transition_name, None)
        meta = getattr(method, "_django_fsm", None)
        if meta is not None:
            transitions = meta.transitions
            transitions = list(transitions.values()) if isinstance(transitions, dict) else list(transitions)
            if transitions:
                return self.get_fsm_label(transitions[0])
        return transition_name.replace("_", " ")

    def fsm_transition_view(
        self, request: HttpRequest, object_id: str, transition_name: str, **kwargs: Any
    ) -> HttpResponse:
        obj = self.get_object(request, object_id)
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)  # type: ignore[attr-defined]
        if not self.fsm_allowed(request, obj, transition_name):
            if not self._fsm_offered_in_some_state(request, obj, transition_name):
                raise PermissionDenied
            # A transition staff may run, but not in this state (someone else was faster).
            self.message_user(request, self.fsm_refusal_message(obj, transition_name), level=messages.ERROR)
            return HttpResponseRedirect(self._change_url(obj))
        return super().fsm_transition_view(request, object_id, transition_name, **kwargs)

    def _fsm_offered_in_some_state(self, request: HttpRequest, obj: Any, transition_name: str) -> bool:
        """Whether `transition_name` is a transition this staff member runs here in some state."""
        if not self.has_change_permission(request, obj):
            return False
        meta = getattr(getattr(type(obj), transition_name, None), "_django_fsm", None)
        if meta is None:
            return False
        transitions = meta.transitions
        transitions = list(transitions.values()) if isinstance(transitions, dict) else list(transitions)
        return any(
            self.is_fsm_transition_visible(transition) and transition.has_perm(obj, request.user)
            for transition in transitions
        )

    def _change_url(self, obj: Any) -> str:
        opts = self.opts
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])

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
            self.message_user(request, gettext("That transition is not allowed here."), level=messages.ERROR)
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def fsm_apply(self, request: HttpRequest, obj: Any, transition_name: str, *, reason: str, **kwargs: Any) -> Any:
        """Run one transition for a staff member; admins override it to go through a service."""
        return transition_apply(obj, transition_name, actor=Actor.user(request.user), reason=reason, **kwargs)

    def _apply_fsm_transition(
        self, *, obj: Any, transition_name: str, request: HttpRequest, kwargs: Any = None
    ) -> bool:
        if not self.fsm_allowed(request, obj, transition_name):
            self.message_user(request, self.fsm_refusal_message(obj, transition_name), level=messages.ERROR)
            return False
        arguments = dict(kwargs or {})
        reason = arguments.pop("reason", "").strip()
        if not reason:
            self.message_user(request, gettext("Say why: a reason is required."), level=messages.ERROR)
            return False
        try:
            self._get_fsm_transition_func(obj=obj, transition_name=transition_name)
            changed = self.fsm_apply(request, obj, transition_name, reason=reason, **arguments)
        except StateConflict:
            obj.refresh_from_db()
            self.message_user(request, self.fsm_refusal_message(obj, transition_name), level=messages.ERROR)
            return False
        if not isinstance(changed, type(obj)):
            changed = type(obj)._default_manager.get(pk=obj.pk)
        self.message_user(request, self.fsm_done_message(changed, transition_name), level=messages.SUCCESS)
        return True
