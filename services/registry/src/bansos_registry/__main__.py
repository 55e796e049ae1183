"""``bansos-registry [all|api|relay|consume]`` — or ``python -m bansos_registry``."""

from __future__ import annotations

import json
import sys

from bansos_libs.asyncapi import service_asyncapi
from bansos_libs.runtime import main as run_service
from bansos_registry.bootstrap import DEFINITION


def main() -> None:
    """Run the registry in a role, or print its AsyncAPI document (``asyncapi``)."""
    if sys.argv[1:2] == ["asyncapi"]:
        print(json.dumps(service_asyncapi(DEFINITION), indent=2, sort_keys=True))
        return
    run_service(DEFINITION, sys.argv[1:])


if __name__ == "__main__":
    main()
