"""Connect: any OpenID Connect provider, through Authlib (and its JOSE library, joserfc).

Creating a process reads the issuer's discovery document and answers the authorization URL
(code flow, PKCE S256, state, nonce). The state is signed and expires with the process; the
PKCE verifier and the nonce stay on the process's ProviderRun (encrypted), never in the browser.
At /verify/connect/callback the code is exchanged, the ID token checked against the provider's
JWKS (signature, iss, aud, exp, nonce), userInfo read, and the Connect rules
(apps.verifications.providers.connect) judge `{idToken, userInfo}`; `error=access_denied` is
the person canceling.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings as django_settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.urls import reverse
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from apps.verifications.connectors.base import (
    Collected,
    Connector,
    ProviderError,
    ReturnRejected,
    Started,
    provider_url_check,
    provider_url_precheck,
    register,
)
from apps.verifications.models import ProviderConnection, ProviderRun, VerificationProcess

TIMEOUT = (5.0, 20.0)  # connect, read (seconds)
STATE_SALT = "apps.verifications.connectors.connect.state"
DEFAULT_SCOPES = "openid profile"
CANCEL_ERRORS = ("access_denied",)
# Discovery documents, key sets and userInfo are small; a bigger answer is refused unread.
MAX_ANSWER_BYTES = 1024 * 1024


def callback_url() -> str:
    return django_settings.PUBLIC_BASE_URL + reverse("verifications:connect-callback")


def state_max_age() -> int:
    """A state is good as long as its process may stay open."""
    return int(django_settings.VERIFICATION_TIMEOUT_SECONDS)


def _get_json(url: str, **kwargs: Any) -> Any:
    provider_url_check(url)
    try:
        with requests.get(url, timeout=TIMEOUT, allow_redirects=False, stream=True, **kwargs) as response:
            if response.status_code != 200:
                raise ProviderError(f"The provider answered {response.status_code}.", status=response.status_code)
            body = response.raw.read(MAX_ANSWER_BYTES + 1, decode_content=True)
            content_type = response.headers.get("Content-Type", "")
    except requests.RequestException as exc:
        raise ProviderError(
            f"The provider could not be reached: {type(exc).__name__}.", fail_type="provider_unreachable"
        ) from exc
    if len(body) > MAX_ANSWER_BYTES:
        raise ProviderError(f"The provider's answer is larger than {MAX_ANSWER_BYTES} bytes.")
    if "jwt" in content_type:
        return body.decode("utf-8", errors="replace")  # a signed or encrypted userInfo: the Connect rules read it
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise ProviderError("The provider's answer was not JSON.") from None


def discover(issuer: str) -> dict[str, Any]:
    """The issuer's discovery document; its `issuer` must be the configured one (OIDC Discovery §4.3)."""
    metadata = _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
    if not isinstance(metadata, Mapping) or metadata.get("issuer") != issuer:
        raise ProviderError("The discovery document does not name the configured issuer.", fail_type="provider_config")
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(metadata.get(name), str):
            raise ProviderError(f"The discovery document has no {name}.", fail_type="provider_config")
    if urlsplit(metadata["authorization_endpoint"]).scheme not in ("http", "https"):
        # The person's browser is sent there: never a javascript: or data: link.
        raise ProviderError("The authorization endpoint is not an http(s) URL.", fail_type="provider_config")
    for name in ("token_endpoint", "jwks_uri", "userinfo_endpoint"):
        if metadata.get(name):
            provider_url_check(str(metadata[name]))
    return dict(metadata)


def _session(settings: Mapping[str, Any], **kwargs: Any) -> OAuth2Session:
    secret = settings.get("client_secret") or None
    return OAuth2Session(
        client_id=settings["client_id"],
        client_secret=secret,
        token_endpoint_auth_method="client_secret_basic" if secret else "none",
        scope=settings.get("scopes") or DEFAULT_SCOPES,
        redirect_uri=callback_url(),
        code_challenge_method="S256",
        **kwargs,
    )


def id_token_claims(
    id_token: str, *, jwks: Mapping[str, Any], issuer: str, client_id: str, nonce: str
) -> dict[str, Any]:
    """Check an ID token against the provider's keys: signature, iss, aud, exp (required), nonce."""
    token = jwt.decode(id_token, KeySet.import_key_set(dict(jwks)))  # type: ignore[arg-type]
    registry = jwt.JWTClaimsRegistry(
        leeway=60,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        exp={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    registry.validate(token.claims)
    return dict(token.claims)


@register
class ConnectConnector(Connector):
    provider = "connect"
    required = ("issuer", "client_id")
    optional = {"client_secret": "", "scopes": DEFAULT_SCOPES}
    secrets = ("client_secret",)

    def clean_settings(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        cleaned: dict[str, Any] = {}
        for name in self.required:
            value = settings.get(name)
            if not isinstance(value, str) or not value.strip():
                errors[name] = ["Required: a non-empty string."]
            else:
                cleaned[name] = value.strip()
        issuer = urlsplit(cleaned.get("issuer", ""))
        if "issuer" in cleaned and (issuer.scheme not in ("http", "https") or not issuer.netloc):
            errors["issuer"] = ["An http(s) URL: the provider's issuer identifier."]
        elif "issuer" in cleaned and (refused := provider_url_precheck(cleaned["issuer"])):
            errors["issuer"] = [refused]
        secret = settings.get("client_secret", "")
        if not isinstance(secret, str):
            errors["client_secret"] = ["A string (empty for a public client)."]
        cleaned["client_secret"] = secret if isinstance(secret, str) else ""
        scopes = settings.get("scopes", DEFAULT_SCOPES)
        if isinstance(scopes, list) and all(isinstance(s, str) for s in scopes):
            scopes = " ".join(scopes)
        if not isinstance(scopes, str) or "openid" not in scopes.split():
            errors["scopes"] = ["Scopes, space-separated or a list, including openid."]
        else:
            cleaned["scopes"] = " ".join(scopes.split())
        for name in sorted(set(settings) - set(self.required) - set(self.optional)):
            errors[name] = ["Unknown setting for connect."]
        if errors:
            raise ValidationError(errors)
        return cleaned

    def start(self, process: VerificationProcess, connection: ProviderConnection) -> Started:
        settings = connection.settings
        metadata = discover(settings["issuer"])
        nonce = secrets.token_urlsafe(24)
        verifier = generate_token(64)
        state = signing.dumps({"p": str(process.pk), "r": secrets.token_urlsafe(16)}, salt=STATE_SALT)
        url, _ = _session(settings).create_authorization_url(
            metadata["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce
        )
        data = {
            "state": state,
            "nonce": nonce,
            "codeVerifier": verifier,
            "tokenEndpoint": metadata["token_endpoint"],
            "jwksUri": metadata["jwks_uri"],
            "userinfoEndpoint": metadata.get("userinfo_endpoint") or "",
        }
        return Started(url=url, data=data)

    def handle_return(self, query: Mapping[str, str]) -> tuple[VerificationProcess, Collected]:
        try:
            signed = signing.loads(query.get("state", ""), salt=STATE_SALT, max_age=state_max_age())
        except signing.SignatureExpired:
            raise ReturnRejected("This sign-in link has expired.") from None
        except signing.BadSignature:
            raise ReturnRejected("This sign-in link is not valid.") from None
        run = (
            ProviderRun.objects.select_related("process", "connection")
            .filter(process_id=signed.get("p"), process__provider__startswith="connect")
            .first()
        )
        if run is None or not run.data or not hmac.compare_digest(run.data.get("state", ""), query.get("state", "")):
            raise ReturnRejected("This sign-in link is not valid.")
        process = run.process
        error = query.get("error")
        if error:
            received = {"error": {"error": error, "errorDescription": query.get("error_description", "")}}
            event = "canceled" if error in CANCEL_ERRORS else "finished"
            return process, Collected(event=event, provider_specific=received, raw_result=received)
        if run.connection is None:
            reason = {"type": "provider_disconnected", "message": "The provider was disconnected meanwhile."}
            return process, Collected(event="failed", fail_reason=reason)
        return process, self._exchange(run, query.get("code", ""))

    def _exchange(self, run: ProviderRun, code: str) -> Collected:
        settings, data = run.connection.settings, run.data  # type: ignore[union-attr]
        if not code:
            return Collected(event="failed", fail_reason={"type": "provider_error", "message": "No code came back."})
        try:
            provider_url_check(data["tokenEndpoint"])
        except ProviderError as exc:
            return Collected(event="failed", fail_reason=exc.fail_reason)
        try:
            token = _session(settings).fetch_token(
                data["tokenEndpoint"], code=code, code_verifier=data["codeVerifier"], timeout=TIMEOUT
            )
        except (AuthlibBaseError, requests.RequestException, ValueError) as exc:
            reason = {"type": "provider_error", "message": f"The code exchange failed: {type(exc).__name__}."}
            return Collected(event="failed", fail_reason=reason)
        try:
            id_token = token.get("id_token")
            if not id_token:
                raise ProviderError("The token response has no ID token.")
            jwks = _get_json(data["jwksUri"])
            claims = id_token_claims(
                id_token, jwks=jwks, issuer=settings["issuer"], client_id=settings["client_id"], nonce=data["nonce"]
            )
            user_info: Any = claims
            if data.get("userinfoEndpoint"):
                user_info = _get_json(
                    data["userinfoEndpoint"], headers={"Authorization": f"Bearer {token['access_token']}"}
                )
                if isinstance(user_info, Mapping) and user_info.get("sub") != claims.get("sub"):
                    raise ProviderError("userInfo is about another subject than the ID token.")
        except ProviderError as exc:
            return Collected(event="failed", fail_reason=exc.fail_reason)
        except (JoseError, ValueError, TypeError) as exc:
            reason = {"type": "invalid_id_token", "message": f"The ID token was refused: {exc}"[:500]}
            return Collected(event="failed", fail_reason=reason)
        received = {"idToken": id_token, "userInfo": user_info}
        return Collected(event="finished", provider_specific=received, raw_result={**received, "idTokenClaims": claims})
