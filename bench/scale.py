"""Growth at a million rows: every back-office and API list page at demo size, then at full size.

    python -m bench.scale [--scale 0.01] [--rounds 5] [--keep] [--no-docs] [--render] [--note TEXT]
    python -m bench.scale --scale 0.1 --profile "identities ?state__exact=INVITED"   # where a page's time goes

One run, production settings (bench/settings.py: config.settings.production with the
variables it needs), its own PostgreSQL database (`portal_scale`, created and dropped; the
name comes from BENCH_SCALE_DB_NAME) and Redis database (BENCH_REDIS_URL, db 9 by default):

1. Demo-size data made through the services, as integrators make it (bench/fixtures.py: an
   organization, identities, activities, processes, sessions; plus OTP identifications, a
   webhook endpoint and its deliveries, a superuser and an organization's staff member).
2. Every page measured at that size: admin changelists, filtered changelists, object pages,
   admin search by id, the dashboard (default period and 90 days), API lists (first page and
   page 20, through the keyset cursor of the `next` links), the staff member's own changelists.
3. The issue's sizes generated through SQL (times --scale): 1,000,000 activities, 1,000,000 audit
   rows, 500,000 deliveries, 200,000 identities and processes, 100,000 sessions, people and OTP
   identifications, each row a copy of a real row made in step 1 (encrypted values included,
   so every page decrypts valid ciphertext), with a fresh id, unique hashes, a spread of
   statuses and creation times over the last 120 days. Then VACUUM ANALYZE.
4. Every page again. Cold = the first request on a new database connection; warm = the median
   of --rounds requests after it; queries = the warm request's SQL statements.

Pages are requested in-process through Django's test client (the full middleware stack, no
network). The table goes to docs/benchmarks.md between the `scale:begin`/`scale:end` markers
(replaced on each run) and a JSON summary to bench/results/scale-latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/scale.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("BENCH_DB_NAME", os.environ.get("BENCH_SCALE_DB_NAME", "portal_scale"))

from bench import common

SIZES = {
    "activities": 1_000_000,
    "transitions": 1_000_000,
    "deliveries": 500_000,
    "identities": 200_000,
    "processes": 200_000,
    "sessions": 100_000,
    "people": 100_000,
    "identifications": 100_000,
}
SPREAD_DAYS = 120
DOCS = common.ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- scale:begin -->", "<!-- scale:end -->"
WARM_LIMIT_MS = 150.0
GROWTH_LIMIT = 3.0


@dataclass
class Page:
    group: str
    name: str
    url: str
    who: str  # "superuser", "staff" or "api"


# --- Data ------------------------------------------------------------------------------------


def demo_data() -> dict[str, Any]:
    """Demo-size rows, every one made through the services."""
    from datetime import timedelta

    from django.contrib.auth.models import Permission

    from apps.activities.models import Activity
    from apps.activities.services import activity_accept
    from apps.audit.services import Actor
    from apps.identifications.services import ActorData, identification_create
    from apps.identities.models import ExternalPersonalIdentity
    from apps.organizations.models import Membership, Organization
    from apps.people.models import User
    from apps.webhooks.endpoints import endpoint_create
    from apps.webhooks.relay import events_relay
    from bench import fixtures

    fx = fixtures.build()
    org = Organization.objects.get(slug=fx["org"])
    actor = Actor.system("benchmark")
    # The receptor answers a third of the requests (her own act), so that the demo size has
    # accepted activities and audit rows for the filtered pages to find.
    receptor = ExternalPersonalIdentity.objects.get(pk=fx["receptor"]).person
    for activity in Activity.objects.filter(pk__in=fx["activities"][::3]):
        activity_accept(activity=activity, sharing_period=timedelta(days=30), actor=Actor.user(receptor))
    for n in range(50):
        identification_create(
            organization=org,
            actor_data=ActorData(name="Ana", surname="Bench", email=f"otp{n}@bench.example"),
            channel="EMAIL",
            expires_in=timedelta(hours=1),
            actor=actor,
        )
    endpoint, _ = endpoint_create(
        organization=org,
        url="http://127.0.0.1:9/hook",
        events=["activity.status_changed", "process.status_changed", "identity.state_changed"],
    )
    while events_relay(batch_size=500):
        pass
    superuser = User.objects.create_superuser("root@bench.example", None)
    staff = User.objects.create_user("staff@bench.example", None, is_staff=True)
    staff.user_permissions.set(
        Permission.objects.filter(
            codename__in=["view_activity", "view_externalpersonalidentity", "view_verificationprocess"]
        )
    )
    Membership.objects.create(organization=org, user=staff)
    # A second organization, so that the staff member's lists are scoped for real.
    other = Organization.objects.create(slug="bench-other", name="Other Org")
    fx.update(endpoint=str(endpoint.pk), superuser=str(superuser.pk), staff=str(staff.pk), org_id=org.pk)
    fx["other_org_id"] = other.pk
    return fx


def _columns(cursor: Any, table: str) -> list[str]:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position", [table]
    )
    return [row[0] for row in cursor.fetchall()]


def _cases(column: str, values: list[str]) -> str:
    """A spread of states: value i for the rows where n % len(values) == i."""
    whens = " ".join(f"WHEN {i} THEN '{value}'" for i, value in enumerate(values))
    return f"CASE n % {len(values)} {whens} END"


def _multiply(table: str, count: int, template: str, overrides: dict[str, str], omit: tuple[str, ...] = ()) -> float:
    """INSERT `count` copies of the template rows (`template`: a WHERE clause), column by column
    as they are except `overrides` (SQL expressions of n, the row number, and t, the template row)."""
    from django.db import connection

    if count <= 0:
        return 0.0
    started = time.perf_counter()
    with connection.cursor() as cursor:
        columns = [c for c in _columns(cursor, table) if c not in omit]
        select = ", ".join(overrides.get(c, f't."{c}"') for c in columns)
        step = SPREAD_DAYS * 86400 / count
        sql = f"""
            WITH tpl AS (
                SELECT *, (row_number() OVER () - 1) AS rn, count(*) OVER () AS k FROM {table} WHERE {template}
            ),
            gen AS (
                SELECT n, now() - (n * {step}) * interval '1 second' AS at FROM generate_series(1, {count}) n
            )
            INSERT INTO {table} ({", ".join(f'"{c}"' for c in columns)})
            SELECT {select} FROM gen JOIN tpl t ON t.rn = gen.n % t.k
        """  # noqa: S608 - table, columns and expressions are this module's constants
        cursor.execute(sql)
    return time.perf_counter() - started


def generate(fx: dict[str, Any], factor: float) -> dict[str, Any]:
    """The issue's sizes (times `factor`), copies of the demo rows, through SQL."""
    from django.db import connection

    sizes = {name: max(1, int(size * factor)) for name, size in SIZES.items()}
    org = f"organization_id = '{uuid.UUID(str(fx['org_id']))}'"
    at = "gen.at"
    uid = "gen_random_uuid()"
    seconds: dict[str, float] = {}

    def sha(prefix: str) -> str:
        return f"encode(sha256(convert_to('{prefix}-' || n, 'UTF8')), 'hex')"

    print(f"  generating: {', '.join(f'{k} {v:,}' for k, v in sizes.items())}")
    seconds["people"] = _multiply(
        "people_user",
        sizes["people"],
        "NOT is_staff AND NOT is_superuser",
        {"id": uid, "email_hash": sha("person"), "date_joined": at, "last_login": "NULL"},
    )
    seconds["identities"] = _multiply(
        "identities_externalpersonalidentity",
        sizes["identities"],
        org,
        {
            "id": uid,
            "email_hash": sha("identity"),
            "state": _cases("state", ["ACTIVE", "ACTIVE", "INVITED", "DEACTIVATED"]),
            "person_id": "NULL",
            "created_at": at,
            "updated_at": at,
        },
    )
    seconds["activities"] = _multiply(
        "activities_activity",
        sizes["activities"],
        org,
        {
            "id": uid,
            "status": _cases("status", ["COMPLETED", "ACCEPTED", "DECLINED", "CANCELED", "EXPIRED", "PENDING"]),
            "valid_until": "now() + interval '7 days'",
            "sharing_until": "now() + interval '30 days'",
            "created_at": at,
            "updated_at": at,
        },
    )
    seconds["processes"] = _multiply(
        "verifications_verificationprocess",
        sizes["processes"],
        org,
        {
            "id": uid,
            "status": _cases(
                "status", ["accepted", "accepted", "rejected", "failed", "canceled", "inconclusive", "processing"]
            ),
            "activity_id": "NULL",
            "deadline_at": "now() + interval '1 day'",
            "created_at": at,
            "updated_at": at,
        },
    )
    seconds["sessions"] = _multiply(
        "transfers_transfersession",
        sizes["sessions"],
        org,
        {
            "id": uid,
            "token_hash": sha("session"),
            "status": _cases("status", ["confirmed", "confirmed", "expired", "declined"]),
            "replaced_by_id": "NULL",
            "replacement_token": "NULL",
            "person_id": "NULL",
            "expires_at": f"{at} + interval '10 minutes'",
            "created_at": at,
            "updated_at": at,
        },
    )
    seconds["identifications"] = _multiply(
        "identifications_otpidentification",
        sizes["identifications"],
        org,
        {
            "id": uid,
            "status": _cases("status", ["IDENTIFIED", "IDENTIFIED", "EXPIRED", "FAILED", "CANCELED"]),
            "expires_at": f"{at} + interval '1 hour'",
            "created_at": at,
            "updated_at": at,
        },
    )
    seconds["transitions"] = _multiply(
        "audit_transition",
        sizes["transitions"],
        org,
        # A tenth of them accepted (an audit log has every state; the demo's rows are creations).
        {
            "object_id": f"{uid}::text",
            "to_state": "CASE WHEN n % 10 = 0 THEN 'ACCEPTED' ELSE t.to_state END",
            "created_at": at,
            "published_at": at,
        },
        omit=("id",),
    )
    seconds["deliveries"] = _multiply(
        "webhooks_delivery",
        sizes["deliveries"],
        org,
        {
            "id": uid,
            "status": _cases("status", ["succeeded"] * 18 + ["dead", "pending"]),
            "next_attempt_at": "CASE WHEN n % 20 = 19 THEN now() + interval '1 day' END",
            "enqueued_at": "NULL",
            "claimed_at": "NULL",
            "redelivery_of_id": "NULL",
            "created_at": at,
            "updated_at": at,
        },
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    seconds["vacuum_analyze"] = time.perf_counter() - started
    return {"sizes": sizes, "seconds": {k: round(v, 1) for k, v in seconds.items()}}


# --- Pages -----------------------------------------------------------------------------------


def _one(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return str(row[0])


def _middle(table: str, org_id: str) -> str:
    """The id of a row in the middle of the table's history (not the newest: no page cache helps)."""
    return _one(
        f"SELECT id FROM {table} WHERE organization_id = '{org_id}' ORDER BY created_at DESC"  # noqa: S608
        f" OFFSET (SELECT count(*) / 2 FROM {table} WHERE organization_id = '{org_id}') LIMIT 1"
    )


def pages(fx: dict[str, Any]) -> list[Page]:
    org_id = str(uuid.UUID(str(fx["org_id"])))
    activity = _middle("activities_activity", org_id)
    process = _middle("verifications_verificationprocess", org_id)
    identity = _middle("identities_externalpersonalidentity", org_id)
    session = _middle("transfers_transfersession", org_id)
    delivery = _middle("webhooks_delivery", org_id)
    transition = _one(
        f"SELECT id FROM audit_transition WHERE organization_id = '{org_id}' ORDER BY id"  # noqa: S608
        f" OFFSET (SELECT count(*) / 2 FROM audit_transition) LIMIT 1"
    )
    subject = _one(f"SELECT object_id FROM audit_transition WHERE id = {int(transition)}")  # noqa: S608
    person = _one("SELECT id FROM people_user WHERE NOT is_staff ORDER BY date_joined DESC LIMIT 1")
    slug, endpoint = fx["org"], fx["endpoint"]
    admin = "/admin"
    out = []

    def add(group: str, name: str, url: str, who: str = "superuser") -> None:
        out.append(Page(group, name, url, who))

    for label, path, filtered, obj in (
        ("activities", "activities/activity", "status__exact=ACCEPTED", activity),
        ("audit transitions", "audit/transition", "to_state=ACCEPTED", transition),
        ("deliveries", "webhooks/delivery", "status__exact=dead", delivery),
        ("processes", "verifications/verificationprocess", "status__exact=failed", process),
        ("identities", "identities/externalpersonalidentity", "state__exact=INVITED", identity),
        ("sessions", "transfers/transfersession", "status__exact=declined", session),
        ("people", "people/user", "is_active__exact=1", person),
    ):
        add("admin changelist", label, f"{admin}/{path}/")
        add("admin filtered", f"{label} ?{filtered}", f"{admin}/{path}/?{filtered}")
        add("admin object", label, f"{admin}/{path}/{obj}/change/")
        term = subject if label == "audit transitions" else obj
        if label == "people":
            term = "person-1@bench.example"
        add("admin search", f"{label} by {'email' if label == 'people' else 'id'}", f"{admin}/{path}/?q={term}")
    add(
        "staff (org-scoped)",
        "identities (the organization's people)",
        f"{admin}/identities/externalpersonalidentity/",
        "staff",
    )
    add("staff (org-scoped)", "activities", f"{admin}/activities/activity/", "staff")
    add(
        "staff (org-scoped)",
        "processes ?status__exact=failed",
        f"{admin}/verifications/verificationprocess/?status__exact=failed",
        "staff",
    )
    add("dashboard", "default period (30 days)", f"{admin}/dashboard/")
    add("dashboard", "90 days", f"{admin}/dashboard/?days=90")
    api = f"/api/v1/orgs/{slug}"
    for label, path in (
        ("activities", "activities"),
        ("activities ?status=ACCEPTED", "activities?status=ACCEPTED"),
        ("identities", "external-personal-identities"),
        ("processes", "processes"),
        ("OTP identifications", "identifications/otp"),
        ("webhook deliveries", f"webhooks/{endpoint}/deliveries"),
    ):
        add("API list", f"{label} page 1", f"{api}/{path}", "api")
        add("API list", f"{label} page 20", f"{api}/{path}#page20", "api")
    return out


class Measurer:
    def __init__(self, fx: dict[str, Any], rounds: int) -> None:
        from django.test import Client

        self.fx = fx
        self.rounds = rounds
        self.clients = {
            "superuser": self._staff_client(fx["superuser"]),
            "staff": self._staff_client(fx["staff"]),
            "api": Client(SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Bearer {fx['api_key']}"),
        }

    @staticmethod
    def _staff_client(user_id: str) -> Any:
        from django.test import Client
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from apps.people.models import User

        user = User.objects.get(pk=user_id)
        device, _ = TOTPDevice.objects.get_or_create(user=user, name="Authenticator app", defaults={"confirmed": True})
        client = Client(SERVER_NAME="localhost")
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    def _resolve(self, page: Page) -> str:
        """Page 20 of an API list: follow 19 `next` links (the keyset cursor) to its URL."""
        if not page.url.endswith("#page20"):
            return page.url
        url = page.url.removesuffix("#page20")
        for _ in range(19):
            response = self.clients["api"].get(url)
            following = response.json().get("next")
            if not following:
                break
            url = following
        return url

    def measure(self, page: Page) -> dict[str, Any]:
        from django.db import connection, connections
        from django.test.utils import CaptureQueriesContext

        client = self.clients[page.who]
        url = self._resolve(page)
        connections.close_all()
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as cold_queries:
            response = client.get(url)
        cold = (time.perf_counter() - started) * 1000
        statuses = {response.status_code}
        warm = []
        queries = 0
        for _ in range(self.rounds):
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url)
            warm.append((time.perf_counter() - started) * 1000)
            statuses.add(response.status_code)
            queries = len(ctx)
        return {
            "cold_ms": round(cold, 1),
            "cold_queries": len(cold_queries),
            "warm_ms": round(statistics.median(warm), 1),
            "queries": queries,
            "statuses": sorted(statuses),
        }

    def profile(self, page: Page, top: int = 30) -> None:
        """Where one warm request of `page` spends its time: cProfile's functions by cumulative and by own time."""
        import cProfile
        import io
        import pstats

        client = self.clients[page.who]
        url = self._resolve(page)
        client.get(url)  # warm
        profiler = cProfile.Profile()
        profiler.enable()
        client.get(url)
        profiler.disable()
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(top)
            print(f"\n=== {page.group} | {page.name}: by {order} ===\n{out.getvalue()}")


def _recount() -> dict[str, Any]:
    """The dashboard's background recount (apps.dashboard.tallies), timed."""
    from apps.dashboard.tallies import tallies_recount

    started = time.perf_counter()
    run = tallies_recount()
    seconds = round(time.perf_counter() - started, 2)
    print(f"  dashboard recount: {run.tallies} tallies in {seconds} s")
    return {"seconds": seconds, "tallies": run.tallies}


def measure_all(fx: dict[str, Any], page_list: list[Page], rounds: int, label: str) -> dict[str, dict[str, Any]]:
    measurer = Measurer(fx, rounds)
    results = {}
    for page in page_list:
        key = f"{page.group} | {page.name}"
        results[key] = measurer.measure(page)
        r = results[key]
        print(
            f"  [{label}] {key:<70} cold {r['cold_ms']:>8.1f} ms ({r['cold_queries']} q)"
            f"  warm {r['warm_ms']:>8.1f} ms ({r['queries']} q)  {r['statuses']}"
        )
    return results


# --- Report ----------------------------------------------------------------------------------


def render(summary: dict[str, Any]) -> str:
    lines = [
        f"Run: `{summary['command']}`, {summary['started_at']}, {summary['seconds']} s"
        f" (data generation {summary['generation_seconds']} s).",
        "",
        f"Machine: {summary['machine']}. {summary['note']}",
        "",
        "Rows: " + ", ".join(f"{k} {v:,}" for k, v in summary["sizes"].items()) + ".",
        "",
    ]
    if "recount" in summary:
        lines += [
            f"The dashboard's background recount (beat, every 5 minutes) at this size:"
            f" {summary['recount']['seconds']} s for {summary['recount']['tallies']:,} hourly tallies.",
            "",
        ]
    lines += [
        f"Target: warm ≤ {GROWTH_LIMIT:g}x the demo-size warm time and < {WARM_LIMIT_MS:g} ms."
        f" {summary['passed']} of {summary['total']} pages meet it.",
        "",
        "| Page | demo warm ms (queries) | full cold ms (queries) | full warm ms (queries) | growth | Result |",
        "|---|---|---|---|---|---|",
    ]
    for key, row in summary["pages"].items():
        demo, full = row["demo"], row["full"]
        growth = full["warm_ms"] / demo["warm_ms"] if demo["warm_ms"] else 0.0
        bad = [s for s in full["statuses"] if s != 200]
        result = "PASS" if row["passed"] else "**FAIL**"
        if bad:
            result += f" (status {bad})"
        lines.append(
            f"| {key} | {demo['warm_ms']} ({demo['queries']}) | {full['cold_ms']} ({full['cold_queries']})"
            f" | {full['warm_ms']} ({full['queries']}) | {growth:.2f}x | {result} |"
        )
    return "\n".join(lines)


def write_docs(text: str) -> None:
    doc = DOCS.read_text()
    block = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in doc and END in doc:
        head, rest = doc.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        doc = head + block + tail
    else:
        doc = doc.rstrip("\n") + "\n\n## Growth at a million rows (`bench/scale.py`)\n\n" + block + "\n"
    DOCS.write_text(doc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1")))
    parser.add_argument("--rounds", type=int, default=5, help="warm requests per page (the median is shown)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument("--note", default="", help="a sentence shown next to the figures (e.g. the machine's load)")
    parser.add_argument("--render", action="store_true", help="only write docs/benchmarks.md from the last JSON")
    parser.add_argument(
        "--profile",
        default="",
        help="after the full size, profile (cProfile) one warm request of every page whose name contains this"
        " text and print where the time goes; nothing is recorded",
    )
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    latest = common.ROOT / "bench" / "results" / "scale-latest.json"
    if args.render:
        summary = json.loads(latest.read_text())
        if args.note:
            summary["note"] = args.note
        write_docs(render(summary))
        return 0

    from bench.run import machine

    started = time.perf_counter()
    summary: dict[str, Any] = {
        "command": "make bench" + (f" (python -m bench.scale --scale {args.scale:g})" if args.scale != 1 else ""),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "scale": args.scale,
    }
    info = machine()
    summary["machine"] = (
        f"{info['nproc']} CPUs ({info['cpu']}), {info['ram_gb']} GB RAM, Python {info['python']},"
        f" PostgreSQL {info['postgresql'].split(' ')[0]}; in-process Django test client, production settings"
    )
    load = Path("/proc/loadavg").read_text().split()[:3]
    summary["note"] = args.note or f"Load average at the start: {' '.join(load)}."
    print(f"Scale benchmark at {args.scale:g}x the issue's sizes; database {common.DB_NAME}")

    common.apply_env()
    common.database_create()
    common.redis_flush()
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        call_command("collectstatic", verbosity=0, interactive=False)  # the manifest production pages need
        print("Demo-size data through the services ...")
        fx = demo_data()
        _recount()  # what beat does every DASHBOARD_RECOUNT_SECONDS
        page_list = pages(fx)
        print(f"Demo size: {len(page_list)} pages")
        demo = measure_all(fx, page_list, args.rounds, "demo")
        print("Generating the full size through SQL ...")
        gen_started = time.perf_counter()
        generated = generate(fx, args.scale)
        summary["generation_seconds"] = round(time.perf_counter() - gen_started, 1)
        summary["generation"] = generated["seconds"]
        summary["sizes"] = generated["sizes"]
        summary["recount"] = _recount()
        page_list = pages(fx)  # ids in the middle of the now big tables
        full = measure_all(fx, page_list, args.rounds, "full")
        if args.profile:
            measurer = Measurer(fx, args.rounds)
            for page in page_list:
                if args.profile in f"{page.group} | {page.name}":
                    measurer.profile(page)
            return 0
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            common.database_drop()
        common.redis_flush()

    rows = {}
    for key, result in full.items():
        before = demo.get(key) or result
        passed = (
            result["warm_ms"] < WARM_LIMIT_MS
            and result["warm_ms"] <= GROWTH_LIMIT * max(before["warm_ms"], 1.0)
            and result["statuses"] == [200]
        )
        rows[key] = {"demo": before, "full": result, "passed": passed}
    summary["pages"] = rows
    summary["total"] = len(rows)
    summary["passed"] = sum(1 for r in rows.values() if r["passed"])
    summary["seconds"] = round(time.perf_counter() - started, 1)
    latest.parent.mkdir(exist_ok=True)
    latest.write_text(json.dumps(summary, indent=2, default=str))
    text = render(summary)
    print("\n" + text)
    if not args.no_docs:
        write_docs(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
