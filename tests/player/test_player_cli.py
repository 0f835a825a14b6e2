"""The deploy / update / destroy commands as a person meets them: exit codes and messages."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from player_support import APPS, STACK_NAME, LocalDeployment

from neptune_ml_endpoint.local.__main__ import main
from neptune_ml_endpoint.local.cloudformation.cli import local_api
from neptune_ml_endpoint.local.cloudformation.cli.synth import failure_message
from neptune_ml_endpoint.local.cloudformation.engine.state import StateStore


def test_a_synth_error_names_the_property_and_exits_non_zero_without_a_traceback(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "neptune_ml_endpoint.local", "deploy", "--app",
         f"{sys.executable} {APPS / 'invalid_app.py'}", "--state-dir", str(tmp_path / "state")],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )

    assert completed.returncode == 1
    assert "instance_type (InstanceType): 'm5.xlarge' is not an ML instance type" in completed.stdout
    assert "(invalid_app.py, line 12)" in completed.stdout  # the app's line that declared it
    assert "Traceback" not in completed.stdout + completed.stderr
    assert not (tmp_path / "state" / "state.json").exists()
    assert not (tmp_path / "state" / ".lock").exists()


def test_a_folder_without_cdk_json_is_refused_and_no_state_or_lock_is_left(deployment: LocalDeployment) -> None:
    played = deployment.run("deploy", app=False)

    assert played.exit_code == 1
    assert "has no cdk.json" in played.output
    assert "Synthesizing" not in played.output
    assert not deployment.state_dir.exists()


def test_update_needs_an_existing_deployment(deployment: LocalDeployment) -> None:
    played = deployment.update("Base")

    assert played.exit_code == 1
    assert "Nothing to update" in played.output
    assert deployment.endpoint_requests() == []


def test_update_with_nothing_deployed_says_so_before_synthesizing(deployment: LocalDeployment) -> None:
    never_synthesized = f"{sys.executable} -c 'raise SystemExit(3)'"  # would fail the synth if it ran

    played = deployment.run("update", "--app", never_synthesized, app=False)

    assert played.exit_code == 1
    assert "Nothing to update" in played.output
    assert "Synthesizing" not in played.output
    assert not (deployment.state_dir / "cdk.out").exists()


def test_destroy_with_nothing_deployed_succeeds(deployment: LocalDeployment) -> None:
    played = deployment.destroy()

    assert played.exit_code == 0
    assert "Nothing to destroy (state: " in played.output
    named = deployment.destroy("SecondStack")
    assert named.exit_code == 0
    assert "Nothing to destroy: SecondStack is not deployed (state: " in named.output


def test_destroy_takes_the_app_and_context_deploy_took_and_says_they_change_nothing(
        deployment: LocalDeployment) -> None:
    never_synthesized = str(deployment.state_dir.parent / "no-such-app")

    played = deployment.run("destroy", "--app", never_synthesized, "-c", "key=value", app=False)

    assert played.exit_code == 0
    assert "destroy deletes what the state records, without the app: --app and -c change nothing" in played.output
    assert "Synthesizing" not in played.output


def test_an_unknown_stack_is_refused_with_the_stacks_there_are(deployment: LocalDeployment) -> None:
    played = deployment.deploy("NoSuchStack")

    assert played.exit_code == 1
    assert "No stack named NoSuchStack" in played.output and "InPlace" in played.output


def test_a_parameter_the_template_does_not_declare_is_refused_before_any_change(
        deployment: LocalDeployment) -> None:
    played = deployment.deploy("IdParameter", "--parameters", "TrainingIdParameter=player-training",
                               "--parameters", "Foo=bar")

    assert played.exit_code == 1
    assert "Parameters: [Foo] do not exist in the template of PlayerTest (IdParameter); " \
           "its parameters: TrainingIdParameter, BootstrapVersion" in played.output
    assert deployment.endpoint_requests() == []
    assert deployment.state() is None


def test_an_api_url_that_does_not_answer_is_refused(deployment: LocalDeployment) -> None:
    played = deployment.run("deploy", "Base", "--api-url", "http://127.0.0.1:9", api_url=False)

    assert played.exit_code == 1
    assert "http://127.0.0.1:9 does not answer. Start one (neptune-ml-local serve)" in played.output
    assert deployment.state() is None


def test_without_api_url_deploy_starts_a_local_api_that_outlives_it_and_destroy_stops_it(
        deployment: LocalDeployment) -> None:
    played = deployment.run("deploy", "Base", api_url=False)
    api_process = StateStore(deployment.state_dir).load().api_process
    try:
        assert played.exit_code == 0, played.output
        assert api_process is not None
        assert f"Started the local Neptune ML API at {api_process.url}" in played.output
        assert len(local_api.endpoint_ids(api_process.url)) == 2
        assert deployment.api.endpoint_ids() == []  # the test's own API was not used

        destroyed = deployment.run("destroy", app=False, api_url=False)

        assert destroyed.exit_code == 0, destroyed.output
        assert f"Endpoints in the local Neptune ML API at {api_process.url}: none" in destroyed.output
        assert f"Stopped the local Neptune ML API (pid {api_process.pid})" in destroyed.output
        assert not local_api.answers(api_process.url)
    finally:
        if api_process is not None and local_api.answers(api_process.url):
            os.kill(api_process.pid, signal.SIGTERM)


def test_help_lists_the_player_commands_beside_serve(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])

    assert exited.value.code == 0
    shown = capsys.readouterr().out
    for command in ("serve", "deploy", "update", "destroy"):
        assert command in shown


def test_usage_and_help_name_the_command_neptune_ml_local(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--help"], ["deploy", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)

    shown = capsys.readouterr().out
    assert "usage: neptune-ml-local [-h] COMMAND" in shown
    assert "usage: neptune-ml-local deploy [-h]" in shown
    assert "--parameters [STACK:]NAME=VALUE" in shown
    assert "python -m" not in shown


def test_the_installed_neptune_ml_local_script_runs_the_command() -> None:
    completed = subprocess.run([str(Path(sys.executable).with_name("neptune-ml-local")), "destroy", "--help"],
                               capture_output=True, text=True, timeout=60, check=False)

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("usage: neptune-ml-local destroy")


def test_reading_the_app_prints_no_banner_about_the_nodejs_release(deployment: LocalDeployment) -> None:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("JSII_SILENCE")}

    completed = subprocess.run(
        [sys.executable, "-m", "neptune_ml_endpoint.local", "deploy", "NoSuchStack", "--app", str(deployment.assembly),
         "--state-dir", str(deployment.state_dir)], env=environment, capture_output=True, text=True, timeout=120,
        check=False)

    assert completed.returncode == 1 and "No stack named NoSuchStack" in completed.stdout, completed.stdout
    assert "end-of-life" not in completed.stdout + completed.stderr


def test_a_second_command_on_the_same_state_is_refused(deployment: LocalDeployment) -> None:
    with StateStore(deployment.state_dir).locked():
        played = deployment.deploy("Base")

    assert played.exit_code == 1
    assert (f"Another deploy, update or destroy is using {deployment.state_dir}: wait for it to end, or give this "
            "command another --state-dir") in played.output
    assert deployment.endpoint_requests() == []


def test_without_the_local_extra_deploy_says_how_to_install_it_and_changes_nothing(tmp_path: Path) -> None:
    hide_trustme = ("import sys; sys.modules['trustme'] = None; "
                    "from neptune_ml_endpoint.local.__main__ import main; sys.exit(main(['deploy']))")

    completed = subprocess.run([sys.executable, "-c", hide_trustme], check=False, cwd=tmp_path,
                               capture_output=True, text=True,
                               timeout=120)

    assert completed.returncode == 1
    assert "pip install 'neptune-ml-endpoint[local]'" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("given", ["StackA:=3", ":Count=3", "=3"])
def test_a_parameter_without_a_name_is_a_usage_error(capsys: pytest.CaptureFixture[str], given: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["deploy", "--parameters", given])

    assert exited.value.code == 2
    assert "[STACK:]NAME=VALUE" in capsys.readouterr().err


def test_when_the_background_api_is_gone_deploy_creates_the_stack_anew_in_a_new_one(
        deployment: LocalDeployment) -> None:
    assert deployment.run("deploy", "Base", api_url=False).exit_code == 0
    gone = StateStore(deployment.state_dir).load().api_process
    assert gone is not None
    os.kill(gone.pid, signal.SIGTERM)
    _wait_until(lambda: not local_api.answers(gone.url))

    played = deployment.run("deploy", "Base", api_url=False)
    api_process = StateStore(deployment.state_dir).load().api_process
    try:
        assert played.exit_code == 0, played.output
        assert f"The local Neptune ML API at {gone.url} no longer answers" in played.output
        assert "(no changes)" not in played.output
        assert api_process is not None and api_process.url != gone.url
        assert len(local_api.endpoint_ids(api_process.url)) == 2  # the stack's endpoints exist again
        assert played.events(STACK_NAME)[-1] == "CREATE_COMPLETE"
    finally:
        assert deployment.run("destroy", app=False, api_url=False).exit_code == 0
        if api_process is not None and local_api.answers(api_process.url):
            os.kill(api_process.pid, signal.SIGTERM)


def _wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.05)


def test_an_exception_in_the_apps_own_code_is_reported_with_its_file_and_line() -> None:
    output = "\n".join([
        "Traceback (most recent call last):",
        '  File "/home/me/project/app.py", line 12, in <module>',
        "    count = int(app.node.try_get_context('count'))",
        f'  File "{sys.prefix}/lib/python3.11/site-packages/aws_cdk/__init__.py", line 3, in x',
        "ValueError: invalid literal for int() with base 10: 'abc'",
        "Subprocess exited with error 1",
    ])

    assert failure_message(output) == "invalid literal for int() with base 10: 'abc' (app.py, line 12)"
