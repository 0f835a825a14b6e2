"""Checks of single property values: each returns the API's value or raises PropertyError."""

from __future__ import annotations

import enum
import re
from typing import Any


class ModelName(enum.StrEnum):
    """Neptune ML model names: RGCN for heterogeneous graphs; KGE, TRANSE, DISTMULT and
    ROTATE for knowledge graphs."""

    RGCN = "rgcn"
    KGE = "kge"
    TRANSE = "transe"
    DISTMULT = "distmult"
    ROTATE = "rotate"


MODEL_NAMES = tuple(name.value for name in ModelName)

ENDPOINT_ID_MAX_LENGTH = 63
_ENDPOINT_ID = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
_JOB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")
_ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{0,12}:.{1,1024}$")
_KMS_KEY = re.compile(r"^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/.+|[A-Za-z0-9/_-]{1,256})$")
_HOST = r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?"
HOST_NAME = re.compile(f"^{_HOST}$")
"""A host name (or IPv4 address): no scheme, no port."""
_URL = re.compile(rf"^https?://({_HOST}|\[[0-9A-Fa-f:.]+\])(:(?P<port>\d{{1,5}}))?/?$")
PORT_MAX = 65535

INSTANCE_COUNT_MAX = 100
DEFAULT_INSTANCE_TYPE = "ml.m5.xlarge"


class PropertyError(ValueError):
    """A property value that the resource cannot accept; names the property and the fix."""

    def __init__(self, property_name: str, problem: str, fix: str) -> None:
        self.property_name = property_name
        self.problem = problem
        self.fix = fix
        super().__init__(f"{property_name}: {problem}. {fix}")


# --- value checks, each returns the API value or raises PropertyError ---------------


def check_endpoint_id(value: str, property_name: str = "Id") -> str:
    """An id that names a SageMaker endpoint and is safe in a URL path."""
    if not _ENDPOINT_ID.match(value):
        raise PropertyError(
            property_name,
            f"{shown(value)} is not a valid endpoint id",
            f"Use 1-{ENDPOINT_ID_MAX_LENGTH} letters, digits and hyphens, "
            "starting and ending with a letter or digit",
        )
    return value


def is_endpoint_id(value: str) -> bool:
    """True when value could name an endpoint (and so may travel into a URL path)."""
    return bool(_ENDPOINT_ID.match(value))


def check_instance_count(value: Any, property_name: str = "InstanceCount") -> int:
    """A positive whole number, given as an int or as CloudFormation's string form."""
    text = str(value).strip() if not isinstance(value, bool) else ""
    if not re.fullmatch(r"[0-9]{1,4}", text) or not 1 <= int(text) <= INSTANCE_COUNT_MAX:
        raise PropertyError(
            property_name,
            f"{shown(value)} is not a whole number from 1 to {INSTANCE_COUNT_MAX}",
            "Give the number of instances behind the endpoint, for example 1",
        )
    return int(text)


def check_model_name(value: str, property_name: str = "ModelName") -> str:
    """One of Neptune ML's model names."""
    if value not in MODEL_NAMES:
        raise PropertyError(
            property_name,
            f"{shown(value)} is not a Neptune ML model name",
            f"Use one of {', '.join(MODEL_NAMES)}, or leave it out to use the training job's model",
        )
    return value


def check_instance_type(value: str, property_name: str = "InstanceType") -> str:
    """A SageMaker ML instance type such as ml.m5.xlarge."""
    if not _INSTANCE_TYPE.match(value):
        raise PropertyError(
            property_name,
            f"{shown(value)} is not an ML instance type",
            f"Use a SageMaker instance type such as {DEFAULT_INSTANCE_TYPE}",
        )
    return value


def check_job_id(value: str, property_name: str) -> str:
    """A Neptune ML job id (training or transform)."""
    if not _JOB_ID.match(value):
        raise PropertyError(
            property_name,
            f"{shown(value)} is not a Neptune ML job id",
            "Use the id of a completed job: letters, digits, '.', '_' and '-', at most 255 characters",
        )
    return value


def check_role_arn(value: str, property_name: str = "NeptuneIamRoleArn") -> str:
    """An IAM role ARN."""
    if not _ARN.match(value) or ":role/" not in value:
        raise PropertyError(
            property_name,
            f"{shown(value)} is not an IAM role ARN",
            "Give the ARN of the Neptune ML role listed in the cluster's parameter group",
        )
    return value


def check_kms_key(value: str, property_name: str = "VolumeEncryptionKMSKey") -> str:
    """A KMS key id, alias or ARN."""
    if not _KMS_KEY.match(value):
        raise PropertyError(
            property_name,
            f"{shown(value)} is not a KMS key id or ARN",
            "Give a KMS key ARN, key id or alias",
        )
    return value


def check_neptune_endpoint(value: str, property_name: str = "NeptuneEndpoint") -> str:
    """The cluster's Data API address, https://<cluster endpoint>:<port>."""
    match = _URL.match(value)
    if not match or not 1 <= int(match["port"] or 443) <= PORT_MAX:
        raise PropertyError(
            property_name,
            f"{shown(value)} is not a Neptune Data API address",
            "Give the cluster's address as https://<cluster endpoint>:<port>, for example "
            "https://my-cluster.cluster-abc.us-east-1.neptune.amazonaws.com:8182",
        )
    return value.rstrip("/")


def shown(value: object, limit: int = 80) -> str:
    """A value quoted for an error message, cut short so a Reason stays small."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- checks of the job resources' values ------------------------------------------------

S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/\S*)?$")
_SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_SECURITY_GROUP_ID = re.compile(r"^sg-[0-9a-f]{8,17}$")
_FILE_NAME = re.compile(r"^[A-Za-z0-9._-]{1,255}$")
MAX_INTEGER = 2**31 - 1
TRUE_TEXTS = ("true", "false")


def check_s3_uri(value: str, property_name: str) -> str:
    """An S3 location, s3://bucket/prefix."""
    if not S3_URI.match(value):
        bucket = value.removeprefix("s3://").partition("/")[0] if value.startswith("s3://") else None
        problem = (f"{shown(value)} is not an S3 URI" if bucket is None else
                   f"{shown(value)} names {shown(bucket)}, which is not a bucket name (3-63 lowercase letters, "
                   "digits, '.' and '-')")
        raise PropertyError(property_name, problem,
                            "Give a location such as s3://my-bucket/neptune-ml/ (a bucket in the cluster's region)")
    return value


def whole_number(low: int, high: int = MAX_INTEGER, example: int | None = None) -> Any:
    """A check of a whole number from low to high, given as an int or CloudFormation's string form."""
    def check(value: str, property_name: str) -> int:
        text = str(value).strip()
        if not re.fullmatch(r"[0-9]{1,10}", text) or not low <= int(text) <= high:
            raise PropertyError(property_name, f"{shown(value)} is not a whole number from {low} to {high}",
                                f"Give a number such as {example if example is not None else low}")
        return int(text)
    return check


def check_boolean(value: str, property_name: str) -> bool:
    """true or false, as CloudFormation sends booleans (strings, any case)."""
    text = str(value).strip().lower()
    if text not in TRUE_TEXTS:
        raise PropertyError(property_name, f"{shown(value)} is not true or false", "Give true or false")
    return text == "true"


def one_of(choices: tuple[str, ...], fix: str) -> Any:
    """A check that the value is one of choices."""
    def check(value: str, property_name: str) -> str:
        if value not in choices:
            raise PropertyError(property_name, f"{shown(value)} is not one of {', '.join(choices)}", fix)
        return value
    return check


def check_file_name(value: str, property_name: str) -> str:
    """A file name without a path, such as training-data-configuration.json."""
    if not _FILE_NAME.match(value):
        raise PropertyError(property_name, f"{shown(value)} is not a file name",
                            "Give a name such as training-data-configuration.json, without a path")
    return value


def check_subnet_id(value: str, property_name: str) -> str:
    if not _SUBNET_ID.match(value):
        raise PropertyError(property_name, f"{shown(value)} is not a subnet id",
                            "Give subnet ids such as subnet-0123456789abcdef0")
    return value


def check_security_group_id(value: str, property_name: str) -> str:
    if not _SECURITY_GROUP_ID.match(value):
        raise PropertyError(property_name, f"{shown(value)} is not a security group id",
                            "Give security group ids such as sg-0123456789abcdef0")
    return value


_HTTPS_URL = re.compile(r"^https://[^\s/?#]+(:\d{1,5})?/\S*$")


def check_https_url(value: str, property_name: str) -> str:
    """An https:// URL (a WaitConditionHandle's presigned URL); the value is never shown, it is a credential."""
    if not _HTTPS_URL.match(value):
        raise PropertyError(property_name, "is not an https:// URL",
                            "Give the Ref of an AWS::CloudFormation::WaitConditionHandle")
    return value


def check_text(value: str, property_name: str) -> str:
    """Any short text without control characters."""
    if not 1 <= len(value) <= 1024 or any(ord(c) < 32 for c in value):
        raise PropertyError(property_name, f"{shown(value)} is not a short single-line text",
                            "Give 1-1024 printable characters")
    return value
