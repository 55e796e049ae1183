"""``bansos-eligibility [all|api|relay|consume|asyncapi]`` — or ``python -m bansos_eligibility``."""

from __future__ import annotations

from bansos_eligibility.bootstrap import DEFINITION
from bansos_libs.runtime import main as run_service


def main() -> None:
    """Run the eligibility service in a role, or print its AsyncAPI document (``asyncapi``)."""
    run_service(DEFINITION)


if __name__ == "__main__":
    main()
