"""The EventBridge and Lambda calls crhelper makes for polling, answered in memory.

    with LocalCloudStubs() as stubs:
        os.environ.update(stubs.env())      # boto3's events and lambda clients now call the stubs
        ...                                  # run the handler; crhelper puts a rule and a permission
        rule = stubs.rules()[0]
        next_event = json.loads(rule.targets[0].input)   # what EventBridge would invoke with

One plain-HTTP server on 127.0.0.1 answers both protocols:
- EventBridge (JSON 1.1, X-Amz-Target AWSEvents.*): PutRule, PutTargets, RemoveTargets,
  DeleteRule, DescribeRule, ListRules. Rule names follow EventBridge's limit (1-64 of
  [.-_A-Za-z0-9]); a rule with targets cannot be deleted.
- Lambda (REST): AddPermission (POST /2015-03-31/functions/{name}/policy), RemovePermission
  (DELETE .../policy/{sid}) and GetPolicy (GET .../policy).
Rule ARNs are arn:aws:events:<region>:<account>:rule/<name>, which crhelper takes apart.
`env()` names the server in botocore's service-specific endpoint variables
(AWS_ENDPOINT_URL_EVENTBRIDGE, AWS_ENDPOINT_URL_LAMBDA, and CloudWatch Logs' too, so that no
client crhelper makes can reach AWS).
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote, urlsplit

from neptune_ml_endpoint.local.cloudformation.aws.background_http import (
    BackgroundHttpServer,
    ServedInBackground,
)

HOST = "127.0.0.1"
_RULE_NAME = re.compile(r"^[.\-_A-Za-z0-9]{1,64}$")
_STATEMENT_ID = re.compile(r"^[A-Za-z0-9\-_.]{1,100}$")
_POLICY_PATH = re.compile(r"^/2015-03-31/functions/(?P<function>[^/]+)/policy(?:/(?P<sid>[^/]+))?/?$")


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
    targets: tuple[TargetSnapshot, ...]
    description: str = ""


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
        self.status = status
        self.code = code
        super().__init__(message)


@dataclass
class _Rule:
    name: str
    arn: str
    schedule_expression: str | None
    state: str
    targets: dict[str, TargetSnapshot] = field(default_factory=dict)
    description: str = ""
    event_pattern: str | None = None


class LocalCloudStubs(ServedInBackground):
    """In-memory EventBridge rules and Lambda permissions behind one local HTTP server."""

    def __init__(self, region: str = "us-east-1", account: str = "123456789012", port: int = 0) -> None:
        self.region = region
        self.account = account
        self._lock = threading.Lock()
        self._rules: dict[str, _Rule] = {}
        self._permissions: dict[tuple[str, str], PermissionSnapshot] = {}
        self._server = BackgroundHttpServer((HOST, port), self._handler_class())

    # --- what callers use -----------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def env(self) -> dict[str, str]:
        """botocore's service-specific endpoint variables, all pointing at this server."""
        return {
            "AWS_ENDPOINT_URL_EVENTBRIDGE": self.url,
            "AWS_ENDPOINT_URL_LAMBDA": self.url,
            "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": self.url,
        }

    def rules(self) -> list[RuleSnapshot]:
        """Every rule with its targets, oldest first."""
        with self._lock:
            return [
                RuleSnapshot(r.name, r.arn, r.schedule_expression, r.state, tuple(r.targets.values()), r.description)
                for r in self._rules.values()
            ]

    def permissions(self) -> list[PermissionSnapshot]:
        """Every permission statement of every function, oldest first."""
        with self._lock:
            return list(self._permissions.values())

    def rules_without_targets(self) -> list[dict[str, Any]]:
        """The rules nothing invokes (creation markers), as PutRule bodies: what outlives one run."""
        with self._lock:
            return [{"Name": r.name, "State": r.state, "Description": r.description,
                     **({"EventPattern": r.event_pattern} if r.event_pattern else {}),
                     **({"ScheduleExpression": r.schedule_expression} if r.schedule_expression else {})}
                    for r in self._rules.values() if not r.targets]

    def put_rules(self, bodies: list[dict[str, Any]]) -> None:
        """Put rules back from rules_without_targets() of an earlier run."""
        with self._lock:
            for body in bodies:
                self._put_rule(body)

    def reset(self) -> None:
        """Forget every rule and permission."""
        with self._lock:
            self._rules.clear()
            self._permissions.clear()

    # --- EventBridge ----------------------------------------------------------------

    def _put_rule(self, body: dict[str, Any]) -> dict[str, Any]:
        name = str(body.get("Name", ""))
        if not _RULE_NAME.match(name):
            raise StubError(400, "ValidationException",
                            f"Rule name {name!r} must be 1-64 characters of [.-_A-Za-z0-9]")
        arn = f"arn:aws:events:{self.region}:{self.account}:rule/{name}"
        if not body.get("ScheduleExpression") and not body.get("EventPattern"):
            raise StubError(400, "ValidationException", "Parameter(s) EventPattern or ScheduleExpression must be "
                            "specified.")
        old = self._rules.get(name)
        self._rules[name] = _Rule(name, arn, body.get("ScheduleExpression"), str(body.get("State", "ENABLED")),
                                  old.targets if old else {}, str(body.get("Description") or ""),
                                  body.get("EventPattern"))
        return {"RuleArn": arn}

    def _put_targets(self, body: dict[str, Any]) -> dict[str, Any]:
        rule = self._rule(body.get("Rule"))
        for target in body.get("Targets", []):
            rule.targets[str(target["Id"])] = TargetSnapshot(str(target["Id"]), str(target["Arn"]),
                                                             target.get("Input"))
        return {"FailedEntryCount": 0, "FailedEntries": []}

    def _remove_targets(self, body: dict[str, Any]) -> dict[str, Any]:
        rule = self._rule(body.get("Rule"))
        for target_id in body.get("Ids", []):
            rule.targets.pop(str(target_id), None)
        return {"FailedEntryCount": 0, "FailedEntries": []}

    def _delete_rule(self, body: dict[str, Any]) -> dict[str, Any]:
        rule = self._rules.get(str(body.get("Name")))
        if rule is not None and rule.targets:
            raise StubError(400, "ValidationException", "Rule can't be deleted since it has targets.")
        self._rules.pop(str(body.get("Name")), None)
        return {}

    def _describe_rule(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._rule_view(self._rule(body.get("Name")))

    def _list_rules(self, body: dict[str, Any]) -> dict[str, Any]:
        prefix = str(body.get("NamePrefix") or "")
        return {"Rules": [self._rule_view(r) for r in self._rules.values() if r.name.startswith(prefix)]}

    def _rule(self, name: object) -> _Rule:
        rule = self._rules.get(str(name))
        if rule is None:
            raise StubError(400, "ResourceNotFoundException", f"Rule {name} does not exist.")
        return rule

    @staticmethod
    def _rule_view(rule: _Rule) -> dict[str, Any]:
        view = {"Name": rule.name, "Arn": rule.arn, "State": rule.state, "EventBusName": "default"}
        if rule.schedule_expression:
            view["ScheduleExpression"] = rule.schedule_expression
        if rule.event_pattern:
            view["EventPattern"] = rule.event_pattern
        if rule.description:
            view["Description"] = rule.description
        return view

    def _events_operations(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {
            "PutRule": self._put_rule, "PutTargets": self._put_targets, "RemoveTargets": self._remove_targets,
            "DeleteRule": self._delete_rule, "DescribeRule": self._describe_rule, "ListRules": self._list_rules,
        }

    def _events_call(self, target: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        operation = target.removeprefix("AWSEvents.")
        handler = self._events_operations().get(operation)
        if not target.startswith("AWSEvents.") or handler is None:
            raise StubError(400, "UnknownOperationException", f"{target or 'No X-Amz-Target'} is not stubbed")
        return 200, handler(body)

    # --- Lambda ---------------------------------------------------------------------

    def _lambda_call(self, method: str, function: str, sid: str | None,
                     body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "POST" and sid is None:
            return 201, self._add_permission(function, body)
        if method == "DELETE" and sid is not None:
            if self._permissions.pop((function, sid), None) is None:
                raise StubError(404, "ResourceNotFoundException", f"Statement {sid} is not found in the policy.")
            return 204, {}
        if method == "GET" and sid is None:
            return 200, self._policy(function)
        raise StubError(400, "UnknownOperationException", f"{method} on a policy is not stubbed")

    def _add_permission(self, function: str, body: dict[str, Any]) -> dict[str, Any]:
        sid = str(body.get("StatementId", ""))
        if not _STATEMENT_ID.match(sid):
            raise StubError(400, "ValidationException", f"StatementId {sid!r} is not valid")
        if (function, sid) in self._permissions:
            raise StubError(409, "ResourceConflictException", f"The statement id ({sid}) provided already exists.")
        permission = PermissionSnapshot(function, sid, str(body.get("Action")), str(body.get("Principal")),
                                        body.get("SourceArn"))
        self._permissions[(function, sid)] = permission
        return {"Statement": json.dumps(self._statement(permission))}

    def _policy(self, function: str) -> dict[str, Any]:
        statements = [self._statement(p) for p in self._permissions.values() if p.function_name == function]
        if not statements:
            raise StubError(404, "ResourceNotFoundException", "The resource you requested does not exist.")
        policy = {"Version": "2012-10-17", "Id": "default", "Statement": statements}
        return {"Policy": json.dumps(policy), "RevisionId": str(uuid.uuid4())}

    def _statement(self, permission: PermissionSnapshot) -> dict[str, Any]:
        statement: dict[str, Any] = {
            "Sid": permission.statement_id, "Effect": "Allow", "Principal": {"Service": permission.principal},
            "Action": permission.action,
            "Resource": f"arn:aws:lambda:{self.region}:{self.account}:function:{permission.function_name}",
        }
        if permission.source_arn:
            statement["Condition"] = {"ArnLike": {"AWS:SourceArn": permission.source_arn}}
        return statement

    # --- the server -----------------------------------------------------------------

    def _dispatch(self, method: str, path: str, target: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if target or (method == "POST" and path == "/"):
                return self._events_call(target, body)
            match = _POLICY_PATH.match(path)
            if match is None:
                raise StubError(404, "UnknownOperationException", f"{method} {path} is not stubbed")
            function = _function_name(unquote(match["function"]))
            sid = unquote(match["sid"]) if match["sid"] else None
            return self._lambda_call(method, function, sid, body)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stubs = self

        class StubHandler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                target = self.headers.get("X-Amz-Target") or ""
                try:
                    body = json.loads(raw) if raw else {}
                    status, answer = stubs._dispatch(self.command, urlsplit(self.path).path, target, body)
                except StubError as error:
                    status, answer = error.status, {"__type": error.code, "message": str(error)}
                    self._send(status, answer, {"x-amzn-ErrorType": error.code})
                    return
                except ValueError:
                    status, answer = 400, {"__type": "SerializationException", "message": "The body is not JSON"}
                self._send(status, answer, {})

            def _send(self, status: int, answer: dict[str, Any], headers: dict[str, str]) -> None:
                payload = b"" if status == 204 else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                """Silent."""

        return StubHandler


def _function_name(name_or_arn: str) -> str:
    """A function's name from its name or (partial) ARN, without a version or alias."""
    parts = name_or_arn.split(":")
    if "function" in parts:
        return parts[parts.index("function") + 1]
    return parts[0]
