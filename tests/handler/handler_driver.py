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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.local.api import LocalNeptuneMlApi, Timings
from neptune_ml_endpoint.local.cloudformation.aws.eventbridge_lambda import LocalCloudStubs
from neptune_ml_endpoint.local.cloudformation.aws.response_receiver import ResponseReceiver
from neptune_ml_endpoint.local.cloudformation.testing import (
    FAST_HANDLER_SETTINGS,
    FUNCTION_NAME,
    SERVICE_TOKEN,
    CustomResourceRequest,
    LambdaContext,
    custom_resource_event,
    new_stack_id,
)

__all__ = ["FAST", "FUNCTION_NAME", "HANDLER_DIR", "SAFETY_MARGIN", "SHORT_SETTINGS", "STACK_ID", "CloudFormation",
           "LambdaContext", "json_input"]

HANDLER_DIR = Path(schema.__file__).with_name("lambda")
STACK_ID = new_stack_id()
SAFETY_MARGIN = float(FAST_HANDLER_SETTINGS[schema.ENV_SAFETY_MARGIN_SECONDS])
"""Seconds each invocation keeps back; a context with less than this hands over to polling at once."""
SHORT_SETTINGS = FAST_HANDLER_SETTINGS
FAST = Timings(creating=0.1, updating=0.1, deleting=0.1)


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
        request = CustomResourceRequest(request_type, logical_id, schema.RESOURCE_TYPE, SERVICE_TOKEN, properties,
                                        old_properties, physical_id, request_id)
        return custom_resource_event(request, stack_id, request_id,
                                     self.receiver.url_for(self.key(logical_id, request_id)))

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
