"""API: checklists — list, read, create and edit drafts, publish, retire, version, import, export."""
from __future__ import annotations

from flask.views import MethodView

from ..api.base import BINARY, Blueprint
from ..api.downloads import download
from ..api.pagination import page_schema, paginate
from ..auth.session import current_user
from ..extensions import db
from .models import Checklist
from .operations import (
    create_draft,
    get_checklist,
    import_document,
    new_version,
    publish,
    require_manager,
    retire,
    update_draft,
    visible_checklists,
)
from .schemas import (
    ChecklistDocumentSchema,
    ChecklistQuerySchema,
    ChecklistSchema,
    ChecklistSummarySchema,
    ChecklistWriteSchema,
    ImportUploadSchema,
    NewVersionSchema,
)
from .spreadsheet import export_xlsx, import_xlsx

blp = Blueprint("checklists_api", __name__, url_prefix="/api/v1/checklists",
                description="服务标准检查表：版本、发布、导入导出")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ChecklistPage = page_schema(ChecklistSummarySchema, "ChecklistPage")


def _document(data: dict) -> dict:
    return {key: data[key] for key in ("name", "description", "sections", "items")}


@blp.route("")
class Checklists(MethodView):
    @blp.arguments(ChecklistQuerySchema, location="query")
    @blp.response(200, ChecklistPage)
    def get(self, args):
        """List checklist versions (drafts only for those who maintain checklists)."""
        query = visible_checklists(current_user())
        if args.get("status"):
            query = query.where(Checklist.status == args["status"])
        if args.get("key"):
            query = query.where(Checklist.key == args["key"])
        return paginate(query, args)

    @blp.arguments(ChecklistWriteSchema)
    @blp.response(201, ChecklistSchema)
    def post(self, data):
        """Create a new checklist as a draft (version 1), e.g. from a JSON export."""
        checklist = create_draft(_document(data), by=current_user(), key=data.get("key"),
                                 scoring_rules=data.get("scoring_rules"))
        db.session.commit()
        return checklist


@blp.route("/<int:checklist_id>")
class ChecklistResource(MethodView):
    @blp.response(200, ChecklistSchema)
    def get(self, checklist_id):
        """One version with its sections and items."""
        return get_checklist(checklist_id, current_user())

    @blp.arguments(ChecklistWriteSchema)
    @blp.response(200, ChecklistSchema)
    def put(self, data, checklist_id):
        """Replace the content of a draft (published versions are immutable: 409)."""
        by = current_user()
        checklist = get_checklist(checklist_id, by)
        update_draft(checklist, _document(data), by=by, scoring_rules=data.get("scoring_rules"))
        db.session.commit()
        return checklist


@blp.route("/<int:checklist_id>/publish")
class Publish(MethodView):
    @blp.response(200, ChecklistSchema)
    def post(self, checklist_id):
        """Publish a draft; it becomes immutable and usable by campaigns."""
        by = current_user()
        checklist = publish(get_checklist(checklist_id, by), by=by)
        db.session.commit()
        return checklist


@blp.route("/<int:checklist_id>/retire")
class Retire(MethodView):
    @blp.response(200, ChecklistSchema)
    def post(self, checklist_id):
        """Retire a published version (kept for history)."""
        by = current_user()
        checklist = retire(get_checklist(checklist_id, by), by=by)
        db.session.commit()
        return checklist


@blp.route("/<int:checklist_id>/versions")
class Versions(MethodView):
    @blp.arguments(NewVersionSchema)
    @blp.response(201, ChecklistSchema)
    def post(self, data, checklist_id):
        """Start the next version as a draft: a copy of this one, or the document sent
        (JSON import of an edited export). Send ``{}`` to copy."""
        by = current_user()
        base = get_checklist(checklist_id, by)
        checklist = new_version(base, by=by, document=_document(data) if data else None)
        db.session.commit()
        return checklist


@blp.route("/<int:checklist_id>/export.xlsx")
class ExportXlsx(MethodView):
    @blp.response(200, BINARY, description="Excel 工作簿（.xlsx）", content_type=XLSX)
    def get(self, checklist_id):
        """Download the version as a spreadsheet (the documented import layout)."""
        checklist = get_checklist(checklist_id, current_user())
        name = f"{checklist.name}-v{checklist.version}.xlsx"
        return download(export_xlsx(checklist.to_document()), name, XLSX)


@blp.route("/<int:checklist_id>/export.json")
class ExportJson(MethodView):
    @blp.response(200, ChecklistDocumentSchema)
    def get(self, checklist_id):
        """The version's content as a JSON document (importable as a new version)."""
        return get_checklist(checklist_id, current_user()).to_document()


@blp.route("/import")
class Import(MethodView):
    @blp.arguments(ImportUploadSchema, location="multipart")
    @blp.response(201, ChecklistSchema)
    @blp.alt_response(422, description="文件有误：逐条列出工作表、行、列和原因，未写入任何内容")
    @blp.alt_response(409, description="该检查表已有草稿，且未要求替换（replace_draft）：未写入任何内容")
    def post(self, form):
        """Import an .xlsx file: a new version of ``base_id``'s standard, or a new checklist.
        Everything is checked before anything is written. If the standard already has a draft,
        the import is refused (409 ``draft_exists``, with ``draft_id``) unless
        ``replace_draft`` is true, which replaces the draft's content."""
        by = current_user()
        require_manager(by)
        base = get_checklist(form["base_id"], by) if form.get("base_id") else None
        document = import_xlsx(form["file"].read(), name=form.get("name"))
        checklist = import_document(document, base=base, by=by,
                                    replace_draft=form["replace_draft"])
        db.session.commit()
        return checklist
