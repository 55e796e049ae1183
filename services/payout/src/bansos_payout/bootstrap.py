"""The payout service's composition root: the one place where its parts are wired."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bansos_contracts import topics
from bansos_libs.metrics import Gauge, Measurement
from bansos_libs.runtime import Publisher, ServiceDefinition, Subscriber
from bansos_libs.settings import ServiceSettings
from bansos_libs.views import ViewDatabase, ViewUpdater
from bansos_payout.application import PayoutApplication, PayoutSettings
from bansos_payout.codes import CodeSigner
from bansos_payout.handlers import PayoutHandler
from bansos_payout.publishing import PUBLISHED, to_contract
from bansos_payout.schedule import Schedule
from bansos_payout.service import PayoutService
from bansos_payout.views import PAYOUTS, PayoutView

PORT = 8104
CONSUMER_GROUP = "payout"
CONSUMED_TOPICS = (topics.REGISTRY, topics.ELIGIBILITY)


@dataclass
class Payouts:
    """The payout service's parts, wired: for the API, the CLI, tests and benchmarks."""

    settings: ServiceSettings
    options: PayoutSettings
    app: PayoutApplication
    schedules: dict[tuple[str, str], Schedule]
    signer: CodeSigner
    view: ViewUpdater
    handler: PayoutHandler
    service: PayoutService

    def close(self) -> None:
        """Release the event store's and the view's connections."""
        self.view.database.close()
        self.app.close()


def payout_views(app: Any, settings: ServiceSettings) -> list[ViewUpdater]:
    """The service's read models."""
    return [ViewUpdater(app, PayoutView(), ViewDatabase(settings))]


def payout_gauges(app: Any, settings: ServiceSettings) -> list[Gauge]:
    """The service's own gauges: payouts by state, from the payout view."""
    database = ViewDatabase(settings)

    def payouts_by_state() -> list[Measurement]:
        with database.transaction() as sql:
            rows = sql.execute(f"SELECT state, count(*) FROM {PAYOUTS} GROUP BY state").fetchall()
        return [(int(count), {"state": str(state)}) for state, count in rows]

    return [Gauge("bansos.payouts", payouts_by_state, "Payouts by state.", "{payout}")]


def payout_settings(settings: ServiceSettings | None = None) -> ServiceSettings:
    """The service's settings (the environment's by default)."""
    return settings or ServiceSettings(service="payout")


def bootstrap(
    settings: ServiceSettings | None = None, options: PayoutSettings | None = None
) -> Payouts:
    """Build the payout service from settings (the environment's by default)."""
    settings = payout_settings(settings)
    options = options or PayoutSettings()
    app = PayoutApplication(settings)
    schedules = options.schedules()
    signer = options.signer()
    [view] = payout_views(app, settings)
    service = PayoutService(app, view, schedules, signer)
    return Payouts(
        settings, options, app, schedules, signer, view, PayoutHandler(schedules), service
    )


def _handler(app: Any) -> PayoutHandler:
    return PayoutHandler(PayoutSettings().schedules())


def _api(app: Any, settings: ServiceSettings) -> Any:
    from bansos_payout.api import create_api  # the API pulls in FastAPI

    return create_api(app, settings)


DEFINITION = ServiceDefinition(
    name="payout",
    application=lambda settings: PayoutApplication(settings),
    publisher=Publisher(topics.PAYOUT, to_contract, events=PUBLISHED),
    subscriber=Subscriber(CONSUMED_TOPICS, CONSUMER_GROUP, _handler),
    api=_api,
    description=(
        "One payout per household and program period from regency-approved lists: channel"
        " and windows, signed PT Pos collection codes, bank credit files, cancellation,"
        " failure, SPTJM-backed reconciliation and the three-way reconciliation report."
    ),
    views=payout_views,
    gauges=payout_gauges,
    default_port=PORT,
)
