"""The objections service's composition root: the one place where its parts are wired."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bansos_contracts import topics
from bansos_libs.auth.service import ServiceTokens
from bansos_libs.registry_client import RegistryClient
from bansos_libs.runtime import Publisher, ServiceDefinition
from bansos_libs.settings import ServiceSettings
from bansos_libs.views import ViewDatabase, ViewUpdater
from bansos_objections.application import ObjectionsApplication, ObjectionsSettings
from bansos_objections.checks import EvidenceChecker
from bansos_objections.publishing import PUBLISHED, to_contract
from bansos_objections.service import CaseService, Registry
from bansos_objections.views import CaseView

PORT = 8102


@dataclass
class Objections:
    """The objections service's parts, wired: for the API, the CLI, tests and benchmarks."""

    settings: ServiceSettings
    options: ObjectionsSettings
    app: ObjectionsApplication
    view: ViewUpdater
    service: CaseService

    def close(self) -> None:
        """Release the event store's and the view's connections."""
        self.view.database.close()
        self.app.close()


def objections_views(app: Any, settings: ServiceSettings) -> list[ViewUpdater]:
    """The service's read models."""
    return [ViewUpdater(app, CaseView(), ViewDatabase(settings))]


def case_service(
    app: ObjectionsApplication,
    options: ObjectionsSettings | None = None,
    registry: Registry | None = None,
) -> CaseService:
    """The case commands, with the evidence store, boundaries and registry of ``options``."""
    options = options or ObjectionsSettings()
    checker = EvidenceChecker(
        options.evidence_store(), options.bounds(), options.max_evidence_bytes
    )
    registry = registry or RegistryClient(
        options.registry_url, ServiceTokens("objections", options.service_token)
    )
    return CaseService(
        app, options.chains(), registry, checker,
        objections_per_month=options.objections_per_month,
    )  # fmt: skip


def bootstrap(
    settings: ServiceSettings | None = None,
    options: ObjectionsSettings | None = None,
    registry: Registry | None = None,
) -> Objections:
    """Build the objections service from settings (the environment's by default)."""
    settings = settings or ServiceSettings(service="objections")
    options = options or ObjectionsSettings()
    app = ObjectionsApplication(settings)
    [view] = objections_views(app, settings)
    return Objections(settings, options, app, view, case_service(app, options, registry))


def _api(app: Any, settings: ServiceSettings) -> Any:
    from bansos_objections.api import create_api  # the API pulls in FastAPI

    return create_api(app, settings)


DEFINITION = ServiceDefinition(
    name="objections",
    application=lambda settings: ObjectionsApplication(settings),
    publisher=Publisher(topics.OBJECTIONS, to_contract, events=PUBLISHED),
    api=_api,
    description=(
        "Citizens' proposals, objections, refusals and complaints: evidence by content"
        " hash, the review chain from field check and Musdesus to the regency and the"
        " ministry, service levels and abuse limits."
    ),
    views=objections_views,
    default_port=PORT,
)
