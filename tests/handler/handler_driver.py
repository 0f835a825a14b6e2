"""CloudFormation and Lambda as the handler sees them: events, a context, answers, polling.

The handler is imported from its source folder (neptune_ml_endpoint/lambda on sys.path).
crhelper answers to a ResponseReceiver (real HTTPS, trusted through SSL_CERT_FILE), its
polling calls reach LocalCloudStubs, and the handler's boto3 neptunedata client talks HTTP to
a LocalNeptuneMlApi. Handler settings are shortened so every test takes about a second.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.local.api import LocalNeptuneMlApi, Timings
from neptune_ml_endpoint.local.cloudformation.aws.eventbridge_lambda import LocalCloudStubs
from neptune_ml_endpoint.local.cloudformation.aws.response_receiver import ResponseReceiver

HANDLER_DIR = Path(schema.__file__).with_name("lambda")
STACK_ID = f"arn:aws:cloudformation:us-east-1:123456789012:stack/demo/{uuid.uuid4()}"
FUNCTION_NAME = "demo-NeptuneMlEndpointHandler"
SERVICE_TOKEN = f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION_NAME}"
SAFETY_MARGIN = 2.0
"""Seconds each invocation keeps back; a context with less than this hands over to polling at once."""

SHORT_SETTINGS = {
    schema.ENV_CONNECT_TIMEOUT: "1",
    schema.ENV_READ_TIMEOUT: "3",
    schema.ENV_MAX_ATTEMPTS: "3",
    schema.ENV_CLIENT_TIMEOUT_RETRIES: "2",
    schema.ENV_WAIT_FIRST_SECONDS: "0.05",
    schema.ENV_WAIT_MAX_SECONDS: "0.2",
    schema.ENV_SAFETY_MARGIN_SECONDS: str(SAFETY_MARGIN),
}
FAST = Timings(creating=0.1, updating=0.1, deleting=0.1)


@dataclass
class LambdaContext:
    """The parts of Lambda's context object that crhelper and the handler read."""

    seconds: float
    function_name: str = FUNCTION_NAME
    invoked_function_arn: str = SERVICE_TOKEN
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class CloudFormation:
    """Builds CloudFormation-shaped events, invokes the handler and reads the answers."""

    handler: Callable[[dict[str, Any], Any], Any]
    receiver: ResponseReceiver
    stubs: LocalCloudStubs
    api: LocalNeptuneMlApi

    def properties(self, **values: str) -> dict[str, str]:
        """Resource properties as CloudFormation sends them: strings, ServiceToken included."""
        return {"ServiceToken": SERVICE_TOKEN, "NeptuneEndpoint": self.api.url,
                "MlModelTrainingJobId": "training-1", **values}

    def event(self, request_type: str, properties: dict[str, str], *, logical_id: str = "Endpoint",
              physical_id: str | None = None, old_properties: dict[str, str] | None = None,
              stack_id: str = STACK_ID) -> dict[str, Any]:
        request_id = str(uuid.uuid4())
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": SERVICE_TOKEN,
            "ResponseURL": self.receiver.url_for(self.key(logical_id, request_id)),
            "StackId": stack_id,
            "RequestId": request_id,
            "LogicalResourceId": logical_id,
            "ResourceType": schema.RESOURCE_TYPE,
            "ResourceProperties": properties,
        }
        if physical_id is not None:
            event["PhysicalResourceId"] = physical_id
        if old_properties is not None:
            event["OldResourceProperties"] = old_properties
        return event

    @staticmethod
    def key(logical_id: str, request_id: str) -> str:
        return f"{logical_id}|{request_id}"

    def key_of(self, event: dict[str, Any]) -> str:
        return self.key(event["LogicalResourceId"], event["RequestId"])

    def invoke(self, event: dict[str, Any], seconds: float = 30.0) -> None:
        """One Lambda invocation with a fresh copy of the event, as Lambda deserialises it."""
        self.handler(copy.deepcopy(event), LambdaContext(seconds))

    def send(self, event: dict[str, Any], seconds: float = 30.0) -> dict[str, Any]:
        """Invoke once and return the one answer, which must arrive within that invocation."""
        self.invoke(event, seconds)
        return self.only_answer(event)

    def only_answer(self, event: dict[str, Any]) -> dict[str, Any]:
        answers = self.receiver.responses(self.key_of(event))
        assert len(answers) == 1, f"expected exactly one answer, got {answers}"
        return answers[0]

    def poll_until_answered(self, event: dict[str, Any], pause: float = 0.2, limit: float = 15.0) -> dict[str, Any]:
        """Deliver the polling rule's Input as EventBridge would, until the request is answered."""
        end = time.monotonic() + limit
        while not self.receiver.responses(self.key_of(event)):
            assert time.monotonic() < end, "no answer while polling"
            rules = [rule for rule in self.stubs.rules() if rule.targets]  # creation markers have none
            assert len(rules) == 1 and len(rules[0].targets) == 1, f"expected one polling rule, got {rules}"
            time.sleep(pause)
            self.handler(json_input(rules[0].targets[0].input), LambdaContext(30.0))
        return self.only_answer(event)

    def operations(self) -> list[str]:
        """Neptune Data API operations the handler called, in order."""
        return [str(r.operation) for r in self.api.requests()]


def json_input(text: str | None) -> dict[str, Any]:
    assert text is not None
    loaded: dict[str, Any] = json.loads(text)
    return loaded
