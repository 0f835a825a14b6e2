"""What the player has deployed, kept in a JSON file between runs."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

DEFAULT_STATE_DIR = ".local-deploy"
STATE_FILE = "state.json"
LOCK_FILE = ".lock"
STATE_VERSION = 1
_LOCK_ATTEMPTS = 5


@dataclass(frozen=True)
class ResourceState:
    """One played custom resource as CloudFormation remembers it."""

    logical_id: str
    resource_type: str
    physical_id: str
    properties: dict[str, Any]
    data: dict[str, Any]
    service_token: str
    depends_on: list[str] = field(default_factory=list)
    deletion_policy: str = "Delete"
    update_replace_policy: str = "Delete"
    pending_request: str = ""
    """The RequestId of a Create or Update sent for this resource whose answer has not arrived."""
    pending_properties: dict[str, Any] | None = None
    """For a pending Update: the properties it sent (`properties` stay those before it)."""

    def answered(self, physical_id: str, data: dict[str, Any]) -> ResourceState:
        """The same resource after an answer with this physical id and Data."""
        return replace(self, physical_id=physical_id, data=data)

    def settled(self) -> ResourceState:
        """The same resource without a pending request."""
        return replace(self, pending_request="", pending_properties=None)


@dataclass(frozen=True)
class FunctionState:
    """A Lambda function as the player runs it: enough to invoke it without the app."""

    arn: str
    function_name: str
    handler: str
    timeout_seconds: int
    environment: dict[str, str]
    code_dir: str


@dataclass
class StackState:
    """One deployed stack."""

    stack_name: str
    stack_id: str
    region: str
    account: str
    api_url: str
    resources: dict[str, ResourceState] = field(default_factory=dict)
    functions: dict[str, FunctionState] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    leftovers: list[ResourceState] = field(default_factory=list)
    """Physical resources no logical id holds any more (replaced, or a create that failed) still to delete."""
    created: bool = False
    """Whether the stack's create completed; until then a deploy carries the create on."""
    parameters: dict[str, str] = field(default_factory=dict)
    """The --parameters values of the last deploy that succeeded: a later deploy keeps them unless given
    again, as the CDK CLI's --previous-parameters (its default) does."""
    exports: dict[str, str] = field(default_factory=dict)
    """The values its Outputs export, by export name, for other stacks' Fn::ImportValue."""
    imports: list[str] = field(default_factory=list)
    """The export names its template imports: their stacks may neither change nor delete them."""
    display_name: str = ""
    """The name `cdk ls` prints for it (its construct path), to pick it by on the command line."""

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> StackState:
        """A saved stack; one saved before `created` was kept had completed its create."""
        return cls(**{**raw, "created": raw.get("created", True),
                      "resources": {k: ResourceState(**v) for k, v in raw.get("resources", {}).items()},
                      "functions": {k: FunctionState(**v) for k, v in raw.get("functions", {}).items()},
                      "leftovers": [ResourceState(**leftover) for leftover in raw.get("leftovers", [])]})


@dataclass(frozen=True)
class ApiProcess:
    """A local Neptune ML API the player started in the background."""

    url: str
    pid: int
    log_file: str
    token: str = ""
    """What the API answers on /local-api/instance: tells it from any other process with that pid."""


@dataclass
class DeploymentState:
    """Everything deployed from one project folder."""

    stacks: dict[str, StackState] = field(default_factory=dict)
    api_process: ApiProcess | None = None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> DeploymentState:
        api = raw.get("api_process")
        return cls(
            stacks={k: StackState.from_json(v) for k, v in raw.get("stacks", {}).items()},
            api_process=ApiProcess(**api) if api else None,
        )


class StateBusyError(RuntimeError):
    """Another command is using the same state folder."""


class StateStore:
    """The state folder: state.json, the function code it points at, the logs, the synthesized app, and the
    EventBridge rules that outlive a command (the handler's creation markers)."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / STATE_FILE
        self.code_root = self.state_dir / "functions"
        self.log_root = self.state_dir / "logs"
        self.assembly_dir = self.state_dir / "cdk.out"
        self.rules_file = self.state_dir / "eventbridge-rules.json"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the state folder for one command (StateBusyError when another holds it); however the command
        ends, the lock file goes, and so does the state folder when the command made it and left it empty."""
        made_here = not self.state_dir.exists()
        try:
            with _held(self.state_dir / LOCK_FILE):
                yield
        finally:
            if made_here:
                with contextlib.suppress(OSError):
                    self.state_dir.rmdir()  # only when empty

    def load(self) -> DeploymentState:
        """The saved state, or an empty one."""
        if not self.path.is_file():
            return DeploymentState()
        raw = json.loads(self.path.read_text())
        return DeploymentState.from_json(raw.get("deployment", {}))

    def save(self, state: DeploymentState) -> None:
        """Write the state atomically."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        payload = {"version": STATE_VERSION, "deployment": asdict(state)}
        handle, temporary = tempfile.mkstemp(dir=self.state_dir, prefix=".state-", suffix=".json")
        with os.fdopen(handle, "w") as stream:
            json.dump(payload, stream, indent=2, sort_keys=True)
            stream.write("\n")
        os.replace(temporary, self.path)

    def remove(self) -> None:
        """Forget everything: the state file and the code copies."""
        self.path.unlink(missing_ok=True)
        self.rules_file.unlink(missing_ok=True)
        shutil.rmtree(self.code_root, ignore_errors=True)


@contextlib.contextmanager
def _held(lock_path: Path) -> Iterator[None]:
    """An exclusive lock on lock_path (its folder made if need be), removed when released; as a command that
    ends removes the file while it holds it, one that opened the file just before tries again on a new one."""
    state_dir = lock_path.parent
    for _ in range(_LOCK_ATTEMPTS):
        state_dir.mkdir(parents=True, exist_ok=True)
        try:
            lock = lock_path.open("a")
        except FileNotFoundError:  # the folder went between mkdir and open
            continue
        with lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise _busy(state_dir) from None
            if not _is_current(lock.fileno(), lock_path):
                continue
            try:
                yield
            finally:
                lock_path.unlink(missing_ok=True)
            return
    raise _busy(state_dir)


def _busy(state_dir: Path) -> StateBusyError:
    return StateBusyError(f"Another deploy, update or destroy is using {state_dir}")


def _is_current(descriptor: int, path: Path) -> bool:
    """Whether the open file is still the one at path."""
    try:
        current = path.stat()
    except FileNotFoundError:
        return False
    opened = os.fstat(descriptor)
    return (opened.st_dev, opened.st_ino) == (current.st_dev, current.st_ino)
