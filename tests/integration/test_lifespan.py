from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.asgi import create_app
from app.settings import Settings


async def test_start_up_objects_are_frozen_only_while_serving(
    make_settings: Callable[..., Settings], write_servers_file: Callable[[dict[str, Any]], Path]
) -> None:
    app = create_app(make_settings(mcp_servers_file=str(write_servers_file({"servers": {}}))))
    assert gc.get_freeze_count() == 0
    async with app.lifespan():
        assert gc.get_freeze_count() > 10_000  # modules, routes, models: out of the collector's way
    assert gc.get_freeze_count() == 0  # collectable again once the app stops
