"""`create_person <email> --password <pw> [--first-name X ...]`: an end-user account from the shell."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from apps.people.services import person_create
from apps.people.vocabulary import PERSONAL_DETAILS, clean_detail


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def _dest(name: str) -> str:
    # Prefixed so that the `email` detail does not collide with the account's email argument.
    return f"detail_{name}"


def _details_errors(details: dict[str, str]) -> list[str]:
    """Checked here first so that each error names its option (`email` is also a detail)."""
    errors = []
    for name, value in details.items():
        try:
            clean_detail(name, value)
        except ValidationError as exc:
            errors.append(f"{_option(name)}: {' '.join(exc.messages)}")
    return errors


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(
            " ".join(msgs) if field == NON_FIELD_ERRORS else f"{field}: {' '.join(msgs)}"
            for field, msgs in exc.message_dict.items()
        )
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = (
        "Create an end-user account that signs in with <email> and --password, with self-declared "
        "personal details given as options (one per entry of the personal-details vocabulary)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="The address the person signs in with.")
        parser.add_argument("--password", required=True)
        parser.add_argument(
            "--skip-password-validation",
            action="store_true",
            help="Accept a password that Django's password validators refuse.",
        )
        parser.add_argument("--staff", action="store_true", help="May sign in to the back office (/admin/).")
        parser.add_argument("--superuser", action="store_true", help="Every permission; implies --staff.")
        group = parser.add_argument_group("personal details (self-declared)")
        for spec in PERSONAL_DETAILS:
            description = spec.description
            if spec.name == "email":
                description += " A personal detail; the sign-in address is the positional email."
            group.add_argument(_option(spec.name), dest=_dest(spec.name), metavar=spec.kind.upper(), help=description)

    def handle(self, *args: Any, **options: Any) -> None:
        email: str = options["email"]
        if not options["password"]:
            raise CommandError("No account created. --password must not be empty.")
        details = {spec.name: options[_dest(spec.name)] for spec in PERSONAL_DETAILS if options[_dest(spec.name)]}
        errors = _details_errors(details)
        if errors:
            raise CommandError("No account created. " + "; ".join(errors))
        try:
            with transaction.atomic():
                person = person_create(
                    email=email,
                    password=options["password"],
                    details=details,
                    check_password=not options["skip_password_validation"],
                )
                if options["staff"] or options["superuser"]:
                    person.is_staff = True
                    person.is_superuser = options["superuser"]
                    person.save(update_fields=["is_staff", "is_superuser"])
        except ValidationError as exc:
            raise CommandError(f"No account created. {_messages(exc)}") from exc
        role = "superuser" if person.is_superuser else "staff user" if person.is_staff else "person"
        stored = ", ".join(sorted(details)) or "none"
        self.stdout.write(f"Created {role} {person.email} (id {person.pk}); personal details: {stored}.")
