"""Every dependency the project names is pinned, with hashes, in requirements.lock — the file
`make test` and `make demo` install with `pip --require-hashes`."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCKED_EXTRAS = ("test", "server", "s3")


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~;\s]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _locked() -> dict[str, list[str]]:
    """Each pinned package of the lock and the hashes given for it."""
    pins: dict[str, list[str]] = {}
    current = None
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        pinned = re.match(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==(\S+)", line)
        if pinned:
            current = pinned.group(1).lower().replace("_", "-").replace(".", "-")
            pins[current] = []
        elif current and (found := re.search(r"--hash=sha256:([0-9a-f]{64})", line)):
            pins[current].append(found.group(1))
    return pins


def test_every_named_dependency_is_pinned_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    named = list(project["dependencies"])
    for extra in LOCKED_EXTRAS:
        named += project["optional-dependencies"][extra]
    locked = _locked()
    missing = sorted({_name(r).replace(".", "-") for r in named} - set(locked))
    assert not missing, f"not in requirements.lock (run `make lock`): {missing}"
    unhashed = sorted(name for name, hashes in locked.items() if not hashes)
    assert not unhashed, f"pinned without a hash: {unhashed}"


def test_the_makefile_installs_from_the_lock_with_hashes() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes -r requirements.lock" in makefile
    assert "--no-deps -e ." in makefile
