"""What the benchmark scripts share: where a seeded database keeps its side files.

A seeded database gets two files in `var/bench/` (gitignored), named after the database:

    var/bench/<label>.codes.txt   sample tracking codes that exist, one a line
    var/bench/<label>.token       the bench kiosk's bearer token

`<label>` is `sqlite-<file stem>` or `pg-<database name>`.

The app measured is the working tree, or the tree `MIZ_BENCH_APP` names: while others edit the
working tree, measure a definite commit exported with
`git archive --prefix=app/ HEAD | tar -x -C var/bench` and `MIZ_BENCH_APP=var/bench/app`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO_ROOT / "bench"
VAR_DIR = REPO_ROOT / "var" / "bench"
DEFAULT_SQLITE_URL = f"sqlite:///{VAR_DIR / 'miz.sqlite3'}"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/miz_bench"

# Never drop or fill these: `test` is the test suite's database (it wipes it), the others
# belong to the cluster.
PROTECTED_DATABASES = frozenset({"postgres", "template0", "template1", "test", "root"})

APP_ROOT = Path(os.environ.get("MIZ_BENCH_APP") or REPO_ROOT).resolve()

sys.path.insert(0, str(APP_ROOT))  # the app under test, wherever the script is run from


def app_version() -> str:
    """Which app is measured: the commit (+ "dirty" when the working tree has edits)."""
    marker = APP_ROOT / "COMMIT"
    if marker.exists():
        return marker.read_text().strip()
    try:
        commit = subprocess.run(["git", "-C", str(APP_ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(APP_ROOT), "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + (" + uncommitted edits" if dirty else "")


def label(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return "sqlite-" + Path(parsed.database or "memory").name.split(".")[0]
    return f"pg-{parsed.database}"


def codes_file(url: str) -> Path:
    return VAR_DIR / f"{label(url)}.codes.txt"


def token_file(url: str) -> Path:
    return VAR_DIR / f"{label(url)}.token"


def backend(url: str) -> str:
    return "sqlite" if make_url(url).get_backend_name() == "sqlite" else "postgresql"
