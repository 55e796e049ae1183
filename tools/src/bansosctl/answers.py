"""What the services answer, as the command line shows it."""

from __future__ import annotations

import httpx

__all__ = ["detail"]


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
