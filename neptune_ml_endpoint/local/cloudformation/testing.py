"""Doubles for driving a custom-resource handler in-process, as CloudFormation and Lambda would.

Used by the tests and the benchmarks; the commands run handlers in processes of their own
(aws/lambda_runtime.py) and never import this module.

    context = LambdaContext(seconds=30.0)
    event = custom_resource_event(CustomResourceRequest("Create", ...), stack_id, request_id, response_url)
    handler(event, context)
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.local.cloudformation.aws.cloud_session import fake_credentials
from neptune_ml_endpoint.local.cloudformation.engine.protocol import (
    CustomResourceRequest,
    custom_resource_event,
)

__all__ = [
    "FAST_HANDLER_SETTINGS", "FUNCTION_NAME", "SERVICE_TOKEN", "CustomResourceRequest", "LambdaContext",
    "custom_resource_event", "fake_aws_environment", "new_stack_id",
]

FUNCTION_NAME = "demo-NeptuneMlEndpointHandler"
SERVICE_TOKEN = f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION_NAME}"

FAST_HANDLER_SETTINGS = {
    schema.ENV_CONNECT_TIMEOUT: "1",
    schema.ENV_READ_TIMEOUT: "3",
    schema.ENV_MAX_ATTEMPTS: "3",
    schema.ENV_CLIENT_TIMEOUT_RETRIES: "2",
    schema.ENV_WAIT_FIRST_SECONDS: "0.05",
    schema.ENV_WAIT_MAX_SECONDS: "0.2",
    schema.ENV_SAFETY_MARGIN_SECONDS: "2.0",
}
"""Handler settings that make an in-process request against the local API take about a second."""


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


def fake_aws_environment(region: str = "us-east-1") -> dict[str, str]:
    """A Lambda function's AWS environment that reaches no real account."""
    return {**fake_credentials(), "AWS_REGION": region, "AWS_DEFAULT_REGION": region}


def new_stack_id(stack_name: str = "demo", region: str = "us-east-1", account: str = "123456789012") -> str:
    return f"arn:aws:cloudformation:{region}:{account}:stack/{stack_name}/{uuid.uuid4()}"
