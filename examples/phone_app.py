#!/usr/bin/env python3
"""A person's phone app, in miniature: the reference client of the portal's OAuth 2.0 / OpenID
Connect provider (API.md "People's apps").

It signs the person in through the portal's own authorization code flow with PKCE (S256),
receiving the code on a loopback redirect (RFC 8252 §7.3), then does what the seeds' apps do
with the person's access token:

- answers a data-transfer session shown as a QR code (seed 004: "information", then "update");
- accepts an activity waiting in the person's inbox (seed 000).

Standard library only. Register the app first (back office, People's apps: a public client with
the redirect URI http://127.0.0.1/callback and the scopes openid, inbox, sessions), then:

    python examples/phone_app.py --portal http://127.0.0.1:8000 --client-id <client id> \\
        --session <session id> --accept-scopes first_name,last_name \\
        --activity <activity id> --accepted-details first_name --sharing-period P30D

It opens the sign-in page in the browser (or, with --no-browser, prints the address to open),
waits for the redirect, and prints one JSON line per step; the last line sums them up.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.server
import json
import secrets
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import webbrowser
from typing import Any

SCOPES = "openid inbox sessions"
CALLBACK_PATH = "/callback"


class PortalError(Exception):
    """The portal answered with an error."""


def _say(step: str, **fields: Any) -> None:
    print(json.dumps({"step": step, **fields}, ensure_ascii=False), flush=True)


def _request(method: str, url: str, *, token: str | None = None, form: dict | None = None, body: Any = None) -> Any:
    headers = {"Accept": "application/json"}
    data = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310 - the portal's URL
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            raw = response.read()
    except urllib.error.HTTPError as exc:
        raise PortalError(f"{method} {url} answered {exc.code}: {exc.read().decode(errors='replace')}") from None
    return json.loads(raw) if raw else None


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, code_challenge) for PKCE with S256 (RFC 7636)."""
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT, unverified: the ID token comes straight from the token endpoint over
    the connection the app opened (OpenID Connect Core §3.1.3.7 lets the app rely on TLS there)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class _Callback(http.server.BaseHTTPRequestHandler):
    """The loopback redirect target: takes the authorization response, answers a short page."""

    result: dict[str, str] = {}
    received = threading.Event()

    def do_GET(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        if parts.path != CALLBACK_PATH:
            self.send_error(404)
            return
        type(self).result = {k: v[0] for k, v in urllib.parse.parse_qs(parts.query).items()}
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(b"<!doctype html><title>Phone app</title><h1>Signed in. You can close this window.</h1>")
        type(self).received.set()

    def log_message(self, format: str, *args: Any) -> None:  # the query holds the code: log nothing
        return


def sign_in(portal: str, client_id: str, *, scopes: str, port: int, open_browser: bool, timeout: float) -> dict:
    """The authorization code flow with PKCE through a loopback redirect; returns the token answer."""
    config = _request("GET", f"{portal}/.well-known/openid-configuration")
    _say("discovered", issuer=config["issuer"], authorization_endpoint=config["authorization_endpoint"])
    server = http.server.HTTPServer(("127.0.0.1", port), _Callback)
    _Callback.received.clear()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    redirect_uri = f"http://127.0.0.1:{server.server_address[1]}{CALLBACK_PATH}"
    verifier, challenge = pkce_pair()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    url = (
        config["authorization_endpoint"]
        + "?"
        + urllib.parse.urlencode(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "scope": scopes,
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
    )
    _say("authorize", url=url)
    if open_browser:
        webbrowser.open(url)
    try:
        if not _Callback.received.wait(timeout):
            raise PortalError("No answer from the sign-in page in time.")
    finally:
        server.shutdown()
        server.server_close()
    answer = _Callback.result
    if answer.get("state") != state:
        raise PortalError("The redirect's state is not the one sent: refusing it.")
    if answer.get("iss") and answer["iss"] != config["issuer"]:
        raise PortalError("The redirect names another issuer (RFC 9207): refusing it.")
    if "error" in answer:
        raise PortalError(f"The person did not allow the app: {answer['error']}")
    tokens = _request(
        "POST",
        config["token_endpoint"],
        form={
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "code_verifier": verifier,
        },
    )
    claims = jwt_claims(tokens["id_token"]) if tokens.get("id_token") else {}
    if claims and (
        claims.get("iss") != config["issuer"] or claims.get("aud") != client_id or claims.get("nonce") != nonce
    ):
        raise PortalError("The ID token was not issued for this sign-in.")
    _say("signed_in", scope=tokens["scope"], expires_in=tokens["expires_in"], subject=claims.get("sub"))
    return tokens


def answer_session(portal: str, token: str, session_id: str, accept_scopes: list[str]) -> dict:
    """Seed 004 from the phone: read what the QR's session asks, then confirm it."""
    information = _request("GET", f"{portal}/api/v1/session/{session_id}/information", token=token)
    _say(
        "session_information",
        requester=information["requester"]["name"],
        scopes=[scope["name"] for scope in information["scopes"]],
        matching_code=information["matching_code"],
    )
    updated = _request(
        "POST",
        f"{portal}/api/v1/session/{session_id}/update",
        token=token,
        body={"decision": "confirmed", "accepted_scopes": accept_scopes},
    )
    _say("session_update", status=updated["status"])
    return updated


def accept_activity(portal: str, token: str, activity_id: str, details: list[str], period: str | None) -> dict:
    """Seed 000 from the phone: accept what the activity asks, for the chosen period."""
    body: dict[str, Any] = {"accepted_details": details}
    if period:
        body["sharing_period"] = period
    accepted = _request("POST", f"{portal}/api/v1/me/activities/{activity_id}/accept", token=token, body=body)
    _say("activity_accept", status=accepted["status"], sharing_until=accepted["sharing_until"])
    return accepted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--portal", default="http://127.0.0.1:8000", help="the portal's base URL")
    parser.add_argument("--client-id", required=True, help="the app's client id, from the back office")
    parser.add_argument("--scopes", default=SCOPES)
    parser.add_argument("--port", type=int, default=0, help="loopback port for the redirect (0: any free one)")
    parser.add_argument("--no-browser", action="store_true", help="print the sign-in address instead of opening it")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the sign-in")
    parser.add_argument("--session", help="a data-transfer session id (the QR's) to confirm")
    parser.add_argument("--accept-scopes", default="first_name,last_name", help="details to share with the session")
    parser.add_argument("--activity", help="an activity id (ACTION_REQUIRED) to accept")
    parser.add_argument("--accepted-details", default="", help="details to share with the activity, comma-separated")
    parser.add_argument("--sharing-period", default="P30D", help="ISO-8601 duration; empty for an authorization")
    args = parser.parse_args(argv)
    portal = args.portal.rstrip("/")
    summary: dict[str, Any] = {}
    try:
        tokens = sign_in(
            portal,
            args.client_id,
            scopes=args.scopes,
            port=args.port,
            open_browser=not args.no_browser,
            timeout=args.timeout,
        )
        access = tokens["access_token"]
        if args.session:
            scopes = [s for s in args.accept_scopes.split(",") if s]
            summary["session"] = answer_session(portal, access, args.session, scopes)["status"]
        if args.activity:
            details = [d for d in args.accepted_details.split(",") if d]
            summary["activity"] = accept_activity(portal, access, args.activity, details, args.sharing_period)["status"]
        if not args.session and not args.activity:
            inbox = _request("GET", f"{portal}/api/v1/me/activities?status=ACTION_REQUIRED", token=access)
            summary["inbox"] = [{"id": a["id"], "from": a["counterpart"]["name"]} for a in inbox["results"]]
    except PortalError as exc:
        _say("error", message=str(exc))
        return 1
    _say("done", **summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
