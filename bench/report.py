"""Render the tables of docs/benchmarks.md from a JSON summary (between the RESULTS markers)."""

from __future__ import annotations

from typing import Any

from bench.common import ROOT

DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def tables(summary: dict[str, Any]) -> str:
    m = summary["machine"]
    lines = [
        f"Run: `{summary['command']}` ({summary['mode']} mode), {summary['started_at']}, {summary['seconds']} s.",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram_gb']} GB RAM, Python {m['python']}, "
        f"PostgreSQL {m['postgresql']}, Redis {m['redis']}, Linux {m['kernel']}; "
        f"gunicorn {summary['scale']['workers']} workers x 4 threads, 16 connections.",
        "",
        "| Benchmark | Figure | Baseline (same run) | Ratio | Target | Result |",
        "|---|---|---|---|---|---|",
    ]
    for name, bench in summary["benchmarks"].items():
        for c in bench.get("checks", []):
            if c.get("silent") and c["passed"]:
                continue
            baseline = f"{c['baseline']} {c['baseline_value']}" if c["baseline"] else "—"
            ratio = f"{c['ratio']:.2f}" if c["baseline"] else "—"
            lines.append(
                f"| {name} | {c['name']}: {c['value']} | {baseline} | {ratio} | {c['target']} | "
                f"{'PASS' if c['passed'] else '**FAIL**'} |"
            )
    for name, bench in summary["benchmarks"].items():
        figures = bench.get("figures")
        if not figures:
            continue
        if all(isinstance(v, dict) and "rps" in v for v in figures.values()):
            lines += ["", f"**{name}** (medians of {summary['scale']['rounds']} interleaved rounds)", ""]
            lines += ["| Endpoint | req/s | p50 ms | p99 ms | errors | per-round req/s |", "|---|---|---|---|---|---|"]
            for endpoint, f in figures.items():
                rounds = ", ".join(f"{r:.0f}" for r in f["rounds"])
                lines.append(f"| {endpoint} | {f['rps']} | {f['p50_ms']} | {f['p99_ms']} | {f['errors']} | {rounds} |")
        else:
            lines += ["", f"**{name}**", "", "| Figure | Value |", "|---|---|"]
            lines += [f"| {k} | {v} |" for k, v in figures.items()]
    return "\n".join(lines)


def render(summary: dict[str, Any]) -> None:
    text = DOC.read_text()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    DOC.write_text(f"{head}{BEGIN}\n{tables(summary)}\n{END}{tail}")
    print(f"Wrote {DOC}")
