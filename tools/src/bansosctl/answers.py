"""Calling a service's HTTP API from the command line, and what it answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

__all__ = ["CallFailedError", "detail", "print_json", "send"]


def detail(response: httpx.Response) -> str:
    """The service's ``detail`` (and refusal ``code``) in one line."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if not isinstance(body, dict):
        return str(body)[:200]
    detail = body.get("detail", body)
    if isinstance(detail, dict):
        detail = detail.get("reason", detail)
    elif isinstance(detail, list):
        detail = "; ".join(
            f"{'.'.join(str(part) for part in item.get('loc', ()))}: {item.get('msg')}"
            for item in detail
            if isinstance(item, dict)
        )
    code = body.get("code")
    return f"{detail} [{code}]" if code else str(detail)


class CallFailedError(RuntimeError):
    """The service could not be reached, or refused; the message says which and why."""


def send(
    client: Callable[[], httpx.Client],
    service: str,
    method: str,
    path: str,
    *,
    token: str,
    what: str,
    body: dict[str, Any] | None = None,
    content: bytes | None = None,
    content_type: str = "application/octet-stream",
    params: dict[str, Any] | None = None,
) -> httpx.Response:
    """One request with a bearer token; the response when 2xx, else CallFailedError."""
    headers = {"Authorization": f"Bearer {token}"}
    if content is not None:
        headers["Content-Type"] = content_type
    query = {k: v for k, v in (params or {}).items() if v is not None}
    with client() as http:
        try:
            response = http.request(
                method, path, json=body, content=content, params=query, headers=headers
            )
        except httpx.HTTPError as error:
            raise CallFailedError(
                f"cannot reach the {service} service at {http.base_url} ({type(error).__name__}):"
                " is `make run` up?"
            ) from None
    if not response.is_success:
        raise CallFailedError(f"{what}: {detail(response)} (HTTP {response.status_code})")
    return response


def print_json(data: Any) -> None:
    """Print an answer as indented JSON."""
    print(json.dumps(data, indent=2, ensure_ascii=False))
