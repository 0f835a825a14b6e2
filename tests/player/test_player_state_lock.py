"""The state folder's lock: one command at a time, and nothing left behind however a command ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from neptune_ml_endpoint.local.cloudformation.engine.state import LOCK_FILE, StateBusyError, StateStore


def test_the_lock_file_goes_when_the_command_ends_or_fails(tmp_path: Path) -> None:
    store = StateStore(tmp_path)

    with store.locked():
        assert (tmp_path / LOCK_FILE).is_file()
    assert not (tmp_path / LOCK_FILE).exists()

    with pytest.raises(RuntimeError, match="the command broke"), store.locked():
        raise RuntimeError("the command broke")
    assert not (tmp_path / LOCK_FILE).exists()
    assert tmp_path.is_dir()  # a folder that was there before stays


def test_a_state_folder_made_by_a_command_that_left_nothing_in_it_goes_too(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state")

    with pytest.raises(KeyboardInterrupt), store.locked():
        raise KeyboardInterrupt

    assert not (tmp_path / "state").exists()


def test_a_refused_command_leaves_the_holders_lock_in_place(tmp_path: Path) -> None:
    store = StateStore(tmp_path)

    with store.locked():
        for _ in range(2):
            with pytest.raises(StateBusyError, match="Another deploy, update or destroy"), store.locked():
                pass
            assert (tmp_path / LOCK_FILE).is_file()

    with store.locked():  # free again once the holder is done
        pass
