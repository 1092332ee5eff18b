"""Import every model so that the metadata (and Alembic) knows all tables."""

from andon import audit, catalog, files, jobs  # noqa: F401
from andon.database import Base
from andon.flows import models as flow_models  # noqa: F401
from andon.forms import models as form_models  # noqa: F401
from andon.identity import models as identity_models  # noqa: F401
from andon.notifications import models as notification_models  # noqa: F401
from andon.reports import models as report_models  # noqa: F401

metadata = Base.metadata
