"""The pure scoring engine: response types, scoring rules and the scoring functions.

No Flask or database imports here, so everything is tested with plain data and hypothesis.
Points and percentages are ``Decimal`` rounded half up to two places; ``to_dict()`` gives floats.
"""
from .engine import (
    InspectionResult,
    InspectionScore,
    ItemScore,
    ModeScore,
    PeriodScore,
    RedLineOutcome,
    SectionScore,
    combined_mean,
    period_score,
    score_inspection,
    total_percent,
    validate_answers,
)
from .errors import ScoringError, UnknownResponseTypeError
from .items import Answer, ChecklistItem, validate_item
from .rules import (
    DEFAULT_RULES,
    INDEPENDENT_MODES,
    MODE_LABELS_ZH,
    MODES,
    GradeBand,
    RedLineRule,
    ScoringRules,
    validate_rules,
)
from .types import NA, RESPONSE_TYPES, ResponseType, get_response_type, register

__all__ = [
    "DEFAULT_RULES", "INDEPENDENT_MODES", "MODES", "MODE_LABELS_ZH", "NA", "RESPONSE_TYPES",
    "Answer", "ChecklistItem", "GradeBand", "InspectionResult", "InspectionScore", "ItemScore",
    "ModeScore", "PeriodScore", "RedLineOutcome", "RedLineRule", "ResponseType", "ScoringError",
    "ScoringRules", "SectionScore", "UnknownResponseTypeError", "get_response_type",
    "combined_mean", "period_score", "register", "score_inspection", "total_percent",
    "validate_answers", "validate_item",
    "validate_rules",
]
