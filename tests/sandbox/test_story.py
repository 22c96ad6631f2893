"""`microcred demo --headless` tells the whole story over HTTP: platform -> instructor enables ->
learner passes -> credential issued -> learner claims -> public verification."""
import io
import json

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from plugin.cli import cli
from plugin.sandbox.story import forms


def test_headless_demo_runs_every_step_and_every_file_verifies(settings, tmp_path):
    runner = CliRunner()
    out = tmp_path / "out"
    result = runner.invoke(cli, ["demo", "--headless", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    for text in ("instructor launches", "instructor enables", "learner passes", "issues the credential",
                 "learner claims", "employer opens the public verification page: authentic and valid"):
        assert text in result.output, text
    cred = next(out.glob("*.jwt")).stem
    for ext in ("json", "jwt", "png", "svg"):
        check = runner.invoke(cli, ["verify", str(out / f"{cred}.{ext}")], catch_exceptions=False)
        assert check.exit_code == 0 and "result: valid" in check.output, (ext, check.output)
    doc = json.loads((out / f"{cred}.json").read_text())
    assert doc["credentialSubject"]["name"] == "Grace Hopper"  # the name the learner confirmed at claim
    pdf = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO((out / f"{cred}.pdf").read_bytes()))
                            .pages).split())
    assert "Grace Hopper" in pdf and f"/verify/{cred}" in pdf
    assert json.loads((out / "verification.json").read_text())["status"] == "valid"


def test_form_parser_reads_what_a_browser_would_submit():
    html = ('<form id="f" method="post" action="/x"><input type="hidden" name="a" value="1">'
            '<input type="radio" name="r" value="n" checked><input type="radio" name="r" value="h">'
            '<input type="checkbox" name="c" value="y"><textarea name="t">hi</textarea>'
            '<input type="submit" name="go" value="Go"></form>')
    (form,) = forms(html)
    assert form.action == "/x" and form.method == "post"
    assert form.fields == {"a": "1", "r": "n", "t": "hi"}
