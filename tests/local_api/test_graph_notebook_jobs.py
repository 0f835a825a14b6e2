"""AWS's notebook client, graph-notebook (pinned in constraints.txt), unchanged against the local API.

Its `graph_notebook.neptune.client.Client` job calls (dataprocessing_start, modeltraining_start,
modeltransform_create, their status, list and stop calls) and its `%neptune_ml` magics with their
--wait loops run in graph-notebook's own environment (graph_notebook_env.py, graph_notebook_driver.py)
and talk HTTP to a local API on the manual clock: plain, SigV4-signed (auth_mode IAM) and over TLS.

What graph-notebook 5.3.0 sends, read from its source and checked here on the wire:
- Start: POST /ml/<kind> with content-type application/json; the magics also send "" for every
  option left out ("id", "configFileName", "trainingInstanceType"), which the API takes as not given.
- Status: GET /ml/<kind>/<id>, with ?neptuneIamRoleArn= only when a role is given.
- List: GET /ml/<kind>?maxItems=10 (or the max_items given).
- Stop: DELETE /ml/<kind>/<id>?clean=..., where dataprocessing_stop sends Python's bool (clean=False,
  clean=True) and modeltraining_stop and modeltransform_stop send clean=FALSE / clean=TRUE.
- The wait loops poll every --wait-interval seconds (default 60) until --wait-timeout (default 3600).
  `dataprocessing` and `training` waits stop only on Completed or Failed: on a Stopped job they poll
  until the timeout and then return None (the magic prints "None" and stores None). The
  `modeltransform` wait also stops on Stopped, and has no --wait-interval or --wait-timeout options.
  No magic stops a data processing or training job; `modeltransform stop` never sends clean=TRUE.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from graph_notebook_support import ClientRaised, GraphNotebook, when_requested
from local_api_support import PROCESSING, ROLE_ARN, TRAINING, TRANSFORM, ManualClock

from neptune_ml_endpoint.local.api import LocalNeptuneMlApi

INPUT, PROCESSED = PROCESSING["inputDataS3Location"], PROCESSING["processedDataS3Location"]
TRAIN_OUT = TRAINING["trainModelS3Location"]
TRANSFORM_OUT = TRANSFORM["modelTransformOutputS3Location"]
LONG_AGO = 100_000.0
"""Seconds on the manual clock after which every job has finished."""


@pytest.fixture(scope="module")
def graph_notebook() -> Iterator[GraphNotebook]:
    driver = GraphNotebook()
    yield driver
    driver.close()


@pytest.fixture(params=["plain", "sigv4"])
def notebook(request: pytest.FixtureRequest, graph_notebook: GraphNotebook,
             api: LocalNeptuneMlApi) -> GraphNotebook:
    """The client pointed at the API, unsigned or SigV4-signed (a notebook config with auth_mode IAM)."""
    graph_notebook.connect(api, iam=request.param == "sigv4")
    return graph_notebook


def _assert_signed_as_configured(notebook: GraphNotebook, headers: dict[str, str]) -> None:
    if notebook.signed:
        assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=testing/")
        assert "/us-east-1/neptune-db/aws4_request" in headers["authorization"]
        assert "x-amz-date" in headers
    else:
        assert "authorization" not in headers


def _completed_processing(notebook: GraphNotebook, clock: ManualClock, job_id: str = "movies-processing"
                          ) -> str:
    assert notebook.call("dataprocessing_start", INPUT, PROCESSED, id=job_id).status == 200
    clock.advance(LONG_AGO)
    return job_id


def _completed_training(notebook: GraphNotebook, clock: ManualClock, processing: str,
                        job_id: str = "movies-training") -> str:
    assert notebook.call("modeltraining_start", processing, TRAIN_OUT, 2, 2, id=job_id).status == 200
    clock.advance(LONG_AGO)
    return job_id


# --- the client's calls, one kind at a time ---------------------------------------------------------


def test_data_processing_start_status_list_and_stop(notebook: GraphNotebook, clock: ManualClock) -> None:
    options = {"id": "movies-1", "configFileName": "training-data-configuration.json",
               "processingInstanceType": "ml.r5.large"}
    started = notebook.call("dataprocessing_start", INPUT, PROCESSED, **options)
    assert (started.method, started.target) == ("POST", "/ml/dataprocessing")
    assert started.headers["content-type"] == "application/json"
    assert started.sent == {"inputDataS3Location": INPUT, "processedDataS3Location": PROCESSED, **options}
    _assert_signed_as_configured(notebook, started.headers)
    assert started.status == 200
    assert set(started.body) == {"id", "arn", "creationTimeInMillis"} and started.body["id"] == "movies-1"

    status = notebook.call("dataprocessing_job_status", "movies-1")
    assert (status.method, status.target, status.status) == ("GET", "/ml/dataprocessing/movies-1", 200)
    assert status.body["status"] == "InProgress"
    assert status.body["processingJob"]["outputLocation"] == PROCESSED
    with_role = notebook.call("dataprocessing_job_status", "movies-1", neptune_iam_role_arn=ROLE_ARN)
    assert with_role.target == ("/ml/dataprocessing/movies-1"
                                "?neptuneIamRoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2FNeptuneMlRole")
    assert with_role.status == 200

    listed = notebook.call("dataprocessing_list")
    assert (listed.method, listed.target) == ("GET", "/ml/dataprocessing?maxItems=10")
    assert (listed.status, listed.body) == (200, {"ids": ["movies-1"]})

    stopped = notebook.call("dataprocessing_stop", "movies-1")
    assert (stopped.method, stopped.target) == ("DELETE", "/ml/dataprocessing/movies-1?clean=False")
    assert (stopped.status, stopped.body) == (200, {"status": "Stopping"})
    _assert_signed_as_configured(notebook, stopped.headers)
    assert notebook.call("dataprocessing_job_status", "movies-1").body["status"] == "Stopping"
    clock.advance(LONG_AGO)
    assert notebook.call("dataprocessing_job_status", "movies-1").body["status"] == "Stopped"

    notebook.call("dataprocessing_start", INPUT, PROCESSED, id="movies-2")
    cleaned = notebook.call("dataprocessing_stop", "movies-2", clean=True)
    assert (cleaned.target, cleaned.status) == ("/ml/dataprocessing/movies-2?clean=True", 200)
    clock.advance(LONG_AGO)
    assert "outputLocation" not in notebook.call("dataprocessing_job_status", "movies-2").body["processingJob"]


def test_model_training_start_status_list_and_stop(notebook: GraphNotebook, clock: ManualClock) -> None:
    processing = _completed_processing(notebook, clock)
    options = {"id": "training-1", "trainingInstanceType": "ml.g5.2xlarge", "modelName": "rgcn",
               "neptuneIamRoleArn": ROLE_ARN}
    started = notebook.call("modeltraining_start", processing, TRAIN_OUT, 4, 2, **options)
    assert (started.method, started.target) == ("POST", "/ml/modeltraining")
    assert started.sent == {"dataProcessingJobId": processing, "trainModelS3Location": TRAIN_OUT,
                            "maxHPONumberOfTrainingJobs": 4, "maxHPOParallelTrainingJobs": 2, **options}
    _assert_signed_as_configured(notebook, started.headers)
    assert started.status == 200 and started.body["id"] == "training-1"

    status = notebook.call("modeltraining_job_status", "training-1")
    assert (status.target, status.status, status.body["status"]) == ("/ml/modeltraining/training-1", 200, "InProgress")
    assert {"processingJob", "hpoJob"} <= set(status.body)

    listed = notebook.call("modeltraining_list", max_items=5)
    assert (listed.target, listed.body) == ("/ml/modeltraining?maxItems=5", {"ids": ["training-1"]})

    stopped = notebook.call("modeltraining_stop", "training-1")
    assert (stopped.method, stopped.target) == ("DELETE", "/ml/modeltraining/training-1?clean=FALSE")
    assert (stopped.status, stopped.body) == (200, {"status": "Stopping"})

    notebook.call("modeltraining_start", processing, TRAIN_OUT, 2, 2, id="training-2")
    cleaned = notebook.call("modeltraining_stop", "training-2", neptune_iam_role_arn=ROLE_ARN, clean=True)
    assert cleaned.target.startswith("/ml/modeltraining/training-2?clean=TRUE&neptuneIamRoleArn=")
    assert cleaned.status == 200
    clock.advance(LONG_AGO)
    for job_id in ("training-1", "training-2"):
        assert notebook.call("modeltraining_job_status", job_id).body["status"] == "Stopped"


def test_model_transform_create_status_list_and_stop(notebook: GraphNotebook, clock: ManualClock) -> None:
    processing = _completed_processing(notebook, clock)
    training = _completed_training(notebook, clock, processing)
    created = notebook.call("modeltransform_create", TRANSFORM_OUT, processing, training, id="transform-1")
    assert (created.method, created.target) == ("POST", "/ml/modeltransform")
    assert created.sent == {"modelTransformOutputS3Location": TRANSFORM_OUT, "dataProcessingJobId": processing,
                            "mlModelTrainingJobId": training, "id": "transform-1"}
    _assert_signed_as_configured(notebook, created.headers)
    assert created.status == 200 and created.body["id"] == "transform-1"
    by_name = notebook.call("modeltransform_create", TRANSFORM_OUT, training_job_name="sagemaker-training-7",
                            id="transform-2")
    assert by_name.sent == {"modelTransformOutputS3Location": TRANSFORM_OUT,
                            "trainingJobName": "sagemaker-training-7", "id": "transform-2"}
    assert by_name.status == 200
    with pytest.raises(ClientRaised, match="ValueError"):  # the client refuses both sources itself
        notebook.call("modeltransform_create", TRANSFORM_OUT, processing, training, "sagemaker-training-7")

    status = notebook.call("modeltransform_status", "transform-1", iam_role=ROLE_ARN)
    assert status.target.startswith("/ml/modeltransform/transform-1?neptuneIamRoleArn=")
    assert (status.status, status.body["status"]) == (200, "InProgress")
    assert {"baseProcessingJob", "remoteModelTransformJob"} <= set(status.body)

    listed = notebook.call("modeltransform_list")
    assert (listed.target, listed.body) == ("/ml/modeltransform?maxItems=10", {"ids": ["transform-1", "transform-2"]})

    stopped = notebook.call("modeltransform_stop", "transform-1")
    assert (stopped.target, stopped.status, stopped.body) == ("/ml/modeltransform/transform-1?clean=FALSE", 200,
                                                              {"status": "Stopping"})
    cleaned = notebook.call("modeltransform_stop", "transform-2", clean=True)
    assert (cleaned.target, cleaned.status) == ("/ml/modeltransform/transform-2?clean=TRUE", 200)
    clock.advance(LONG_AGO)
    assert notebook.call("modeltransform_status", "transform-1").body["status"] == "Stopped"


# --- Neptune's error answers, as the client returns them ------------------------------------------------


def test_errors_reach_the_client_in_neptunes_shape(notebook: GraphNotebook, clock: ManualClock) -> None:
    assert notebook.call("dataprocessing_job_status", "no-such-job").error(404)[0] == "MLResourceNotFoundException"
    assert notebook.call("modeltraining_job_status", "no-such-job").error(404)[0] == "MLResourceNotFoundException"
    assert notebook.call("modeltransform_status", "no-such-job").error(404)[0] == "MLResourceNotFoundException"
    assert notebook.call("modeltraining_stop", "no-such-job").error(404)[0] == "MLResourceNotFoundException"

    code, message = notebook.call("modeltraining_start", "no-such-processing", TRAIN_OUT, 2, 2).error(404)
    assert code == "MLResourceNotFoundException" and "dataProcessingJobId" in message
    notebook.call("dataprocessing_start", INPUT, PROCESSED, id="running")
    code, message = notebook.call("modeltraining_start", "running", TRAIN_OUT, 2, 2).error(400)
    assert code == "PreconditionsFailedException" and "InProgress" in message
    assert notebook.call("dataprocessing_start", INPUT, PROCESSED, id="running").error(400)[0] == "BadRequestException"
    code, message = notebook.call("dataprocessing_start", "not-s3", PROCESSED).error(400)
    assert code == "InvalidParameterException" and "inputDataS3Location" in message
    code, message = notebook.call("modeltransform_create", TRANSFORM_OUT, "running", "no-such-training").error(400)
    assert code == "PreconditionsFailedException"

    clock.advance(LONG_AGO)
    code, message = notebook.call("dataprocessing_stop", "running").error(400)
    assert code == "PreconditionsFailedException" and "Completed" in message
    assert notebook.call("modeltransform_list", max_items=0).error(400)[0] == "InvalidParameterException"
    assert notebook.call("dataprocessing_list", max_items=1025).error(400)[0] == "InvalidParameterException"
    bad_role = notebook.call("dataprocessing_job_status", "running", neptune_iam_role_arn="not-a-role")
    assert bad_role.error(400)[0] == "InvalidParameterException"


def test_a_job_asking_to_fail_carries_its_reason_and_log_url(notebook: GraphNotebook, clock: ManualClock) -> None:
    processing = _completed_processing(notebook, clock)
    notebook.call("modeltraining_start", processing, TRAIN_OUT, 2, 2, id="failing-training")
    clock.advance(LONG_AGO)
    body = notebook.call("modeltraining_job_status", "failing-training").body
    assert body["status"] == "Failed"
    assert body["hpoJob"]["failureReason"].startswith("AlgorithmError")
    assert body["hpoJob"]["cloudwatchLogUrl"].startswith("https://console.aws.amazon.com/cloudwatch/")


# --- the %neptune_ml magics ---------------------------------------------------------------------------


@pytest.fixture
def magics(graph_notebook: GraphNotebook, api: LocalNeptuneMlApi) -> GraphNotebook:
    graph_notebook.connect(api, iam=True)
    return graph_notebook


def test_dataprocessing_start_wait_polls_until_completed(magics: GraphNotebook, api: LocalNeptuneMlApi,
                                                          clock: ManualClock) -> None:
    finish = when_requested(api, "GetMLDataProcessingJob", lambda: clock.advance(LONG_AGO))
    run = magics.magic(f"dataprocessing start --job-id movies --s3-input-uri {INPUT} --s3-processed-uri {PROCESSED} "
                       "--config-file-name training-data-configuration.json --wait --wait-interval 1 --wait-timeout 120")
    finish.join()
    result = run.ok()
    assert result["status"] == "Completed" and result["id"] == "movies"
    assert "Status is InProgress" in run.printed and "Data processing is finished" in run.printed
    gets = [r for r in api.requests() if r.operation == "GetMLDataProcessingJob"]
    assert len(gets) >= 2 and all(r.status_code == 200 for r in gets)


def test_training_start_wait_returns_a_failed_job_with_its_reason(magics: GraphNotebook, api: LocalNeptuneMlApi,
                                                                 clock: ManualClock) -> None:
    processing = _completed_processing(magics, clock)
    finish = when_requested(api, "GetMLModelTrainingJob", lambda: clock.advance(LONG_AGO))
    run = magics.magic(f"training start --job-id failing-model --data-processing-id {processing} "
                       f"--s3-output-uri {TRAIN_OUT} --instance-type ml.g5.2xlarge --wait --wait-interval 1")
    finish.join()
    result = run.ok()
    assert result["status"] == "Failed" and "Training is finished" in run.printed
    assert result["hpoJob"]["failureReason"].startswith("AlgorithmError")
    assert result["hpoJob"]["cloudwatchLogUrl"].startswith("https://console.aws.amazon.com/cloudwatch/")


@pytest.mark.parametrize("kind", ["dataprocessing", "training"])
def test_a_wait_on_a_stopped_job_spins_until_its_timeout_and_returns_none(
    magics: GraphNotebook, api: LocalNeptuneMlApi, clock: ManualClock, kind: str
) -> None:
    """graph-notebook's processing and training waits know only Completed and Failed as ends."""
    processing = _completed_processing(magics, clock)
    if kind == "dataprocessing":
        magics.call("dataprocessing_start", INPUT, PROCESSED, id="cancelled")
        magics.call("dataprocessing_stop", "cancelled")
    else:
        magics.call("modeltraining_start", processing, TRAIN_OUT, 2, 2, id="cancelled")
        magics.call("modeltraining_stop", "cancelled")
    clock.advance(LONG_AGO)
    run = magics.magic(f"{kind} status --job-id cancelled --wait --wait-interval 1 --wait-timeout 2")
    assert run.exception is None and run.result is None
    assert "Status is Stopped" in run.printed and "finished" not in run.printed
    operation = {"dataprocessing": "GetMLDataProcessingJob", "training": "GetMLModelTrainingJob"}[kind]
    polls = [r for r in api.requests() if r.operation == operation and r.endpoint_id == "cancelled"]
    assert polls and all(r.status_code == 200 for r in polls)


def test_modeltransform_magics_start_wait_list_status_and_stop(magics: GraphNotebook, api: LocalNeptuneMlApi,
                                                              clock: ManualClock) -> None:
    processing = _completed_processing(magics, clock)
    training = _completed_training(magics, clock, processing)
    api.timings.transform = 0.0  # the modeltransform wait polls every 60 s: let the first poll see the end
    started = magics.magic(f"modeltransform start --job-id transform-1 --s3-output-uri {TRANSFORM_OUT} "
                           f"--data-processing-job-id {processing} --model-training-job-id {training} --wait").ok()
    assert started["status"] == "Completed" and "models" in started
    api.timings.transform = 60.0
    magics.magic(f"modeltransform start --job-id transform-2 --s3-output-uri {TRANSFORM_OUT} "
                 "--training-job-name sagemaker-training-7").ok()
    assert magics.magic("modeltransform list").ok() == {"ids": ["transform-1", "transform-2"]}
    assert magics.magic("modeltransform status --job-id transform-2").ok()["status"] == "InProgress"
    message = magics.magic("modeltransform stop --job-id transform-2").ok()
    assert message.startswith("Job cancelled")
    stop = [r for r in api.requests() if r.operation == "CancelMLModelTransformJob"]
    assert [(r.path, r.status_code) for r in stop] == [("/ml/modeltransform/transform-2?clean=FALSE", 200)]
    clock.advance(LONG_AGO)
    # Unlike the processing and training waits, the modeltransform wait ends on Stopped.
    assert magics.magic("modeltransform status --job-id transform-2 --wait").ok()["status"] == "Stopped"


def test_magics_without_optional_options_start_jobs_with_generated_ids(magics: GraphNotebook,
                                                                       clock: ManualClock) -> None:
    """The magics send "" for each option left out (id, configFileName, trainingInstanceType)."""
    processing = magics.magic(f"dataprocessing start --s3-input-uri {INPUT} --s3-processed-uri {PROCESSED}").ok()
    assert processing["id"]
    clock.advance(LONG_AGO)
    training = magics.magic(f"training start --data-processing-id {processing['id']} --s3-output-uri {TRAIN_OUT}").ok()
    assert training["id"] and training["id"] != processing["id"]
    transform = magics.magic(f"modeltransform start --s3-output-uri {TRANSFORM_OUT} --training-job-name tj-1").ok()
    assert transform["id"]


def test_a_refused_magic_raises_requests_http_error_with_neptunes_body(magics: GraphNotebook) -> None:
    run = magics.magic(f"training start --job-id t-1 --data-processing-id no-such-processing --s3-output-uri {TRAIN_OUT}")
    code, message = run.http_error(404)
    assert code == "MLResourceNotFoundException" and "no-such-processing" in message


def test_a_magic_cell_carries_the_request_as_json(magics: GraphNotebook, clock: ManualClock) -> None:
    """`%%neptune_ml dataprocessing start` with the user guide's JSON cell."""
    cell = ('{"dataprocessing": {"id": "cell-job", "inputDataS3Location": "' + INPUT + '", '
            '"processedDataS3Location": "' + PROCESSED + '", "configFileName": "training-data-configuration.json"}}')
    assert magics.magic("dataprocessing start", cell).ok()["id"] == "cell-job"


# --- TLS --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate_authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_api(certificate_authority: trustme.CA, clock: ManualClock) -> Iterator[LocalNeptuneMlApi]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    certificate_authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    with LocalNeptuneMlApi(ssl_context=context, clock=clock) as api:
        yield api


def test_over_tls_the_client_verifies_the_api_with_the_ca_it_is_given(
    graph_notebook: GraphNotebook, tls_api: LocalNeptuneMlApi, certificate_authority: trustme.CA, tmp_path: Path,
    clock: ManualClock,
) -> None:
    ca = tmp_path / "ca.pem"
    certificate_authority.cert_pem.write_to_path(str(ca))
    graph_notebook.connect(tls_api, iam=True, ssl_verify=str(ca))  # requests' verify takes a CA file
    started = graph_notebook.call("dataprocessing_start", INPUT, PROCESSED, id="tls-job")
    assert started.url.startswith("https://127.0.0.1:") and started.status == 200
    assert graph_notebook.call("dataprocessing_job_status", "tls-job").body["status"] == "InProgress"
    assert graph_notebook.call("dataprocessing_stop", "tls-job", clean=True).status == 200
    clock.advance(LONG_AGO)
    assert graph_notebook.magic("dataprocessing status --job-id tls-job").ok()["status"] == "Stopped"

    graph_notebook.connect(tls_api, ssl_verify=False)  # a notebook config with "ssl_verify": false
    assert graph_notebook.call("modeltraining_list").body == {"ids": []}

    graph_notebook.connect(tls_api)  # verify against certifi's public CAs: the test CA is not one
    with pytest.raises(ClientRaised, match="SSLError"):
        graph_notebook.call("dataprocessing_list")


# --- the endpoint calls beside the jobs -----------------------------------------------------------


def test_endpoint_calls_and_the_endpoint_wait(magics: GraphNotebook, api: LocalNeptuneMlApi,
                                             clock: ManualClock) -> None:
    training = _completed_training(magics, clock, _completed_processing(magics, clock))
    finish = when_requested(api, "GetMLEndpoint", lambda: clock.advance(LONG_AGO))
    run = magics.magic(f"endpoint create --id ep-1 --model-training-job-id {training} --wait --wait-interval 1")
    finish.join()
    assert run.ok()["status"] == "InService" and "Endpoint creation is finished" in run.printed
    # The magic's --update sends a JSON true; the user guide's examples send the string "true".
    assert magics.magic(f"endpoint create --update --id ep-1 --model-training-job-id {training}").ok()["id"] == "ep-1"
    clock.advance(LONG_AGO)
    updated = magics.call("endpoints_create", model_training_job_id=training, id="ep-1", update="true")
    assert updated.sent["update"] == "true" and updated.status == 200
    assert magics.call("endpoints_status", "ep-1").body["status"] == "Updating"
    assert magics.call("endpoints").body == {"ids": ["ep-1"]}
    deleted = magics.call("endpoints_delete", "ep-1")
    assert (deleted.method, deleted.target, deleted.body) == ("DELETE", "/ml/endpoints/ep-1", {"status": "Deleting"})
    clock.advance(LONG_AGO)
    assert magics.call("endpoints_status", "ep-1").error(404)[0] == "MLResourceNotFoundException"
