"""An app of two stacks for --parameters: both declare TrainingJob, only InferenceB declares InstanceType
(a pattern) and InstanceCount (a Number from 1 to 4)."""

from __future__ import annotations

import aws_cdk as cdk
from existing_cluster import existing_cluster

from neptune_ml_endpoint import NeptuneMlEndpoint

DEFAULT_JOB = "default-training-job"

app = cdk.App()
for name in ("InferenceA", "InferenceB"):
    stack = cdk.Stack(app, name)
    job = cdk.CfnParameter(stack, "TrainingJob", default=DEFAULT_JOB)
    instance_type = instance_count = None
    if name == "InferenceB":
        instance_type = cdk.CfnParameter(stack, "InstanceType", default="ml.m5.xlarge",
                                         allowed_pattern=r"ml\.[a-z0-9]+\.[a-z0-9]+")
        instance_count = cdk.CfnParameter(stack, "InstanceCount", type="Number", default=1, min_value=1,
                                          max_value=4)
    NeptuneMlEndpoint(stack, "Endpoint", cluster=existing_cluster(stack, "two"),
                      ml_model_training_job_id=job.value_as_string,
                      instance_type=instance_type.value_as_string if instance_type else None,
                      instance_count=instance_count.value_as_number if instance_count else None)
app.synth()
