"""Pathway pages in a real browser, at 390 and 1280 px, in English and French: no horizontal
overflow, no serious accessibility violation; screenshots in ``test-artifacts/screenshots/``."""
from __future__ import annotations

from selenium.webdriver.common.by import By
from sqlalchemy import select

from plugin.cli.admin import create_admin
from plugin.delivery.access import make_access_token
from plugin.issuance import service as issuance
from plugin.storage.models import IssuedCredential, Learner
from tests.browser.conftest import click_and_wait, each_view
from tests.pathway_helpers import award_part, make_pathway_world

def test_learner_progress_on_the_credential_page(browser, live_server, app, services, axe_check):
    world = make_pathway_world(services)
    public_id = award_part(services, world, 0)[0]
    award_part(services, world, 1)
    with services.session() as s:
        learner = s.get(Learner, world.learner_id).public_id
    token = make_access_token(app.config["SECRET_KEY"], learner)
    each_view(browser, axe_check, f"{live_server}/learner/credentials/{public_id}?access={token}", "pathways-learner")
    assert "2 sur 3 obtenus, 10 sur 15 ECTS" in browser.find_element(By.ID, "pathways").text


def test_admin_pathway_pages(browser, live_server, services, axe_check):
    world = make_pathway_world(services)
    ids = [award_part(services, world, i)[0] for i in range(3)]
    with services.session() as s:
        part = s.scalars(select(IssuedCredential).where(IssuedCredential.public_id == ids[1])).one()
        issuance.revoke(s, part, "exam taken by someone else", "admin:root")
    create_admin(services, "root", "a very long password")
    browser.get(live_server + "/admin/login")
    browser.find_element(By.NAME, "username").send_keys("root")
    browser.find_element(By.NAME, "password").send_keys("a very long password")
    click_and_wait(browser, browser.find_element(By.XPATH, "//button[normalize-space()='Sign in']"))
    each_view(browser, axe_check, f"{live_server}/admin/pathways", "pathways-admin-list")
    assert browser.find_element(By.ID, "reviews").is_displayed()
    each_view(browser, axe_check, f"{live_server}/admin/pathways/{world.pathway_public_id}/edit", "pathways-admin-form")
    each_view(browser, axe_check, f"{live_server}/pathways/{world.pathway_public_id}", "pathways-public")
