"""Baselines for the benchmarks: the least a Django view can do, through the same middleware.

- no_db: a JsonResponse, no database access.
- one_row: one indexed single-row query (primary key) on bench_row.
- insert_one: one INSERT into bench_row.
bench_row is created and dropped by bench/run.py in the benchmark's own database.
"""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS bench_row ("
    " id bigserial PRIMARY KEY, name varchar(100) NOT NULL, payload jsonb NOT NULL,"
    " created_at timestamptz NOT NULL DEFAULT now())"
)


@require_GET
def no_db(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True, "status": "initialized"})


@require_GET
def one_row(request: HttpRequest, pk: int) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, name, payload, created_at FROM bench_row WHERE id = %s", [pk])
        row = cursor.fetchone()
    if row is None:
        return JsonResponse({"error": "not found"}, status=404)
    return JsonResponse({"id": row[0], "name": row[1], "payload": row[2], "created_at": row[3].isoformat()})


@csrf_exempt
@require_POST
def insert_one(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_row (name, payload) VALUES (%s, %s::jsonb) RETURNING id",
            ["inserted", (request.body or b"{}").decode()],
        )
        (pk,) = cursor.fetchone()
    return JsonResponse({"id": pk}, status=201)
