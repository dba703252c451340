"""The blind index of every existing identity's name."""

from __future__ import annotations

from django.db import migrations

from apps.core.crypto import name_token_hashes

BATCH = 500


def index_names(apps, schema_editor):
    identity_model = apps.get_model("identities", "ExternalPersonalIdentity")
    token_model = apps.get_model("identities", "IdentityNameToken")
    rows = []
    for identity in identity_model.objects.only("pk", "first_name", "last_name").iterator(chunk_size=BATCH):
        rows.extend(
            token_model(identity_id=identity.pk, digest=digest)
            for digest in name_token_hashes(identity.first_name, identity.last_name)
        )
        if len(rows) >= BATCH:
            token_model.objects.bulk_create(rows, ignore_conflicts=True)
            rows = []
    token_model.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("identities", "0004_identity_name_tokens")]

    operations = [migrations.RunPython(index_names, migrations.RunPython.noop)]
