"""The limits on messages that reach a person (API.md "OTP identifications").

Every message that costs money or reaches a person is limited per destination (the normalised
phone number or email address), whatever the organization or key, and per object it is about.
Link messages are the identification links (create and resend) and the identities'
invitations: they share one budget per destination, since they land in the same inbox.
Counted with apps.core.counters.
"""

from __future__ import annotations

from apps.core.counters import WindowLimit, window_limits_take

LINK_MESSAGES_PER_DESTINATION = ((5, 3600), (20, 24 * 3600))
LINK_MESSAGES_PER_SUBJECT = (3, 3600)
MESSAGE_LIMIT_CODE = "too_many_messages"


def _windows(counter: str, windows: tuple[tuple[int, int], ...], message: str) -> list[WindowLimit]:
    """One WindowLimit per (count, seconds) on the counter `counter:<seconds>`; `message` may
    name `{count}` and `{seconds}`."""
    return [
        WindowLimit(f"{counter}:{seconds}", count, seconds, message.format(count=count, seconds=seconds))
        for count, seconds in windows
    ]


def link_message_limits(*, destination_key: str, subject_key: str | None = None) -> list[WindowLimit]:
    """The limits one more link message to `destination_key` (a keyed hash of the normalised
    destination, never the address itself) about `subject_key` (e.g. an identification) takes."""
    limits = _windows(
        f"messages:{destination_key}",
        LINK_MESSAGES_PER_DESTINATION,
        f"Too many messages were sent to this destination (at most {LINK_MESSAGES_PER_DESTINATION[0][0]} "
        f"an hour and {LINK_MESSAGES_PER_DESTINATION[1][0]} a day, whoever asks). Nothing was sent.",
    )
    if subject_key:
        count, seconds = LINK_MESSAGES_PER_SUBJECT
        limits.append(
            WindowLimit(
                f"messages:{subject_key}:{seconds}",
                count,
                seconds,
                f"This link was sent {count} times in the last hour, the most allowed. Nothing was sent.",
            )
        )
    return limits


def link_message_take(*, destination_key: str, subject_key: str | None = None) -> None:
    """Count one link message, or raise LimitExceeded (code too_many_messages) and count none."""
    window_limits_take(
        link_message_limits(destination_key=destination_key, subject_key=subject_key), code=MESSAGE_LIMIT_CODE
    )


# "A request waits for you" emails: per person, so a burst of requests is one or two mails, not
# a flood (the requests themselves all wait on /me/).
REQUEST_NOTICES_PER_PERSON = ((3, 3600), (10, 24 * 3600))


def request_notice_take(*, person_key: str) -> None:
    """Count one "a request waits" email to the person `person_key` names, or raise
    LimitExceeded and count none."""
    limits = _windows(
        f"request-notice:{person_key}",
        REQUEST_NOTICES_PER_PERSON,
        "At most {count} request notices in {seconds} seconds reach one person.",
    )
    window_limits_take(limits, code=MESSAGE_LIMIT_CODE)


# Password-reset emails: their own budget per address (so asking for resets cannot spend the
# invitations' budget of that inbox) and one per client address, whoever's account is asked for.
PASSWORD_RESETS_PER_DESTINATION = ((3, 3600), (10, 24 * 3600))
PASSWORD_RESETS_PER_CLIENT = ((20, 3600),)


def password_reset_take(*, destination_key: str, client_key: str) -> None:
    """Count one password-reset email to `destination_key` (a keyed hash of the normalised
    address) asked for from `client_key` (a keyed hash of the client address), or raise
    LimitExceeded (code too_many_messages) and count none. Counted whether or not the address
    has an account, so the limit says nothing about which addresses do."""
    limits = _windows(
        f"password-reset:{destination_key}",
        PASSWORD_RESETS_PER_DESTINATION,
        "Too many password reset emails were asked for this address (at most {count} in {seconds} seconds).",
    )
    if client_key:
        limits += _windows(
            f"password-reset-client:{client_key}",
            PASSWORD_RESETS_PER_CLIENT,
            "Too many password reset emails were asked for from this network (at most {count} in {seconds} seconds).",
        )
    window_limits_take(limits, code=MESSAGE_LIMIT_CODE)
