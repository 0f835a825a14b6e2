"""The contracts of the three job resource types: data processing, model training, model transform.

Each property fills the Start field of the same name with its first letter lowered
(`InputDataS3Location` -> `inputDataS3Location`). The handler's own properties are
`NeptuneEndpoint`, `Id` (an explicit job id), `RunKey` (any text; a new value starts a new job with
the same configuration, for data that changed in S3), `Clean` (cancelling the job also deletes
its S3 artifacts), and for waits past the custom resource's hour `CompletionSignalUrl` and
`CompletionTimeoutSeconds` (a WaitCondition's handle and timeout: the resource answers once the
job started, and a watcher signals the handle when it ends).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from neptune_ml_endpoint.contract.properties import LIST, OBJECT, PropertySpec, ResourceContract
from neptune_ml_endpoint.contract.values import (
    PropertyError,
    check_boolean,
    check_file_name,
    check_https_url,
    check_instance_type,
    check_job_id,
    check_kms_key,
    check_neptune_endpoint,
    check_role_arn,
    check_s3_uri,
    check_security_group_id,
    check_subnet_id,
    check_text,
    one_of,
    whole_number,
)

DATA_PROCESSING_TYPE = "Custom::NeptuneMlDataProcessingJob"
MODEL_TRAINING_TYPE = "Custom::NeptuneMlModelTrainingJob"
MODEL_TRANSFORM_TYPE = "Custom::NeptuneMlModelTransformJob"

MAX_WAIT_SECONDS = 43200
"""The longest an AWS::CloudFormation::WaitCondition waits: 12 hours."""
MODEL_TYPES = ("heterogeneous", "kge")
TRAINING_MODEL_NAMES = ("rgcn", "transe", "distmult", "rotate", "custom")
UNMODELLED_TRAINING_FIELDS = ("modelName", "maxWaitTime", "enableInterContainerTrafficEncryption")
"""Training fields the Neptune user guide documents and botocore's model lacks."""

# Attributes of every job resource (Fn::GetAtt names).
ATTR_ID = "Id"
ATTR_ARN = "Arn"
ATTR_CREATION_TIME = "CreationTimeInMillis"
ATTR_OUTPUT_LOCATION = "OutputS3Location"
ATTR_LOG_URL = "CloudwatchLogUrl"
JOB_ATTRIBUTES = (ATTR_ID, ATTR_ARN, ATTR_CREATION_TIME, ATTR_OUTPUT_LOCATION, ATTR_LOG_URL)


def _api_name(name: str) -> str:
    return name[0].lower() + name[1:]


def _field(name: str, validator: Any, description: str, construct_prop: str, required: bool = False,
           **kwargs: Any) -> PropertySpec:
    return PropertySpec(name, _api_name(name), validator, description, required, construct_prop, **kwargs)


def _s3(name: str, description: str, construct_prop: str, required: bool = False) -> PropertySpec:
    return _field(name, check_s3_uri, description, construct_prop, required)


def _job_ref(name: str, description: str, construct_prop: str, required: bool = False) -> PropertySpec:
    return _field(name, check_job_id, description, construct_prop, required)


_CONNECTION = (
    PropertySpec("NeptuneEndpoint", None, check_neptune_endpoint,
                 "The cluster's Data API address, https://<cluster endpoint>:<port>.", required=True,
                 construct_prop="cluster"),
    _field("Id", check_job_id, "The job id; by default one is derived from the stack, the resource and the "
           "job's configuration.", "job_id"),
    PropertySpec("RunKey", None, check_text, "Any text; a new value starts a new job with the same "
                 "configuration (CloudFormation cannot see that the data in S3 changed).", construct_prop="run_key"),
    PropertySpec("Clean", None, check_boolean, "true: cancelling a running job on delete also deletes its S3 "
                 "artifacts.", construct_prop="clean"),
    PropertySpec("CompletionSignalUrl", None, check_https_url, "For waits past the custom resource's hour: the "
                 "WaitConditionHandle to signal when the job ends; the resource then answers once the job started.",
                 construct_prop="timeout"),
    PropertySpec("CompletionTimeoutSeconds", None, whole_number(1, MAX_WAIT_SECONDS, example=43200),
                 "With CompletionSignalUrl: the WaitCondition's Timeout; a job still running shortly before "
                 "is cancelled and the wait fails.", construct_prop="timeout"),
)
_ROLES_AND_NETWORK = (
    _field("SagemakerIamRoleArn", check_role_arn, "The role SageMaker runs the job with.", "sagemaker_iam_role"),
    _field("NeptuneIamRoleArn", check_role_arn, "The Neptune ML role; must be in the cluster's parameter group.",
           "neptune_iam_role"),
    _field("Subnets", check_subnet_id, "The subnets of the job's instances.", "subnets", shape=LIST),
    _field("SecurityGroupIds", check_security_group_id, "The security groups of the job's instances.",
           "security_groups", shape=LIST),
    _field("VolumeEncryptionKMSKey", check_kms_key, "The KMS key for the instances' storage volumes.",
           "volume_encryption_key"),
    _field("S3OutputEncryptionKMSKey", check_kms_key, "The KMS key for the job's output in S3.",
           "s3_output_encryption_key"),
)
_INSTANCE_TYPE_FIX = "Use a SageMaker instance type such as ml.r5.large"
_VOLUME = whole_number(1, 16384, example=50)
_TIMEOUT = whole_number(60, 2592000, example=86400)

DATA_PROCESSING_PROPERTIES = (
    *_CONNECTION,
    _s3("InputDataS3Location", "The graph data exported to S3 (Neptune export's output).", "input_data_s3_location",
        required=True),
    _s3("ProcessedDataS3Location", "Where the processed data goes.", "processed_data_s3_location", required=True),
    _job_ref("PreviousDataProcessingJobId", "A completed processing job of earlier data, for incremental "
             "processing.", "previous_data_processing_job_id"),
    _field("ProcessingInstanceType", check_instance_type, "The processing instance type.", "processing_instance_type"),
    _field("ProcessingInstanceVolumeSizeInGB", _VOLUME, "The processing instance's volume, in GB.",
           "processing_instance_volume_size_in_gb"),
    _field("ProcessingTimeOutInSeconds", _TIMEOUT, "The processing job's own timeout; Neptune's default is 86400.",
           "processing_timeout"),
    _field("ModelType", one_of(MODEL_TYPES, "Use heterogeneous or kge, or leave it out to let Neptune choose"),
           "heterogeneous or kge.", "model_type"),
    _field("ConfigFileName", check_file_name, "The data export's training configuration file.", "config_file_name"),
    *_ROLES_AND_NETWORK,
)

_CUSTOM_TRAINING_MEMBERS = (
    _s3("SourceS3DirectoryPath", "Where the custom model's code is.", "source_s3_directory_path", required=True),
    _field("TrainingEntryPointScript", check_file_name, "The training script.", "training_entry_point_script"),
    _field("TransformEntryPointScript", check_file_name, "The transform script.", "transform_entry_point_script"),
)
_CUSTOM_TRANSFORM_MEMBERS = (_CUSTOM_TRAINING_MEMBERS[0], _CUSTOM_TRAINING_MEMBERS[2])

MODEL_TRAINING_PROPERTIES = (
    *_CONNECTION,
    _job_ref("DataProcessingJobId", "The completed data processing job to train on.", "data_processing_job",
             required=True),
    _s3("TrainModelS3Location", "Where the trained models go.", "train_model_s3_location", required=True),
    _job_ref("PreviousModelTrainingJobId", "A completed training job to start from (warm start).",
             "previous_training_job"),
    _field("ModelName", one_of(TRAINING_MODEL_NAMES, "Use rgcn, transe, distmult, rotate or custom"),
           "The model to train; by default the one the processing job chose.", "model_name"),
    _field("BaseProcessingInstanceType", check_instance_type, "The instance type that prepares training.",
           "base_processing_instance_type"),
    _field("TrainingInstanceType", check_instance_type, "The training instance type.", "training_instance_type"),
    _field("TrainingInstanceVolumeSizeInGB", _VOLUME, "The training instance's volume, in GB.",
           "training_instance_volume_size_in_gb"),
    _field("TrainingTimeOutInSeconds", _TIMEOUT, "The training job's own timeout; Neptune's default is 86400.",
           "training_timeout"),
    _field("MaxHPONumberOfTrainingJobs", whole_number(1, 1000, example=2),
           "How many training jobs hyperparameter tuning runs.", "max_hpo_number_of_training_jobs"),
    _field("MaxHPOParallelTrainingJobs", whole_number(1, 100, example=2), "How many of them run at once.",
           "max_hpo_parallel_training_jobs"),
    _field("EnableManagedSpotTraining", check_boolean, "Train on spot instances.", "enable_managed_spot_training"),
    _field("MaxWaitTime", whole_number(1, 2592000, example=86400), "With spot training: the longest wait for "
           "spot capacity and training together, in seconds.", "max_wait_time"),
    _field("EnableInterContainerTrafficEncryption", check_boolean, "Encrypt traffic between training containers.",
           "enable_inter_container_traffic_encryption"),
    _field("CustomModelTrainingParameters", check_text, "For ModelName custom: SourceS3DirectoryPath, "
           "TrainingEntryPointScript, TransformEntryPointScript.", "custom_model_training_parameters",
           shape=OBJECT, members=_CUSTOM_TRAINING_MEMBERS),
    *_ROLES_AND_NETWORK,
)

MODEL_TRANSFORM_PROPERTIES = (
    *_CONNECTION,
    _s3("ModelTransformOutputS3Location", "Where the transform's output goes.", "model_transform_output_s3_location",
        required=True),
    _job_ref("DataProcessingJobId", "The completed processing job of the data to transform.", "data_processing_job"),
    _job_ref("MlModelTrainingJobId", "The completed training job whose model to use.", "training_job"),
    _field("TrainingJobName", check_text, "Instead of the two job ids: a completed SageMaker training job's name.",
           "training_job_name"),
    _field("BaseProcessingInstanceType", check_instance_type, "The instance type that prepares the transform.",
           "base_processing_instance_type"),
    _field("BaseProcessingInstanceVolumeSizeInGB", _VOLUME, "That instance's volume, in GB.",
           "base_processing_instance_volume_size_in_gb"),
    _field("CustomModelTransformParameters", check_text, "For a custom model: SourceS3DirectoryPath and "
           "TransformEntryPointScript.", "custom_model_transform_parameters", shape=OBJECT,
           members=_CUSTOM_TRANSFORM_MEMBERS),
    *_ROLES_AND_NETWORK,
)


def _check_completion(values: Mapping[str, Any]) -> None:
    if ("CompletionSignalUrl" in values) != ("CompletionTimeoutSeconds" in values):
        raise PropertyError("CompletionTimeoutSeconds", "must be given together with CompletionSignalUrl",
                            "Give both (the WaitConditionHandle's Ref and the WaitCondition's Timeout), or neither")


def _check_spot_wait(values: Mapping[str, Any]) -> None:
    _check_completion(values)
    if "MaxWaitTime" in values and values.get("EnableManagedSpotTraining") is not True:
        raise PropertyError("MaxWaitTime", "is set without EnableManagedSpotTraining",
                            "Set EnableManagedSpotTraining to true, or leave MaxWaitTime out")
    if values.get("ModelName") == "custom" and "CustomModelTrainingParameters" not in values:
        raise PropertyError("CustomModelTrainingParameters", "is missing for ModelName custom",
                            "Give SourceS3DirectoryPath (and the entry point scripts) of the custom model")


def _check_transform_source(values: Mapping[str, Any]) -> None:
    _check_completion(values)
    by_jobs = "DataProcessingJobId" in values or "MlModelTrainingJobId" in values
    if by_jobs and "TrainingJobName" in values:
        raise PropertyError("TrainingJobName", "is set together with DataProcessingJobId or MlModelTrainingJobId",
                            "Give either DataProcessingJobId and MlModelTrainingJobId, or TrainingJobName")
    if "TrainingJobName" in values:
        return
    for name in ("DataProcessingJobId", "MlModelTrainingJobId"):
        if name not in values:
            raise PropertyError(name, "is missing", "Give DataProcessingJobId and MlModelTrainingJobId of completed "
                                "jobs, or TrainingJobName")


DATA_PROCESSING = ResourceContract(DATA_PROCESSING_TYPE, "data processing job", DATA_PROCESSING_PROPERTIES,
                                   JOB_ATTRIBUTES, _check_completion)
MODEL_TRAINING = ResourceContract(MODEL_TRAINING_TYPE, "model training job", MODEL_TRAINING_PROPERTIES,
                                  JOB_ATTRIBUTES, _check_spot_wait)
MODEL_TRANSFORM = ResourceContract(MODEL_TRANSFORM_TYPE, "model transform job", MODEL_TRANSFORM_PROPERTIES,
                                   JOB_ATTRIBUTES, _check_transform_source)
JOB_CONTRACTS = {contract.resource_type: contract for contract in (DATA_PROCESSING, MODEL_TRAINING, MODEL_TRANSFORM)}


@dataclass(frozen=True)
class JobSpec:
    """The parsed, checked properties of one job resource."""

    neptune_endpoint: str
    job_id: str | None = None
    api_fields: Mapping[str, Any] = field(default_factory=dict)
    run_key: str = ""
    clean: bool = False
    completion_url: str = ""
    """A WaitConditionHandle's URL: the job is waited for by a watcher that signals it, not by the resource."""
    completion_timeout: int = 0

    def start_request(self, job_id: str) -> dict[str, Any]:
        """Keyword arguments for boto3's neptunedata.start_ml_*_job (unmodelled fields included)."""
        return {"id": job_id, **self.api_fields}

    @property
    def role_arn(self) -> str | None:
        value = self.api_fields.get("neptuneIamRoleArn")
        return str(value) if value is not None else None

    def configuration_key(self) -> str:
        """A digest of what makes the job: the cluster, the Start fields and RunKey (not Clean)."""
        text = json.dumps([self.neptune_endpoint, self.job_id, self.run_key, self.api_fields], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def parse_job_properties(contract: ResourceContract, raw: Mapping[str, Any]) -> JobSpec:
    """Check a job resource's properties; raises PropertyError naming the first problem."""
    parsed = contract.parse(raw)
    api_fields = dict(parsed.api_fields)
    return JobSpec(neptune_endpoint=parsed.own["NeptuneEndpoint"], job_id=api_fields.pop("id", None),
                   api_fields=api_fields, run_key=str(parsed.own.get("RunKey", "")),
                   clean=bool(parsed.own.get("Clean", False)),
                   completion_url=str(parsed.own.get("CompletionSignalUrl", "")),
                   completion_timeout=int(parsed.own.get("CompletionTimeoutSeconds", 0)))
