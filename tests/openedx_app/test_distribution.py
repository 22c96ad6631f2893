"""The microcred-openedx distribution installed alone (with what edx-platform has): nothing of
the tool's stack comes with it, and its own tests pass there."""
import json
import subprocess

from tests.openedx_app.conftest import LMS_TESTS


def test_the_lms_environment_has_no_flask_sqlalchemy_or_generic_top_level_packages(lms_python):
    code = ("import importlib.util, importlib.metadata, json; "
            "names = ('flask', 'sqlalchemy', 'gunicorn', 'alembic', 'plugin', 'lti', 'microcred_openedx'); "
            "print(json.dumps({'found': [n for n in names if importlib.util.find_spec(n)], "
            "'dists': sorted(d.metadata['Name'].lower() for d in importlib.metadata.distributions())}))")
    out = json.loads(subprocess.run([str(lms_python), "-c", code], capture_output=True, text=True, check=True,
                                    cwd=lms_python.parent).stdout)
    assert out["found"] == ["microcred_openedx"]
    assert "microcred-openedx" in out["dists"] and "microcred" not in out["dists"]
    assert not {"flask", "sqlalchemy", "gunicorn", "pydantic", "alembic"} & set(out["dists"])


def test_the_packages_own_tests_pass_in_that_environment(lms_python, tmp_path):
    pytest_bin = lms_python.parent / "pytest"
    done = subprocess.run([str(pytest_bin), "-q", str(LMS_TESTS)], capture_output=True, text=True, cwd=tmp_path,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout
