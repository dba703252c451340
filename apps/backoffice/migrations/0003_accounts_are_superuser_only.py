"""Issue 15: the staff roles no longer hold account, personal-detail, organization-creation or
membership permissions (apps/backoffice/roles.py); groups made by 0002 lose them."""

from __future__ import annotations

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from apps.backoffice.roles import ROLES, role_withdrawn_permissions


def withdraw(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    alias = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    withdrawn = list(role_withdrawn_permissions(Permission.objects.using(alias)))
    for group in Group.objects.using(alias).filter(name__in=ROLES):
        group.permissions.remove(*withdrawn)


class Migration(migrations.Migration):
    dependencies = [("backoffice", "0002_staff_groups")]

    operations = [migrations.RunPython(withdraw, migrations.RunPython.noop)]
