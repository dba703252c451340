"""Connect: authentication with any eID method (`connect:<method>`, e.g. connect:idin).

Seed "Connect results": the status is the authentication's result — an `error` is
canceled when the end-user canceled (urn:signicat:error:usercancel), else rejected; no
error → accepted. The finalResult is not normalised (the method is unknown to us) and comes
from userInfo, which is a JSON object, a plain JWT (decoded) or an encrypted JWT (five
segments, which we cannot read: no finalResult). The ID token is read as `idToken` or as the
seed's element table spells it, `idtoken`.

A plain-JWT userInfo is trusted only when its signature checks against the provider's keys
(`keys`, from PROVIDER_JWKS). Without keys it is decoded unchecked only where the settings allow
it (`unverified_jwt_allowed`: local and test settings, for the seed's unsigned examples); elsewhere
(production) the process fails with failReason `unverifiable_userinfo`: nothing shows the data
came from the provider, and "rejected" would say the person's authentication did not succeed,
which nobody knows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jwt

from apps.verifications.providers import Outcome

# finalResult field → userInfo claims, first present wins.
_CLAIMS = {
    "firstName": ("given_name",),
    "lastName": ("family_name",),
    "gender": ("gender",),
    "personalIdentificationNumber": ("signicat.national_id", "consumer.bin"),
}
_USER_CANCEL = "usercancel"
UNVERIFIABLE = {
    "type": "unverifiable_userinfo",
    "message": "The userInfo JWT cannot be verified: no keys are configured for this provider.",
}


def evaluate(
    raw: dict[str, Any],
    *,
    process_type: str | None = None,
    keys: Mapping[str, jwt.PyJWK] | None = None,
    unverified_jwt_allowed: bool = False,
) -> Outcome:
    """Final status of a finished Connect process from its providerSpecific block.

    `keys` (kid → the provider's public key) makes a plain-JWT userInfo's signature checked;
    without them such a userInfo is read only if `unverified_jwt_allowed`, else the process fails.
    """
    error = raw.get("error")
    if error:
        return Outcome(status="canceled" if _is_user_cancel(error) else "rejected", provider_specific=raw)

    user_info = raw.get("userInfo")
    if user_info is None:
        # No error and no user data: only an idToken shows the authentication happened.
        status = "accepted" if raw.get("idToken") or raw.get("idtoken") else "rejected"
        return Outcome(status=status, provider_specific=raw)
    if isinstance(user_info, Mapping):
        claims: Mapping[str, Any] | None = user_info
    elif isinstance(user_info, str) and _segments(user_info) == 5:
        # Encrypted (JWE): the authentication succeeded, but the data is not ours to read.
        return Outcome(status="accepted", provider_specific=raw)
    elif isinstance(user_info, str) and _segments(user_info) == 3:
        if keys is None and not unverified_jwt_allowed:
            return Outcome(status="failed", provider_specific=raw, fail_reason=dict(UNVERIFIABLE))
        claims = _decode(user_info.strip(), keys)
    else:
        claims = None
    if claims is None:
        # Unreadable, or signed with a key we do not accept: its data cannot be trusted.
        return Outcome(status="rejected", provider_specific=raw)
    return Outcome(status="accepted", provider_specific=raw, final_result=_final_result(claims))


def _is_user_cancel(error: Any) -> bool:
    if isinstance(error, Mapping):
        texts = [error.get(k) for k in ("errorDescription", "error_description", "error")]
    else:
        texts = [error]
    return any(_USER_CANCEL in str(text).lower() for text in texts if text)


def _segments(token: str) -> int:
    return len(token.strip().split("."))


def _decode(token: str, keys: Mapping[str, jwt.PyJWK] | None) -> Mapping[str, Any] | None:
    try:
        if keys is None:
            # Only where unverified_jwt_allowed (local and test settings): the seed's examples
            # are signed with keys nobody has.
            return jwt.decode(token, options={"verify_signature": False})
        key = keys.get(jwt.get_unverified_header(token).get("kid", ""))
        if key is None:
            return None
        # userInfo is not addressed to us as an audience; exp/nbf are checked when present.
        return jwt.decode(token, key=key, algorithms=[key.algorithm_name], options={"verify_aud": False})
    except jwt.PyJWTError:
        return None


def _claim(claims: Mapping[str, Any], name: str) -> Any:
    """A claim by name: flat ("signicat.national_id") or nested ({"signicat": {"national_id": ...}})."""
    if name in claims:
        return claims[name]
    node: Any = claims
    for part in name.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _final_result(claims: Mapping[str, Any]) -> dict[str, Any] | None:
    result = {}
    for field_name, names in _CLAIMS.items():
        for name in names:
            value = _claim(claims, name)
            if value not in (None, ""):
                result[field_name] = value
                break
    return result or None
