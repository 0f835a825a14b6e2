"""Many clients at once: every request is answered and the store stays consistent."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from local_api_support import PROCESSING, make_client

from neptune_ml_endpoint.local.api import LocalNeptuneMlApi

if TYPE_CHECKING:
    from mypy_boto3_neptunedata import NeptuneDataClient

CLIENTS = 24


def _run_together(work: list[object]) -> list[object]:
    """Run the callables at the same moment, each in its own thread; their results or exceptions."""
    start = threading.Barrier(len(work))

    def run(call: object) -> object:
        start.wait()
        try:
            return call()  # type: ignore[operator]
        except Exception as error:  # noqa: BLE001 - the caller inspects what each one raised
            return error

    with ThreadPoolExecutor(max_workers=len(work)) as pool:
        return list(pool.map(run, work))


def test_concurrent_clients_each_get_their_answers(api: LocalNeptuneMlApi) -> None:
    clients = [make_client(api.url) for _ in range(CLIENTS)]

    def lifecycle(client: NeptuneDataClient, endpoint_id: str) -> str:
        client.create_ml_endpoint(id=endpoint_id, mlModelTrainingJobId="job-1")
        assert endpoint_id in client.list_ml_endpoints(maxItems=1024)["ids"]
        return str(client.get_ml_endpoint(id=endpoint_id)["id"])

    ids = [f"ep-{n}" for n in range(CLIENTS)]
    results = _run_together([lambda c=c, i=i: lifecycle(c, i) for c, i in zip(clients, ids, strict=True)])
    assert results == ids
    assert sorted(api.endpoint_ids()) == sorted(ids)
    assert len(api.requests()) == 3 * CLIENTS


def _patient_client(api: LocalNeptuneMlApi) -> NeptuneDataClient:
    """One attempt each, with time to spare on a loaded machine: every answer is the API's, none a timeout."""
    return make_client(api.url, connect_timeout=30, read_timeout=60)


def test_only_one_of_many_simultaneous_creates_of_one_id_succeeds(api: LocalNeptuneMlApi) -> None:
    client = _patient_client(api)
    results = _run_together(
        [lambda: client.create_ml_endpoint(id="same", mlModelTrainingJobId="job-1")] * 20)
    created = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, client.exceptions.BadRequestException)]
    assert (len(created), len(refused)) == (1, 19), [r for r in results if r not in created + refused]
    assert api.endpoint_ids() == ["same"]


def test_only_one_of_many_simultaneous_job_starts_of_one_id_succeeds(api: LocalNeptuneMlApi) -> None:
    client = _patient_client(api)
    results = _run_together([lambda: client.start_ml_data_processing_job(id="same", **PROCESSING)] * 20)
    started = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, client.exceptions.BadRequestException)]
    assert (len(started), len(refused)) == (1, 19), [r for r in results if r not in started + refused]
    assert api.job_ids("dataprocessing") == ["same"]
