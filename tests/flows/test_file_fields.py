"""Files in a flow's forms: a step may hold only its own new uploads, which join the instance."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from andon import files
from andon.errors import InvalidSubmission
from andon.flows import runtime
from andon.flows.deploy import deploy_flow
from andon.forms import file_fields
from andon.forms.schema import FormSpec
from andon.forms.store import deploy_form

DATA = Path(__file__).resolve().parent.parent / "data" / "permissions"
REQUEST = {"title": "Chiller for site B", "cost": "48000", "supplier": "Haier"}


@pytest.fixture
def purchase(session, staff) -> FormSpec:
    """Deploy the purchase flow whose start form has a quote file field."""
    definition = json.loads((DATA / "purchase.json").read_text())
    definition["schema"]["properties"]["quote"] = {"type": "string"}
    definition["layout"]["fields"]["quote"] = {"widget": "file"}
    deploy_form(session, json.dumps(definition), "purchase.json")
    deploy_form(session, (DATA / "install.json").read_text(), "install.json")
    deploy_flow(session, (DATA / "install.bpmn").read_bytes(), "install.bpmn")
    session.commit()
    return FormSpec(**definition)


def test_a_start_form_holds_its_own_upload_and_the_instance_takes_it(session, staff, purchase,
                                                                     tmp_path):
    settings = files.UploadSettings(folder=tmp_path)
    quote = file_fields.receive(session, settings, purchase, "quote", io.BytesIO(b"%PDF"),
                                "quote.pdf", staff["engineer1"])
    with pytest.raises(InvalidSubmission) as invalid:  # not pm's file
        runtime.start_instance(session, "perm_install", staff["pm"],
                               {**REQUEST, "quote": str(quote.id)})
    assert "Choose the file again" in invalid.value.errors["quote"].render()

    instance = runtime.start_instance(session, "perm_install", staff["engineer1"],
                                      {**REQUEST, "quote": str(quote.id)})
    assert instance.data["quote"] == str(quote.id)
    assert quote.instance_id == instance.id and quote.task_id is not None
    assert [a.id for a in session.scalars(files.of_instance(instance.id))] == [quote.id]
    with pytest.raises(InvalidSubmission):  # held by one instance: no other may take it
        runtime.start_instance(session, "perm_install", staff["engineer1"],
                               {**REQUEST, "quote": str(quote.id)})
