"""Process entry point of the test pipeline (kept apart so that the stored event
classes are ``tests.integration.pipeline_app.*``, never ``__main__.*``).

    python -m tests.integration.run_pipeline source relay
    python -m tests.integration.run_pipeline sink consume
    python -m tests.integration.run_pipeline command VILLAGE FIRST COUNT
"""

import sys

from bansos_libs.runtime import main
from tests.integration.pipeline_app import SINK, SOURCE, command

if __name__ == "__main__":
    which, *rest = sys.argv[1:]
    if which == "command":
        command(rest[0], int(rest[1]), int(rest[2]))
    else:
        main(SOURCE if which == "source" else SINK, rest)
