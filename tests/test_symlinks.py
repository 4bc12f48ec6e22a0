"""Nothing a shared folder holds can reach outside it: planted symlinks are refused, their targets untouched."""

from __future__ import annotations

import os

import pytest

from gridzoo.config import load_experiment
from gridzoo.errors import GridzooError
from gridzoo.io import open_regular
from gridzoo.locking import LOCK_FILE, lock_folder
from gridzoo.training import resume, train

from conftest import tiny_config


def test_a_planted_lock_symlink_is_refused_and_its_target_untouched(tmp_path):
    train(load_experiment(data=tiny_config(steps=10)), tmp_path / "run", live=False)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    lock = tmp_path / "run" / LOCK_FILE
    lock.unlink(missing_ok=True)
    lock.symlink_to(victim)
    with pytest.raises(GridzooError, match="symbolic link"):
        resume(tmp_path / "run", ["training.steps=20"], live=False)
    assert victim.read_text() == "precious"


def test_logs_and_locks_open_only_regular_files(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "abc.log").symlink_to(victim)
    with pytest.raises(GridzooError, match="symbolic link"):
        open_regular(tmp_path / "logs" / "abc.log", os.O_WRONLY | os.O_APPEND)
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(GridzooError, match="not a regular file"):
        open_regular(tmp_path / "fifo", os.O_RDONLY)
    assert victim.read_text() == "precious"
    folder = tmp_path / "sweep"
    folder.mkdir()
    lock_folder(folder, "test").release()  # an ordinary folder locks as before
