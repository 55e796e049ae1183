"""HTTP conventions every service's API shares."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

__all__ = ["validation_errors_without_input"]


def validation_errors_without_input(app: FastAPI) -> None:
    """Answer invalid requests with 422 naming each bad field, without echoing its value.

    FastAPI's default answer repeats the input, which for a lookup by NIK is the NIK.
    """

    async def invalid_request(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        errors = [{k: v for k, v in e.items() if k != "input"} for e in error.errors()]
        return JSONResponse(status_code=422, content={"detail": jsonable_encoder(errors)})

    app.add_exception_handler(RequestValidationError, invalid_request)
