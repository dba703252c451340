"""Secret link tokens never reach a log line.

The portal's links carry their capability in the URL: the invitation path
`/invitations/{id}/{token}/`, the identification path `/identify/{id}/{token}/`, the
verification path `/verify/{id}/{token}/`, Django's password reset `/accounts/reset/{uid}/{token}/`
and the display page's `?token=`. Access logs (gunicorn's, runserver's), Django's request
warnings ("Not Found: /identify/..."), error emails and any other record would otherwise write
them where operators, log shippers and backups keep them. SecretRedactingFilter, attached to
every handler (config/settings/base.py LOGGING, gunicorn.conf.py, config/celery.py), rewrites
each record's message with those parts replaced by `[redacted]`, as do Authorization and
X-Session-Token values if a format logs them.

Plain Python, no Django: gunicorn's master imports it before Django is set up.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
# Query parameters whose value is a secret (a session token; an OAuth code or state).
SECRET_PARAMETERS = frozenset({"token", "session_token", "access_token", "refresh_token", "id_token", "code", "state"})

# A path separator, raw or percent-encoded (a `next=` parameter carries the path encoded).
_SEP = r"(?:/|%2[Ff])"
# One path segment: stops at a separator (raw or encoded), a query, a fragment, a quote or space.
_SEGMENT = r"(?:(?!%2[Ff])[^/?#&\s\"'<>])+"
_UUID = r"[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # /invitations/<id>/<token>/, /identify/<id>/<token>/, /verify/<id>/<token>/
    (re.compile(rf"({_SEP}(?:invitations|identify|verify){_SEP}{_UUID}{_SEP}){_SEGMENT}"), rf"\1{REDACTED}"),
    # Django's password reset link /reset/<uidb64>/<token>/ (not the set-password step it redirects to)
    (re.compile(rf"({_SEP}reset{_SEP}{_SEGMENT}{_SEP})(?!set-password){_SEGMENT}"), rf"\1{REDACTED}"),
    # ?token=... and the other names a secret travels under in a query string, raw or encoded
    (
        re.compile(
            r"((?:[?&;]|%3[Ff]|%26)(?:token|session_token|access_token|refresh_token|id_token|code|state)"
            r"(?:=|%3[Dd]))(?:(?!%26)[^&#\s\"'<>])+",
            re.IGNORECASE,
        ),
        rf"\1{REDACTED}",
    ),
    # A token or credential as a name and its value, should a format or a report print them:
    # "Authorization: Bearer x", "'X-Session-Token': 'x'", "HTTP_AUTHORIZATION=x", a query
    # string on its own ("token=x"), an error report's GET listing ("token = 'x'")
    (
        re.compile(
            r"(\b(?:HTTP_)?(?:authorization|x[-_]session[-_]token|proxy[-_]authorization|cookie|token|"
            r"session_token|access_token|refresh_token|id_token)['\"]?\s*[:=]\s*['\"]?)"
            r"(?:(?:Bearer|Basic|Token)\s+)?(?!\[redacted\])[^\s'\",;}&<>]+",
            re.IGNORECASE,
        ),
        rf"\1{REDACTED}",
    ),
    # A bearer credential on its own (a header atom logged without its name)
    (re.compile(r"\b(Bearer\s+)[A-Za-z0-9._~+/=-]+"), rf"\1{REDACTED}"),
)


def redact_secrets(text: str) -> str:
    """`text` with every secret link token and credential value replaced by [redacted]."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class SecretRedactingFilter(logging.Filter):
    """A handler filter: the record's message, formatted, with secrets redacted. A record with
    nothing to redact passes untouched."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: the handler reports it as it always would
            return True
        redacted = redact_secrets(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_text:
            record.exc_text = redact_secrets(record.exc_text)
        return True


def redact_handlers(*loggers: logging.Logger) -> None:
    """Attach the filter to every handler of `loggers` (the root logger when none is named),
    once: for handlers set up outside LOGGING (gunicorn's, Celery's)."""
    for logger in loggers or (logging.getLogger(),):
        for handler in logger.handlers:
            if not any(isinstance(f, SecretRedactingFilter) for f in handler.filters):
                handler.addFilter(SecretRedactingFilter())
