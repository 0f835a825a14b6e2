"""The EventBridge and Lambda calls crhelper and the handler make, answered in memory by one HTTP server.

EventBridge (JSON 1.1, X-Amz-Target AWSEvents.*): PutRule, PutTargets, RemoveTargets, DeleteRule and
DescribeRule. Lambda (REST): AddPermission and RemovePermission under /2015-03-31/functions/{name}/policy.
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote, urlsplit

from neptune_ml_endpoint.local.cloudformation.aws.background_http import BackgroundHttpServer

HOST = "127.0.0.1"
_RULE_NAME = re.compile(r"^[.\-_A-Za-z0-9]{1,64}$")
_STATEMENT_ID = re.compile(r"^[A-Za-z0-9\-_.]{1,100}$")
_POLICY_PATH = re.compile(r"^/2015-03-31/functions/(?P<function>[^/]+)/policy(?:/(?P<sid>[^/]+))?/?$")
_EVENTS_OPERATIONS = ("PutRule", "PutTargets", "RemoveTargets", "DeleteRule", "DescribeRule")


@dataclass(frozen=True)
class TargetSnapshot:
    """One target of a rule; `input` is the JSON the rule would invoke the target with."""

    target_id: str
    arn: str
    input: str | None


@dataclass(frozen=True)
class RuleSnapshot:
    name: str
    arn: str
    schedule_expression: str | None
    state: str
    targets: tuple[TargetSnapshot, ...] = ()
    description: str = ""
    event_pattern: str | None = None


@dataclass(frozen=True)
class PermissionSnapshot:
    function_name: str
    statement_id: str
    action: str
    principal: str
    source_arn: str | None


class StubError(Exception):
    """An AWS-style error answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code = status, code
        super().__init__(message)


class LocalCloudStubs(BackgroundHttpServer):
    """In-memory EventBridge rules and Lambda permissions behind one local HTTP server.

    With a rules_file, the rules without targets (the handler's creation markers) outlive the server, as
    EventBridge keeps a rule once PutRule has answered: the file is read at start and written after every
    change to the rules, so even a command killed with SIGKILL leaves them behind. Rules with targets (polling)
    end with the server.
    """

    def __init__(self, region: str = "us-east-1", account: str = "123456789012", port: int = 0,
                 rules_file: Path | None = None) -> None:
        super().__init__((HOST, port), _StubHandler)
        self.region, self.account = region, account
        self._lock = threading.Lock()
        self._rules: dict[str, RuleSnapshot] = {}
        self._permissions: dict[tuple[str, str], PermissionSnapshot] = {}
        self._rules_file = rules_file
        if rules_file is not None and rules_file.is_file():
            for body in json.loads(rules_file.read_text()):
                self._put_rule(body)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def env(self) -> dict[str, str]:
        """botocore's service-specific endpoint variables, all pointing at this server."""
        return {f"AWS_ENDPOINT_URL_{service}": self.url for service in ("EVENTBRIDGE", "LAMBDA", "CLOUDWATCH_LOGS")}

    def rules(self) -> list[RuleSnapshot]:
        """Every rule with its targets, oldest first."""
        with self._lock:
            return list(self._rules.values())

    def permissions(self) -> list[PermissionSnapshot]:
        """Every permission statement of every function, oldest first."""
        with self._lock:
            return list(self._permissions.values())

    def reset(self) -> None:
        """Forget every rule and permission."""
        with self._lock:
            self._rules.clear()
            self._permissions.clear()

    def _save_rules(self) -> None:
        """Write the rules without targets to the rules file at once (atomically); no file when there are none."""
        if self._rules_file is None:
            return
        kept = [{key: value for key, value in (("Name", r.name), ("State", r.state), ("Description", r.description),
                                               ("EventPattern", r.event_pattern),
                                               ("ScheduleExpression", r.schedule_expression)) if value is not None}
                for r in self._rules.values() if not r.targets]
        if not kept:
            self._rules_file.unlink(missing_ok=True)
            return
        self._rules_file.parent.mkdir(parents=True, exist_ok=True)
        partial = self._rules_file.with_name(self._rules_file.name + ".partial")
        partial.write_text(json.dumps(kept, indent=1))
        os.replace(partial, self._rules_file)

    def _put_rule(self, body: dict[str, Any]) -> dict[str, Any]:
        name = str(body.get("Name", ""))
        if not _RULE_NAME.match(name):
            raise StubError(400, "ValidationException", f"Rule name {name!r} must be 1-64 characters of [.-_A-Za-z0-9]")
        if not body.get("ScheduleExpression") and not body.get("EventPattern"):
            raise StubError(400, "ValidationException",
                            "Parameter(s) EventPattern or ScheduleExpression must be specified.")
        old = self._rules.get(name)
        arn = f"arn:aws:events:{self.region}:{self.account}:rule/{name}"
        self._rules[name] = RuleSnapshot(name, arn, body.get("ScheduleExpression"), str(body.get("State", "ENABLED")),
                                         old.targets if old else (), str(body.get("Description") or ""),
                                         body.get("EventPattern"))
        return {"RuleArn": arn}

    def _put_targets(self, body: dict[str, Any]) -> dict[str, Any]:
        rule = self._rule(body.get("Rule"))
        added = {str(t["Id"]): TargetSnapshot(str(t["Id"]), str(t["Arn"]), t.get("Input")) for t in body.get("Targets", [])}
        self._rules[rule.name] = replace(rule, targets=(*(t for t in rule.targets if t.target_id not in added),
                                                        *added.values()))
        return {"FailedEntryCount": 0, "FailedEntries": []}

    def _remove_targets(self, body: dict[str, Any]) -> dict[str, Any]:
        rule = self._rule(body.get("Rule"))
        removed = {str(target_id) for target_id in body.get("Ids", [])}
        self._rules[rule.name] = replace(rule, targets=tuple(t for t in rule.targets if t.target_id not in removed))
        return {"FailedEntryCount": 0, "FailedEntries": []}

    def _delete_rule(self, body: dict[str, Any]) -> dict[str, Any]:
        rule = self._rules.get(str(body.get("Name")))
        if rule is not None and rule.targets:
            raise StubError(400, "ValidationException", "Rule can't be deleted since it has targets.")
        self._rules.pop(str(body.get("Name")), None)
        return {}

    def _describe_rule(self, body: dict[str, Any]) -> dict[str, Any]:
        rule = self._rule(body.get("Name"))
        view = {"Name": rule.name, "Arn": rule.arn, "State": rule.state, "EventBusName": "default",
                "ScheduleExpression": rule.schedule_expression, "EventPattern": rule.event_pattern,
                "Description": rule.description}
        return {key: value for key, value in view.items() if value}

    def _rule(self, name: object) -> RuleSnapshot:
        if str(name) not in self._rules:
            raise StubError(400, "ResourceNotFoundException", f"Rule {name} does not exist.")
        return self._rules[str(name)]

    def _add_permission(self, function: str, body: dict[str, Any]) -> dict[str, Any]:
        sid = str(body.get("StatementId", ""))
        if not _STATEMENT_ID.match(sid):
            raise StubError(400, "ValidationException", f"StatementId {sid!r} is not valid")
        if (function, sid) in self._permissions:
            raise StubError(409, "ResourceConflictException", f"The statement id ({sid}) provided already exists.")
        self._permissions[(function, sid)] = PermissionSnapshot(
            function, sid, str(body.get("Action")), str(body.get("Principal")), body.get("SourceArn"))
        return {"Statement": json.dumps({"Sid": sid, "Effect": "Allow", "Action": body.get("Action")})}

    def _dispatch(self, method: str, path: str, target: str, body: dict[str, Any]) -> tuple[int, Any]:
        with self._lock:
            if target or (method == "POST" and path == "/"):
                operation = target.removeprefix("AWSEvents.")
                if not target.startswith("AWSEvents.") or operation not in _EVENTS_OPERATIONS:
                    raise StubError(400, "UnknownOperationException", f"{target or 'No X-Amz-Target'} is not stubbed")
                answer = getattr(self, "_" + re.sub(r"(?<!^)([A-Z])", r"_\1", operation).lower())(body)
                if operation != "DescribeRule":
                    self._save_rules()
                return 200, answer
            match = _POLICY_PATH.match(path)
            if match is None:
                raise StubError(404, "UnknownOperationException", f"{method} {path} is not stubbed")
            function = unquote(match["function"]).split(":")
            name = function[function.index("function") + 1] if "function" in function else function[0]
            if method == "POST" and match["sid"] is None:
                return 201, self._add_permission(name, body)
            if method == "DELETE" and match["sid"] is not None:
                if self._permissions.pop((name, unquote(match["sid"])), None) is None:
                    raise StubError(404, "ResourceNotFoundException", "The statement is not found in the policy.")
                return 204, {}
            raise StubError(400, "UnknownOperationException", f"{method} on a policy is not stubbed")


class _StubHandler(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers: dict[str, str] = {}
        try:
            status, answer = cast(LocalCloudStubs, self.server)._dispatch(
                self.command, urlsplit(self.path).path, self.headers.get("X-Amz-Target") or "",
                json.loads(raw or b"{}"))
        except StubError as error:
            status, answer = error.status, {"__type": error.code, "message": str(error)}
            headers["x-amzn-ErrorType"] = error.code
        except ValueError:
            status, answer = 400, {"__type": "SerializationException", "message": "The body is not JSON"}
        payload = b"" if status == 204 else json.dumps(answer).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": str(uuid.uuid4()),
                            **headers, "Content-Length": str(len(payload))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""
