"""The andon command as a new user runs it, and loading bad definition files."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from andon import catalog
from andon.cli import main
from andon.loader import load_folder

ROOT = Path(__file__).resolve().parent.parent


def test_standard_library_platform_is_still_importable_from_the_repository_root():
    result = subprocess.run([sys.executable, "-c", "import platform; print(platform.system())"],
                            cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "Linux"
    assert not (ROOT / "platform" / "__init__.py").exists()


def test_demo_sets_up_everything_and_prints_passwords_once(tmp_path, monkeypatch):
    monkeypatch.setenv("ANDON_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("ANDON_DATABASE_URL", raising=False)
    runner = CliRunner()
    first = runner.invoke(main, ["demo", "--definitions", str(ROOT / "definitions")])
    assert first.exit_code == 0, first.output
    passwords = dict(re.findall(r"^  (\w+)\s+(\S+)$", first.output, re.M))
    assert set(passwords) == {"admin", "pm", "engineer1", "engineer2", "director", "leader"}
    assert (tmp_path / "andon.db").exists() and (tmp_path / "secret_key").exists()

    second = runner.invoke(main, ["demo", "--definitions", str(ROOT / "definitions")])
    assert second.exit_code == 0
    assert "unchanged" in second.output and not set(passwords.values()) & set(
        second.output.split())


def test_create_user_hashes_and_refuses_duplicates(tmp_path, monkeypatch):
    monkeypatch.setenv("ANDON_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("ANDON_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    made = runner.invoke(main, ["create-user", "mei", "--role", "leader", "--password",
                                "s3cret-pass"])
    assert made.exit_code == 0, made.output
    again = runner.invoke(main, ["create-user", "mei", "--password", "s3cret-pass"])
    assert again.exit_code == 1 and "already exists" in again.output
    short = runner.invoke(main, ["create-user", "kai", "--password", "short"])
    assert short.exit_code == 1 and "at least 8 characters" in short.output


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Return a copy of the shipped definitions to spoil."""
    target = tmp_path / "definitions"
    shutil.copytree(ROOT / "definitions", target)
    return target


def count_versions(session) -> int:
    """Return how many definition versions are stored."""
    return session.scalar(select(func.count(catalog.DefinitionVersion.id)))


def test_load_reports_each_bad_file_and_loads_the_good_ones(session, staff, folder):
    flow = folder / "flows" / "change_request.bpmn"
    text = flow.read_text()
    start = text.index('<bpmn:userTask id="pm_review"')
    end = text.index("</bpmn:userTask>", start) + len("</bpmn:userTask>")
    element = text[start:end].replace("bpmn:userTask", "bpmn:serviceTask")
    flow.write_text(text[:start] + element + text[end:])
    (folder / "forms" / "broken.json").write_text('{"key": "broken",\n  "title": }')
    (folder / "reports" / "bad.json").write_text('{"key": "bad", "title": {"en": "b", '
                                                 '"zh-CN": "b"}, "dataset": "tasks", '
                                                 '"measures": [], "visualisation": {"type": '
                                                 '"table"}}')
    results = {item.path.name: item for item in load_folder(session, folder)}
    session.commit()
    assert "broken.json: line 2 column 12" in str(results["broken.json"].error)
    assert "change_request.bpmn: pm_review" in str(results["change_request.bpmn"].error)
    assert "bad.json: $.measures" in str(results["bad.json"].error)
    assert results["change_request.json"].created and results["change_request.json"].error is None
    kinds = {v.definition.kind for v in catalog.all_versions(session)}
    assert kinds == {"calendar", "flow", "form", "report", "taxonomy"}
    flows = {v.definition.key for v in catalog.all_versions(session) if v.definition.kind == "flow"}
    assert "project_delivery" in flows
    assert "change_request" not in flows  # the broken change request loaded nothing


def test_a_form_may_refer_to_a_form_whose_file_comes_later(session, staff, folder):
    project = folder / "forms" / "project.json"
    project.rename(folder / "forms" / "zz_project.json")  # after every form naming it
    (folder / "forms" / "aa_ghost.json").write_text(
        (folder / "forms" / "stage_report.json").read_text()
        .replace('"stage_report"', '"ghost"').replace('"form": "project"', '"form": "nothing"'))
    results = {item.path.name: item for item in load_folder(session, folder)}
    assert results["customer_signoff.json"].error is None
    assert results["delivery_start.json"].created and results["zz_project.json"].created
    assert "There is no form named 'nothing'" in str(results["aa_ghost.json"].error)
    assert [r.path.name for r in results.values() if r.kind == "form"] == sorted(
        p.name for p in (folder / "forms").glob("*.json"))  # reported in file order


def test_load_makes_a_new_version_only_when_a_file_changes(session, staff, folder):
    load_folder(session, folder)
    before = count_versions(session)
    assert not any(item.created for item in load_folder(session, folder))
    form = folder / "forms" / "change_review.json"
    form.write_text(form.read_text().replace("Comment", "Remarks"))
    changed = [item for item in load_folder(session, folder) if item.created]
    # the flow pins its forms' versions, so a changed form makes a new flow version too
    assert [(item.kind, item.key, item.version) for item in changed] == [
        ("form", "change_review", 2), ("flow", "change_request", 2)]
    assert count_versions(session) == before + 2
    assert catalog.current(session, "form", "change_review").number == 2
    assert not any(item.created for item in load_folder(session, folder))


def test_load_refuses_entities_and_names_the_file(session, staff, folder):
    flow = folder / "flows" / "change_request.bpmn"
    text = flow.read_text()
    flow.write_text(text.replace('<?xml version="1.0" encoding="UTF-8"?>',
                                 '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaa">]>', 1))
    (result,) = [r for r in load_folder(session, folder)
                 if r.path.name == "change_request.bpmn"]
    assert "change_request.bpmn" in str(result.error) and "DOCTYPE" in str(result.error)


def test_load_command_exits_non_zero_and_names_the_problem(tmp_path, monkeypatch, folder):
    monkeypatch.setenv("ANDON_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("ANDON_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(main, ["demo", "--definitions", str(folder),
                                "--password", "long-enough"]).exit_code == 0
    (folder / "forms" / "broken.json").write_text("{")
    result = runner.invoke(main, ["load", str(folder)])
    assert result.exit_code == 1
    assert "broken.json" in result.output and "line 1" in result.output
    assert "✓ flow change_request v1" in result.output


def test_load_refuses_owner_rules_naming_unknown_groups(session, staff, folder):
    flow = folder / "flows" / "change_request.bpmn"
    flow.write_text(flow.read_text().replace('value="group:project-managers"',
                                             'value="group:nobody"'))
    (result,) = [r for r in load_folder(session, folder)
                 if r.path.name == "change_request.bpmn"]
    assert "change_request.bpmn: pm_review: no group with the key or name 'nobody'" in str(
        result.error)


def test_demo_prints_the_passwords_even_when_a_definition_fails(tmp_path, monkeypatch, folder):
    monkeypatch.setenv("ANDON_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("ANDON_DATABASE_URL", raising=False)
    (folder / "forms" / "broken.json").write_text("{")
    result = CliRunner().invoke(main, ["demo", "--definitions", str(folder)])
    assert result.exit_code == 1 and "broken.json" in result.output
    assert len(re.findall(r"^  (\w+)\s+(\S+)$", result.output, re.M)) == 6
