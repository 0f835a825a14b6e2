"""The README's reliability section, written from the figures the reliability tests measured.

    python tests/reliability/reliability_report.py [--figures PATH] [--readme PATH] [--fallback PATH]

Replaces the text between the README's `<!-- reliability:start -->` and
`<!-- reliability:end -->` markers; a README without them is left alone and the section goes to
the fallback file instead. Exits 1 when there are no figures (run the tests first).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reliability_figures import FIGURES_PATH, read_figures

START = "<!-- reliability:start -->"
END = "<!-- reliability:end -->"
Figures = dict[str, dict[str, Any]]
FAULT_NAMES = {"throttle": "429", "timeout": "408", "server_error": "500", "reset": "a reset connection",
               "slow": "an answer slower than the read timeout"}


def _properties(f: dict[str, Any]) -> tuple[str, str, str]:
    return (
        (f"Random CloudFormation requests (hypothesis profile `{f['profile']}`): property sets with wrong "
        "types, missing and unknown keys, long, unicode and numeric strings; random request types and "
        "physical ids; each followed by CloudFormation's rollback or cleanup and the stack's deletion"),
        f"{f['examples_run']} examples, {f['requests']} requests ({f['succeeded']} SUCCESS, {f['failed']} FAILED)",
        (f"every request answered exactly once, within its deadline, FAILED always with a Reason; largest "
        f"answer {f['largest_answer_bytes']} of 4096 bytes; endpoints left: {f['endpoints_left']}"),
    )


def _faults(f: dict[str, Any]) -> tuple[str, str, str]:
    kinds = [kind for kind in FAULT_NAMES if kind in f["kinds"]] + [k for k in f["kinds"] if k not in FAULT_NAMES]
    return (
        (f"Fault matrix: {', '.join(FAULT_NAMES.get(kind, kind) for kind in kinds)} at each of {len(f['steps'])} steps of create, update and "
        "delete (first call, create call, status poll, delete call), once and lasting"),
        f"{f['cases']} cases",
        (f"{f['retried_to_success']} retried to success, {f['failed_naming_the_error']} failed with a Reason "
        f"naming the error; slowest answer {f['slowest_answer_seconds']:g} s; endpoints left: "
        f"{f['endpoints_left']}; duplicates: {f['duplicates']}"),
    )


def _retries(f: dict[str, Any]) -> tuple[str, str, str]:
    return (
        ("Function killed (SIGKILL) once Neptune accepted its create or delete, then the same event "
        "delivered again; a ResponseURL that refuses the first delivery"),
        f"{f['killed_invocations']} killed invocations, {f['refused_deliveries']} refused delivery",
        (f"endpoints after a retried create: {f['most_endpoints_after_a_retried_create']} (at most); after a "
        f"retried delete: {f['endpoints_after_a_retried_delete']}; answers per retried request: "
        f"{f['most_answers_to_a_retried_request']} (at most); the refused answer delivered "
        f"{f['delivered_after_refusal']} time"),
    )


def _concurrency(f: dict[str, Any]) -> tuple[str, str, str]:
    return (
        (f"{f['endpoints']} Creates at once, one process each, against a cluster answering 429 above "
        f"{f['rate_limit_per_second']:g} requests a second"),
        f"{f['api_calls']} API calls, {f['throttled']} answered 429",
        (f"{f['in_service']} of {f['endpoints']} InService; duplicates: {f['duplicates']}; API calls per endpoint: "
        f"median {f['calls_per_endpoint_median']:g}, max {f['calls_per_endpoint_max']}"),
    )


def _security(f: dict[str, Any]) -> tuple[str, str, str]:
    unsafe = ", ".join(f"`{value}`" for value in f["unsafe_ids"])
    return (
        ("Security: every log line (crhelper, botocore, handler, stdout and stderr) through successes, "
        f"failures, retries, polling and a refused delivery; ids {unsafe} as Id or PhysicalResourceId; "
        "the cluster's TLS certificate"),
        f"{f['log_lines_checked']} log lines, {f['unsafe_id_cases']} unsafe-id cases",
        (f"ResponseURL signatures or credentials in logs: {f['secrets_found_in_logs']}; requests carrying an "
        f"unsafe id: {f['unsafe_id_requests']}; untrusted certificate: {f['tls_untrusted']}, CA trusted "
        f"through AWS_CA_BUNDLE: {f['tls_trusted']}; places turning TLS verification off in the "
        f"{f['handler_files_checked']} files of the handler's asset: {f['unverified_tls_places']}"),
    )


def _counts(counted: dict[str, int]) -> str:
    return ", ".join(f"{value} {name}" for name, value in sorted(counted.items(), key=lambda item: (-item[1], item[0])))


def _job_properties(f: dict[str, Any]) -> tuple[str, str, str]:
    return (
        (f"Jobs, random CloudFormation requests (hypothesis profile `{f['profile']}`): a data processing, model "
        "training or model transform resource created (valid, failing, invalid, under a fresh or a taken Id) or "
        "known by a random physical id, then updated (configuration, RunKey, Clean, failing, invalid, Id) or "
        "deleted, with CloudFormation's rollbacks, cleanups and the stack's deletion; jobs ending in the "
        "invocation, through crhelper's polling, watched past the answer (CompletionSignalUrl), or overrunning "
        f"ServiceTimeout (examples: {_counts(f['paces'])})"),
        (f"{f['examples_run']} examples, {f['requests']} requests ({f['succeeded']} SUCCESS, {f['failed']} FAILED), "
        f"{f['jobs_started']} jobs started"),
        (f"{f['invariant_checks']} invariant checks: every request answered exactly once; jobs started per "
        f"request: {f['most_starts_per_request']} (at most); rollbacks to a completed job that started one: 0 of "
        f"{f['rollbacks_to_a_completed_job']}; deletes of a running job: {f['deletes_of_running_jobs']}, jobs "
        f"left running: {f['running_jobs_left']}; jobs made by hand cancelled: {f['taken_jobs_cancelled']}; "
        f"FAILED Reasons naming {_counts(f['reasons'])}; largest answer {f['largest_answer_bytes']} of 4096 bytes"),
    )


def _job_faults(f: dict[str, Any]) -> tuple[str, str, str]:
    kinds = [kind for kind in FAULT_NAMES if kind in f["kinds"]] + [k for k in f["kinds"] if k not in FAULT_NAMES]
    return (
        (f"Jobs, fault matrix: {', '.join(FAULT_NAMES.get(kind, kind) for kind in kinds)} at each of "
        f"{len(f['steps'])} steps of a job's create, update and delete (first look, Start, status poll; the "
        f"delete of a running job: first look, Cancel, status poll), once and lasting, over "
        f"{len(f['operations'])} operations of the {len(f['job_kinds'])} job kinds"),
        f"{f['cases']} cases, {f['faults_injected']} faults injected",
        (f"{f['retried_to_success']} retried to success, {f['failed_naming_the_error']} failed with a Reason "
        f"naming the operation and the error; slowest answer {f['slowest_answer_seconds']:g} s; jobs left "
        f"running: {f['jobs_left_running']}; duplicates: {f['duplicates']}"),
    )


def _job_retries(f: dict[str, Any]) -> tuple[str, str, str]:
    return (
        ("Jobs: function killed (SIGKILL) once Neptune accepted its Start (derived or explicit Id) or Cancel, "
        "then the same event delivered again; a ResponseURL that refuses the first delivery"),
        f"{f['killed_invocations']} killed invocations, {f['refused_deliveries']} refused delivery",
        (f"jobs after a retried create: {f['most_jobs_after_a_retried_create']} (at most); running after a "
        f"retried delete: {f['running_after_a_retried_delete']}; explicit-Id jobs cancelled by a rollback that "
        f"could not prove them its own: {f['explicit_ids_cancelled']}; answers per retried request: "
        f"{f['most_answers_to_a_retried_request']} (at most); the refused answer delivered "
        f"{f['delivered_after_refusal']} time"),
    )


def _long_waits(f: dict[str, Any]) -> tuple[str, str, str]:
    strikes = ", ".join(name for kind, name in FAULT_NAMES.items() if kind in f["kinds"])
    return (
        ("Waits past the hour: the watcher of a job longer than its resource may wait, ticked while "
         f"{strikes} strikes its status check (once and lasting), or the handle refuses deliveries; "
         "jobs that complete and jobs that fail"),
        f"{f['cases']} cases, {f['ticks']} ticks, {f['refused_signals']} refused signals",
        (f"{f['deliveries']} signals delivered, {f['wrong_signals']} with a wrong status or UniqueId; watchers "
         f"left: {f['watchers_left']}; jobs left running: {f['jobs_left_running']}"),
    )


ROWS: dict[str, Callable[[dict[str, Any]], tuple[str, str, str]]] = {
    "properties": _properties, "faults": _faults, "retries": _retries,
    "concurrency": _concurrency, "security": _security,
    "job_properties": _job_properties, "job_faults": _job_faults, "job_retries": _job_retries,
    "long_waits": _long_waits,
}


def render(figures: Figures) -> str:
    """The markdown section: what was tried and what came out, one table row per test area."""
    measured = sorted(values["measured_at"] for values in figures.values() if "measured_at" in values)
    lines = [
        ("Measured by `make reliability` (tests in `tests/reliability/`, the bundled handler against the "
        f"local Neptune ML API){f' on {measured[-1][:10]}' if measured else ''}."),
        "",
        "| Check | Tried | Result |",
        "| --- | --- | --- |",
    ]
    for name, row in ROWS.items():
        try:
            lines.append("| " + " | ".join(row(figures[name])) + " |")
        except KeyError:  # the area's tests did not run, or not all of them
            lines.append(f"| {name} | not measured | run `make reliability` |")
    return "\n".join(lines) + "\n"


def replace_section(text: str, section: str) -> str | None:
    """The text with the section between the markers; None when the markers are missing."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        return None
    return f"{text[:start + len(START)]}\n{section}{text[end:]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--figures", type=Path, default=FIGURES_PATH)
    parser.add_argument("--readme", type=Path, default=Path("README.md"))
    parser.add_argument("--fallback", type=Path, default=Path("reliability.md"))
    args = parser.parse_args(argv)
    figures = read_figures(args.figures)
    if not figures:
        print(f"No figures in {args.figures}; run the reliability tests first", file=sys.stderr)
        return 1
    section = render(figures)
    updated = replace_section(args.readme.read_text(), section) if args.readme.exists() else None
    if updated is None:
        args.fallback.write_text(f"## Reliability\n\n{section}")
        print(f"{args.readme} has no {START} ... {END} markers; wrote {args.fallback}")
    else:
        args.readme.write_text(updated)
        print(f"Updated the reliability section of {args.readme}")
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
