#!/usr/bin/env python3
"""The real-Moodle check: an unmodified Moodle, the tool and local_microcred, end to end.

    .venv/bin/python integrations/moodle/check_real_moodle.py --moodle-git PATH [--commit SHA] [--work DIR]

What it does, each step reported as ``PASS``/``FAIL`` with what it saw (and in
``WORK/report.json``):

1. lays out Moodle from a git checkout of its source (``git archive COMMIT``; default the 4.3
   release commit), installs it into a PostgreSQL database of its own (``admin/cli/install.php``)
   and serves it with PHP's built-in server (``PHP_CLI_SERVER_WORKERS``, so Moodle can call the
   tool while the tool calls Moodle);
2. builds ``local_microcred``'s zip, unzips it into ``local/`` and upgrades Moodle (the plugin's
   install generates its key pair), sets its tool URL;
3. prepares the site as an admin and a teacher would (``setup_site.php``: users, a course whose
   completion is "mark the guide as done", web services with a token);
4. starts the tool (``microcred serve``) on a PostgreSQL database of its own;
5. in headless Chromium (Debian's chromium and chromedriver, through selenium): the admin
   registers the tool (Manage tools > Add LTI Advantage, the tool's page in Moodle's iframe,
   Done, Activate); the teacher adds it with Select content (deep linking) and saves the
   activity, which gets a grade column; the credential is described and enabled with an AGS
   rule; the teacher grades the activity in the grader report; the learner opens the activity
   and the credential is issued (AGS results pulled at the learner's launch);
6. the Moodle plugin: a second learner marks the guide done (course completion), and the
   credential of a "Moodle completion" rule is issued from the plugin's webhook, timed;
7. the web-services bridge: ``microcred bridge test``, the course total's pass verdict
   (``gradereport_user_get_grades_table``) and ``microcred sync``.

Needs: Debian's php8.2-cli with pgsql, xml, mbstring, curl, zip, gd, intl, soap; chromium and
chromium-driver; PostgreSQL at 127.0.0.1 (user postgres, trust); the repository's venv.
Only loopback addresses are used. Exit status 0 when every step passed.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RELEASE_43 = "fe7aff8093240cc373f1ddaa66ecb91c4bc0a09f"
ADMIN_PASSWORD = "Admin-pass-1"
USER_PASSWORD = "Pass-word-1"


class CheckFailed(RuntimeError):
    pass


class Report:
    def __init__(self, path: Path):
        self.path = path
        self.steps: list[dict] = []
        self.facts: dict = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}

    def step(self, name: str, ok: bool, detail: str) -> None:
        self.steps.append({"step": name, "ok": ok, "detail": detail})
        print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)
        self.save()

    def save(self) -> None:
        self.path.write_text(json.dumps({**self.facts, "steps": self.steps}, indent=2, ensure_ascii=False))


def run(cmd, *, env=None, cwd=None, timeout=900, check=True, input_text=None) -> str:
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, input=input_text)
    if check and done.returncode != 0:
        raise CheckFailed(f"{' '.join(map(str, cmd))[:200]} exited {done.returncode}: "
                          f"{(done.stderr or done.stdout)[-1500:]}")
    return done.stdout


def wait_http(url: str, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if requests.get(url, timeout=5).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise CheckFailed(f"{url} did not answer within {seconds:.0f} s")


# --------------------------------------------------------------------------- Moodle
class Moodle:
    def __init__(self, work: Path, port: int, pg: str):
        self.work, self.port, self.pg = work, port, pg
        self.dir = work / "moodle"
        self.data = work / "moodledata"
        self.wwwroot = f"http://127.0.0.1:{port}"
        self.db = "mc_check_moodle"
        self.server: subprocess.Popen | None = None

    def php(self, *args, timeout=900) -> str:
        env = {**os.environ, "MOODLE_DIR": str(self.dir)}
        return run(["php", "-d", "max_input_vars=5000", *map(str, args)], env=env, timeout=timeout)

    def layout(self, git_dir: Path, commit: str) -> None:
        if self.dir.exists():
            shutil.rmtree(self.dir)
        if self.data.exists():
            shutil.rmtree(self.data)
        self.dir.mkdir(parents=True)
        self.data.mkdir(parents=True)
        archive = subprocess.Popen(["git", f"--git-dir={git_dir}", "archive", commit], stdout=subprocess.PIPE)
        with tarfile.open(fileobj=archive.stdout, mode="r|") as tar:
            tar.extractall(self.dir, filter="data")
        if archive.wait() != 0:
            raise CheckFailed(f"git archive {commit} failed in {git_dir}")

    def install(self) -> str:
        run(["psql", self.pg, "-q", "-c", f"DROP DATABASE IF EXISTS {self.db}", "-c",
             f"CREATE DATABASE {self.db} ENCODING 'UTF8' TEMPLATE template0"])
        host = urlsplit(self.pg)
        self.php(self.dir / "admin/cli/install.php", "--non-interactive", "--agree-license", "--lang=en",
                 f"--wwwroot={self.wwwroot}", f"--dataroot={self.data}", "--dbtype=pgsql",
                 f"--dbhost={host.hostname}", f"--dbport={host.port or 5432}", f"--dbname={self.db}",
                 f"--dbuser={host.username or 'postgres'}", "--dbpass=", "--prefix=mdl_",
                 "--fullname=microcred check", "--shortname=mccheck", "--adminuser=admin",
                 f"--adminpass={ADMIN_PASSWORD}", "--adminemail=admin@example.org", "--supportemail=admin@example.org",
                 timeout=1800)
        # A copy of the fresh site, for --reuse (PostgreSQL copies a database in seconds).
        run(["psql", self.pg, "-q", "-c", f"DROP DATABASE IF EXISTS {self.db}_fresh", "-c",
             f"CREATE DATABASE {self.db}_fresh TEMPLATE {self.db}"])
        return run(["php", "-r", f"define('CLI_SCRIPT', true); require('{self.dir}/config.php'); echo $CFG->release;"])

    def restore_fresh(self) -> str:
        """The site as the last install left it (before the plugin and the story)."""
        run(["psql", self.pg, "-q", "-c", f"DROP DATABASE IF EXISTS {self.db}", "-c",
             f"CREATE DATABASE {self.db} TEMPLATE {self.db}_fresh"])
        self.php(self.dir / "admin/cli/purge_caches.php")
        return run(["php", "-r", f"define('CLI_SCRIPT', true); require('{self.dir}/config.php'); echo $CFG->release;"])

    def install_plugin(self, zip_path: Path, webhook_url: str) -> None:
        target = self.dir / "local" / "microcred"
        if target.exists():
            shutil.rmtree(target)
        with zipfile.ZipFile(zip_path) as zf:
            zf.extractall(self.dir / "local")
        self.php(self.dir / "admin/cli/upgrade.php", "--non-interactive", timeout=1800)
        self.php(self.dir / "admin/cli/cfg.php", "--component=local_microcred", "--name=webhookurl",
                 f"--set={webhook_url}")

    def serve(self, log: Path) -> None:
        env = {**os.environ, "PHP_CLI_SERVER_WORKERS": "6"}
        self.server = subprocess.Popen(
            ["php", "-d", "max_input_vars=5000", "-d", "upload_max_filesize=20M", "-S", f"127.0.0.1:{self.port}",
             "-t", str(self.dir)], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=self.dir,
            start_new_session=True)  # its workers are forked children: stopped with the group
        wait_http(self.wwwroot + "/login/index.php", 90)

    def setup(self, step: str, arg=None) -> dict:
        args = [HERE / "setup_site.php", step] + ([json.dumps(arg)] if arg is not None else [])
        return json.loads(self.php(*args).strip().splitlines()[-1])

    def stop(self) -> None:
        if self.server is not None:
            try:
                os.killpg(self.server.pid, 15)
            except ProcessLookupError:
                pass
            self.server.wait(20)


# --------------------------------------------------------------------------- the tool
class Tool:
    def __init__(self, work: Path, port: int, pg: str):
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.db = "mc_check_tool"
        self.pg = pg
        url = urlsplit(pg)
        self.database_url = f"postgresql://{url.username or 'postgres'}@{url.hostname}:{url.port or 5432}/{self.db}"
        self.env = {**os.environ, "MICROCRED_ENV": "development", "MICROCRED_INSTANCE_DIR": str(work / "tool"),
                    "DATABASE_URL": self.database_url, "MICROCRED_BASE_URL": self.base_url,
                    "MICROCRED_CONTEXTS_FETCH": "false", "MICROCRED_MAIL_BACKEND": "file",
                    # Moodle is on loopback here: the tool refuses local and private addresses
                    # unless its admin allows them, as a Moodle on a campus network would need too.
                    "MICROCRED_OUTBOUND_ALLOW": "127.0.0.0/8"}
        self.server: subprocess.Popen | None = None
        self.services = None
        self.log = work / "tool.log"

    def start(self) -> None:
        run(["psql", self.pg, "-q", "-c", f"DROP DATABASE IF EXISTS {self.db}", "-c", f"CREATE DATABASE {self.db}"])
        self.cli("db", "upgrade")
        self.server = subprocess.Popen([str(Path(sys.executable).with_name("microcred")), "serve", "--host", "127.0.0.1",
                                        "--port", str(self.port), "--workers", "2"],
                                       env=self.env, stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        wait_http(self.base_url + "/healthz", 60)
        from plugin.services import build_services
        from plugin.settings import Settings
        self.services = build_services(Settings.from_env(environ=self.env))

    def cli(self, *args, check=True) -> str:
        return run([str(Path(sys.executable).with_name("microcred")), *args], env=self.env, check=check,
                   timeout=600)

    def stop(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.wait(20)
        if self.services is not None:
            self.services.engine.dispose()


# --------------------------------------------------------------------------- the browser
class Chromium:
    def __init__(self, shots: Path):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000",
                     "--disable-dev-shm-usage", "--lang=en"):
            options.add_argument(flag)
        self.driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"),
                                       options=options)
        self.driver.set_page_load_timeout(90)
        self.shots = shots
        shots.mkdir(parents=True, exist_ok=True)

    def shot(self, name: str) -> None:
        self.driver.switch_to.default_content()
        self.driver.save_screenshot(str(self.shots / f"{name}.png"))

    def wait(self, condition, seconds=60, what="the page"):
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait
        try:
            return WebDriverWait(self.driver, seconds, poll_frequency=0.3).until(condition)
        except TimeoutException:
            raise CheckFailed(f"timed out waiting for {what} (at {self.driver.current_url})") from None

    def css(self, selector, seconds=60, clickable=False):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        cond = ec.element_to_be_clickable if clickable else ec.presence_of_element_located
        return self.wait(cond((By.CSS_SELECTOR, selector)), seconds, selector)

    def xpath(self, path, seconds=60):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        return self.wait(ec.element_to_be_clickable((By.XPATH, path)), seconds, path)

    def click(self, element) -> None:
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
        try:
            element.click()
        except Exception:  # covered by a sticky footer: click through JavaScript
            self.driver.execute_script("arguments[0].click();", element)

    def login(self, wwwroot: str, username: str, password: str) -> None:
        self.driver.delete_all_cookies()
        self.driver.get(wwwroot + "/login/index.php")
        self.css("#username").send_keys(username)
        self.css("#password").send_keys(password)
        self.click(self.css("#loginbtn", clickable=True))
        self.wait(lambda d: "/login/index.php" not in d.current_url, 60, f"{username}'s login")

    def quit(self) -> None:
        self.driver.quit()


# --------------------------------------------------------------------------- the story
def tool_definition(tool: Tool, public_id: str | None, course_context: str, issuer_url: str, policy: dict) -> int:
    """Describe (the demo's Annex I content) and enable a credential of the course, under ``policy``."""
    from sqlalchemy import select

    from plugin.issuance import service as issuance
    from plugin.issuance.demo_data import DEMO_SLUG, demo_definition, demo_profile
    from plugin.storage.models import Course, CredentialDefinition, IssuerPlatform, Platform
    with tool.services.session() as s:
        platform = s.scalars(select(Platform).where(Platform.issuer == issuer_url)).one()
        issuer = issuance.issuer_by_slug(s, DEMO_SLUG) or issuance.create_issuer(
            s, tool.services, DEMO_SLUG, demo_profile(), actor="admin:check")
        if not s.scalars(select(IssuerPlatform).where(IssuerPlatform.issuer_id == issuer.id,
                                                      IssuerPlatform.platform_id == platform.id)).first():
            s.add(IssuerPlatform(issuer_id=issuer.id, platform_id=platform.id))
        course = s.scalars(select(Course).where(Course.platform_issuer == issuer_url,
                                                Course.context_id == course_context)).one()
        if public_id:
            definition = s.scalars(select(CredentialDefinition)
                                   .where(CredentialDefinition.public_id == public_id)).one()
        else:  # a second credential of the same course
            definition = CredentialDefinition(course_id=course.id, issuer_id=issuer.id, enabled=False,
                                              current_version=0, policy=policy)
            s.add(definition)
            s.flush()
        data = demo_definition()
        version = issuance.save_definition(s, course, data, "instructor:check", issuer, definition=definition,
                                           policy=policy)
        definition = version.definition
        issuance.set_enabled(s, definition, True, actor="instructor:check")
        return definition.id


def issued_for(tool: Tool, definition_id: int, sub: str):
    from sqlalchemy import select

    from plugin.storage.models import IssuedCredential, Learner
    with tool.services.session() as s:
        return s.scalars(select(IssuedCredential).join(Learner, Learner.id == IssuedCredential.learner_id)
                         .where(IssuedCredential.definition_id == definition_id, Learner.sub == sub)).first()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--moodle-git", type=Path, required=True, help="a git directory holding Moodle's history")
    parser.add_argument("--commit", default=RELEASE_43, help="the Moodle commit to lay out (default: 4.3 release)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/microcred-real-moodle"))
    parser.add_argument("--moodle-port", type=int, default=8430)
    parser.add_argument("--tool-port", type=int, default=8431)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the Moodle of an earlier run in --work (skip the layout and the install)")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    report = Report(args.work / "report.json")
    moodle = Moodle(args.work, args.moodle_port, args.postgres)
    tool = Tool(args.work, args.tool_port, args.postgres)
    browser = None
    try:
        t0 = time.time()
        if args.reuse and (moodle.dir / "config.php").exists():
            release = moodle.restore_fresh()
        else:
            moodle.layout(args.moodle_git, args.commit)
            release = moodle.install()
        report.facts.update(moodle_release=release, moodle_commit=args.commit)
        report.step("install Moodle", True, f"{release} from {args.commit[:12]} into PostgreSQL "
                                            f"{moodle.db} in {time.time() - t0:.0f} s")
        sys.path.insert(0, str(HERE))
        from build_plugin_zip import build
        zip_path = build(args.work / "dist")
        webhook_url = tool.base_url + "/api/webhooks/moodle"
        moodle.install_plugin(zip_path, webhook_url)
        jwks = json.loads(run(["php", "-r", f"define('CLI_SCRIPT', true); require('{moodle.dir}/config.php'); "
                                            "echo json_encode(\\local_microcred\\local\\keys::jwks());"]))
        report.step("install local_microcred", len(jwks["keys"]) == 1,
                    f"{zip_path.name} unzipped into local/, upgrade.php ran; install generated key "
                    f"{jwks['keys'][0]['kid'] if jwks['keys'] else '(none)'}")
        site = moodle.setup("site")
        report.facts.update(course_id=site["courseid"])
        moodle.serve(args.work / "moodle-server.log")
        served = requests.get(moodle.wwwroot + "/local/microcred/jwks.php", timeout=20).json()
        report.step("serve Moodle, public key page", served == jwks,
                    f"php -S 127.0.0.1:{moodle.port}; /local/microcred/jwks.php serves the key")
        tool.start()
        report.step("start the tool", True, f"microcred serve at {tool.base_url} on PostgreSQL {tool.db}")
        browser = Chromium(args.work / "screenshots")
        story(args, report, moodle, tool, browser, site, webhook_url)
    except CheckFailed as exc:
        report.step("the check stopped", False, str(exc))
        if browser is not None:
            try:
                browser.shot("failure")
            except Exception:
                pass
    finally:
        if browser is not None:
            browser.quit()
        tool.stop()
        moodle.stop()
        report.save()
    failed = [s for s in report.steps if not s["ok"]]
    print(f"{len(report.steps) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def story(args, report: Report, moodle: Moodle, tool: Tool, browser: Chromium, site: dict, webhook_url: str) -> None:
    from selenium.webdriver.common.by import By
    d = browser.driver
    courseid = site["courseid"]

    # -- registration: Manage tools > Add LTI Advantage > the tool's page in Moodle's iframe > Done > Activate
    browser.login(moodle.wwwroot, "admin", ADMIN_PASSWORD)
    d.get(moodle.wwwroot + "/mod/lti/toolconfigure.php")
    browser.css("#tool-url").send_keys(tool.base_url + "/lti/register")
    browser.click(browser.css("#tool-create-button", clickable=True))
    frame = browser.css("#external-registration-container iframe", 60)
    d.switch_to.frame(frame)
    done = browser.css("#registration-close", 90, clickable=True)
    registered_text = d.find_element(By.CSS_SELECTOR, "h1").text
    browser.click(done)
    d.switch_to.default_content()
    activate = browser.css(".tool-card-footer a.activate", 60, clickable=True)
    browser.shot("01-registered-pending")
    browser.click(activate)
    try:  # 4.3 asks to confirm the capabilities the tool asks for
        browser.click(browser.xpath("//div[contains(@class,'modal') and contains(@class,'show')]"
                                    "//button[contains(@class,'btn-primary')]", 15))
    except CheckFailed:
        pass
    browser.wait(lambda drv: not drv.find_elements(By.CSS_SELECTOR, ".tool-card-footer a.activate"), 30,
                 "the tool to be activated")
    state = moodle.setup("state", {"courseid": courseid})
    (tool_type,) = [t for t in state["types"] if t["baseurl"].startswith(tool.base_url)]
    report.step("Dynamic Registration", str(tool_type["state"]) == "1",
                f"tool type {tool_type['id']} '{tool_type['name']}' registered ({registered_text!r}) and activated")
    moodle.setup("toolvisible", tool_type["id"])

    # -- deep linking as the teacher, with a grade column
    browser.login(moodle.wwwroot, "teacher1", USER_PASSWORD)
    d.get(f"{moodle.wwwroot}/course/modedit.php?add=lti&typeid={tool_type['id']}&course={courseid}&section=1&return=0")
    browser.click(browser.css("#id_selectcontent", 60, clickable=True))
    d.switch_to.frame(browser.css("#contentitem-page-iframe", 60))
    browser.click(browser.xpath("//button[@type='submit']", 60))
    d.switch_to.default_content()
    browser.wait(lambda drv: drv.find_element(By.ID, "id_name").get_attribute("value"), 60,
                 "the activity name filled from the deep-linking reply")
    browser.shot("02-deep-linked-form")
    browser.click(browser.css("#id_submitbutton2", clickable=True))
    browser.wait(lambda drv: "/course/view.php" in drv.current_url, 60, "the course page after saving")
    state = moodle.setup("state", {"courseid": courseid})
    (lti,) = state["ltis"]
    ltiitem = [i for i in state["items"] if i["itemmodule"] == "lti" and str(i["iteminstance"]) == str(lti["id"])]
    cmid = next(c["id"] for c in state["cms"] if c["name"] == "lti" and str(c["instance"]) == str(lti["id"]))
    public_id = lti["instructorcustomparameters"].split("=", 1)[1].strip()
    report.step("deep linking with a grade column", bool(ltiitem) and float(lti["grade"]) == 100,
                f"activity '{lti['name']}' (cm {cmid}) grade={lti['grade']} "
                f"acceptgrades={lti['instructorchoiceacceptgrades']}, grade item {ltiitem[0]['id'] if ltiitem else None}")

    # -- the tool: describe and enable the AGS credential; register the plugin's key and the token
    ags_id = tool_definition(tool, public_id, str(courseid), moodle.wwwroot,
                             {"source": "ags", "rule": "course_grade", "threshold": 50, "issuance": "automatic"})
    moodle_id = tool_definition(tool, None, str(courseid), moodle.wwwroot,
                                {"source": "moodle", "rule": "completion", "issuance": "automatic"})
    out = tool.cli("bridge", "set", "--issuer", moodle.wwwroot, "--moodle-url", moodle.wwwroot,
                   "--moodle-token", site["token"], "--moodle-webhook-jwks-url",
                   moodle.wwwroot + "/local/microcred/jwks.php")
    report.step("tool set up", True, f"AGS credential {ags_id}, Moodle completion credential {moodle_id}; "
                                     f"bridge set: {out.strip()[:160]}")

    # -- the teacher opens the activity (records the column), then grades student1 in the grader report
    d.get(f"{moodle.wwwroot}/mod/lti/launch.php?id={cmid}")
    browser.wait(lambda drv: drv.current_url.startswith(tool.base_url) and "/instructor" in drv.current_url, 60,
                 "the instructor page")
    browser.shot("03-instructor-page")
    from plugin.storage.models import CredentialDefinition
    with tool.services.session() as s:
        lineitem = (s.get(CredentialDefinition, ags_id).policy or {}).get("ags_lineitem")
    report.step("instructor launch records the grade column", bool(lineitem), f"ags_lineitem={lineitem}")
    d.get(f"{moodle.wwwroot}/grade/report/grader/index.php?id={courseid}")
    switch = browser.css("form.editmode-switch-form input[name='setmode']", 60)
    if not switch.is_selected():
        browser.click(switch)  # "Edit mode" on
    field = browser.css(f"input[name='grade[{site['users']['student1']}][{ltiitem[0]['id']}]']", 60)
    field.clear()
    field.send_keys("80")
    browser.click(browser.xpath("//input[@type='submit' and (@value='Save changes' or @name='savechanges')] | "
                                "//button[@type='submit' and contains(., 'Save changes')]", 30))
    time.sleep(2)
    state = moodle.setup("state", {"courseid": courseid})
    graded = [g for g in state["grades"] if str(g["itemid"]) == str(ltiitem[0]["id"])
              and str(g["userid"]) == str(site["users"]["student1"])]
    report.step("teacher grades the activity", bool(graded) and float(graded[0]["finalgrade"]) == 80,
                f"grader report: student1 {graded[0]['finalgrade'] if graded else None}/100 in '{lti['name']}'")

    # -- student1 opens the activity: the AGS result is pulled and the credential issued
    browser.login(moodle.wwwroot, "student1", USER_PASSWORD)
    d.get(f"{moodle.wwwroot}/mod/lti/launch.php?id={cmid}")
    browser.wait(lambda drv: drv.current_url.startswith(tool.base_url), 60, "the learner page")
    time.sleep(2)
    browser.shot("04-learner-page")
    page_lang = d.find_element(By.TAG_NAME, "html").get_attribute("lang")
    credential = issued_for(tool, ags_id, str(site["users"]["student1"]))
    report.step("AGS-ruled credential issued after the teacher's grade", credential is not None,
                f"credential {getattr(credential, 'public_id', None)} for student1; learner page in '{page_lang}' "
                f"(from launch_presentation.locale; student1's Moodle language is fr, shown only if the fr pack is installed)")

    # -- local_microcred: student2 marks the guide done, the course completes, the webhook issues
    browser.login(moodle.wwwroot, "student2", USER_PASSWORD)
    d.get(f"{moodle.wwwroot}/mod/page/view.php?id={site['pagecmid']}")
    button = browser.css("button[data-action='toggle-manual-completion']", 60, clickable=True)
    clicked = time.time()
    browser.click(button)
    credential, waited = None, 0.0
    while waited < 60:
        credential = issued_for(tool, moodle_id, str(site["users"]["student2"]))
        if credential is not None:
            break
        time.sleep(0.25)
        waited = time.time() - clicked
    seconds = time.time() - clicked
    state = moodle.setup("state", {"courseid": courseid})
    completed = [c for c in state["completions"] if str(c["userid"]) == str(site["users"]["student2"])
                 and c["timecompleted"]]
    report.facts["webhook_seconds"] = round(seconds, 2)
    report.step("course completion -> local_microcred webhook -> credential", credential is not None,
                f"course completed: {bool(completed)}; credential {getattr(credential, 'public_id', None)} "
                f"issued {seconds:.1f} s after 'Mark as done'; retries queued: {state['tasks']}")

    # -- the web-services bridge
    test_out = tool.cli("bridge", "test", "--issuer", moodle.wwwroot, "--course", str(courseid), check=False)
    report.step("web services: bridge test", "FAILED" not in test_out, test_out.strip().replace("\n", " | ")[:400])
    gp = moodle.setup("gradepass", {"courseid": courseid, "gradepass": 50})
    from plugin.domain.policy import CoursePolicy
    from plugin.evidence.moodle import MoodleClient, MoodleSource
    from plugin.storage.models import Course, Learner
    source = MoodleSource(MoodleClient(moodle.wwwroot, site["token"], http=tool.services.http()))
    course_row = Course(platform_issuer=moodle.wwwroot, context_id=str(courseid))
    obs = source.observe_learner(course_row, Learner(platform_issuer=moodle.wwwroot,
                                                     sub=str(site["users"]["student1"])),
                                 CoursePolicy(source="moodle", rule="course_passed"))
    report.step("web services: course total's grade to pass", obs.passed is True,
                f"course total {obs.score} % with grade to pass 50/{gp['grademax']:g}: "
                f"{obs.details.get('course_total_verdict')} (gradereport_user_get_grades_table)")
    sync_out = tool.cli("sync", moodle.wwwroot, str(courseid), check=False)
    report.step("web services: microcred sync", "error" not in sync_out.lower(), sync_out.strip()[-300:])


if __name__ == "__main__":
    sys.exit(main())
