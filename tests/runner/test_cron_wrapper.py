"""The cron wrapper of docs/operations.md, run as the document prints it: it goes on only
in the right New York hour, takes the settings and secrets from the env file (quoted
values included), and appends the run's stderr to outputs/logs/cron.log."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from helpers.core.vendors import NHL_API, VENDORS
from tests.runner.test_backup import CLOSED_PORT_URL, recipe

pytestmark = pytest.mark.slow

# `date +%H` as New York's hour only when the wrapper asked for New York; any other
# question goes to the real date.
FAKE_DATE = """#!/bin/sh
if [ "$1" = "+%H" ]; then
    if [ "${TZ:-}" = "America/New_York" ]; then echo "$FAKE_NY_HOUR"; else echo "xx"; fi
else
    exec /bin/date "$@"
fi
"""


@pytest.fixture
def wrapper(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The wrapper with its env file and python replaced by the test's; a home; a folder
    with the fake `date`."""
    home = tmp_path / "home"
    home.mkdir()
    env_file = tmp_path / "ops.env"
    urls = "\n".join(f"{name}_BASE_URL={CLOSED_PORT_URL}" for name in (*VENDORS, NHL_API))
    env_file.write_text(f"OPS_HOME={home}\nPLAYNOW_COOKIE='session=a1; region=bc'\n{urls}\n")
    env_file.chmod(0o600)
    script = recipe("cron-wrapper")
    assert ". /etc/nhl-props-ops/ops.env" in script and ".venv/bin/python" in script
    script = script.replace("/etc/nhl-props-ops/ops.env", str(env_file))
    script = script.replace(".venv/bin/python", sys.executable)
    path = tmp_path / "nhl-props-run"
    path.write_text(script + "\n")
    path.chmod(0o755)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "date").write_text(FAKE_DATE)
    (bin_dir / "date").chmod(0o755)
    return path, home, bin_dir


def run(wrapper: tuple[Path, Path, Path], hour: str, *args: str) -> subprocess.CompletedProcess:
    path, _, bin_dir = wrapper
    # cron's environment: almost nothing, and no pipeline variable
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(path.parent), "FAKE_NY_HOUR": hour}
    return subprocess.run([str(path), *args], cwd="/", env=env, capture_output=True,
                          text=True, timeout=120)


def test_the_wrong_hour_runs_nothing(wrapper) -> None:
    _, home, _ = wrapper
    proc = run(wrapper, "09", "10", "daily", "--all", "--dry-run")
    assert proc.returncode == 0 and proc.stdout == proc.stderr == "", proc
    assert list(home.iterdir()) == []


def test_the_right_hour_runs_with_the_env_file_and_logs_to_cron_log(wrapper) -> None:
    _, home, _ = wrapper
    proc = run(wrapper, "10", "10", "daily", "--all", "--dry-run")
    assert proc.returncode == 0, proc
    assert proc.stdout == proc.stderr == ""  # all of it in the log, nothing for cron to mail
    log = (home / "outputs" / "logs" / "cron.log").read_text()
    assert "runner daily --all --dry-run" in log.splitlines()[0]
    assert f"db {home / 'data' / 'ops.duckdb'}" in log  # OPS_HOME came from the env file
    assert "dry run: nothing executed, nothing written" in log
    assert "session=a1" not in log
    # a second run appends
    run(wrapper, "10", "10", "daily", "--all", "--dry-run")
    assert (home / "outputs" / "logs" / "cron.log").read_text().startswith(log)
    assert (home / "outputs" / "logs" / "cron.log").read_text().count("daily plan") == 2
