"""The eligibility service's composition root: the one place where its parts are wired."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bansos_contracts import topics
from bansos_contracts.eligibility import BeneficiaryListApproved, EligibilityDecided
from bansos_eligibility.application import EligibilityApplication, EligibilitySettings
from bansos_eligibility.handlers import EligibilityHandler
from bansos_eligibility.publishing import to_contract
from bansos_eligibility.rules.model import Ruleset
from bansos_eligibility.views import EligibilityView
from bansos_libs.runtime import Publisher, ServiceDefinition, Subscriber
from bansos_libs.settings import ServiceSettings
from bansos_libs.views import ViewDatabase, ViewUpdater

PORT = 8103
CONSUMER_GROUP = "eligibility"
CONSUMED_TOPICS = (topics.REGISTRY, topics.OBJECTIONS, topics.PAYOUT)


@dataclass
class Eligibility:
    """The eligibility service's parts, wired: for the API, the CLI, tests and benchmarks."""

    settings: ServiceSettings
    options: EligibilitySettings
    app: EligibilityApplication
    rulesets: tuple[Ruleset, ...]
    view: ViewUpdater
    handler: EligibilityHandler

    def close(self) -> None:
        """Release the event store's and the view's connections."""
        self.view.database.close()
        self.app.close()


def eligibility_views(app: Any, settings: ServiceSettings) -> list[ViewUpdater]:
    """The service's read models."""
    return [ViewUpdater(app, EligibilityView(), ViewDatabase(settings))]


def eligibility_settings(settings: ServiceSettings | None = None) -> ServiceSettings:
    """The service's settings (the environment's by default)."""
    return settings or ServiceSettings(service="eligibility")


def bootstrap(
    settings: ServiceSettings | None = None, options: EligibilitySettings | None = None
) -> Eligibility:
    """Build the eligibility service from settings (the environment's by default)."""
    settings = eligibility_settings(settings)
    options = options or EligibilitySettings()
    app = EligibilityApplication(settings)
    rulesets = options.rulesets()
    [view] = eligibility_views(app, settings)
    return Eligibility(settings, options, app, rulesets, view, EligibilityHandler(rulesets))


def _handler(app: Any) -> EligibilityHandler:
    return EligibilityHandler(EligibilitySettings().rulesets())


def _api(app: Any, settings: ServiceSettings) -> Any:
    from bansos_eligibility.api import create_api  # the API pulls in FastAPI and httpx

    return create_api(app, settings)


DEFINITION = ServiceDefinition(
    name="eligibility",
    application=lambda settings: EligibilityApplication(settings),
    publisher=Publisher(
        topics.ELIGIBILITY, to_contract, events=(EligibilityDecided, BeneficiaryListApproved)
    ),
    subscriber=Subscriber(CONSUMED_TOPICS, CONSUMER_GROUP, _handler),
    api=_api,
    description=(
        "Program rules as versioned data; a decision per household and program period with"
        " its proof; village verification and regency approval of beneficiary lists; the"
        " citizen's status."
    ),
    views=eligibility_views,
    default_port=PORT,
)
