"""Identifying a citizen through the registry, which alone holds NIKs and names.

The eligibility service never sees a NIK or a name: it asks the registry which
household (if any) is headed by this NIK with this name in this village, and gets back
the household id and the masked name, or nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

__all__ = ["Identified", "Identify", "RegistryClient", "RegistryUnavailableError"]


@dataclass(frozen=True)
class Identified:
    """The household a citizen's NIK, name and village point to."""

    household_id: str
    village: str
    head_name_masked: str


Identify = Callable[[str, str, str], Identified | None]
"""``(nik, name, village)`` → the household, or None when they do not all match."""


class RegistryUnavailableError(RuntimeError):
    """The registry could not answer (down, or refused this service's token)."""


class RegistryClient:
    """Calls the registry's ``POST /households/identify`` with a service token."""

    def __init__(self, base_url: str, token: Callable[[], str], timeout: float = 5.0) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=timeout)
        self._token = token

    def __call__(self, nik: str, name: str, village: str) -> Identified | None:
        try:
            response = self._http.post(
                "/households/identify",
                json={"nik": nik, "name": name, "village": village},
                headers={"Authorization": f"Bearer {self._token()}"},
            )
        except httpx.HTTPError as error:
            raise RegistryUnavailableError(
                f"registry unreachable: {type(error).__name__}"
            ) from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise RegistryUnavailableError(f"registry answered {response.status_code}")
        body = response.json()
        return Identified(body["household_id"], body["village"], body["head_name_masked"])

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()
