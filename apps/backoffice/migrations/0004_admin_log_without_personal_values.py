"""Issue 15: Django's admin log keeps no email or name. object_repr becomes "<model> <pk>" and
change messages lose the text of related objects (apps.backoffice.admin_privacy)."""

from __future__ import annotations

import json

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from apps.backoffice.admin_privacy import admin_log_message_scrub

BATCH = 1000


def scrub(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    LogEntry = apps.get_model("admin", "LogEntry")
    entries = LogEntry.objects.using(schema_editor.connection.alias).select_related("content_type")
    changed = []
    for entry in entries.iterator(chunk_size=BATCH):
        model = entry.content_type.model if entry.content_type_id else "object"
        entry.object_repr = f"{model} {entry.object_id}"[:200]
        try:
            message = json.loads(entry.change_message) if entry.change_message else None
        except ValueError:
            message = None  # the back office's own free-text messages ("Invitation resent.") stay
        if isinstance(message, list):
            entry.change_message = json.dumps(admin_log_message_scrub(message))
        changed.append(entry)
        if len(changed) >= BATCH:
            LogEntry.objects.using(schema_editor.connection.alias).bulk_update(changed, ["object_repr", "change_message"])
            changed = []
    if changed:
        LogEntry.objects.using(schema_editor.connection.alias).bulk_update(changed, ["object_repr", "change_message"])


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0003_accounts_are_superuser_only"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [migrations.RunPython(scrub, migrations.RunPython.noop)]
