"""Development secrets on disk: created once, atomically, readable by the owner only."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["create_once"]


def create_once(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` unless the file exists; mode 0600, directory 0700.

    The file is written under a temporary name and published with a hard link, so two
    processes starting at once end up with the same secret (the loser's is discarded).
    """
    target = Path(path).expanduser()
    if target.exists():
        return
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)  # whatever the umask
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, target)
        except FileExistsError:  # another process won the race: use its secret
            pass
        except OSError:  # a filesystem without hard links
            _write_exclusive(target, content)
    finally:
        temporary.unlink(missing_ok=True)


def _write_exclusive(target: Path, content: bytes) -> None:
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
