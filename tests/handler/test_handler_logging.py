"""Logs: one line per decision; never the event, the ResponseURL's signature or credentials."""

from __future__ import annotations

import logging

import pytest
from handler_driver import FAST, SAFETY_MARGIN, CloudFormation

from neptune_ml_endpoint.local.api import Timings

SECRET_KEY = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"


def test_logs_explain_decisions_and_hold_no_secrets(cloudformation: CloudFormation, caplog: pytest.LogCaptureFixture,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    cloudformation.api.timings = Timings(creating=1.0, updating=FAST.updating, deleting=FAST.deleting)
    properties = cloudformation.properties(Id="ep-logged")
    create = cloudformation.event("Create", properties)
    failing = cloudformation.event("Create", cloudformation.properties(InstanceCount="zero"))
    delete = cloudformation.event("Delete", properties, physical_id="ep-logged")

    with caplog.at_level(logging.INFO):
        cloudformation.invoke(create, seconds=SAFETY_MARGIN + 0.3)
        assert cloudformation.poll_until_answered(create)["Status"] == "SUCCESS"
        assert cloudformation.send(failing)["Status"] == "FAILED"
        assert cloudformation.send(delete)["Status"] == "SUCCESS"

    lines = [logging.Formatter().format(record) for record in caplog.records]
    text = "\n".join(lines)
    assert "Create: creating endpoint ep-logged" in text
    assert "polling every minute" in text
    assert "Create: endpoint ep-logged is InService" in text
    assert "Create: invalid property InstanceCount" in text
    assert "Delete: deleting endpoint ep-logged" in text
    assert any(record.name.startswith("crhelper") for record in caplog.records)  # crhelper's lines are captured
    for event in (create, failing, delete):
        signature = cloudformation.receiver.signature_for(cloudformation.key_of(event))
        assert signature not in text
        assert event["ResponseURL"].split("?")[0] not in text
    assert "X-Amz-" not in text
    assert "ResourceProperties" not in text
    assert SECRET_KEY not in text
