"""Program rules as versioned data, and the pure engine that decides with them.

- :mod:`.model`: :class:`Ruleset` (loaded from ``programs/*.yaml``, content-hashed,
  conditions compiled at load time), :class:`HouseholdFacts`, :class:`Decision`.
- :mod:`.checks`: the conditions a ruleset file may use, and the universal ones.
- :mod:`.engine`: :func:`decide`, :func:`redecide`, :func:`verify`, :func:`decide_all`.
- :mod:`.simulate`: :func:`simulate`, what a new ruleset version would change.
- :mod:`.contract`: mapping decisions onto the ``EligibilityDecided`` contract.

Nothing here does I/O beyond reading ruleset files.
"""

from bansos_eligibility.rules.checks import CHECK_NAMES, UNIVERSAL_REASONS
from bansos_eligibility.rules.contract import event_fields, recorded_inputs, to_decision_inputs
from bansos_eligibility.rules.engine import decide, decide_all, redecide, verify
from bansos_eligibility.rules.facts import ALL_PROGRAMS, HouseholdFacts, InputsError
from bansos_eligibility.rules.model import (
    PROGRAMS_DIR,
    Amount,
    ChannelPolicy,
    Decision,
    Ruleset,
    RulesetError,
    load_ruleset,
    load_rulesets,
    parse_ruleset,
    shipped_rulesets,
)
from bansos_eligibility.rules.simulate import SimulationReport, VillageChanges, simulate

__all__ = [
    "ALL_PROGRAMS",
    "CHECK_NAMES",
    "PROGRAMS_DIR",
    "UNIVERSAL_REASONS",
    "Amount",
    "ChannelPolicy",
    "Decision",
    "HouseholdFacts",
    "InputsError",
    "Ruleset",
    "RulesetError",
    "SimulationReport",
    "VillageChanges",
    "decide",
    "decide_all",
    "event_fields",
    "load_ruleset",
    "load_rulesets",
    "parse_ruleset",
    "recorded_inputs",
    "redecide",
    "shipped_rulesets",
    "simulate",
    "to_decision_inputs",
    "verify",
]
