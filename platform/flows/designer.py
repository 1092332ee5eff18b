"""Flow drafts edited in the designer: templates, saving by revision, checking, publishing.

A flow's draft is its BPMN text in the catalogue (``catalog.save_draft``); the
modeller in the browser saves it whole, ``andon.flows.step_panel`` changes one
element's settings in it, and ``publish`` deploys it as a new version.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from sqlalchemy.orm import Session

from andon import catalog
from andon.errors import InvalidDefinition, InvalidSubmission, NotFound
from andon.flows import lint
from andon.flows.bpmn import parse_xml
from andon.flows.deploy import deploy_flow
from andon.flows.elements import NS
from andon.forms.schema import KEY_RE
from andon.i18n import N_, Message
from andon.identity.models import User

KIND = "flow"
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATES = (("linear_approval", N_("Linear approval")),
             ("countersign", N_("Approval with countersign")),
             ("project_delivery", N_("Project delivery stages, kickoff to archive")),
             ("blank", N_("Blank: a start and an end")))

def new_xml(template: str, key: str, title: Mapping[str, str]) -> str:
    """Return a new flow's BPMN from a template, its process id being the key."""
    if template not in dict(TEMPLATES):
        raise NotFound(N_("There is no flow template %(name)s."), name=template)
    source = (TEMPLATE_DIR / f"{template}.bpmn").read_text()
    english = title.get("en") or title.get("zh-CN") or key
    return (source.replace("__KEY__", key)
            .replace('"__TITLE_EN__"', quoteattr(english))
            .replace('"__TITLE_ZH__"', quoteattr(title.get("zh-CN") or english)))


def create(session: Session, key: str, title: Mapping[str, str], template: str,
           user: User) -> catalog.DefinitionDraft:
    """Start a new flow from a template as a draft."""
    errors: dict[str, Message] = {}
    if not KEY_RE.match(key):
        errors["key"] = Message(N_("Use lower-case letters, digits and '_' for the key, "
                                   "starting with a letter."))
    elif catalog.versions_of(session, KIND, key) or catalog.draft(session, KIND, key):
        errors["key"] = Message(N_("A flow with the key %(key)s exists already."), {"key": key})
    if not any(text.strip() for text in title.values()):
        errors["title_en"] = Message(N_("Give the flow a title in at least one language."))
    if errors:
        raise InvalidSubmission(errors, {"key": key, "template": template,
                                         **{f"title_{k[:2]}": v for k, v in title.items()}})
    clean = {locale: text.strip() for locale, text in title.items() if text.strip()}
    return catalog.save_draft(session, KIND, key, new_xml(template, key, clean), None, user.id)


def open_draft(session: Session, key: str) -> catalog.WorkingCopy:
    """Return the flow's draft, or its newest version to start one from (saving nothing)."""
    return catalog.working_copy(session, KIND, key)


def edit_version(session: Session, key: str, number: int,
                 user: User) -> catalog.DefinitionDraft:
    """Make a published (or retired) version the draft, replacing any draft there was."""
    found = {v.number: v for v in catalog.versions_of(session, KIND, key)}
    if number not in found:
        raise NotFound(N_("There is no version %(number)s of this flow."), number=number)
    current = catalog.draft(session, KIND, key)
    saved = catalog.save_draft(session, KIND, key, found[number].source,
                               current.revision if current else None, user.id)
    saved.based_on = number
    session.flush()
    return saved


def save(session: Session, key: str, xml: str, revision: int,
         user: User) -> catalog.DefinitionDraft:
    """Save the modeller's XML over the revision the editor read; it must be this flow's BPMN."""
    root = parse(xml, f"{key}.bpmn")
    process = root.find("bpmn:process", NS)
    if process is None or process.get("id") != key:
        raise InvalidSubmission({"xml": Message(N_(
            "The diagram's process id must stay %(key)s."), {"key": key})}, {})
    return catalog.save_draft(session, KIND, key, xml, revision, user.id)


def import_file(session: Session, data: bytes, filename: str,
                user: User) -> catalog.DefinitionDraft:
    """Make a draft from a .bpmn file made elsewhere; its main process id is the flow's key."""
    try:
        root = parse_xml(data, filename)
    except InvalidDefinition as error:
        where, what = error.problems[0] if error.problems else ("", error.message.render())
        raise InvalidSubmission({"file": Message(N_("%(where)s: %(what)s"),
                                                 {"where": where, "what": what})}, {}) from None
    processes = root.findall("bpmn:process", NS)
    key = processes[0].get("id", "") if len(processes) == 1 else ""
    if not KEY_RE.match(key):
        raise InvalidSubmission({"file": Message(N_(
            "The file must hold one process whose id is a key: lower-case letters, digits and "
            "'_', starting with a letter (found %(found)s)."),
            {"found": ", ".join(p.get("id", "?") for p in processes) or "-"})}, {})
    current = catalog.draft(session, KIND, key)
    return catalog.save_draft(session, KIND, key, data.decode(),
                              current.revision if current else None, user.id)


def parse(xml: str, filename: str) -> Any:
    """Parse a draft's XML with the hardened parser, or refuse it naming the line."""
    try:
        return parse_xml(xml.encode(), filename)
    except InvalidDefinition as error:
        where, what = error.problems[0] if error.problems else ("", error.message.render())
        raise InvalidSubmission({"xml": Message(N_("%(where)s: %(what)s"),
                                                {"where": where, "what": what})}, {}) from None


def problems(session: Session, key: str, xml: str) -> list[lint.Finding]:
    """Return the draft's errors (which keep it from being published) and warnings."""
    return lint.findings(session, xml.encode(), f"{key}.bpmn")


def publish(session: Session, key: str, revision: int,
            user: User) -> tuple[catalog.DefinitionVersion, bool]:
    """Publish the draft the editor read; delete the draft. InvalidDefinition keeps it."""
    saved = catalog.draft(session, KIND, key)
    if saved is None:
        raise NotFound(N_("There is no draft of the flow %(key)s."), key=key)
    if saved.revision != revision:
        raise catalog.StaleDraft(saved)
    version, changed = deploy_flow(session, saved.source.encode(), f"{key}.bpmn", user.id)
    catalog.discard_draft(session, KIND, key)
    return version, changed
