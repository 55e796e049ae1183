"""`make bench`: every benchmark on the real stack, one run, medians and ratios.

Environment: BENCH_EVENTS (default 30000), BENCH_RUNS (default 3), BENCH_IMPORT_SIZES
(default 100000,300000), BENCH_ELIGIBILITY_HOUSEHOLDS (default 100000),
BENCH_LATENCY_SAMPLES (default 100), BENCH_PAYOUT_HOUSEHOLDS (default 100000),
BENCH_COLLECTIONS (default 5000), BENCH_COLLECTION_CLIENTS (default 16), BENCH_AUDIT_EVENTS
(default 1000000), BENCH_AUDIT_POSTGRES (1 also replays from PostgreSQL; default off),
BENCH_ONLY (e.g. ``payout``; default all of pipeline, import, eligibility, payout, audit).
"""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table

from bansos_libs.telemetry import configure_tracing
from benchmarks import audit, eligibility, payout, pipeline, registry_import
from benchmarks.stack import ROOT, start_stack, stop_stack


def main() -> None:
    events = int(os.environ.get("BENCH_EVENTS", "30000"))
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    logs = ROOT / ".local" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    started = start_stack()
    # Traces start in this process (the "import" command); BENCH_TRACE_SAMPLE_RATIO=0 runs
    # the pipeline with unsampled traces, as a production setting of 0 < ratio < 1 would
    # for most traces.
    ratio = float(os.environ.get("BENCH_TRACE_SAMPLE_RATIO", "1.0"))
    configure_tracing("bench", exporter="none", sample_ratio=ratio)
    only = set(os.environ.get("BENCH_ONLY", "pipeline,import,eligibility,payout,audit").split(","))
    console = Console()
    table = Table(title=f"bansos benchmarks — {platform.node()}, {os.cpu_count()} cores")
    table.add_column("measure")
    table.add_column("median", justify="right")
    record: dict[str, object] = {"at": datetime.now(UTC).isoformat(), "cores": os.cpu_count()}
    if "pipeline" in only:
        console.print(
            f"pipeline: {runs} runs of {events} events each (PostgreSQL stores, "
            f"trace sample ratio {ratio}) …"
        )
        result = pipeline.run(events, runs, logs)
        record["pipeline"] = result
        table.add_row(
            "raw Kafka produce+consume (ceiling)",
            f"{result['raw_kafka_events_per_s']:,.0f} events/s",
        )
        table.add_row(
            "relay → Kafka → tracked consumer → PostgreSQL",
            f"{result['pipeline_events_per_s']:,.0f} events/s",
        )
        table.add_row("pipeline / ceiling", f"{result['pipeline_to_raw_ratio']:.2f}")
    if "import" in only:
        sizes = tuple(
            int(n) for n in os.environ.get("BENCH_IMPORT_SIZES", "100000,300000").split(",")
        )
        console.print(f"registry import: {', '.join(f'{n:,}' for n in sizes)} households …")
        imports = registry_import.run(sizes, logs)
        record["registry_import"] = imports
        for size in sizes:
            table.add_row(
                f"registry import into PostgreSQL, {size:,} households",
                f"{imports[f'import_{size}_households_per_s']:,.0f} households/s",
            )
            table.add_row(
                f"  peak memory (RSS), {size:,} households",
                f"{imports[f'import_{size}_peak_rss_mb']:,.0f} MB",
            )
    if "eligibility" in only:
        households = int(os.environ.get("BENCH_ELIGIBILITY_HOUSEHOLDS", "100000"))
        samples = int(os.environ.get("BENCH_LATENCY_SAMPLES", "100"))
        console.print(f"eligibility: {households:,} households, {samples} decile changes …")
        decided = eligibility.run(households, samples, logs)
        record["eligibility"] = decided
        table.add_row(
            f"eligibility decisions stored, {households:,} households x 4 programs",
            f"{decided['decisions_stored_per_s']:,.0f} decisions/s",
        )
        table.add_row(
            "  … and published on bansos.eligibility.v1",
            f"{decided['decisions_published_per_s']:,.0f} decisions/s",
        )
        table.add_row(
            "decile change published → citizen status shows it, p50",
            f"{decided['status_latency_p50_s'] * 1000:,.0f} ms",
        )
        table.add_row("  p99", f"{decided['status_latency_p99_s'] * 1000:,.0f} ms")
    if "payout" in only:
        households = int(os.environ.get("BENCH_PAYOUT_HOUSEHOLDS", "100000"))
        collections = int(os.environ.get("BENCH_COLLECTIONS", "5000"))
        clients = int(os.environ.get("BENCH_COLLECTION_CLIENTS", "16"))
        console.print(f"payout: {households:,} households, {collections:,} collections …")
        paid = payout.run(households, collections, clients, logs)
        record["payout"] = paid
        table.add_row(
            f"payouts scheduled from approved lists, {households:,} households",
            f"{paid['payouts_scheduled_per_s']:,.0f} payouts/s",
        )
        table.add_row(
            "  … and published on bansos.payout.v1",
            f"{paid['payouts_published_per_s']:,.0f} payouts/s",
        )
        table.add_row(
            f"collections recorded through POST /collections, {clients} clients",
            f"{paid['collections_per_s']:,.0f} collections/s",
        )
    if "audit" in only:
        audit_events = int(os.environ.get("BENCH_AUDIT_EVENTS", "1000000"))
        postgres = os.environ.get("BENCH_AUDIT_POSTGRES") == "1"
        console.print(f"audit and replay: {audit_events:,} events …")
        audited = audit.run(audit_events, postgres)
        record["audit"] = audited
        target, n = f"{audit.TARGET:,.0f}", f"{audit_events:,}"
        for measure, key in (
            (f"audit index build (sync), {n} events", "index"),
            (f"audit verify (chains + checkpoints), {n} events", "verify"),
            (f"replay payout read models, {n} events (SQLite)", "replay_payout_sqlite"),
            ("  … the same from PostgreSQL", "replay_payout_postgres"),
        ):
            if f"{key}_events_per_s" in audited:
                table.add_row(
                    measure,
                    f"{audited[f'{key}_events_per_s']:,.0f} events/s"
                    f" ({audited[f'{key}_to_target']:.2f} of {target})",
                )
    console.print(table)
    (logs / "results.json").write_text(json.dumps(record, indent=2))
    console.print(f"written to {logs / 'results.json'}")
    stop_stack(started)


if __name__ == "__main__":
    main()
