from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.organizations.models import Organization
from apps.organizations.services import organization_create


class Command(BaseCommand):
    help = "Create an organization; its slug is the org_id in API paths."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", default="")

    def handle(self, *args: Any, slug: str, name: str, **options: Any) -> None:
        if Organization.objects.filter(slug=slug).exists():
            raise CommandError(f"Organization '{slug}' already exists.")
        try:
            organization = organization_create(slug=slug, name=name)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"Created organization {organization.slug} ({organization.name}).")
