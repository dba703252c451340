"""Idempotency records keep the first response for replays; responses may hold personal
values, so the body is now encrypted like every other personal value."""

from django.db import migrations

import apps.core.encrypted_fields
from apps.core.crypto import decrypt, encrypt

TABLE = "api_idempotencyrecord"


def _convert(schema_editor, convert, *, encrypted: bool) -> None:
    quote = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT id, response_body FROM {quote(TABLE)} WHERE response_body IS NOT NULL")  # noqa: S608
        for pk, value in cursor.fetchall():
            if value.startswith("gAAAA") == encrypted:
                continue
            cursor.execute(f"UPDATE {quote(TABLE)} SET response_body = %s WHERE id = %s", [convert(value), pk])  # noqa: S608


def encrypt_bodies(apps, schema_editor) -> None:
    _convert(schema_editor, encrypt, encrypted=True)


def decrypt_bodies(apps, schema_editor) -> None:
    _convert(schema_editor, decrypt, encrypted=False)


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0002_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="idempotencyrecord",
            name="response_body",
            field=apps.core.encrypted_fields.EncryptedJSONField(blank=True, null=True),
        ),
        migrations.RunPython(encrypt_bodies, decrypt_bodies, elidable=False),
    ]
