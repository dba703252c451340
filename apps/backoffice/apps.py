from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from apps.backoffice.roles import role_groups_sync


def _ensure_role_groups(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """The data migration creates the role groups; a database flushed since (tests) gets them back."""
    from django.contrib.auth.models import Group, Permission

    role_groups_sync(Group, Permission, using=using, reset=False)


class BackofficeConfig(AppConfig):
    name = "apps.backoffice"
    label = "backoffice"
    verbose_name = _("Back office")

    def ready(self) -> None:
        # Sent once per app after every migrate and flush; this app's signal comes after auth's
        # permissions exist, since it is later in INSTALLED_APPS.
        post_migrate.connect(_ensure_role_groups, sender=self, dispatch_uid="backoffice_role_groups")
        from apps.backoffice.sites import staff_signed_in

        user_logged_in.connect(staff_signed_in, dispatch_uid="backoffice_staff_session")
