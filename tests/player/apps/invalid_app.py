"""An app the construct rejects at synth time: InstanceType is not an ML instance type."""

from __future__ import annotations

import aws_cdk as cdk
from existing_cluster import existing_cluster

from neptune_ml_endpoint import NeptuneMlEndpoint

app = cdk.App()
stack = cdk.Stack(app, "InvalidApp")
NeptuneMlEndpoint(stack, "Endpoint", cluster=existing_cluster(stack, "invalid"), ml_model_training_job_id="training-job-1",
                  instance_type="m5.xlarge")
app.synth()
