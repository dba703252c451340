"""What the back office shows about people and staff, and what it writes to Django's admin log.

- Staff who are not superusers never see an account's id or email through a foreign key: a
  read-only link to an account would carry its id in the URL (Django links every read-only
  foreign key to the related change page) and its email as the text. Such fields show
  "linked account" instead, and are never editable for them.
- An actor shows as the staff member's email only to a superuser or to a fellow staff member
  of one of the viewer's organizations (to themselves as "you"); any other staff actor is
  "platform staff" and a person is "the person". Never an id.
- Django's admin log (object_repr, change messages) holds a neutral label, "<model> <pk>",
  never an email or a name.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.admin.options import get_content_type_for_model
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.backoffice.admin_scoping import organization_ids

ACCOUNT_SUFFIX = "_account"
PLATFORM_STAFF = _("platform staff")
THE_PERSON = _("the person")


def admin_log_label(obj: models.Model) -> str:
    """The neutral text Django's admin log keeps for `obj`: its kind and primary key."""
    return f"{obj._meta.verbose_name} {obj.pk}"[:200]


def admin_log_message_scrub(message: Any) -> Any:
    """A change message with every related object's text (str(obj): maybe a name or an email)
    removed; what changed (field names, the kind of object) stays."""
    if not isinstance(message, list):
        return message
    scrubbed = []
    for entry in message:
        if isinstance(entry, dict):
            entry = {
                action: {key: value for key, value in detail.items() if key != "object"}
                if isinstance(detail, dict)
                else detail
                for action, detail in entry.items()
            }
        scrubbed.append(entry)
    return scrubbed


def _log(user_id: Any, objects: list[models.Model], action_flag: int, message: Any) -> list[LogEntry]:
    if isinstance(message, list):
        message = json.dumps(admin_log_message_scrub(message))
    entries = [
        LogEntry(
            user_id=user_id,
            content_type_id=get_content_type_for_model(obj).pk,
            object_id=str(obj.pk),
            object_repr=admin_log_label(obj),
            action_flag=action_flag,
            change_message=message,
        )
        for obj in objects
    ]
    if len(entries) == 1:
        entries[0].save()
    else:
        LogEntry.objects.bulk_create(entries)
    return entries


def actor_labels(user_ids: set[str], viewer: Any) -> dict[str, str]:
    """How each acting account appears to `viewer` (see the module's docstring)."""
    user_model = get_user_model()
    valid = set()
    for user_id in user_ids:
        try:
            valid.add(str(user_model._meta.pk.to_python(user_id)))
        except Exception:  # noqa: S112 - an unreadable id names no account
            continue
    actors = {str(u.pk): u for u in user_model._default_manager.filter(pk__in=valid)}
    own = organization_ids(viewer)
    fellows: set[str] = set()
    if own:
        fellows = {
            str(pk)
            for pk in user_model._default_manager.filter(
                pk__in=valid, is_staff=True, memberships__organization__in=own
            ).values_list("pk", flat=True)
        }
    labels = {}
    for user_id in user_ids:
        actor = actors.get(user_id)
        if actor is None:
            labels[user_id] = gettext("a deleted account")
        elif str(actor.pk) == str(viewer.pk):
            labels[user_id] = gettext("you (%(email)s)") % {"email": actor.email}
        elif own is None or user_id in fellows:
            labels[user_id] = actor.email
        elif actor.is_staff or actor.is_superuser:
            labels[user_id] = str(PLATFORM_STAFF)
        else:
            labels[user_id] = str(THE_PERSON)
    return labels


class AdminPrivacyMixin:
    """Mixed into every back-office ModelAdmin (see the module's docstring)."""

    # --- Django's admin log ---------------------------------------------------------------

    def log_addition(self, request: HttpRequest, obj: models.Model, message: Any) -> LogEntry:
        return _log(request.user.pk, [obj], ADDITION, message)[0]

    def log_change(self, request: HttpRequest, obj: models.Model, message: Any) -> LogEntry:
        return _log(request.user.pk, [obj], CHANGE, message)[0]

    def log_deletion(self, request: HttpRequest, obj: models.Model, object_repr: str) -> LogEntry:
        return _log(request.user.pk, [obj], DELETION, "")[0]

    def log_deletions(self, request: HttpRequest, queryset: Any) -> list[LogEntry]:
        return _log(request.user.pk, list(queryset), DELETION, "")

    def construct_change_message(self, request: HttpRequest, form: Any, formsets: Any, add: bool = False) -> Any:
        return admin_log_message_scrub(super().construct_change_message(request, form, formsets, add))  # type: ignore[misc]

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().history_view(request, object_id, extra_context)  # type: ignore[misc]
        entries = getattr(response, "context_data", {}).get("action_list")
        if entries is not None:
            labels = actor_labels({str(entry.user_id) for entry in entries}, request.user)
            for entry in entries:
                entry.actor_label = labels[str(entry.user_id)]
        return response

    # --- Accounts behind foreign keys -----------------------------------------------------

    def _account_field_names(self) -> set[str]:
        user_model = get_user_model()
        return {
            field.name
            for field in self.model._meta.get_fields()
            if field.is_relation and field.concrete and field.related_model is user_model
        }

    def _hide_accounts(self, request: HttpRequest, names: Any) -> list[Any]:
        accounts = self._account_field_names()
        hidden = [f"{name}{ACCOUNT_SUFFIX}" if isinstance(name, str) and name in accounts else name for name in names]
        return list(dict.fromkeys(hidden))

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)  # type: ignore[misc]
        if request.user.is_superuser:
            return fieldsets
        return [
            (title, {**options, "fields": self._hide_accounts(request, options.get("fields", ()))})
            for title, options in fieldsets
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        if request.user.is_superuser:
            return fields
        return [*self._hide_accounts(request, fields), *(f"{n}{ACCOUNT_SUFFIX}" for n in self._account_field_names())]

    def __getattr__(self, name: str) -> Any:
        # `<field>_account`: the display that stands in for a foreign key to an account.
        if not name.endswith(ACCOUNT_SUFFIX):
            raise AttributeError(name)
        try:
            field = self.model._meta.get_field(name[: -len(ACCOUNT_SUFFIX)])
        except FieldDoesNotExist:
            raise AttributeError(name) from None
        if field.related_model is not get_user_model():
            raise AttributeError(name)

        def display(obj: models.Model) -> str:
            return gettext("linked account") if getattr(obj, field.attname, None) else "—"

        display.short_description = field.verbose_name  # type: ignore[attr-defined]
        return display
