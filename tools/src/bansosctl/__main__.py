"""``python -m bansosctl``: the same as the ``bansosctl`` command."""

from bansosctl.main import app

app(prog_name="bansosctl")
