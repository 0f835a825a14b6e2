"""The figures file: a session's sections replace their own and keep the others, even when
several sessions (pytest-xdist workers) write at the same moment."""

from __future__ import annotations

import threading
from pathlib import Path

from reliability_figures import FiguresFile, read_figures


def test_a_write_replaces_its_sections_and_keeps_the_others(tmp_path: Path) -> None:
    path = tmp_path / "figures.json"
    first = FiguresFile(path)
    first.record("faults", cases=3)
    first.record("retries", killed_invocations=2)
    first.write()

    second = FiguresFile(path)
    second.record("faults", cases=5)
    second.write()

    figures = read_figures(path)
    assert figures["faults"]["cases"] == 5
    assert figures["retries"]["killed_invocations"] == 2
    assert all("measured_at" in values for values in figures.values())


def test_a_session_that_recorded_nothing_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "figures.json"
    FiguresFile(path).write()
    assert not path.exists()


def test_workers_writing_together_keep_every_section(tmp_path: Path) -> None:
    path = tmp_path / "figures.json"
    workers = 8
    start = threading.Barrier(workers)

    def worker(number: int) -> None:
        recorded = FiguresFile(path)
        recorded.record(f"section-{number}", worker=number)
        start.wait()
        recorded.write()

    threads = [threading.Thread(target=worker, args=(number,)) for number in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    figures = read_figures(path)
    assert sorted(figures) == sorted(f"section-{number}" for number in range(workers))
    assert sorted(path.parent.iterdir()) == [path, path.with_name("figures.json.lock")]
