"""The Custom::NeptuneMlEndpoint resource contract, written once.

The construct checks props against it at synth time, the Lambda handler parses
CloudFormation's string properties with it, and the local Neptune ML API
validates requests with the same limits. Standard library only: this module is
copied into the handler's asset.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

RESOURCE_TYPE = "Custom::NeptuneMlEndpoint"

# Keys CloudFormation adds to a custom resource's properties; never "unknown".
CLOUDFORMATION_KEYS = frozenset({"ServiceToken", "ServiceTimeout"})



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
_URL = re.compile(r"^https?://[^\s/?#]+(:\d{1,5})?/?$")

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
            f"{_shown(value)} is not a valid endpoint id",
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
            f"{_shown(value)} is not a whole number from 1 to {INSTANCE_COUNT_MAX}",
            "Give the number of instances behind the endpoint, for example 1",
        )
    return int(text)


def check_model_name(value: str, property_name: str = "ModelName") -> str:
    """One of Neptune ML's model names."""
    if value not in MODEL_NAMES:
        raise PropertyError(
            property_name,
            f"{_shown(value)} is not a Neptune ML model name",
            f"Use one of {', '.join(MODEL_NAMES)}, or leave it out to use the training job's model",
        )
    return value


def check_instance_type(value: str, property_name: str = "InstanceType") -> str:
    """A SageMaker ML instance type such as ml.m5.xlarge."""
    if not _INSTANCE_TYPE.match(value):
        raise PropertyError(
            property_name,
            f"{_shown(value)} is not an ML instance type",
            f"Use a SageMaker instance type such as {DEFAULT_INSTANCE_TYPE}",
        )
    return value


def check_job_id(value: str, property_name: str) -> str:
    """A Neptune ML job id (training or transform)."""
    if not _JOB_ID.match(value):
        raise PropertyError(
            property_name,
            f"{_shown(value)} is not a Neptune ML job id",
            "Use the id of a completed job: letters, digits, '.', '_' and '-', at most 255 characters",
        )
    return value


def check_role_arn(value: str, property_name: str = "NeptuneIamRoleArn") -> str:
    """An IAM role ARN."""
    if not _ARN.match(value) or ":role/" not in value:
        raise PropertyError(
            property_name,
            f"{_shown(value)} is not an IAM role ARN",
            "Give the ARN of the Neptune ML role listed in the cluster's parameter group",
        )
    return value


def check_kms_key(value: str, property_name: str = "VolumeEncryptionKMSKey") -> str:
    """A KMS key id, alias or ARN."""
    if not _KMS_KEY.match(value):
        raise PropertyError(
            property_name,
            f"{_shown(value)} is not a KMS key id or ARN",
            "Give a KMS key ARN, key id or alias",
        )
    return value


def check_neptune_endpoint(value: str, property_name: str = "NeptuneEndpoint") -> str:
    """The cluster's Data API address, https://<cluster endpoint>:<port>."""
    if not _URL.match(value):
        raise PropertyError(
            property_name,
            f"{_shown(value)} is not a Neptune Data API address",
            "Give the cluster's address as https://<cluster endpoint>:<port>, for example "
            "https://my-cluster.cluster-abc.us-east-1.neptune.amazonaws.com:8182",
        )
    return value.rstrip("/")


# --- the properties ------------------------------------------------------------------


@dataclass(frozen=True)
class PropertySpec:
    """One property of Custom::NeptuneMlEndpoint and the CreateMLEndpoint field it fills."""

    name: str
    api_field: str | None
    check: Callable[[str], Any]
    description: str
    required: bool = False
    construct_prop: str | None = None
    """The NeptuneMlEndpoint keyword argument that sets it."""


PROPERTIES: tuple[PropertySpec, ...] = (
    PropertySpec(
        "NeptuneEndpoint", None, check_neptune_endpoint,
        "The cluster's Data API address, https://<cluster endpoint>:<port>.", required=True,
        construct_prop="cluster",
    ),
    PropertySpec(
        "Id", "id", check_endpoint_id,
        "The endpoint id; by default one is derived from the stack and the resource.",
        construct_prop="endpoint_id",
    ),
    PropertySpec(
        "MlModelTrainingJobId", "mlModelTrainingJobId",
        lambda v: check_job_id(v, "MlModelTrainingJobId"),
        "The completed model-training job whose model the endpoint serves.",
        construct_prop="ml_model_training_job_id",
    ),
    PropertySpec(
        "MlModelTransformJobId", "mlModelTransformJobId",
        lambda v: check_job_id(v, "MlModelTransformJobId"),
        "The completed model-transform job whose model the endpoint serves.",
        construct_prop="ml_model_transform_job_id",
    ),
    PropertySpec(
        "ModelName", "modelName", check_model_name,
        "rgcn for heterogeneous graphs; kge, transe, distmult or rotate for knowledge graphs.",
        construct_prop="model_name",
    ),
    PropertySpec(
        "InstanceType", "instanceType", check_instance_type,
        f"The ML instance type; Neptune's default is {DEFAULT_INSTANCE_TYPE}.",
        construct_prop="instance_type",
    ),
    PropertySpec(
        "InstanceCount", "instanceCount", check_instance_count,
        "How many instances serve the endpoint; Neptune's default is 1.",
        construct_prop="instance_count",
    ),
    PropertySpec(
        "NeptuneIamRoleArn", "neptuneIamRoleArn", check_role_arn,
        "The role Neptune uses for SageMaker and S3; must be in the cluster's parameter group.",
        construct_prop="neptune_iam_role",
    ),
    PropertySpec(
        "VolumeEncryptionKMSKey", "volumeEncryptionKMSKey", check_kms_key,
        "The KMS key SageMaker uses to encrypt the instances' storage volumes.",
        construct_prop="volume_encryption_key",
    ),
)

PROPERTY_NAMES = tuple(spec.name for spec in PROPERTIES)
_BY_NAME = {spec.name: spec for spec in PROPERTIES}

# Attributes the resource returns (Fn::GetAtt names).
ATTR_ARN = "Arn"
ATTR_ID = "Id"
ATTR_CREATION_TIME = "CreationTimeInMillis"
ATTR_SAGEMAKER_ENDPOINT_NAME = "SageMakerEndpointName"
ATTR_SAGEMAKER_ENDPOINT_ARN = "SageMakerEndpointArn"
ATTRIBUTES = (
    ATTR_ARN, ATTR_ID, ATTR_CREATION_TIME, ATTR_SAGEMAKER_ENDPOINT_NAME, ATTR_SAGEMAKER_ENDPOINT_ARN,
)


@dataclass(frozen=True)
class EndpointSpec:
    """The parsed, checked properties of one endpoint."""

    neptune_endpoint: str
    endpoint_id: str | None = None
    api_fields: Mapping[str, Any] = field(default_factory=dict)

    def create_request(self, endpoint_id: str, update: bool) -> dict[str, Any]:
        """Keyword arguments for boto3's neptunedata.create_ml_endpoint."""
        request: dict[str, Any] = {"id": endpoint_id, **self.api_fields}
        if update:
            request["update"] = True
        return request

    @property
    def role_arn(self) -> str | None:
        value = self.api_fields.get("neptuneIamRoleArn")
        return str(value) if value is not None else None


def parse_properties(raw: Mapping[str, Any]) -> EndpointSpec:
    """Check CloudFormation's properties (strings) and convert them to the API's types.

    Raises PropertyError for the first problem found: unknown keys, a missing
    NeptuneEndpoint, no or both job ids, or a value outside its limits.
    """
    unknown = sorted(k for k in raw if k not in _BY_NAME and k not in CLOUDFORMATION_KEYS)
    if unknown:
        raise PropertyError(
            _shown(unknown[0]),
            "is not a property of " + RESOURCE_TYPE,
            "Remove it, or correct its spelling; the properties are " + ", ".join(PROPERTY_NAMES),
        )
    values: dict[str, Any] = {}
    for spec in PROPERTIES:
        value = raw.get(spec.name)
        if value is None or value == "":
            if spec.required:
                raise PropertyError(spec.name, "is missing", spec.description)
            continue
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise PropertyError(spec.name, f"must be a single value, not {type(value).__name__}",
                                spec.description)
        values[spec.name] = spec.check(str(value))
    check_job_choice(values.get("MlModelTrainingJobId"), values.get("MlModelTransformJobId"))
    return EndpointSpec(
        neptune_endpoint=values.pop("NeptuneEndpoint"),
        endpoint_id=values.pop("Id", None),
        api_fields={_BY_NAME[name].api_field or name: value for name, value in values.items()},
    )


def in_construct_terms(error: PropertyError) -> PropertyError:
    """The error naming the construct's keyword argument too: ``instance_count (InstanceCount): ...``."""
    spec = _BY_NAME.get(error.property_name)
    if spec is None or spec.construct_prop is None:
        return error
    return PropertyError(f"{spec.construct_prop} ({spec.name})", error.problem, error.fix)


def check_job_choice(training_job_id: object, transform_job_id: object) -> None:
    """Exactly one of the two job ids must be given."""
    if training_job_id is None and transform_job_id is None:
        raise PropertyError(
            "MlModelTrainingJobId",
            "neither MlModelTrainingJobId nor MlModelTransformJobId is set",
            "Set exactly one of them to the id of a completed Neptune ML job",
        )
    if training_job_id is not None and transform_job_id is not None:
        raise PropertyError(
            "MlModelTransformJobId",
            "both MlModelTrainingJobId and MlModelTransformJobId are set",
            "Set only one of them: the training job or the transform job whose model to serve",
        )


def _shown(value: object, limit: int = 80) -> str:
    """A value quoted for an error message, cut short so a Reason stays small."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_connection(raw: Mapping[str, Any]) -> tuple[str, str | None]:
    """NeptuneEndpoint and NeptuneIamRoleArn alone, checked: all that deleting an endpoint needs.

    Other properties are not looked at. Raises PropertyError when NeptuneEndpoint is
    missing or either value is invalid.
    """
    address = raw.get("NeptuneEndpoint")
    if not isinstance(address, str) or not address:
        raise PropertyError("NeptuneEndpoint", "is missing", _BY_NAME["NeptuneEndpoint"].description)
    role_arn = raw.get("NeptuneIamRoleArn")
    return check_neptune_endpoint(address), check_role_arn(str(role_arn)) if role_arn else None


# --- the handler's settings (environment variables of the Lambda function) --------------
# Each is optional; the local player sets short values so deployments finish in seconds.

ENV_CONNECT_TIMEOUT = "NEPTUNE_ML_ENDPOINT_CONNECT_TIMEOUT"  # seconds to connect to Neptune (5)
ENV_READ_TIMEOUT = "NEPTUNE_ML_ENDPOINT_READ_TIMEOUT"  # seconds to wait for a response (15)
ENV_MAX_ATTEMPTS = "NEPTUNE_ML_ENDPOINT_MAX_ATTEMPTS"  # botocore attempts per call, first included (4)
ENV_CLIENT_TIMEOUT_RETRIES = "NEPTUNE_ML_ENDPOINT_CLIENT_TIMEOUT_RETRIES"  # extra tries after a 408 (2)
ENV_THROTTLE_RETRIES = "NEPTUNE_ML_ENDPOINT_THROTTLE_RETRIES"  # extra tries once botocore's end in 429 (3)
ENV_WAIT_FIRST_SECONDS = "NEPTUNE_ML_ENDPOINT_WAIT_FIRST_SECONDS"  # first pause between status checks (1)
ENV_WAIT_MAX_SECONDS = "NEPTUNE_ML_ENDPOINT_WAIT_MAX_SECONDS"  # longest pause between status checks (4)
ENV_SAFETY_MARGIN_SECONDS = "NEPTUNE_ML_ENDPOINT_SAFETY_MARGIN_SECONDS"  # invocation time kept back (120)
