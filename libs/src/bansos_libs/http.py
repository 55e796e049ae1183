"""HTTP conventions every service's API shares."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

__all__ = ["read_body", "validation_errors_without_input"]


def validation_errors_without_input(app: FastAPI) -> None:
    """Answer invalid requests with 422 naming each bad field, without echoing its value.

    FastAPI's default answer repeats the input, which for a lookup by NIK is the NIK.
    """

    async def invalid_request(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        errors = [{k: v for k, v in e.items() if k != "input"} for e in error.errors()]
        return JSONResponse(status_code=422, content={"detail": jsonable_encoder(errors)})

    app.add_exception_handler(RequestValidationError, invalid_request)


async def read_body(request: Request, limit: int, what: str = "file") -> bytes:
    """The raw request body, refused with 413 as soon as it passes ``limit`` bytes and with
    415 when it is a form (files are sent as the body itself, with their own type)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("multipart/", "application/x-www-form-urlencoded")):
        raise HTTPException(
            415, f"send the {what} itself as the request body with its own Content-Type, not a form"
        )
    too_large = f"the {what} is larger than the {limit:,} bytes accepted"
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, too_large)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, too_large)
        chunks.append(chunk)
    return b"".join(chunks)
