"""Extension objects, created without an app and bound in :func:`inspect_app.create_app`."""
from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from .api.base import Api
from .api.fields import Moment

#: Constraint names that are the same on SQLite and PostgreSQL, so migrations can drop them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


#: A session lives for one request (or one command) and is thrown away at its end, so objects are
#: not expired on commit: the response is serialised from what the request itself just wrote,
#: instead of reloading every row it touched (and every relationship behind them) one by one.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate(compare_type=True, render_as_batch=True)
api = Api()
api.register_field(Moment, "string", None)  # a date-time, or its date only
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
