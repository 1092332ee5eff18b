"""Form definitions in the catalogue: load one from a file, read the current one."""

from __future__ import annotations

import json
from dataclasses import asdict

from sqlalchemy.orm import Session

from andon import catalog
from andon.errors import NotFound
from andon.forms.record_refs import check_form as check_record_fields
from andon.forms.schema import FormSpec, check_definition
from andon.forms.taxonomy_fields import check_form as check_taxonomy_fields
from andon.i18n import N_
from andon.jsonfile import parse_json


def deploy_form(session: Session, source: str, filename: str,
                user_id: int | None = None) -> tuple[catalog.DefinitionVersion, bool]:
    """Check a form definition and publish it when it changed."""
    spec = check_definition(parse_json(source, filename), filename)
    check_taxonomy_fields(session, spec, filename)
    check_record_fields(session, spec, filename)
    compiled = json.dumps(asdict(spec), ensure_ascii=False, sort_keys=True)
    return catalog.publish(session, "form", spec.key, spec.title, source, compiled, user_id)


def form_spec_at(session: Session, version_id: int) -> FormSpec:
    """Return the form as it was in one version, as tasks and records made with it need."""
    version = session.get(catalog.DefinitionVersion, version_id)
    if version is None or version.definition.kind != "form":
        raise NotFound(N_("There is no form version %(id)s."), id=version_id)
    return FormSpec(**version.content)
