"""Atomic file writes: a crash never leaves a half-written file under its final name, and a
reader sees the old file or the new one, never a mix."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to a temp file beside `path`, fsync it, then rename it over `path`."""
    tmp = _staged(path, data)
    try:
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def published_with(contents: dict[Path, bytes]) -> Iterator[Callable[[], None]]:
    """Files that appear together with something else (a transaction's rows): each is
    staged beside its target first, so a full disk or a read-only folder fails before
    anything is visible; the yielded `publish` renames them all into place; an exception
    later in the block (the commit that follows) puts the previous versions back, or removes
    files that did not exist before. Readers see the old files or the new ones."""
    staged: dict[Path, Path] = {}
    kept: dict[Path, Path | None] = {}  # target -> its previous version (a hard link)
    try:
        for path, data in contents.items():
            staged[path] = _staged(path, data)

        def publish() -> None:
            for path, tmp in staged.items():
                previous = None
                if path.exists():
                    previous = path.with_name(f".{path.name}.previous")
                    previous.unlink(missing_ok=True)
                    os.link(path, previous)
                kept[path] = previous
                tmp.replace(path)

        yield publish
    except BaseException:
        for path, previous in kept.items():
            if previous is None:
                path.unlink(missing_ok=True)
            else:
                previous.replace(path)
        raise
    finally:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)
        for previous in kept.values():
            if previous is not None:
                previous.unlink(missing_ok=True)


def _staged(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o644)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)
