"""The fixed reasons the services write into the audit trail, and how the back office shows them.

The audit log keeps each reason as written, in English (it is append-only, and webhooks and
other tools read it); every fixed one is defined here once, marked for translation, and shown in
the reader's language by `reason_display`. What staff or integrators type stays as they typed it.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_noop, pgettext_lazy
from django.utils.translation import gettext_lazy as _

# --- Any state machine ------------------------------------------------------------------------
CREATED = gettext_noop("created")
ACCOUNT_DELETED = gettext_noop("account deleted")
CHANGED_IN_BACK_OFFICE = gettext_noop("changed in the back office")
DEMO_DATA = gettext_noop("demo data")
# Deadlines (the sweeps and the expiry on read).
EXPIRED = gettext_noop("expired")
TIMEOUT = gettext_noop("timeout")
VALIDITY_PERIOD_ENDED = gettext_noop("validity period ended")
SHARING_PERIOD_ENDED = gettext_noop("sharing period ended")

# --- Identities ---------------------------------------------------------------------------------
INVITATION_ACCEPTED = gettext_noop("invitation accepted")

# --- Activities ---------------------------------------------------------------------------------
ACCEPTED = gettext_noop("accepted")
DECLINED = gettext_noop("declined")
WITHDRAWN = gettext_noop("withdrawn")
REVOKED = gettext_noop("revoked")
BOTH_PARTIES_FINALIZED = gettext_noop("both parties finalized")

# --- Verification processes and provider connections ---------------------------------------
CANCELED = gettext_noop("canceled")
CANCELED_BY_ORGANIZATION = gettext_noop("canceled by the organization")
CANCELED_AT_PROVIDER = gettext_noop("canceled at the provider")
PROVIDER_STARTED = gettext_noop("provider started")
PROVIDER_FINISHED = gettext_noop("provider finished")
REDACTION_REQUESTED_BY_PERSON = gettext_noop("redaction requested by the person")
PROCESS_DATA_REDACTED = gettext_noop("the process's data was redacted")
CONNECTION_CONNECTED = gettext_noop("connected")
CONNECTION_CHANGED = gettext_noop("changed")
CONNECTION_DISCONNECTED = gettext_noop("disconnected")
# Staff's own words follow the prefix; only the prefix is translated.
REDACTED_BY_STAFF = gettext_noop("redacted by staff: %(reason)s")

# --- OTP identifications --------------------------------------------------------------------
DELETED = gettext_noop("deleted")
FORCE_DELETED = gettext_noop("force-deleted")
CODE_REQUESTED = gettext_noop("code requested")
CODE_MATCHED = gettext_noop("code matched")
SECOND_FACTOR_MATCHED = gettext_noop("second factor matched")
TOO_MANY_WRONG_ANSWERS = gettext_noop("too many wrong answers")

# --- Data-transfer sessions ---------------------------------------------------------------
RETRIEVED = gettext_noop("retrieved")
CONFIRMED = gettext_noop("confirmed")
RENEWED = gettext_noop("renewed")

# --- Proposed updates of personal details ---------------------------------------------------
PROPOSED = gettext_noop("proposed")
A_NEWER_VERIFICATION = gettext_noop("a newer verification")
CONFIRMED_BY_PERSON = gettext_noop("confirmed by the person")
DISMISSED_BY_PERSON = gettext_noop("dismissed by the person")

# --- People's apps ------------------------------------------------------------------------------
APPROVED_BY_PERSON = gettext_noop("approved by the person")
REVOKED_BY_PERSON = gettext_noop("revoked by the person")
PASSWORD_CHANGED = gettext_noop("password changed")

REASONS: frozenset[str] = frozenset(
    value for name, value in list(globals().items()) if name.isupper() and isinstance(value, str) and "%(" not in value
)
TEMPLATES: tuple[str, ...] = (REDACTED_BY_STAFF,)

# A failed verification's reason is its failReason type, a code of the API: shown in words.
FAIL_TYPES: dict[str, Promise] = {
    "failed": pgettext_lazy("verification fail reason", "failed"),
    "provider_error": _("the provider reported an error"),
    "provider_disconnected": _("the provider was disconnected"),
    "invalid_id_token": _("the provider's ID token was not valid"),
    "unverifiable_userinfo": _("the provider's answer could not be verified"),
}


def reason_redacted_by_staff(text: str) -> str:
    """The stored reason of a redaction asked for by staff, with their words."""
    return REDACTED_BY_STAFF % {"reason": text}


def reason_display(stored: str) -> str:
    """`stored` in the active language if it is one of the fixed reasons (or a fixed prefix and
    someone's own words, which stay as written); anything else unchanged."""
    if stored in REASONS:
        return gettext(stored)
    if stored in FAIL_TYPES:
        return str(FAIL_TYPES[stored])
    for template in TEMPLATES:
        prefix = template.split("%(reason)s", 1)[0]
        if stored.startswith(prefix):
            return gettext(template) % {"reason": stored[len(prefix) :]}
    return stored
