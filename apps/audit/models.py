from __future__ import annotations

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ActorType(models.TextChoices):
    USER = "user", _("Person or staff user")
    API_KEY = "api_key", _("API key")
    PROVIDER = "provider", _("Verification provider")
    SYSTEM = "system", _("System (timers, sweeps)")


def _state_label(model: type[models.Model] | None, state: str) -> str:
    """A state's label in the subject's own choices (its STATE_FIELD's), else the state as stored."""
    field_name = getattr(model, "STATE_FIELD", None)
    if model is None or field_name is None:
        return state
    choices = getattr(model._meta.get_field(field_name), "flatchoices", ())
    labels = {str(value): label for value, label in choices}
    return str(labels.get(state, state))


class Transition(models.Model):
    """One state change of any state machine. Append-only; it is also the event outbox.

    Rows never change, except `published_at`, which the event relay sets once. On
    PostgreSQL a trigger (migration 0002) refuses every other UPDATE and every DELETE.
    """

    # No single-column indexes for the two foreign keys: the "subject" and "org_time" indexes
    # below begin with them and serve every lookup by either (the PROTECT checks included),
    # and each index less is one write less per transition (the sweeps append thousands a second).
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", db_index=False, verbose_name=_("content type")
    )
    object_id = models.CharField(max_length=64, verbose_name=_("object ID"))
    subject = GenericForeignKey("content_type", "object_id")
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("organization"),
    )
    from_state = models.CharField(max_length=32, blank=True, verbose_name=_("from state"))
    to_state = models.CharField(max_length=32, verbose_name=_("to state"))
    event_type = models.CharField(max_length=64, verbose_name=_("event type"))
    # Event payload: ids and states only, never personal values (those stay encrypted).
    data = models.JSONField(default=dict, verbose_name=_("data"))
    actor_type = models.CharField(max_length=16, choices=ActorType.choices, verbose_name=_("actor type"))
    actor_id = models.CharField(max_length=64, blank=True, verbose_name=_("actor ID"))
    actor_label = models.CharField(max_length=200, blank=True, verbose_name=_("actor label"))
    reason = models.TextField(blank=True, verbose_name=_("reason"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    published_at = models.DateTimeField(null=True, blank=True, verbose_name=_("published at"))

    class Meta:
        verbose_name = _("transition")
        verbose_name_plural = _("transitions")
        ordering = ("id",)
        indexes = [
            models.Index(fields=["content_type", "object_id", "id"], name="audit_transition_subject"),
            models.Index(fields=["id"], condition=Q(published_at__isnull=True), name="audit_transition_unpublished"),
            models.Index(fields=["organization", "created_at"], name="audit_transition_org_time"),
            # The back office's date hierarchy (first and last row, a probe per period).
            models.Index(fields=["created_at"], name="audit_transition_created"),
        ]

    def __str__(self) -> str:
        model = self.content_type.model_class()
        values = {
            "subject": model._meta.verbose_name if model else self.content_type.model,
            "id": self.object_id[:8],
            "from": _state_label(model, self.from_state),
            "to": _state_label(model, self.to_state),
        }
        if not self.from_state:
            return gettext("%(subject)s %(id)s: %(to)s") % values
        return gettext("%(subject)s %(id)s: %(from)s → %(to)s") % values

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not self._state.adding:
            raise PermissionError("Audit transitions are append-only.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit transitions are append-only.")
