"""Pluggable SMS delivery, chosen by SMS_BACKEND: console, file, locmem or a dotted path."""

from __future__ import annotations

import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str


class BaseSmsBackend:
    def send(self, message: SmsMessage) -> None:
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    """Development: prints the message, as Django's console email backend does."""

    def send(self, message: SmsMessage) -> None:
        sys.stdout.write(f"SMS to {message.to}\n{message.body}\n{'-' * 40}\n")
        sys.stdout.flush()


class FileSmsBackend(BaseSmsBackend):
    """Development and scripts: one file per message under SMS_FILE_PATH."""

    def send(self, message: SmsMessage) -> None:
        folder = Path(settings.SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}.sms"
        (folder / name).write_text(f"To: {message.to}\n\n{message.body}\n", encoding="utf-8")


outbox: list[SmsMessage] = []
_outbox_lock = threading.Lock()


class LocmemSmsBackend(BaseSmsBackend):
    """Tests: messages collect in `apps.identifications.sms.outbox`."""

    def send(self, message: SmsMessage) -> None:
        with _outbox_lock:
            outbox.append(message)


BACKENDS = {"console": ConsoleSmsBackend, "file": FileSmsBackend, "locmem": LocmemSmsBackend}


def sms_backend() -> BaseSmsBackend:
    name = settings.SMS_BACKEND
    backend_class = BACKENDS.get(name) or import_string(name)
    return backend_class()


def sms_send(*, to: str, body: str) -> None:
    sms_backend().send(SmsMessage(to=to, body=body))
