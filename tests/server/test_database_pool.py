"""Each server process's database connections are sized by configuration (README, «Running it
for real»): so many kept open, so many more when all are busy, and then a wait."""

from __future__ import annotations

from pathlib import Path

from counter_server import create_app
from counter_server.context import database


def test_the_pool_is_sized_by_the_settings(database_url: str, tmp_path: Path) -> None:
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test",
                      "INSTANCE_PATH": str(tmp_path), "DATABASE_POOL_SIZE": 3,
                      "DATABASE_MAX_OVERFLOW": 2})
    with app.app_context():
        pool = database().engine.pool
        held = [database().engine.connect() for _ in range(5)]
        try:
            assert pool.size() == 3 and pool.overflow() == 2  # type: ignore[attr-defined]
        finally:
            for connection in held:
                connection.close()
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
        database().dispose()
