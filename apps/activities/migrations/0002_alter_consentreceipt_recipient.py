"""A receipt's recipient is the other party's name: personal data, now encrypted."""

from django.db import migrations

import apps.core.encrypted_fields
from apps.core.crypto import decrypt, encrypt

TABLE = "activities_consentreceipt"


def _convert(schema_editor, convert, *, encrypted: bool) -> None:
    quote = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT id, recipient FROM {quote(TABLE)}")  # noqa: S608
        for pk, value in cursor.fetchall():
            if not value or value.startswith("gAAAA") == encrypted:
                continue
            cursor.execute(f"UPDATE {quote(TABLE)} SET recipient = %s WHERE id = %s", [convert(value), pk])  # noqa: S608


def encrypt_recipients(apps, schema_editor) -> None:
    _convert(schema_editor, encrypt, encrypted=True)


def decrypt_recipients(apps, schema_editor) -> None:
    _convert(schema_editor, decrypt, encrypted=False)


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="consentreceipt",
            name="recipient",
            field=apps.core.encrypted_fields.EncryptedTextField(help_text="Who receives the details."),
        ),
        migrations.RunPython(encrypt_recipients, decrypt_recipients, elidable=False),
    ]
