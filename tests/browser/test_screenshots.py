"""Where the browser tests write their screenshots: never over the tracked ones unless asked."""

from __future__ import annotations

import pytest

from tests.browser.conftest import REPOSITORY, screenshots_folder


@pytest.mark.parametrize("value", [None, "", "0", "no", "false"])
def test_a_plain_run_writes_under_var(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("UPDATE_SCREENSHOTS", raising=False)
    else:
        monkeypatch.setenv("UPDATE_SCREENSHOTS", value)

    assert screenshots_folder() == REPOSITORY / "var" / "screenshots"


@pytest.mark.parametrize("value", ["1", "true", "YES"])
def test_update_screenshots_writes_the_tracked_ones(monkeypatch, value):
    monkeypatch.setenv("UPDATE_SCREENSHOTS", value)

    assert screenshots_folder() == REPOSITORY / "docs" / "screenshots"
