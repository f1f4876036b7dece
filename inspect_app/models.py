"""Imports every domain's models so that Alembic and ``db.metadata`` see all tables."""
from .audit.models import AuditEntry  # noqa: F401
from .auth.models import ApiToken, RoleGrant, User  # noqa: F401
from .orgs.models import OrgUnit  # noqa: F401
from .checklists.models import Checklist, ChecklistItem, ChecklistSection  # noqa: F401
