from __future__ import annotations

from django.db import models
from django.utils.translation import gettext


class BackOfficeRight(models.Model):
    """No table: the holder of back-office permissions that belong to no single model."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("export_csv", "Can export back-office lists as CSV")]

    def __str__(self) -> str:
        return gettext("back-office rights")
