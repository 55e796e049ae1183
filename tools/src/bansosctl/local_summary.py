"""What `make run` prints when the local stack is up: where everything is."""

from __future__ import annotations

import os
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
    console.print("Stop everything:      make stop")


if __name__ == "__main__":
    summary()
