"""Asking the registry, which alone holds NIKs and names, about households.

Other services never store a NIK or a name: they ask the registry which household (if
any) is headed by this NIK with this name in this village, and get back the household id
and the masked name, or nothing. They may also ask where a household lives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

__all__ = [
    "HouseholdPlace",
    "Identified",
    "Identify",
    "RegistryClient",
    "RegistryUnavailableError",
]


@dataclass(frozen=True)
class Identified:
    """The household a citizen's NIK, name and village point to."""

    household_id: str
    village: str
    head_name_masked: str


@dataclass(frozen=True)
class HouseholdPlace:
    """Where a registered household lives, and whether it is still in the register."""

    household_id: str
    village: str
    active: bool


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
        body = self._send(
            "POST", "/households/identify", {"nik": nik, "name": name, "village": village}
        )
        if body is None:
            return None
        return Identified(body["household_id"], body["village"], body["head_name_masked"])

    def place(self, household_id: str) -> HouseholdPlace | None:
        """Where ``household_id`` lives, or None when the register has no such household."""
        body = self._send("GET", f"/households/{quote(household_id, safe='')}")
        if body is None:
            return None
        return HouseholdPlace(body["household_id"], body["village"], bool(body["active"]))

    def _send(self, method: str, path: str, json: object = None) -> dict[str, Any] | None:
        try:
            response = self._http.request(
                method, path, json=json, headers={"Authorization": f"Bearer {self._token()}"}
            )
        except httpx.HTTPError as error:
            raise RegistryUnavailableError(
                f"registry unreachable: {type(error).__name__}"
            ) from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise RegistryUnavailableError(f"registry answered {response.status_code}")
        body: dict[str, Any] = response.json()
        return body

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()
