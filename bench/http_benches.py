"""Benchmarks 1, 2 and 5: HTTP throughput under gunicorn, each next to its baseline in the same run."""

from __future__ import annotations

import urllib.request
from typing import Any

from bench import fixtures
from bench.common import BareGunicorn, Gunicorn, Scale, check, print_check, round_ratios, side_by_side
from bench.loadgen import Request


def _api(fx: dict[str, Any], method: str, path: str, body: bytes = b"") -> Request:
    headers = {"Authorization": f"Bearer {fx['api_key']}", "Accept": "application/json"}
    if body:
        headers["Content-Type"] = "application/json"
    return Request(method, path, headers, body)


def _get(server: Gunicorn, path: str, headers: dict[str, str]) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
        response.read()


def _baselines(fx: dict[str, Any]) -> tuple[list[Request], list[Request], list[Request]]:
    nodb = [Request("GET", "/bench/nodb")]
    one_row = [Request("GET", f"/bench/one-row/{pk}") for pk in fx["rows"]]
    insert = [Request("POST", "/bench/insert", {"Content-Type": "application/json"}, b'{"name": "x"}')]
    return nodb, one_row, insert


BARE_ONE_ROW = "bare Django single-row view"
BARE_INSERT = "bare Django INSERT view"


def status_polling(server: Gunicorn, fx: dict[str, Any], scale: Scale, bare: BareGunicorn) -> dict[str, Any]:
    """1. GET /api/v1/session/{id}/status with a valid token vs the bare Django single-row view
    (and the in-stack no-DB and single-row views)."""
    print("\n[1] Status polling: GET /api/v1/session/{id}/status (valid X-Session-Token)")
    nodb, one_row, _ = _baselines(fx)
    status = [Request("GET", f"/api/v1/session/{sid}/status", {"X-Session-Token": tok}) for sid, tok in fx["sessions"]]
    # Hot status: every display has polled once already (the first poll reads the database).
    for sid, tok in fx["sessions"]:
        _get(server, f"/api/v1/session/{sid}/status", {"X-Session-Token": tok})
    variants = {
        "bare_one_row": (bare, one_row),
        "baseline_nodb": nodb,
        "baseline_one_row": one_row,
        "status": status,
    }
    figures = side_by_side(server, variants, scale)
    s, one, nodb_fig = figures["status"], figures["baseline_one_row"], figures["baseline_nodb"]
    per_round = round_ratios(figures, "status", "bare_one_row")
    worst = check("status req/s, worst round", min(per_round), BARE_ONE_ROW + " (same round)", 1.0, 0.8)
    worst["value"] = min(per_round)
    checks = [
        check("status req/s", s["rps"], BARE_ONE_ROW, figures["bare_one_row"]["rps"], 1.0),
        worst,
        check("status req/s", s["rps"], "single-row query view", one["rps"], 1.0),
        check("status req/s", s["rps"], "no-DB view", nodb_fig["rps"], 0.6),
    ]
    checks.append(_zero_errors("status", s))
    for c in checks:
        print_check(c)
    return {"figures": figures, "checks": checks}


def _zero_errors(name: str, fig: dict[str, Any]) -> dict[str, Any]:
    passed = fig["errors"] == 0
    print(f"  {'PASS' if passed else 'FAIL'}  {name}: {fig['errors']} errors in {fig['requests']} requests")
    return {
        "name": f"{name} errors",
        "value": fig["errors"],
        "baseline": "",
        "baseline_value": 0,
        "ratio": 0,
        "target": "0 errors",
        "passed": passed,
        "silent": True,
    }


def integrator_reads(server: Gunicorn, fx: dict[str, Any], scale: Scale, bare: BareGunicorn) -> dict[str, Any]:
    """2. GET process, GET activity and 100-item list pages vs the bare Django single-row view
    (and the in-stack one)."""
    print("\n[2] Integrator reads: GET process, GET activity, lists of 100")
    _, one_row, _ = _baselines(fx)
    org = fx["org"]
    variants: dict[str, Any] = {
        "bare_one_row": (bare, one_row),
        "baseline_one_row": one_row,
        "get_process": [_api(fx, "GET", f"/api/v1/orgs/{org}/processes/{p}") for p in fx["processes"]],
        "get_activity": [_api(fx, "GET", f"/api/v1/orgs/{org}/activities/{a}") for a in fx["activities"]],
        "list_activities_100": [_api(fx, "GET", f"/api/v1/orgs/{org}/activities?page_size=100")],
        "list_processes_100": [_api(fx, "GET", f"/api/v1/orgs/{org}/processes?page_size=100")],
    }
    figures = side_by_side(server, variants, scale)
    one = figures["baseline_one_row"]["rps"]
    bare_one = figures["bare_one_row"]["rps"]
    checks = [
        check("GET process req/s", figures["get_process"]["rps"], BARE_ONE_ROW, bare_one, 0.5),
        check("GET activity req/s", figures["get_activity"]["rps"], BARE_ONE_ROW, bare_one, 0.5),
        check("GET process req/s", figures["get_process"]["rps"], "single-row query view", one, 0.8),
        check("GET activity req/s", figures["get_activity"]["rps"], "single-row query view", one, 0.8),
    ]
    for c in checks:
        print_check(c)
    for name in ("list_activities_100", "list_processes_100"):
        f = figures[name]
        print(
            f"  info  {name}: {f['rps']} req/s = {f['rps'] * 100:.0f} items/s (ratio to single-row {f['rps'] / one:.2f})"
        )
    for name in variants:
        if not name.startswith(("baseline_", "bare_")):
            checks.append(_zero_errors(name, figures[name]))
    return {"figures": figures, "checks": checks}


def creation(server: Gunicorn, fx: dict[str, Any], scale: Scale, bare: BareGunicorn) -> dict[str, Any]:
    """5. POST activities and POST sessions (with audit row and event) vs the bare Django INSERT
    view (and the in-stack one)."""
    print("\n[5] Creation: POST activities, POST sessions vs a single-INSERT view")
    _, _, insert = _baselines(fx)
    org = fx["org"]
    variants: dict[str, Any] = {
        "bare_insert": (bare, insert),
        "baseline_insert": insert,
        "post_activity": [_api(fx, "POST", f"/api/v1/orgs/{org}/activities", fixtures.activity_body(fx))],
        "post_session": [_api(fx, "POST", f"/api/v1/orgs/{org}/sessions", fixtures.session_body())],
    }
    figures = side_by_side(server, variants, scale)
    base = figures["baseline_insert"]["rps"]
    bare_base = figures["bare_insert"]["rps"]
    checks = [
        check("POST activities req/s", figures["post_activity"]["rps"], BARE_INSERT, bare_base, 0.3),
        check("POST sessions req/s", figures["post_session"]["rps"], BARE_INSERT, bare_base, 0.3),
        check("POST activities req/s", figures["post_activity"]["rps"], "single-INSERT view", base, 0.5),
        check("POST sessions req/s", figures["post_session"]["rps"], "single-INSERT view", base, 0.5),
    ]
    for c in checks:
        print_check(c)
    checks += [_zero_errors(n, figures[n]) for n in ("post_activity", "post_session")]
    return {"figures": figures, "checks": checks}
