"""The report writer: figures in, the README's section out, only between its markers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from reliability_report import END, START, main, render, replace_section

FIGURES: dict[str, dict[str, Any]] = {
    "properties": {"profile": "reliability", "examples_run": 201, "requests": 417, "succeeded": 266,
                   "failed": 151, "largest_answer_bytes": 1903, "endpoints_left": 0,
                   "measured_at": "2026-11-27T12:00:00Z"},
    "faults": {"kinds": ["reset", "slow"], "steps": ["create-call", "delete-call"], "cases": 8,
               "retried_to_success": 5, "failed_naming_the_error": 3, "endpoints_left": 0, "duplicates": 0,
               "slowest_answer_seconds": 1.25},
    "concurrency": {"endpoints": 20, "rate_limit_per_second": 10.0, "api_calls": 160, "throttled": 74,
                    "in_service": 20, "duplicates": 0, "calls_per_endpoint_median": 8.5,
                    "calls_per_endpoint_max": 11},
}


def test_render_states_every_measured_figure_and_marks_the_missing_ones() -> None:
    section = render(FIGURES)

    assert "on 2026-11-27" in section
    assert "201 examples, 417 requests (266 SUCCESS, 151 FAILED)" in section
    assert "largest answer 1903 of 4096 bytes; endpoints left: 0" in section
    assert "8 cases" in section and "5 retried to success, 3 failed" in section
    assert "slowest answer 1.25 s" in section
    assert "Fault matrix: a reset connection, an answer slower than the read timeout at each of 2 steps" in section
    assert "429 above 10 requests a second" in section
    assert "median 8.5, max 11" in section
    assert "| retries | not measured |" in section and "| security | not measured |" in section
    assert "| job_faults | not measured |" in section
    assert "| faults | not measured |" in render({"faults": {"cases": 3}})  # a partly measured area
    assert "| long_waits | not measured |" in section
    assert section.count("\n| ") == 2 + 9  # the header, its rule and one row for each of the nine areas
    assert section.endswith("|\n")


def test_the_long_waits_row_names_the_faults_and_what_came_out() -> None:
    section = render({"long_waits": {"cases": 24, "ticks": 90, "refused_signals": 8, "deliveries": 30,
                                     "wrong_signals": 0, "watchers_left": 0, "jobs_left_running": 0,
                                     "kinds": ["throttle", "refused-signal"]}})

    assert "ticked while 429 strikes its status check (once and lasting), or the handle refuses" in section
    assert "24 cases, 90 ticks, 8 refused signals" in section
    assert "30 signals delivered, 0 with a wrong status or UniqueId; watchers left: 0; jobs left running: 0" in section


def test_replace_section_changes_only_the_text_between_the_markers() -> None:
    readme = f"# Title\n\n## Reliability\n\n{START}\nold figures\n{END}\n\n## Next\ntext\n"

    updated = replace_section(readme, "new figures\n")

    assert updated == f"# Title\n\n## Reliability\n\n{START}\nnew figures\n{END}\n\n## Next\ntext\n"
    assert replace_section(updated, "new figures\n") == updated
    assert replace_section("# No markers\n", "x\n") is None
    assert replace_section(f"{END}\n{START}\n", "x\n") is None


def test_main_updates_the_readme_or_writes_the_fallback(tmp_path: Path) -> None:
    figures, readme, fallback = tmp_path / "figures.json", tmp_path / "README.md", tmp_path / "reliability.md"
    figures.write_text(json.dumps(FIGURES))
    readme.write_text(f"intro\n{START}\nRun make reliability.\n{END}\nrest\n")

    assert main(["--figures", str(figures), "--readme", str(readme), "--fallback", str(fallback)]) == 0
    assert "201 examples" in readme.read_text() and readme.read_text().endswith(f"{END}\nrest\n")
    assert not fallback.exists()

    readme.write_text("intro without markers\n")
    assert main(["--figures", str(figures), "--readme", str(readme), "--fallback", str(fallback)]) == 0
    assert readme.read_text() == "intro without markers\n"
    assert fallback.read_text().startswith("## Reliability\n\n") and "201 examples" in fallback.read_text()


def test_main_fails_without_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--figures", str(tmp_path / "none.json"), "--readme", str(tmp_path / "README.md")]) == 1
    assert "run the reliability tests first" in capsys.readouterr().err


JOB_FIGURES: dict[str, dict[str, Any]] = {
    "job_properties": {"profile": "everyday", "examples_run": 35, "requests": 93, "succeeded": 66, "failed": 27,
                       "jobs_started": 21, "most_starts_per_request": 1, "rollbacks_to_a_completed_job": 5,
                       "deletes_of_running_jobs": 8, "running_jobs_left": 0, "taken_jobs_cancelled": 0,
                       "invariant_checks": 447, "largest_answer_bytes": 885,
                       "paces": {"quick": 12, "watched": 13, "polled": 8, "overrun": 2},
                       "reasons": {"property": 7, "taken id": 9}},
    "job_faults": {"kinds": ["throttle", "slow"], "steps": ["create-start", "delete-cancel"], "cases": 4,
                   "job_kinds": ["dataprocessing", "modeltraining"],
                   "operations": ["CancelMLDataProcessingJob", "StartMLModelTrainingJob"], "faults_injected": 9,
                   "retried_to_success": 3, "failed_naming_the_error": 1, "jobs_left_running": 0, "duplicates": 0,
                   "invariant_checks": 20, "slowest_answer_seconds": 1.2},
    "job_retries": {"killed_invocations": 6, "refused_deliveries": 1, "most_jobs_after_a_retried_create": 1,
                    "running_after_a_retried_delete": 0, "explicit_ids_cancelled": 0,
                    "most_answers_to_a_retried_request": 1, "delivered_after_refusal": 1},
}


def test_render_states_the_job_figures() -> None:
    section = render(JOB_FIGURES)

    assert "(examples: 13 watched, 12 quick, 8 polled, 2 overrun)" in section
    assert "35 examples, 93 requests (66 SUCCESS, 27 FAILED), 21 jobs started" in section
    assert "447 invariant checks" in section and "FAILED Reasons naming 9 taken id, 7 property" in section
    assert "jobs left running: 0; jobs made by hand cancelled: 0" in section
    assert "Jobs, fault matrix: 429, an answer slower than the read timeout at each of 2 steps" in section
    assert "over 2 operations of the 2 job kinds" in section
    assert "4 cases, 9 faults injected" in section and "1 failed with a Reason naming the operation" in section
    assert "6 killed invocations, 1 refused delivery" in section
    assert "explicit-Id jobs cancelled by a rollback that could not prove them its own: 0" in section
    assert "| properties | not measured |" in section
