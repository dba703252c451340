"""Details a sandbox process marked as verified were never verified (issue 15): they become
self-declared again, without provenance. Their values stay (the person can edit or remove them);
what they replaced was not kept anywhere."""

from django.db import migrations


def unverify_sandbox_details(apps, schema_editor):
    PersonalDetail = apps.get_model("people", "PersonalDetail")
    PersonalDetail.objects.filter(source="verified", verified_by_provider="sandbox").update(
        source="self_declared", verified_by_process_id=None, verified_by_provider=""
    )


class Migration(migrations.Migration):
    dependencies = [("people", "0002_detailproposal")]

    operations = [migrations.RunPython(unverify_sandbox_details, migrations.RunPython.noop)]
