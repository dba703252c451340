"""Counts the requests schemathesis sent and prints them at the end of the run."""

from __future__ import annotations

from collections import Counter

# (phase, "METHOD /path", status code) → requests sent.
CALLS: Counter[tuple[str, str, int]] = Counter()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not CALLS:
        return
    write = terminalreporter.write_line
    terminalreporter.section("schemathesis")
    for phase in ("stateless", "stateful"):
        calls = {key: n for key, n in CALLS.items() if key[0] == phase}
        if not calls:
            continue
        # Requests with another method than the operation's are the unsupported-method probes.
        operations = {operation for _, operation, _ in calls if "(sent as" not in operation}
        reached_2xx = {operation for (_, operation, status) in calls if 200 <= status < 300}
        probes = sum(n for (_, operation, _), n in calls.items() if "(sent as" in operation)
        statuses = Counter()
        for (_, _, status), n in calls.items():
            statuses[status] += n
        write(
            f"{phase}: {sum(calls.values())} requests ({probes} of them method probes) over "
            f"{len(operations)} operations, {len(operations & reached_2xx)} answered 2xx at least once; by status: "
            + ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items()))
        )
        never = sorted(operations - reached_2xx)
        if never:
            write(f"  never 2xx: {', '.join(never)}")
