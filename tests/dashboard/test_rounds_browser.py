"""The round pages in headless Chromium behind a real ``dtscope serve``: the AHP form shows the consistency
ratio of Saaty's textbook matrix as :func:`evaluation.scoring.ahp_weights` computes it, an inconsistent
matrix cannot be submitted, and each role is offered only its own buttons.

The server, accounts (``dtscope users add … --password-stdin``) and login come from
``test_service_browser``'s machinery; the round is opened through the API with a leader's token.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from evaluation.scoring import ahp_weights
from tests.serving import add_accounts, served

pytestmark = pytest.mark.browser

_spec = importlib.util.spec_from_file_location("_service_browser", Path(__file__).with_name("test_service_browser.py"))
assert _spec is not None and _spec.loader is not None
sb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sb)

# Saaty's textbook 3 × 3 example (λmax ≈ 3.039, CR ≈ 0.033) and a cyclic matrix (A ≻ B ≻ C ≻ A).
SAATY_3 = {(0, 1): "3", (0, 2): "5", (1, 2): "3"}
CYCLIC_3 = {(0, 1): "9", (0, 2): "1/9", (1, 2): "9"}
ACCOUNTS = {
    "pd_lead": ("leader", "pudong", None),
    "pd_eval": ("evaluator", "pudong", None),
    "pd_owner": ("owner", "pudong", "区科经委"),
}


def full(upper: dict[tuple[int, int], str], n: int = 3) -> list[list[float]]:
    a = [[1.0] * n for _ in range(n)]
    for (i, j), v in upper.items():
        a[i][j], a[j][i] = float(Fraction(v)), 1 / float(Fraction(v))
    return a


@pytest.fixture(scope="module")
def round_service(published_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``dtscope serve`` on a copy of the published world; a Pudong round weighted by AHP opened by a leader."""
    home = tmp_path_factory.mktemp("rounds-served") / "home"
    shutil.copytree(published_home, home, symlinks=True)
    cli = sb._service_cli()
    add_accounts(cli, home, ACCOUNTS, sb.PASSWORD, env=sb._env())
    made = subprocess.run([*cli, "tokens", "create", "pd_lead", "--home", str(home)], capture_output=True, text=True,
                          env=sb._env(), check=True)  # fmt: skip
    token = made.stdout.strip().splitlines()[-1]
    with served(cli, home, env=sb._env()) as base:
        yield _open_round(base, token, home)


def _open_round(base: str, token: str, home: Path) -> dict[str, Any]:
    request = urllib.request.Request(
        base + "/api/v1/rounds", method="POST",
        data=json.dumps({"scheme": "default_ahp", "period": "2024", "regions": ["pudong"]}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=60) as r:
        opened = json.loads(r.read())
    return {"base": base, "round": opened, "token": token, "home": home}


def fill(driver: Any, upper: dict[tuple[int, int], str]) -> None:
    for (i, j), value in upper.items():
        dom_id = json.dumps({"i": i, "j": j, "type": "ahp-cell"}, separators=(",", ":"))  # Dash's id of a dict id
        cell = driver.find_element(By.XPATH, f"//input[@id='{dom_id}']")
        cell.send_keys(Keys.CONTROL, "a")  # clear() bypasses React's onChange: select the text and type over it
        cell.send_keys(value)


def shown_cr(driver: Any, expected: float, timeout: float = 20) -> float:
    """The CR the page shows (its exact value is the ``data-cr`` attribute) once it settles on ``expected``;
    while keys are typed the page shows the CRs of the half-typed matrices, so wait, then return the last shown."""
    seen: list[float] = []

    def settled(d: Any) -> bool:
        found = d.find_elements(By.ID, "ahp-cr")
        value = found[0].get_attribute("data-cr") if found else None
        if value is not None:
            seen.append(float(value))
        return bool(seen) and abs(seen[-1] - expected) < 1e-12

    with contextlib.suppress(TimeoutException):  # the re-rendered review replaces the element under our feet
        WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(settled)
    assert seen, "the page never showed a consistency ratio"
    return seen[-1]


def open_ahp(driver: Any, svc: dict[str, Any], name: str = "pd_eval") -> None:
    sb.login(driver, svc["base"], name, f"/rounds/{svc['round']['id']}")
    sb.wait_for(driver, "#ahp-matrix-table")
    assert svc["round"]["ahp_nodes"]["demand"] == ["usage_cases", "coverage_share", "active_users"]
    browser_pick(driver, "demand")


def browser_pick(driver: Any, node: str) -> None:
    """Choose the AHP node ``node`` and wait for its matrix (three criteria: a header row and three rows)."""
    driver.find_element(By.CSS_SELECTOR, f"#ahp-node input[value='{node}']").click()
    WebDriverWait(driver, 20).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#ahp-matrix-table tr")) == 4)


def test_the_ahp_form_shows_the_cr_of_saatys_matrix_and_blocks_an_inconsistent_one(
    round_service: dict[str, Any], browser: Any
) -> None:
    open_ahp(browser, round_service)
    fill(browser, SAATY_3)
    _, expected = ahp_weights(full(SAATY_3))
    assert expected == pytest.approx(0.033, abs=0.002)  # the textbook's value
    cr = shown_cr(browser, expected)
    assert cr == pytest.approx(expected, abs=1e-12)
    assert f"{expected:.4f}" in browser.find_element(By.ID, "ahp-cr").text
    assert browser.find_element(By.ID, "ahp-save").is_enabled()
    # the lower triangle shows the reciprocals
    recips = {e.get_attribute("id"): e.text for e in browser.find_elements(By.CSS_SELECTOR, ".ahp-recip span")}
    assert sorted(recips.values()) == ["1/3", "1/3", "1/5"]

    fill(browser, CYCLIC_3)
    _, bad = ahp_weights(full(CYCLIC_3))
    assert shown_cr(browser, bad) == pytest.approx(bad, abs=1e-12)
    assert bad > 0.1
    assert not browser.find_element(By.ID, "ahp-save").is_enabled()
    assert browser.find_elements(By.ID, "ahp-worst")
    browser.execute_script("document.getElementById('ahp-save').click()")  # a click on the disabled button
    time.sleep(1.5)
    assert not browser.find_elements(By.ID, "round-done")

    # back to the consistent matrix: it is submitted through the API and the answer is shown
    fill(browser, SAATY_3)
    assert shown_cr(browser, expected) == pytest.approx(expected, abs=1e-12)
    browser.find_element(By.ID, "ahp-save").click()
    done = sb.wait_for(browser, "#round-done")
    assert f"{expected:.4f}" in done.text
    # the round's own submission is still refused by the API (other nodes are not filled): shown, not hidden
    browser.find_element(By.ID, "round-submit").click()
    refused = sb.wait_for(browser, "#round-refused")
    assert "422" in refused.text
    sb.no_alert(browser)


def test_each_role_is_offered_only_its_own_buttons(round_service: dict[str, Any], browser: Any) -> None:
    rid = round_service["round"]["id"]
    sb.login(browser, round_service["base"], "pd_lead", f"/rounds/{rid}")
    sb.wait_for(browser, "#round-state")
    assert browser.find_elements(By.ID, "round-approve") and not browser.find_elements(By.ID, "ahp-save")
    assert not browser.find_element(By.ID, "round-approve").is_enabled()  # the round is open, not submitted
    assert browser.find_element(By.ID, "round-return").is_enabled()
    sb.login(browser, round_service["base"], "pd_owner", f"/rounds/{rid}")
    sb.wait_for(browser, "#round-state")
    assert not browser.find_elements(By.ID, "round-approve") and not browser.find_elements(By.ID, "round-submit")
    assert not browser.find_elements(By.ID, "ahp-save")
    sb.login(browser, round_service["base"], "pd_eval", "/rounds")
    link = sb.wait_for(browser, "#rounds-table .round-link")
    assert link.text == str(rid)
