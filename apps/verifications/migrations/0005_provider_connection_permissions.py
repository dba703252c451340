"""The staff roles get the permissions of the provider connection models (apps/backoffice/roles.py):
administrators connect and edit them, viewers and operators see them."""

from __future__ import annotations

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from apps.backoffice.roles import ROLES, role_permissions

MODELS = ("providerconnection", "providerrun")


def grant(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    alias = schema_editor.connection.alias
    app_config = apps.get_app_config("verifications")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=alias)
    app_config.models_module = None
    permissions = (
        apps.get_model("auth", "Permission")
        .objects.using(alias)
        .filter(content_type__app_label="verifications", content_type__model__in=MODELS)
    )
    for group in apps.get_model("auth", "Group").objects.using(alias).filter(name__in=ROLES):
        group.permissions.add(*role_permissions(group.name, permissions))


class Migration(migrations.Migration):
    dependencies = [
        ("verifications", "0004_provider_connections"),
        ("backoffice", "0002_staff_groups"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
