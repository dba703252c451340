from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.organizations.models import Organization, Scope
from apps.organizations.services import api_key_create


class Command(BaseCommand):
    help = (
        "Create an API key for an organization and print it as the last line (shown only once). "
        "Without --scope the key gets every scope except identifications:force-delete."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--scope", action="append", dest="scopes", choices=Scope.values, default=None)
        parser.add_argument("--name", default="")

    def handle(self, *args: Any, slug: str, scopes: list[str] | None, name: str, **options: Any) -> None:
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            raise CommandError(f"No organization '{slug}'.")
        try:
            key, raw = api_key_create(organization=organization, scopes=scopes, name=name)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stderr.write(f"API key {key.prefix} for {slug} with scopes: {', '.join(key.scopes)}")
        self.stdout.write(raw)
