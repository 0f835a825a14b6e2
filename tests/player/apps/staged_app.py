"""An app with a Stage (a nested cloud assembly): Serving's stack depends on Shared's."""

from __future__ import annotations

import aws_cdk as cdk
from existing_cluster import existing_cluster

from neptune_ml_endpoint import NeptuneMlEndpoint

app = cdk.App()
stage = cdk.Stage(app, "Prod")
shared = cdk.Stack(stage, "Shared")
NeptuneMlEndpoint(shared, "Endpoint", cluster=existing_cluster(shared, "shared"),
                  ml_model_training_job_id="shared-job", endpoint_id="staged-shared")
serving = cdk.Stack(stage, "Serving")
serving.add_stack_dependency(shared)
NeptuneMlEndpoint(serving, "Endpoint", cluster=existing_cluster(serving, "serving"),
                  ml_model_training_job_id="serving-job", endpoint_id="staged-serving")
app.synth()
