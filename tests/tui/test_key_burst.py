"""Keys that arrive in one terminal write (a paste, `tmux send-keys 'g150' Enter`) reach the widget
the earlier keys gave the focus to, as they do when typed one by one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from textual import events
from textual.pilot import Pilot

from analyzer.tui.app import LayerscopeApp
from analyzer.tui.filter_bar import FilterBar

ROOT = Path(__file__).resolve().parents[2]
HTTP = ROOT / "tests" / "data" / "http.pcap"

_CHARACTERS = {"enter": "\r", "slash": "/", "full_stop": ".", "space": " ", "equals_sign": "="}


async def _until(pilot: Pilot[int], done: Callable[[], bool], limit: float = 30.0) -> None:
    waited = 0.0
    while not done():
        await pilot.pause(0.05)
        waited += 0.05
        assert waited < limit, "the TUI did not get there in time"


def _burst(app: LayerscopeApp, keys: list[str]) -> None:
    """Queue every key at once, as the driver does for one read of the terminal (the pilot's press
    waits for the app to settle after each key, which hides the bug)."""
    for key in keys:
        app.post_message(events.Key(key, _CHARACTERS.get(key, key if len(key) == 1 else None)))


def test_go_to_typed_in_one_write_jumps_to_the_packet() -> None:
    async def run() -> None:
        app = LayerscopeApp(HTTP)
        async with app.run_test(size=(120, 40)) as pilot:
            await _until(pilot, lambda: app.indexing_done and app.dissectors_ready)
            assert len(app.index) > 30
            _burst(app, ["g", "2", "5", "enter"])
            await _until(pilot, lambda: app.packet_list.selected_packet == 24, limit=5)
            await pilot.pause(0.1)
            assert app.packet_list.selected_packet == 24
            assert app.focused is app.packet_list
            # The same through the pilot, with no pauses between keys.
            await pilot.press("g", "1", "3", "enter")
            await _until(pilot, lambda: app.packet_list.selected_packet == 12)

    asyncio.run(run())


def test_filter_typed_in_one_write_is_applied() -> None:
    async def run() -> None:
        app = LayerscopeApp(HTTP)
        async with app.run_test(size=(120, 40)) as pilot:
            await _until(pilot, lambda: app.indexing_done and app.dissectors_ready)
            _burst(app, ["slash", "h", "t", "t", "p", "enter"])
            bar = app.query_one(FilterBar)
            await _until(pilot, lambda: bar.active == "http" and app.focused is app.packet_list, limit=5)
            assert (bar.active, bar.input.value) == ("http", "http")

    asyncio.run(run())
