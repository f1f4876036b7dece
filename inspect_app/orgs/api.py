"""API: the organisation tree."""
from __future__ import annotations

from flask.views import MethodView

from ..api.base import Blueprint
from ..api.pagination import page_schema, paginate
from ..auth.session import current_user
from ..errors import NotFound
from ..extensions import db
from ..i18n import N_
from .models import OrgUnit
from .operations import create_unit, get_unit, tree_ordered, update_unit, visible_units
from .schemas import OrgUnitQuerySchema, OrgUnitSchema, OrgUnitUpdateSchema

blp = Blueprint("orgs_api", __name__, url_prefix="/api/v1/org-units",
                description="机构：分行 → 支行 → 网点")

OrgUnitPage = page_schema(OrgUnitSchema, "OrgUnitPage")


@blp.route("")
class OrgUnits(MethodView):
    @blp.arguments(OrgUnitQuerySchema, location="query")
    @blp.response(200, OrgUnitPage)
    def get(self, args):
        """List the org units within my scope, filtered by kind, parent or text.

        In tree order, as the pages and ``flask org list`` show them: each unit after its
        parent, siblings by code (TS-LB before TS-LN, TS-LB-01 before TS-LB-08) — not in the
        order the units were created. Pages follow that order."""
        by = current_user()
        query = visible_units(by)
        if not args["include_inactive"]:
            query = query.where(OrgUnit.is_active.is_(True))
        if args.get("kind"):
            query = query.where(OrgUnit.kind == args["kind"])
        if args.get("parent_id") is not None:
            query = query.where(OrgUnit.parent_id == args["parent_id"])
        if args.get("q"):
            like = f"%{args['q']}%"
            query = query.where(OrgUnit.name.ilike(like) | OrgUnit.code.ilike(like))
        return paginate(tree_ordered(query), args)

    @blp.arguments(OrgUnitSchema)
    @blp.response(201, OrgUnitSchema)
    def post(self, data):
        """Create a sub-branch or an outlet under a unit I manage."""
        by = current_user()
        parent_id = data.pop("parent_id", None)
        parent = get_unit(parent_id, by) if parent_id is not None else None
        unit = create_unit(parent=parent, by=by, **data)
        db.session.commit()
        return unit


@blp.route("/<int:unit_id>")
class OrgUnitResource(MethodView):
    @blp.response(200, OrgUnitSchema)
    def get(self, unit_id):
        """One org unit."""
        return get_unit(unit_id, current_user())

    @blp.arguments(OrgUnitUpdateSchema)
    @blp.response(200, OrgUnitSchema)
    def patch(self, data, unit_id):
        """Change an org unit, move it, or close it (``is_active: false``).

        Closing an outlet cancels its open tasks (reason 机构已停用, each in the audit log):
        its inspectors' phones get the usual answer for a cancelled task. A unit closed takes
        no new work and leaves the watch-list; the outlets of a closed sub-branch stay open."""
        by = current_user()
        unit = get_unit(unit_id, by)
        if "parent_id" in data:
            parent_id = data.pop("parent_id")
            if parent_id is None:
                raise NotFound(N_("未找到上级机构"))
            data["parent"] = get_unit(parent_id, by)
        update_unit(unit, data, by=by)
        db.session.commit()
        return unit
