"""The registry's composition root: the one place where its parts are wired together."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bansos_contracts import topics
from bansos_libs.runtime import Publisher, ServiceDefinition
from bansos_libs.settings import ServiceSettings
from bansos_libs.views import ViewDatabase, ViewUpdater
from bansos_registry.api import create_api
from bansos_registry.application import NikHasher, RegistryApplication, registry_settings
from bansos_registry.importer import SnapshotImporter
from bansos_registry.publishing import to_contract
from bansos_registry.regions import default_register
from bansos_registry.views import HouseholdsView

PORT = 8101


@dataclass
class Registry:
    """The registry's parts, wired: for the CLI, tests and the service process."""

    settings: ServiceSettings
    app: RegistryApplication
    households: ViewUpdater
    importer: SnapshotImporter

    def close(self) -> None:
        """Release the event store's and the views' connections."""
        self.households.database.close()
        self.app.close()


def households_view(app: Any, settings: ServiceSettings) -> list[ViewUpdater]:
    """The registry's read models."""
    return [ViewUpdater(app, HouseholdsView(), ViewDatabase(settings))]


def bootstrap(settings: ServiceSettings | None = None) -> Registry:
    """Build the registry from settings (the environment's by default)."""
    settings = registry_settings(settings)
    app = RegistryApplication(settings)
    [view] = households_view(app, settings)
    assert settings.cipher_key is not None
    importer = SnapshotImporter(app, view, default_register(), NikHasher(settings.cipher_key))
    return Registry(settings=settings, app=app, households=view, importer=importer)


DEFINITION = ServiceDefinition(
    name="registry",
    application=lambda settings: RegistryApplication(settings),
    publisher=Publisher(topics.REGISTRY, to_contract),
    api=create_api,  # type: ignore[arg-type]
    description="DTSEN households and their deciles; every change is an event.",
    views=households_view,
    configure=registry_settings,
    default_port=PORT,
)
