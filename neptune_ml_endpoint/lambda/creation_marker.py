"""A request's own record that it asked Neptune for an endpoint under an explicit id.

GetMLEndpoint names no owner, tag or creation time, so an endpoint found under an explicit id
may be this request's (made by an earlier invocation that stopped before answering; Lambda then
runs the same event again) or anybody else's. Before sending CreateMLEndpoint the handler puts
a marker naming the request and the id (`sending`), and marks it `created`, with Neptune's
answer, once Neptune has accepted the create. A later invocation of the same request adopts the
endpoint only on a `created` marker of its own. A replacement also names the endpoint it
replaces (`previous`), so that a rollback may return to it; that marker stays until
CloudFormation's cleanup deletes one of the two.

The marker is a disabled EventBridge rule without targets, named after the resource
(LogicalResourceId plus 8 hex characters of the stack id): inside the rule names the handler
already manages for crhelper's polling (``rule/<LogicalResourceId>*``). Its description holds
the record as JSON. The handler removes it once the request is answered, and on Delete.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

logger = logging.getLogger(__name__)

SENDING = "sending"
CREATED = "created"
RULE_NAME_MAX = 64
_SUFFIX_LENGTH = 8
LOGICAL_ID_MAX = RULE_NAME_MAX - _SUFFIX_LENGTH
_NEVER_MATCHING_PATTERN = json.dumps({"source": ["neptune-ml-endpoint.creation-marker"]})


class MarkerError(Exception):
    """The marker could not be read, written or removed; the message says which call failed."""


@dataclass(frozen=True)
class CreationMarker:
    """What one request asked for and what Neptune answered."""

    request_id: str
    endpoint_id: str
    phase: str = SENDING
    arn: str = ""
    creation_time: str = "0"
    previous: str = ""
    """For a replacement: the endpoint the resource held before, until CloudFormation deletes one of the two."""
    configuration: str = ""
    """For a job: the digest of the configuration it was started with (jobs keep their marker until deleted)."""

    def belongs_to(self, request_id: str, endpoint_id: str) -> bool:
        return self.request_id == request_id and self.endpoint_id == endpoint_id

    def to_text(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_text(cls, text: str) -> CreationMarker | None:
        """The marker a rule description holds; None for anything else."""
        try:
            return cls(**json.loads(text))
        except (TypeError, ValueError):
            return None


def marker_name(stack_id: str, logical_id: str) -> str:
    """The marker's rule name: the logical id and 8 hex characters of the stack id."""
    suffix = hashlib.sha256(stack_id.encode()).hexdigest()[:_SUFFIX_LENGTH]
    return f"{logical_id}{suffix}"


class MarkerStore(Protocol):
    """Where markers live; keyed by marker_name."""

    def get(self, name: str) -> CreationMarker | None: ...

    def put(self, name: str, marker: CreationMarker) -> None: ...

    def remove(self, name: str) -> None: ...


@functools.lru_cache(maxsize=1)
def _events_client() -> Any:
    config = Config(retries={"mode": "standard", "total_max_attempts": 4}, connect_timeout=5, read_timeout=15)
    return boto3.client("events", config=config)


class EventBridgeMarkers:
    """Markers as disabled EventBridge rules (PutRule, DescribeRule, DeleteRule)."""

    def get(self, name: str) -> CreationMarker | None:
        try:
            rule = _events_client().describe_rule(Name=name)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise MarkerError(_reason("DescribeRule", error)) from None
        except BotoCoreError as error:
            raise MarkerError(_reason("DescribeRule", error)) from None
        return CreationMarker.from_text(str(rule.get("Description") or ""))

    def put(self, name: str, marker: CreationMarker) -> None:
        try:
            _events_client().put_rule(Name=name, EventPattern=_NEVER_MATCHING_PATTERN, State="DISABLED",
                                      Description=marker.to_text())
        except (ClientError, BotoCoreError) as error:
            raise MarkerError(_reason("PutRule", error)) from None

    def remove(self, name: str) -> None:
        try:
            _events_client().delete_rule(Name=name)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise MarkerError(_reason("DeleteRule", error)) from None
        except BotoCoreError as error:
            raise MarkerError(_reason("DeleteRule", error)) from None


def _reason(operation: str, error: Exception) -> str:
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code") or "UnknownError"
        return f"EventBridge {operation} failed with {code}: {error.response.get('Error', {}).get('Message', '')}"
    return f"EventBridge {operation} failed: {type(error).__name__}"
