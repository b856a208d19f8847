from datetime import datetime
from pathlib import Path

from helpers.core import rawstore


def test_saves_exact_bytes_with_sidecar_under_canonical_path(tmp_path: Path) -> None:
    body = b'{"odds":  {}, "z": 1}'  # saved as received, not re-serialized
    ts = datetime(2026, 1, 5, 3, 4, 5)
    saved = rawstore.save_payload(tmp_path, tmp_path / "outputs/odds/raw", "UNABATED",
                                  "propodds", body, ts, "json")
    assert saved.relative_path == "outputs/odds/raw/UNABATED/2026/01/05/030405_unabated_propodds.json"
    assert saved.path.read_bytes() == body
    assert saved.sha256 == rawstore.sha256_hex(body)
    sidecar = saved.path.with_name(saved.path.name + ".sha256").read_text()
    assert sidecar == f"{saved.sha256}  030405_unabated_propodds.json\n"
    assert rawstore.verify_payload(saved.path)
    assert not list(saved.path.parent.glob(".*.tmp"))  # no temp files left


def test_same_second_different_payload_gets_a_suffix_same_payload_is_reused(
        tmp_path: Path) -> None:
    ts = datetime(2026, 1, 5, 3, 4, 5)
    raw = tmp_path / "raw"
    a = rawstore.save_payload(tmp_path, raw, "PLAYNOW", "events_by_ids", b"A", ts, "json")
    b = rawstore.save_payload(tmp_path, raw, "PLAYNOW", "events_by_ids", b"B", ts, "json")
    again = rawstore.save_payload(tmp_path, raw, "PLAYNOW", "events_by_ids", b"A", ts, "json")
    assert a.path.name == "030405_playnow_events_by_ids.json"
    assert b.path.name == "030405_playnow_events_by_ids_2.json"
    assert again.path == a.path
    assert len(list(a.path.parent.glob("*.json"))) == 2


def test_tampered_file_fails_verification(tmp_path: Path) -> None:
    saved = rawstore.save_payload(tmp_path, tmp_path, "ODDSSHARK", "player_props", b"<html/>",
                                  datetime(2026, 3, 8, 7, 0, 0), "html")
    saved.path.write_bytes(b"<html>changed</html>")
    assert not rawstore.verify_payload(saved.path)
