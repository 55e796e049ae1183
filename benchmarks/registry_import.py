"""DTSEN snapshot import into PostgreSQL: households per second and peak memory.

Each size runs in its own process so its peak RSS is its own; memory must not grow with
the file (100,000 vs 300,000 households).

    python -m benchmarks.registry_import run FILE   (prints "rate peak_rss_mb")
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from benchmarks.stack import ROOT, drop_database, new_database


def _run(path: Path) -> None:
    from eventsourcing.cryptography import AESCipher

    from bansos_libs.logs import configure_logging
    from bansos_libs.settings import ServiceSettings
    from bansos_registry.bootstrap import bootstrap

    configure_logging("bench", "WARNING")
    url = new_database()
    registry = bootstrap(
        ServiceSettings(service="registry", database_url=url, cipher_key=AESCipher.create_key(32))
    )
    try:
        started = time.perf_counter()
        summary = registry.importer.run(
            path, "BENCH", date(2025, 9, 1), actor={"role": "system", "id": "bench", "region": None}
        )
        seconds = time.perf_counter() - started
    finally:
        registry.close()
        drop_database(url)
    assert summary.registered + summary.rejected > 0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{summary.registered / seconds:.1f} {peak_mb:.1f}", flush=True)


def run(sizes: tuple[int, ...], folder: Path) -> dict[str, float]:
    """Import a generated snapshot of each size into a fresh database."""
    from bansos_registry.sample import SampleSpec, write_snapshot

    result: dict[str, float] = {}
    for size in sizes:
        path = folder / f"jombang-{size}.csv"
        if not path.exists():
            write_snapshot(path, SampleSpec(households=size, seed=11))
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.registry_import", "run", str(path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        rate, peak = (float(x) for x in done.stdout.split()[-2:])
        result[f"import_{size}_households_per_s"] = rate
        result[f"import_{size}_peak_rss_mb"] = peak
    return result


if __name__ == "__main__":
    _run(Path(sys.argv[2]))
