"""CloudFormation and Lambda as the handler sees them, from the package's local CloudFormation (testing)."""

from neptune_ml_endpoint import schema
from neptune_ml_endpoint.local.api import Timings
from neptune_ml_endpoint.local.cloudformation.testing import (
    FAST_HANDLER_SETTINGS as SHORT_SETTINGS,
)
from neptune_ml_endpoint.local.cloudformation.testing import (
    FUNCTION_NAME,
    HANDLER_DIR,
    STACK_ID,
    CloudFormation,
    LambdaContext,
    json_input,
)

__all__ = ["FAST", "FUNCTION_NAME", "HANDLER_DIR", "SAFETY_MARGIN", "SHORT_SETTINGS", "STACK_ID", "CloudFormation",
           "LambdaContext", "json_input"]

SAFETY_MARGIN = float(SHORT_SETTINGS[schema.ENV_SAFETY_MARGIN_SECONDS])
"""Seconds each invocation keeps back; a context with less than this hands over to polling at once."""
FAST = Timings(creating=0.1, updating=0.1, deleting=0.1)
