"""Imports every domain's models so that Alembic and ``db.metadata`` see all tables."""
from .audit.models import AuditEntry  # noqa: F401
from .auth.models import ApiToken, RoleGrant, User  # noqa: F401
from .checklists.models import Checklist, ChecklistItem, ChecklistSection  # noqa: F401
from .evidence.models import Photo  # noqa: F401
from .inspections.models import (  # noqa: F401
                                  Appeal,
                                  Campaign,
                                  Finding,
                                  Inspection,
                                  InspectionAnswer,
                                  InspectionScore,
                                  InspectionTeam,
                                  Submission,
)
from .orgs.models import OrgUnit  # noqa: F401
from .rectification.models import RectificationItem  # noqa: F401
from .reports.jobs import ReportJob  # noqa: F401
from .watchlist.models import (  # noqa: F401
                                  CoachingAction,
                                  QueueDay,
                                  WatchlistEntry,
                                  WatchlistEvent,
                                  WatchlistRuleSet,
)
