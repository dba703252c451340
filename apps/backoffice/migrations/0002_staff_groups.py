"""The staff roles as groups: viewer, operator, administrator (see apps/backoffice/roles.py)."""

from __future__ import annotations

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from apps.backoffice.roles import ROLES, role_groups_sync


def create_groups(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # Permissions are normally created after `migrate` finishes; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
        app_config.models_module = None
    role_groups_sync(
        apps.get_model("auth", "Group"),
        apps.get_model("auth", "Permission"),
        using=schema_editor.connection.alias,
        reset=True,
    )


def delete_groups(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("auth", "Group").objects.using(schema_editor.connection.alias).filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("activities", "0001_initial"),
        ("api", "0002_initial"),
        ("audit", "0003_append_only_trigger"),
        ("identifications", "0001_initial"),
        ("identities", "0003_initial"),
        ("organizations", "0002_initial"),
        ("people", "0001_initial"),
        ("transfers", "0001_initial"),
        ("verifications", "0002_verificationprocess_activity"),
        ("webhooks", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, delete_groups)]
