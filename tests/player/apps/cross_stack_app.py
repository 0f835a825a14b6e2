"""An app whose stacks share a job through a CloudFormation export (a CDK cross-stack reference).

CrossData (artifact CrossDataBase) runs the data processing job; CrossServing trains from it (Fn::ImportValue of the job's
id) and serves the model. CrossDataRetrain is CrossData with a new run_key: deployed on its own, it
would replace the job, and so change the export CrossServing imports. CrossOnlyExports holds no
Neptune ML resource, only an export CrossServing reads too.
"""

from __future__ import annotations

import aws_cdk as cdk
from existing_cluster import existing_cluster

from neptune_ml_endpoint import NeptuneMlDataProcessingJob, NeptuneMlEndpoint, NeptuneMlModelTrainingJob

BUCKET = "s3://player-cross"

app = cdk.App()
settings = cdk.Stack(app, "CrossOnlyExports")
cdk.CfnOutput(settings, "Bucket", value=BUCKET, export_name="CrossBucket")
jobs = {}
for artifact_id, run_key in (("CrossDataBase", "export-1"), ("CrossDataRetrain", "export-2")):
    data = cdk.Stack(app, artifact_id, stack_name="CrossData")
    jobs[artifact_id] = NeptuneMlDataProcessingJob(
        data, "Processing", cluster=existing_cluster(data, "cross"), input_data_s3_location=f"{BUCKET}/export/",
        processed_data_s3_location=f"{BUCKET}/processed/", run_key=run_key)
    if artifact_id == "CrossDataRetrain":  # the export CrossServing imports, kept with the new job's id
        data.export_value(jobs[artifact_id].job_id)
serving = cdk.Stack(app, "CrossServing")
cluster = existing_cluster(serving, "cross")
training = NeptuneMlModelTrainingJob(
    serving, "Training", cluster=cluster, data_processing_job=jobs["CrossDataBase"],
    train_model_s3_location=cdk.Fn.join("", [cdk.Fn.import_value("CrossBucket"), "/training/"]))
NeptuneMlEndpoint(serving, "Endpoint", cluster=cluster, training_job=training)
serving.add_stack_dependency(settings)
app.synth()
