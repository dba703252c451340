"""Inconclusive processes finished before the review queue existed enter it, waiting since they ended."""

from __future__ import annotations

from django.db import migrations


def open_reviews(apps, schema_editor):
    process_model = apps.get_model("verifications", "VerificationProcess")
    review_model = apps.get_model("verifications", "ProcessReview")
    waiting = process_model.objects.filter(status="inconclusive", review__isnull=True)
    review_model.objects.bulk_create(
        [
            review_model(process_id=process.pk, organization_id=process.organization_id, entered_at=process.updated_at)
            for process in waiting.iterator()
        ]
    )


class Migration(migrations.Migration):
    dependencies = [("verifications", "0004_process_review")]

    operations = [migrations.RunPython(open_reviews, migrations.RunPython.noop)]
