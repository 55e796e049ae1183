"""``bansos-objections [all|api|relay|consume|asyncapi]`` — or ``python -m bansos_objections``."""

from __future__ import annotations

from bansos_libs.runtime import main as run_service
from bansos_objections.bootstrap import DEFINITION


def main() -> None:
    """Run the objections service in a role, or print its AsyncAPI document (``asyncapi``)."""
    run_service(DEFINITION)


if __name__ == "__main__":
    main()
