"""The local deploy commands: synthesize, play each stack against the local API, keep the state."""

from __future__ import annotations

import dataclasses
import fnmatch
import shlex
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Self, TextIO

from neptune_ml_endpoint.local import COMMAND
from neptune_ml_endpoint.local.cloudformation.aws.cloud_session import CloudSession
from neptune_ml_endpoint.local.cloudformation.aws.polling import DEFAULT_POLL_SECONDS
from neptune_ml_endpoint.local.cloudformation.cli import local_api
from neptune_ml_endpoint.local.cloudformation.cli.local_api import LocalApiError
from neptune_ml_endpoint.local.cloudformation.cli.parameters import (
    ParameterError,
    check_parameters,
    parameters_for,
)
from neptune_ml_endpoint.local.cloudformation.cli.progress import ProgressPrinter
from neptune_ml_endpoint.local.cloudformation.cli.synth import SynthError, check_app, synthesize
from neptune_ml_endpoint.local.cloudformation.engine.assembly import (
    AssemblyError,
    StackTemplate,
    read_assembly,
)
from neptune_ml_endpoint.local.cloudformation.engine.intrinsics import (
    PSEUDO_ACCOUNT,
    PSEUDO_REGION,
    ResolveError,
    StackIdentity,
    new_stack_id,
)
from neptune_ml_endpoint.local.cloudformation.engine.stack_engine import Remembered, StackEngine, StackResult
from neptune_ml_endpoint.local.cloudformation.engine.stack_plan import (
    NEPTUNE_ENDPOINT_PROPERTY,
    StackPlan,
    export_conflicts,
)
from neptune_ml_endpoint.local.cloudformation.engine.state import (
    DEFAULT_STATE_DIR,
    DeploymentState,
    FunctionState,
    ResourceState,
    StackState,
    StateBusyError,
    StateStore,
)

GRACE_SECONDS = 10.0
INTERRUPTED_EXIT_STATUS = 130
"""128 + SIGINT, as a shell reports a command stopped by Ctrl-C."""


class Interruption:
    """The SIGINT handler of one command's request phase, as two events other threads can read."""

    def __init__(self, say: Callable[[str], None], grace_seconds: float = GRACE_SECONDS) -> None:
        self.stopping = threading.Event()
        self.giving_up = threading.Event()
        self._say = say
        self._grace_seconds = grace_seconds
        self._timer: threading.Timer | None = None
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> Self:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False
        if self._timer is not None:
            self._timer.cancel()

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        if not self.stopping.is_set():
            self.stopping.set()
            self._timer = threading.Timer(self._grace_seconds, self.giving_up.set)
            self._timer.daemon = True
            self._timer.start()
            self._say(f"\nInterrupted: no new request is sent; waiting up to {self._grace_seconds:g} s for the "
                      "answers of the requests in flight (Ctrl-C again to stop waiting).")
        elif not self.giving_up.is_set():
            self.giving_up.set()
            self._say("\nInterrupted again: no longer waiting; requests without an answer are kept in the state.")


class PlayerError(RuntimeError):
    """An expected failure: printed as a message, never as a traceback."""


EXPECTED_ERRORS = (PlayerError, SynthError, AssemblyError, LocalApiError, ResolveError, ParameterError)


@dataclass(frozen=True)
class PlayerOptions:
    """What the deploy, update and destroy commands were asked to do."""

    project_dir: Path = field(default_factory=Path.cwd)
    state_dir: Path = Path(DEFAULT_STATE_DIR)
    app: str | None = None
    context: Mapping[str, str] = field(default_factory=dict)
    parameters: Mapping[str, str] = field(default_factory=dict)
    stacks: Sequence[str] = ()
    api_url: str | None = None
    poll_seconds: float = DEFAULT_POLL_SECONDS
    function_timeout: float | None = None


class Player:
    """Runs the commands; each returns the process exit status."""

    def __init__(self, options: PlayerOptions, out: TextIO | None = None, is_tty: bool | None = None,
                 heartbeat_seconds: float = 5.0) -> None:
        self.options = options
        self.store = StateStore(options.project_dir / options.state_dir)
        self._out = out or sys.stdout
        self._progress = ProgressPrinter(self._out, is_tty, heartbeat_seconds)

    def deploy(self, require_existing: bool = False) -> int:
        """Create or update every selected stack of the app; 1 when anything failed."""
        return self._locked(lambda: self._deploy(require_existing))

    def destroy(self) -> int:
        """Delete every deployed stack, newest first; forget the state once nothing is left."""
        return self._locked(self._destroy)

    def _locked(self, command: Callable[[], int]) -> int:
        """The command's exit status, run while it holds the state folder; 1 after an expected error."""
        try:
            with self.store.locked():
                return command()
        except StateBusyError as error:
            self._say(f"❌  {error}: wait for it to end, or give this command another --state-dir")
            return 1
        except EXPECTED_ERRORS as error:
            self._say(f"❌  {error}")
            return 1

    def _deploy(self, require_existing: bool) -> int:
        state = self.store.load()
        if require_existing and not state.stacks:
            raise self._nothing_to_update("nothing is deployed")
        app_stacks = read_assembly(self._assembly())
        stacks = self._select(app_stacks)
        check_parameters(self.options.parameters, stacks, app_stacks,
                         {name: stack.parameters for name, stack in state.stacks.items()})
        if require_existing and not any(stack.stack_name in state.stacks for stack in stacks):
            raise self._nothing_to_update("no stack of the app is deployed")
        api_url = self._deploy_api(state)
        self.store.save(state)
        with self._progress, Interruption(self._say) as interruption, self._session() as session:
            for stack in stacks:
                if interruption.stopping.is_set():
                    return self._interrupted(state)
                result = self._deploy_stack(stack, state, session, api_url, interruption)
                if result.interrupted:
                    return self._interrupted(state)
                if not result.succeeded:
                    return 1
        return 0

    def _nothing_to_update(self, why: str) -> PlayerError:
        return PlayerError(f"Nothing to update: {why} (state: {self.store.path}). Run `{COMMAND} deploy` first")

    def _assembly(self) -> Path:
        """A cloud assembly: --app itself when it is one, else synthesized into the state folder."""
        app = self.options.app
        if app is not None and (Path(app) / "manifest.json").is_file():
            return Path(app)
        check_app(self.options.project_dir, app)
        self._say("Synthesizing the app with the CDK CLI ...")
        return synthesize(self.options.project_dir, self.store.assembly_dir, app, self.options.context)

    def _select(self, stacks: list[StackTemplate]) -> list[StackTemplate]:
        wanted = list(self.options.stacks)
        if not wanted:
            return stacks

        chosen = [s for s in stacks if any(_picks(pattern, s.stack_name, s.display_name) for pattern in wanted)]
        missing = {pattern for pattern in wanted
                   if not any(_picks(pattern, s.stack_name, s.display_name) for s in stacks)}
        if missing:
            known = ", ".join(s.display_name for s in stacks)
            raise PlayerError(f"No stack named {', '.join(sorted(missing))} in the app (stacks: {known})")
        return chosen

    def _deploy_stack(self, stack: StackTemplate, state: DeploymentState, session: CloudSession,
                      api_url: str, interruption: Interruption) -> StackResult:
        name = stack.stack_name
        deployed = state.stacks.get(name)
        if deployed is not None:
            _retarget(deployed, api_url)
        region = stack.region or (deployed.region if deployed else PSEUDO_REGION)
        account = stack.account or (deployed.account if deployed else PSEUDO_ACCOUNT)
        previous = deployed or StackState(name, new_stack_id(name, region, account), region, account, api_url)
        kept = {key: value for key, value in previous.parameters.items() if key in stack.parameter_names}
        parameters = {**kept, **parameters_for(stack, self.options.parameters)}
        exports = {key: value for other in state.stacks.values() if other.stack_name != name
                   for key, value in other.exports.items()}
        outputs = {other.stack_name: other.outputs for other in state.stacks.values() if other.stack_name != name}
        plan = StackPlan(stack, StackIdentity(name, previous.stack_id, region, account), api_url, parameters,
                         exports, outputs)
        try:
            imports = plan.imports()
        except ResolveError as error:
            raise PlayerError(f"{name}: {error} (nothing of {name} was created or changed)") from None
        importers = _importers(state, name)
        functions = plan.functions(self.store.code_root)
        known = {**previous.functions, **functions}
        session.add_functions(known.values(), region)
        self._describe(plan, functions)
        fresh = StackState(name, previous.stack_id, region, account, api_url, outputs=dict(previous.outputs),
                           created=previous.created, parameters=kept, exports=dict(previous.exports),
                           imports=list(previous.imports), display_name=stack.display_name)
        engine = self._engine(fresh, state, session, interruption, known)
        result = engine.deploy(
            plan.desired, plan.resolve_properties, previous.resources, previous.leftovers, created=previous.created,
            check=lambda resources: export_conflicts(previous.exports, plan.outputs(resources)[1], importers))
        if result.succeeded:
            fresh.outputs, fresh.exports = plan.outputs(result.resources)
            fresh.created = True
            fresh.parameters = parameters
            fresh.imports = imports
        _keep(state, fresh, result.resources, result.leftovers, known)
        self.store.save(state)
        if not result.interrupted:
            self._report(name, result, state.stacks.get(name), known)
        return result

    def _describe(self, plan: StackPlan, functions: Mapping[str, FunctionState]) -> None:
        counts = Counter(resource.resource_type.removeprefix("Custom::") for resource in plan.desired.values())
        types = ", ".join(name if count == 1 else f"{name} x{count}" for name, count in counts.items())
        self._say(
            f"{plan.stack.stack_name}: playing {len(plan.desired)} Neptune ML resource(s) ({types}) through "
            f"{', '.join(f.function_name for f in functions.values()) or 'no function'}; "
            f"{len(plan.stack.resources) - len(plan.desired)} other resource(s) are simulated, not deployed.")
        self._say(f"  The Neptune cluster is simulated by the local Neptune ML API at {plan.api_url}: "
                  f"every {NEPTUNE_ENDPOINT_PROPERTY} points there.")

    def _engine(self, stack: StackState, state: DeploymentState, session: CloudSession,
                interruption: Interruption, functions: Mapping[str, FunctionState]) -> StackEngine:
        """The engine for one stack; every change it makes to what is remembered is saved at once."""

        def checkpoint(remembered: Remembered) -> None:
            _keep(state, stack, remembered.resources, remembered.leftovers, functions)
            self.store.save(state)

        send = session.sender(stack.stack_id, interruption.giving_up.is_set)
        return StackEngine(stack.stack_name, send, self._progress,
                           halted=interruption.stopping.is_set, checkpoint=checkpoint)

    def _interrupted(self, state: DeploymentState, destroying: bool = False) -> int:
        """Say what the state keeps after an interruption, and how to carry on (a destroy: with destroy); the exit
        status of a command stopped by SIGINT."""
        self._say(f"⚠️  Interrupted. {self.store.path} records every resource answered so far.")
        pending = [(stack.stack_name, resource) for stack in state.stacks.values()
                   for resource in stack.resources.values() if resource.pending_request]
        for stack_name, resource in pending:
            kind = "Update" if resource.pending_properties is not None else "Create"
            known = f"physical id {resource.physical_id}" if resource.physical_id else "physical id not known"
            self._say(f"   {stack_name}/{resource.logical_id}: its {kind} got no answer yet "
                      f"(RequestId {resource.pending_request}, {known}); it is recorded.")
        where = f" --api-url {shlex.quote(self.options.api_url)}" if self.options.api_url else ""
        if self.options.state_dir != Path(DEFAULT_STATE_DIR):
            where = f" --state-dir {shlex.quote(str(self.options.state_dir))}{where}"
        app = f" --app {shlex.quote(self.options.app)}" if self.options.app else ""
        app += "".join(f" -c {shlex.quote(f'{key}={value}')}" for key, value in self.options.context.items())
        stacks = "".join(f" {shlex.quote(stack)}" for stack in self.options.stacks)
        resend = ("first sends each unanswered request again with its RequestId, as Lambda retries an invocation"
                  if pending else "")
        if destroying:
            self._say(f"Run `{COMMAND} destroy{stacks}{where}` to carry on" + (f": it {resend}." if pending else "."))
        else:
            self._say(f"Run `{COMMAND} deploy{app}{stacks}{where}` to carry on, or `{COMMAND} destroy{where}` to "
                      "delete what was deployed" + (f": either {resend}." if pending else "."))
        return INTERRUPTED_EXIT_STATUS

    def _report(self, name: str, result: StackResult, stack: StackState | None,
                functions: Mapping[str, FunctionState]) -> None:
        if not result.changed:
            self._say(f"✅  {name} (no changes)")
        elif result.succeeded:
            self._say(f"✅  {name}")
        else:
            self._say(f"❌  {name} failed and was rolled back: {result.status}")
            for logical_id, reason in result.failures:
                self._say(f"   {logical_id}: {reason}")
            folders = sorted({str(folder) for folder in (self.store.log_root / f.function_name for f in functions.values())
                              if folder.is_dir()})  # a request the player failed itself never ran the function
            if folders:
                self._say(f"   The handler's log of each request (every reason whole, with its log URLs): "
                          f"{', '.join(folders)}")
            return
        if stack is not None and stack.outputs:
            self._say("\nOutputs:")
            for key, value in stack.outputs.items():
                self._say(f"{name}.{key} = {value}")
        self._say("")

    def _deploy_api(self, state: DeploymentState) -> str:
        """The API to deploy against: --api-url, the one the state used, or a new background one."""
        if self.options.api_url:
            return self._reachable(self.options.api_url)
        recorded = [stack.api_url for stack in state.stacks.values()]
        if state.api_process is not None:
            recorded.append(state.api_process.url)
        for url in recorded:
            if local_api.answers(url):
                return url
        if state.stacks:  # what they created went with it: they are created anew, nothing is adopted
            self._say(f"⚠️  The local Neptune ML API at {recorded[0]} no longer answers, so the endpoints and "
                      f"jobs it held are gone; starting a new one and creating {', '.join(state.stacks)} anew.")
            state.stacks.clear()
        process = local_api.start_background_api(self.store.state_dir / "local-api.log",
                                                 "--exit-when-missing", str(self.store.state_dir.resolve()))
        state.api_process = process
        self._say(f"Started the local Neptune ML API at {process.url} (pid {process.pid}, log "
                  f"{process.log_file}); it keeps running for update and destroy.")
        return process.url

    @staticmethod
    def _reachable(url: str) -> str:
        if not local_api.answers(url):
            raise PlayerError(f"The local Neptune ML API at {url} does not answer. Start one "
                              f"({COMMAND} serve) and give its address with --api-url")
        return url.rstrip("/")

    def _destroy(self) -> int:
        state = self.store.load()
        names = [name for name, stack in state.stacks.items() if not self.options.stacks or any(
            _picks(pattern, name, stack.display_name or name) for pattern in self.options.stacks)]
        if not names:
            which = f": {', '.join(self.options.stacks)} is not deployed" if self.options.stacks else ""
            self._say(f"Nothing to destroy{which} (state: {self.store.path}).")
        status = 0
        with self._progress, Interruption(self._say) as interruption, self._session() as session:
            for name in reversed(names):
                if interruption.stopping.is_set():
                    return self._interrupted(state, destroying=True)
                stack = state.stacks[name]
                in_use = export_conflicts(stack.exports, {}, _importers(state, name))
                if in_use:  # CloudFormation refuses before it deletes anything
                    self._say(f"❌  {name}: Delete canceled. {in_use}: destroy that stack first")
                    status = 1
                    continue
                _retarget(stack, self._reachable(self.options.api_url or stack.api_url))
                session.add_functions(stack.functions.values(), stack.region)
                engine = self._engine(stack, state, session, interruption, dict(stack.functions))
                result = engine.destroy(stack.resources, stack.leftovers)
                stack.created = stack.created and not result.succeeded
                _keep(state, stack, result.resources, result.leftovers, dict(stack.functions))
                self.store.save(state)
                if result.interrupted:
                    return self._interrupted(state, destroying=True)
                if result.succeeded:  # nothing is left, so _keep forgot the stack
                    self._say(f"✅  {name}: destroyed")
                else:
                    left = len(result.resources) + len(result.leftovers)
                    self._say(f"❌  {name}: {result.status}; {left} resource(s) are left")
                    status = 1
        if not state.stacks:
            self._finish(state, destroyed=bool(names))
        return status

    def _finish(self, state: DeploymentState, destroyed: bool) -> None:
        """Show what the local API still holds and remove the state; stop the API deploy started, unless stacks
        were destroyed just now and it still holds endpoints or jobs (kept by their DeletionPolicy)."""
        api_url = self.options.api_url or (state.api_process.url if state.api_process else None)
        remaining: list[str] = []
        if api_url and local_api.answers(api_url):
            remaining = local_api.endpoint_ids(api_url)
            self._say(f"Endpoints in the local Neptune ML API at {api_url}: {', '.join(remaining) or 'none'}")
            running = local_api.running_jobs(api_url)
            self._say(f"Jobs still running there: {', '.join(running) or 'none'}")
            remaining += running
        process = state.api_process
        self.store.remove()
        if process is not None and remaining and destroyed:
            self.store.save(DeploymentState(api_process=process))
            self._say(f"The local Neptune ML API keeps running (pid {process.pid}) for the endpoints and jobs kept "
                      f"there; stop it with another `{COMMAND} destroy`, or with `kill {process.pid}`.")
        elif process is not None:
            outcome = local_api.stop_background_api(process)
            self._say(_STOPPED_MESSAGES[outcome].format(pid=process.pid, url=process.url))

    def _session(self) -> CloudSession:
        return CloudSession(self.store.log_root, self.options.poll_seconds, self.options.function_timeout,
                            self._progress.message, rules_file=self.store.rules_file)

    def _say(self, text: str) -> None:
        self._progress.message(text)


_STOPPED_MESSAGES = {
    local_api.STOPPED: "Stopped the local Neptune ML API (pid {pid}).",
    local_api.ALREADY_GONE: "The local Neptune ML API (pid {pid}) had already stopped.",
    local_api.NOT_RECOGNISED: "Left process {pid} alone: it does not answer as the local Neptune ML API this state "
                              "started ({url}). If that API still runs, stop it yourself.",
}


def _keep(state: DeploymentState, stack: StackState, resources: Mapping[str, ResourceState],
          leftovers: Sequence[ResourceState], functions: Mapping[str, FunctionState]) -> None:
    """Remember these resources and leftovers as the stack's (and the functions they use); forget a stack that
    holds none, unless it was created (one of simulated resources only keeps its outputs and exports)."""
    if not resources and not leftovers and not stack.created:
        state.stacks.pop(stack.stack_name, None)
        return
    used = {resource.service_token for resource in [*resources.values(), *leftovers]}
    stack.resources = dict(resources)
    stack.leftovers = list(leftovers)
    stack.functions = {arn: function for arn, function in functions.items() if arn in used}
    state.stacks[stack.stack_name] = stack


def _picks(pattern: str, stack_name: str, display_name: str) -> bool:
    """Whether a stack named on the command line is this one, as the CDK CLI picks: by its stack name, or by
    the name `cdk ls` prints or a pattern over it."""
    return stack_name == pattern or fnmatch.fnmatchcase(display_name, pattern)


def _importers(state: DeploymentState, exporter: str) -> dict[str, list[str]]:
    """The other deployed stacks that import each export name."""
    importers: dict[str, list[str]] = {}
    for stack in state.stacks.values():
        for name in stack.imports if stack.stack_name != exporter else ():
            importers.setdefault(name, []).append(stack.stack_name)
    return importers


def _retarget(stack: StackState, api_url: str) -> None:
    """Point the remembered NeptuneEndpoint properties at the API now standing in for the cluster."""
    if stack.api_url == api_url:
        return

    def pointed(resource: ResourceState) -> ResourceState:
        changes: dict[str, Any] = {}
        for name in ("properties", "pending_properties"):
            properties = getattr(resource, name)
            if properties and NEPTUNE_ENDPOINT_PROPERTY in properties:
                changes[name] = {**properties, NEPTUNE_ENDPOINT_PROPERTY: api_url}
        return dataclasses.replace(resource, **changes)

    stack.resources = {logical_id: pointed(resource) for logical_id, resource in stack.resources.items()}
    stack.leftovers = [pointed(resource) for resource in stack.leftovers]
    stack.api_url = api_url

