"""A local Neptune ML API: the Neptune Data API's ML endpoint operations, offline.

    from neptune_ml_endpoint.local.api import LocalNeptuneMlApi, Timings, Fault

    with LocalNeptuneMlApi(timings=Timings(creating=0.2, updating=0.1, deleting=0.1)) as api:
        client = boto3.client("neptunedata", endpoint_url=api.url)
        client.create_ml_endpoint(id="demo", mlModelTrainingJobId="job-1")

Or from a shell: `neptune-ml-local serve --port 8182`.

Operations, shaped as botocore's `neptunedata` model (2023-08-01) expects:
CreateMLEndpoint (POST /ml/endpoints), GetMLEndpoint (GET /ml/endpoints/{id}),
DeleteMLEndpoint (DELETE /ml/endpoints/{id}) and ListMLEndpoints (GET /ml/endpoints);
Start, Get, Cancel and List of data processing, model training and model transform jobs
(/ml/dataprocessing, /ml/modeltraining, /ml/modeltransform).
Errors carry Neptune's body {"requestId", "code", "detailedMessage"} and the status
the model gives the code, so boto3 raises the modelled exception classes.

Behaviour:
- Requests are validated with the project's property schema and botocore's model; messages
  name API fields.
- Endpoint statuses advance with time (Timings): Creating -> InService, Updating -> InService,
  Deleting -> gone (GetMLEndpoint then answers 404).
- Jobs: InProgress -> Completed after Timings.processing, .training or .transform; Cancel
  makes a running job Stopping, then Stopped after Timings.stopping (a finished job:
  PreconditionsFailedException). A Start with a taken id is a BadRequestException.
- A training job needs a Completed processing job this API knows, a transform a Completed
  processing and training job (or a trainingJobName): MLResourceNotFoundException for an
  unknown job, PreconditionsFailedException for one not Completed. An endpoint's training
  or transform job must be Completed if this API knows it; other ids are accepted.
- Convention: a training or transform job id starting with "failing-" makes the
  endpoint end Failed, with failureReason "Model artifacts for training job
  'failing-x' could not be loaded". A job whose id, or a part of one of whose S3
  locations, starts with "failing-" ends Failed, with failureReason and cloudwatchLogUrl
  in its nested SageMaker job.
- update=true (or "true" in any case) needs an existing endpoint that is InService or Failed.
- An empty string in an optional field of a job Start counts as not given (graph-notebook's
  %neptune_ml magics send "" for every option left out).
- SigV4 signatures are accepted and not checked (a cluster with IAM auth off).
- Faults and a rate limit can be injected (see faults.py) to exercise client retries.
"""

from __future__ import annotations

from neptune_ml_endpoint.local.api.endpoints import FAILING_JOB_PREFIX, Timings
from neptune_ml_endpoint.local.api.faults import FAULT_KINDS, Fault
from neptune_ml_endpoint.local.api.recording import RecordedRequest
from neptune_ml_endpoint.local.api.routes import OPERATIONS
from neptune_ml_endpoint.local.api.service import LocalNeptuneMlApi

__all__ = [
    "FAILING_JOB_PREFIX",
    "FAULT_KINDS",
    "OPERATIONS",
    "Fault",
    "LocalNeptuneMlApi",
    "RecordedRequest",
    "Timings",
]
