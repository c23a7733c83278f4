"""The round pages' forms in headless Chromium behind a real ``dtscope serve``: a leader opens a round from
``/rounds``; an owner saves a self-assessment (a note, evidence links, a disputed value with its reason) on
``/rounds/<id>`` that then reads back through the API; an evaluator is offered neither form and reads the
owner's note as text.

The served world, its accounts (a leader, an evaluator and an owner of Pudong's 区科经委) and the leader's API
token are ``test_rounds_browser``'s ``round_service``; the read-backs use that token, never the page's own state.
"""

from __future__ import annotations

import importlib.util
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.browser

_spec = importlib.util.spec_from_file_location("_rounds_browser", Path(__file__).with_name("test_rounds_browser.py"))
assert _spec is not None and _spec.loader is not None
rb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rb)
sb = rb.sb
round_service = rb.round_service  # the fixture, for this module too (it also opens a round of its own)
DEPARTMENT = rb.ACCOUNTS["pd_owner"][2]
NOTE = "<img src=x onerror=alert(1)> 覆盖率按街镇台账核对"  # stored text: must show as these characters
LINKS = ["https://example.org/evidence/ledger-2024.pdf", "https://example.org/evidence/photos"]
REASON = "街镇台账比平台统计多 3 个点位"


def api(svc: dict[str, Any], path: str) -> Any:
    request = urllib.request.Request(svc["base"] + path, headers={"Authorization": f"Bearer {svc['token']}"})
    with urllib.request.urlopen(request, timeout=60) as r:
        return json.loads(r.read())


def shown(driver: Any, dom_id: str) -> bool:
    found = driver.find_elements(By.ID, dom_id)
    return bool(found) and found[0].is_displayed()


def type_into(driver: Any, dom_id: str, text: str) -> None:
    field = driver.find_element(By.ID, dom_id)
    field.clear()
    field.send_keys(text)


def test_a_leader_opens_a_round_an_owner_self_assesses_an_evaluator_sees_neither_form(
    round_service: dict[str, Any], browser: Any
) -> None:
    svc = round_service
    before = {r["id"] for r in api(svc, "/api/v1/rounds")}

    # the leader opens a round from /rounds: the form offers the registry's schemes and only Pudong
    sb.login(browser, svc["base"], "pd_lead", "/rounds")
    sb.wait_for(browser, "#rounds-open-section")
    section = browser.find_element(By.ID, "rounds-open-section").text
    assert "浦东新区" in section and "虹口" not in section  # the page's default language; only its own district
    assert browser.find_element(By.ID, "rounds-open-period").get_attribute("value") == "2024"
    browser.find_element(By.ID, "rounds-open-button").click()
    opened = sb.wait_for(browser, "#rounds-opened", timeout=60)
    href = browser.find_element(By.ID, "rounds-opened-link").get_attribute("href")
    rid = int(href.rstrip("/").rsplit("/", 1)[-1])
    assert rid not in before and str(rid) in opened.text
    doc = api(svc, f"/api/v1/rounds/{rid}")
    assert (doc["state"], doc["regions"], doc["period"], doc["scheme"], doc["created_by"]) == (
        "open", ["pudong"], "2024", "default", "pd_lead")
    WebDriverWait(browser, 20).until(lambda d: str(rid) in sb.texts(d, "#rounds-table .round-link"))  # list reloaded
    sb.no_alert(browser)

    # the owner saves a self-assessment of its department's first scenario and indicator
    sb.login(browser, svc["base"], "pd_owner", f"/rounds/{rid}")
    sb.wait_for(browser, "#owner-sheet-table")
    WebDriverWait(browser, 20).until(lambda d: shown(d, "owner-form"))
    type_into(browser, "owner-note", NOTE)
    type_into(browser, "owner-evidence", "\n".join(LINKS))
    browser.find_element(By.CSS_SELECTOR, "#owner-disputed input").click()
    browser.find_element(By.ID, "owner-save").click()
    refused = sb.wait_for(browser, "#round-refused")  # a dispute without a reason: the API refuses it (422)
    assert "422" in refused.text and "reason" in refused.text
    type_into(browser, "owner-reason", REASON)
    browser.find_element(By.ID, "owner-save").click()
    sb.wait_for(browser, "#round-done")
    WebDriverWait(browser, 20).until(lambda d: NOTE in d.find_element(By.ID, "owner-sheet-table").text)
    sb.no_alert(browser)

    saved = [(s["scenario_id"], s["department"], i) for s in api(svc, f"/api/v1/rounds/{rid}/self-assessment")["items"]
             for i in s["indicators"] if i["note"] is not None]  # fmt: skip
    assert len(saved) == 1, saved
    _, department, entry = saved[0]
    assert department == DEPARTMENT
    assert (entry["note"], entry["evidence"], entry["disputed"], entry["dispute_reason"], entry["author"]) == (
        NOTE, LINKS, True, REASON, "pd_owner")
    sb.login(browser, svc["base"], "pd_owner", "/rounds")  # an owner lists the round but may not open one
    sb.wait_for(browser, "#rounds-table .round-link")
    assert not browser.find_elements(By.ID, "rounds-open-section")

    # the evaluator: neither form, and the owner's note and dispute as text
    sb.login(browser, svc["base"], "pd_eval", "/rounds")
    sb.wait_for(browser, "#rounds-table .round-link")
    assert not browser.find_elements(By.ID, "rounds-open-section")
    assert not browser.find_elements(By.ID, "rounds-open-button")
    sb.login(browser, svc["base"], "pd_eval", f"/rounds/{rid}")
    notes = sb.wait_for(browser, "#round-owner-notes-table")
    WebDriverWait(browser, 20).until(lambda d: REASON in d.find_element(By.ID, "round-owner-notes-table").text)
    assert NOTE in notes.text and LINKS[0] in notes.text
    assert not browser.find_elements(By.CSS_SELECTOR, "#round-owner-notes-table img")
    assert not browser.find_elements(By.ID, "owner-section") and not browser.find_elements(By.ID, "owner-save")
    sb.no_alert(browser)

    # the leader is not offered the owners' form either
    sb.login(browser, svc["base"], "pd_lead", f"/rounds/{rid}")
    sb.wait_for(browser, "#round-state")
    assert not browser.find_elements(By.ID, "owner-save")
