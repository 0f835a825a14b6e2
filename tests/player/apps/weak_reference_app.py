"""An app whose serving stack reads the data stack's job id through a weak cross-stack reference
(Fn::GetStackOutput, no export): a new run_key (context runKey) retrains across both stacks."""

from __future__ import annotations

import aws_cdk as cdk
from existing_cluster import existing_cluster

from neptune_ml_endpoint import NeptuneMlDataProcessingJob, NeptuneMlEndpoint, NeptuneMlModelTrainingJob

BUCKET = "s3://player-weak"

app = cdk.App()
data = cdk.Stack(app, "WeakData")
processing = NeptuneMlDataProcessingJob(
    data, "Processing", cluster=existing_cluster(data, "weak"), input_data_s3_location=f"{BUCKET}/export/",
    processed_data_s3_location=f"{BUCKET}/processed/", run_key=app.node.try_get_context("runKey") or "export-1")
serving = cdk.Stack(app, "WeakServing")
cdk.CrossStackReferences.of(serving).consume(cdk.ReferenceStrength.WEAK)
cluster = existing_cluster(serving, "weak")
training = NeptuneMlModelTrainingJob(serving, "Training", cluster=cluster, data_processing_job=processing,
                                     train_model_s3_location=f"{BUCKET}/training/")
NeptuneMlEndpoint(serving, "Endpoint", cluster=cluster, training_job=training)
app.synth()
