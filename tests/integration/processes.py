"""Start, watch and kill service processes the way an operator's supervisor would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class ServiceProcess:
    """One ``python -m MODULE ARGS`` process with its own environment and log file."""

    def __init__(
        self,
        module: str,
        args: list[str],
        env: Mapping[str, str],
        log_path: Path,
        *,
        command: list[str] | None = None,
    ) -> None:
        self.module = module
        self.args = args
        self.command = command or [sys.executable, "-m", module]
        """What is run before ``args``."""
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> ServiceProcess:
        """Start (again); output is appended to the log file."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [*self.command, *self.args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.starts += 1
        return self

    @classmethod
    def as_in_image(
        cls, service: str, args: list[str], env: Mapping[str, str], log_path: Path
    ) -> ServiceProcess:
        """The service as its container image runs it: its own command
        (``bansos-<service> ROLE``, the image's entrypoint) configured by nothing but
        environment variables."""
        command = [str(Path(sys.executable).parent / f"bansos-{service}")]
        return cls(f"bansos_{service}", args, env, log_path, command=command)

    def kill(self) -> None:
        """SIGKILL: no clean-up, no flush, exactly like a crash."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM and wait for a graceful exit (SIGKILL after ``timeout``)."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    @property
    def alive(self) -> bool:
        """Whether the process is running now."""
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        """Everything the process printed, across restarts."""
        return self.log_path.read_text(errors="replace")


def pipeline_process(
    role: str, topic: str, kafka: str, database_url: str, log_path: Path, **env: str
) -> ServiceProcess:
    """A process of the test pipeline: ``source relay``, ``sink consume`` or ``command …``."""
    return ServiceProcess(
        "tests.integration.run_pipeline",
        role.split(),
        {
            "PIPELINE_TOPIC": topic,
            "KAFKA_BOOTSTRAP_SERVERS": kafka,
            "BANSOS_OTEL_EXPORTER": "none",
            "BANSOS_HTTP_PORT": "0",
            "BANSOS_DATABASE_URL": database_url,
            **env,
        },
        log_path,
    )
