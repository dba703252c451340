"""The staff second factor: a TOTP authenticator app (django-otp), with one-time backup codes.

Every staff account enrols on its first sign-in: the page shows a new, unconfirmed TOTP
device as a QR code; the first correct code confirms it and gives ten backup codes, shown
once. Later sign-ins ask for a code from the app or one unused backup code. django-otp
throttles wrong codes per device (each failure doubles the wait) and refuses a TOTP code
already used, so a code seen over someone's shoulder does not sign in twice.
"""

from __future__ import annotations

import hashlib
import time
from base64 import b32encode
from typing import Any

import qrcode
import qrcode.image.svg
from django.contrib.auth import get_user_model
from django.db import transaction
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

APP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"
BACKUP_CODES = 10


def second_factor_device(*, user: Any) -> TOTPDevice | None:
    """The staff member's confirmed authenticator, or None before enrolment."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def second_factor_enrolment_start(*, user: Any, device_id: Any = None) -> TOTPDevice:
    """The unconfirmed device one sign-in's enrolment page shows: the one `device_id` names (kept
    in that session, so reloading the page does not change the QR code half-way through scanning
    it), else a new one. A new one replaces any other unconfirmed device of the account, so a key
    shown to one session (say, someone else who has the password) is never the device another
    session confirms."""
    if device_id is not None:
        device = TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()
        if device is not None:
            return device
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)


def second_factor_enrolment_confirm(*, user: Any, device_id: Any, token: str) -> tuple[TOTPDevice, list[str]] | None:
    """Confirm this sign-in's enrolment device (`device_id`) with its first code; returns it and
    new backup codes, or None (a wrong code, another session's device, or an account that has
    an authenticator already: a second one is never added without a code from the first)."""
    with transaction.atomic():
        # The account's row serialises enrolments: two sessions cannot both confirm a device.
        get_user_model()._default_manager.select_for_update().filter(pk=user.pk).first()
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            return None
        device = TOTPDevice.objects.select_for_update().filter(pk=device_id, user=user, confirmed=False).first()
        if device is None or not device.verify_token(token.strip()):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return device, second_factor_backup_codes_renew(user=user)


def second_factor_backup_codes_renew(*, user: Any) -> list[str]:
    """Ten new one-time backup codes (the old ones stop working)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def second_factor_verify(*, user: Any, token: str) -> Device | None:
    """The device that accepts `token` (the authenticator, else a backup code), or None."""
    token = "".join(token.split()).lower()
    if not token:
        return None
    with transaction.atomic():
        # Locked: two requests racing with the same code cannot both pass (nor skip a throttle step).
        for model in (TOTPDevice, StaticDevice):
            for device in model.objects.select_for_update().filter(user=user, confirmed=True).order_by("id"):
                if device.verify_token(token):
                    return device
    return None


def second_factor_qr_svg(*, device: TOTPDevice) -> str:
    """The otpauth:// URI of `device` as an inline SVG QR code."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return image.to_string(encoding="unicode")


def second_factor_reset(*, user: Any) -> None:
    """Forget every device of `user` (a lost phone): the next sign-in enrols a new one, and
    sessions verified with the old devices stop being verified (the device is gone)."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def second_factor_demo_key(email: str) -> str:
    """A fixed TOTP key (hex) for a demo staff account of `seed_demo`: the same on every laptop,
    so the README can say how to get a code. Public by design; demo accounts only."""
    return hashlib.sha1(f"identity-portal-demo-totp:{email}".encode()).hexdigest()  # noqa: S324 - a key, not a hash


def second_factor_demo_enrol(*, user: Any) -> TOTPDevice:
    """The demo staff account's authenticator: its confirmed device, made with the fixed key if none."""
    device = second_factor_device(user=user)
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name=APP_DEVICE_NAME, key=second_factor_demo_key(user.email), confirmed=True
        )
    return device


def second_factor_base32(device: TOTPDevice) -> str:
    """The key as an authenticator app takes it by hand."""
    return b32encode(device.bin_key).decode()


def second_factor_current_code(device: TOTPDevice) -> str:
    """The code `device`'s app shows now (the demo's `staff_totp` command)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"
