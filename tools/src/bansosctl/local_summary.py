"""What `make run` prints when the local stack is up: where everything is."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bansos_libs.settings import repo_root

PORTS = {"registry": 8101, "objections": 8102, "eligibility": 8103, "payout": 8104}


def _ready(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
            return "ready" if response.status == 200 else f"HTTP {response.status}"
    except OSError as error:
        return f"down ({error})"


def summary(console: Console | None = None) -> None:
    """Print the services, the broker, the logs and the next commands."""
    console = console or Console()
    root = repo_root()
    kafka = f"127.0.0.1:{os.environ.get('KAFKA_PORT', '9092')}"
    table = Table(title="bansos — local stack", show_lines=False)
    for column in ("what", "where", "status"):
        table.add_column(column)
    table.add_row("Kafka broker", kafka, "ready")
    for name, default in PORTS.items():
        if not (root / "services" / name / "src" / f"bansos_{name}" / "__main__.py").exists():
            continue
        port = int(os.environ.get(f"BANSOS_{name.upper()}_PORT", default))
        base = f"http://127.0.0.1:{port}"
        table.add_row(
            f"{name} service",
            f"{base}/docs  {base}/asyncapi",
            _ready(f"{base}/health/ready"),
        )
    console.print(table)
    _eligibility(console, int(os.environ.get("BANSOS_ELIGIBILITY_PORT", PORTS["eligibility"])))
    logs = Path(root / ".local" / "logs")
    console.print(f"Logs: {logs}/<service>.log   Broker log: {root}/.local/kafka/broker.log")
    console.print(
        "A development token:  TOKEN=$(.venv/bin/bansosctl token --role REGENCY_OFFICER"
        " --region 35.17)"
    )
    console.print(
        'A village\'s households: curl -H "Authorization: Bearer $TOKEN" '
        "http://127.0.0.1:8101/villages/35.17.01.2001/households?limit=5"
    )
    console.print(
        "A citizen's status:   .venv/bin/bansosctl status --nik <a head_nik of"
        " .local/sample/jombang-2025-09.csv>"
    )
    console.print("Stop everything:      make stop")


def _eligibility(console: Console, port: int, seconds: float = 60) -> None:
    """Decisions per program in the regency, once eligibility has caught up."""
    from bansos_libs.auth import AuthSettings, issuer_from_settings

    token = issuer_from_settings(AuthSettings()).mint(role="AUDITOR", region="35.17")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/summary", headers={"Authorization": f"Bearer {token}"}
    )
    rows: list[dict[str, object]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:  # the consumer may still be deciding
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                rows = json.loads(response.read())
        except OSError:
            return
        counts = [_decided(row) for row in rows]
        if rows and len(set(counts)) == 1 and counts[0] >= _households():
            break
        time.sleep(1)
    table = Table(title="eligibility in regency 35.17")
    for column in ("program", "period", "eligible", "ineligible"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["program"]),
            str(row["period"]),
            f"{row.get('eligible', 0):,}",
            f"{row.get('ineligible', 0):,}",
        )
    console.print(table)


def _decided(row: dict[str, object]) -> int:
    return sum(int(str(row.get(status, 0))) for status in ("eligible", "ineligible"))


def _households() -> int:
    sample = repo_root() / ".local" / "sample" / "jombang-2025-09.csv"
    if not sample.exists():
        return 0
    with sample.open(encoding="utf-8") as handle:
        return sum(1 for _ in handle) - 1


if __name__ == "__main__":
    summary()
