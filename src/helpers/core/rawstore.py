"""Raw payload files: saved exactly as received, before anything parses them.

Layout: `outputs/odds/raw/<VENDOR>/YYYY/MM/DD/HHMMSS_<vendor>[_<kind>].<ext>` with a
`.sha256` sidecar in `sha256sum` format. Writes are atomic (temp file, fsync, rename) so a
crash never leaves a half-written payload under its final name. The hash is SHA-256 of the
bytes as saved — never of re-serialized JSON — so identical responses hash identically.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from helpers.core.files import atomic_write


@dataclass(frozen=True)
class SavedPayload:
    path: Path          # absolute
    relative_path: str  # relative to OPS_HOME, what the database records
    sha256: str
    size: int


def sha256_hex(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def payload_path(raw_dir: Path, vendor: str, kind: str | None, capture_ts_utc: datetime,
                 ext: str) -> Path:
    name = f"{capture_ts_utc:%H%M%S}_{vendor.lower()}" + (f"_{kind}" if kind else "")
    return raw_dir / vendor.upper() / f"{capture_ts_utc:%Y/%m/%d}" / f"{name}.{ext}"


def save_payload(ops_home: Path, raw_dir: Path, vendor: str, kind: str | None, body: bytes,
                 capture_ts_utc: datetime, ext: str, sha256: str | None = None) -> SavedPayload:
    """Write `body` (and its .sha256 sidecar) under its canonical name and return where."""
    planned = plan_save(ops_home, raw_dir, vendor, kind, body, capture_ts_utc, ext, sha256)
    write_planned(planned, body)
    return planned


def plan_save(ops_home: Path, raw_dir: Path, vendor: str, kind: str | None, body: bytes,
              capture_ts_utc: datetime, ext: str, sha256: str | None = None) -> SavedPayload:
    """Where `body` goes, without writing it (`write_planned` does), so that the name is
    known before the bytes are on disk and the write can overlap with parsing.

    A second, different payload of the same vendor/kind in the same second gets `_2`, `_3`
    ... appended; the same bytes under the same name are not written twice.
    """
    digest = sha256 or sha256_hex(body)
    base = payload_path(raw_dir, vendor, kind, capture_ts_utc, ext)
    path, n = base, 1
    while path.exists():
        sidecar = path.with_name(path.name + ".sha256")
        if sidecar.exists() and sidecar.read_text().split(" ", 1)[0] == digest:
            break  # already saved
        n += 1
        path = base.with_name(f"{base.stem}_{n}{base.suffix}")
    try:
        relative = str(path.relative_to(ops_home))
    except ValueError:
        relative = str(path)
    return SavedPayload(path=path, relative_path=relative, sha256=digest, size=len(body))


def write_planned(planned: SavedPayload, body: bytes) -> None:
    """Write the payload and then its sidecar, each atomically; a no-op when the same bytes
    are already there. The sidecar comes last, so a sidecar vouches for a complete file."""
    sidecar = planned.path.with_name(planned.path.name + ".sha256")
    if planned.path.exists() and sidecar.exists() and \
            sidecar.read_text().split(" ", 1)[0] == planned.sha256:
        return
    planned.path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(planned.path, body)
    atomic_write(sidecar, f"{planned.sha256}  {planned.path.name}\n".encode())


def verify_payload(path: Path) -> bool:
    """True when the file's bytes still match its sidecar hash."""
    sidecar = path.with_name(path.name + ".sha256")
    return sidecar.read_text().split(" ", 1)[0] == sha256_hex(path.read_bytes())
