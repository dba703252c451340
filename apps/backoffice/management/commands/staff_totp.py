"""`staff_totp <email>`: the code a staff account's authenticator app shows now.

For `make run`'s demo staff, whose TOTP keys `seed_demo` prints: a laptop without an
authenticator app signs in with this. Only where DEMO_STAFF_TOTP_COMMAND is on (the local
settings): anywhere else it would turn the second factor into a shell command.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.backoffice.second_factor import second_factor_current_code, second_factor_device
from apps.people.models import User


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo staff account (local settings only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")

    def handle(self, *args: Any, **options: Any) -> None:
        if not getattr(settings, "DEMO_STAFF_TOTP_COMMAND", False):
            raise CommandError("staff_totp is for make run's demo only (DEMO_STAFF_TOTP_COMMAND is off).")
        user = User.objects.filter_by_email(options["email"]).filter(is_staff=True).first()
        device = second_factor_device(user=user) if user is not None else None
        if device is None:
            raise CommandError("No staff account with an authenticator for that email.")
        self.stdout.write(second_factor_current_code(device))
