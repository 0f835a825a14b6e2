"""Neptune's error responses: {"requestId", "code", "detailedMessage"} with the modelled status."""

from __future__ import annotations

from typing import Any

from neptune_ml_endpoint.local.api.model import error_http_status

BAD_REQUEST = "BadRequestException"
CLIENT_TIMEOUT = "ClientTimeoutException"
ILLEGAL_ARGUMENT = "IllegalArgumentException"
INTERNAL_FAILURE = "InternalFailureException"
INVALID_PARAMETER = "InvalidParameterException"
MISSING_PARAMETER = "MissingParameterException"
NOT_FOUND = "MLResourceNotFoundException"
PRECONDITIONS_FAILED = "PreconditionsFailedException"
TOO_MANY_REQUESTS = "TooManyRequestsException"
UNSUPPORTED_OPERATION = "UnsupportedOperationException"


class ApiError(Exception):
    """A request the API refuses; becomes an error response."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status if status is not None else error_http_status(code)

    def body(self, request_id: str) -> dict[str, Any]:
        """The JSON body Neptune sends with this error."""
        return {"requestId": request_id, "code": self.code, "detailedMessage": self.message}
