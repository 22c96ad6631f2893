"""The README's two commands are the project's contract with newcomers and CI."""
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    return re.findall(r"```sh\n(.+?)\n```", text)[:2]


def test_readme_opens_with_demo_and_test_commands():
    demo, tests = readme_commands()
    assert "microcred demo" in demo
    assert "pytest" in tests
    assert "\n" not in demo and "\n" not in tests


def test_ci_runs_the_readme_test_command_verbatim():
    _, tests = readme_commands()
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert tests in ci


def _fake_ci_checkout(tmp_path, pytest_status: int):
    """The real .ci/run in a checkout whose python3/pytest are stand-ins exiting with ``pytest_status``."""
    import shutil
    repo = tmp_path / "clone"
    (repo / ".ci").mkdir(parents=True)
    (repo / "tests" / "js").mkdir(parents=True)
    shutil.copy(REPO / ".ci" / "run", repo / ".ci" / "run")
    shutil.copy(REPO / ".ci" / "audit-dependencies", repo / ".ci" / "audit-dependencies")  # runs the stub python3
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    scripts = {
        "python3": "#!/bin/sh\n# python3 -m venv .venv\nmkdir -p .venv/bin\n"
                   "printf '#!/bin/sh\\nexit 0\\n' > .venv/bin/pip\n"
                   f"printf '#!/bin/sh\\necho \"$MICROCRED_REQUIRE_POSTGRES $MICROCRED_CONTEXTS_DIR\" > ran\\n"
                   f"exit {pytest_status}\\n' > .venv/bin/python\n"
                   "chmod +x .venv/bin/pip .venv/bin/python\n",
        "pg_isready": "#!/bin/sh\nexit 0\n",
        "chromium": "#!/bin/sh\nexit 0\n",
        "chromedriver": "#!/bin/sh\nexit 0\n",
        "node": "#!/bin/sh\nexit 0\n",
        "php": "#!/bin/sh\nexit 0\n",
        "npm": "#!/bin/sh\nexit 0\n",
    }
    for name, body in scripts.items():
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}
    return repo, env


def test_ci_run_fails_when_tests_fail_or_none_ran(tmp_path):
    import subprocess
    for status, ok in ((0, True), (1, False), (5, False)):
        repo, env = _fake_ci_checkout(tmp_path / str(status), status)
        result = subprocess.run(["bash", str(repo / ".ci" / "run")], env=env, capture_output=True, text=True,
                                timeout=60)
        assert (result.returncode == 0) is ok, (status, result.stderr)
        assert (repo / "ran").read_text().split()[0] == "1"  # PostgreSQL required
        if status == 5:
            assert "no tests" in result.stderr


def test_nothing_in_the_project_reads_the_shared_folder_beside_the_checkout():
    """A fresh clone has nothing beside it: the product, its tests and CI use only the repository."""
    import subprocess
    # The patterns are spelt in two pieces so that this file holds neither and needs no exemption.
    folder, variable = ".." + "/shared", "MICROCRED_" + "SHARED_DIR"
    out = subprocess.run(["git", "grep", "-n", "-I", "-F", "-e", folder, "-e", variable, "--", ".", ":!docs", ":!*.md"],
                         cwd=REPO, capture_output=True, text=True)
    assert out.returncode in (0, 1), out.stderr
    assert out.stdout == "", out.stdout
