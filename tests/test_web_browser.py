"""End to end in headless Chromium: paste a problem, solve offline, edit the YAML, re-solve, download, screenshot."""

from __future__ import annotations

import os
import shutil

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed: pip install 'formulate-opt[web]'")
pytest.importorskip("selenium", reason="selenium is not installed (it is in the test extra)")

CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if os.path.exists(p)), None)
DRIVER = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None)
if CHROMIUM is None or DRIVER is None:
    pytest.skip("headless Chromium is absent (apt-get install chromium chromium-driver)", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from tests.test_web_api import BAKERY, INFEASIBLE, WITH_READINGS  # noqa: E402
from tests.web_server import running_server  # noqa: E402

SCREENSHOT = os.environ.get("FORMULATE_SCREENSHOT")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-dev-shm-usage", "--window-size=1280,800", "--force-device-scale-factor=1"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def page(browser):
    with running_server() as base:
        browser.get(base + "/")
        yield browser


def wait(driver, condition, seconds: float = 90):
    return WebDriverWait(driver, seconds).until(condition)


def objective_shown(driver) -> str:
    return driver.find_element(By.ID, "objective").text


def click(driver, css: str) -> None:
    """Click a button once it is enabled: the page disables every button while a request runs, and a
    formulate run's result is shown before its stream has closed (a click then would do nothing)."""
    button = wait(driver, lambda d: next((b for b in d.find_elements(By.CSS_SELECTOR, css) if b.is_enabled()), False))
    button.click()


def test_paste_solve_edit_resolve_download(page, tmp_path):
    wait(page, lambda d: d.find_elements(By.CSS_SELECTOR, "#downloads button"))
    assert page.find_element(By.ID, "model").get_attribute("value") == "rules"
    page.find_element(By.ID, "problem").send_keys(BAKERY)
    click(page, "#formulate")
    wait(page, lambda d: objective_shown(d) == "objective 150")
    assert page.find_element(By.ID, "status").text == "optimal"
    assert page.find_element(By.CSS_SELECTOR, "#progress li").text == "round 1: optimal, objective 150"
    rows = {r.find_elements(By.TAG_NAME, "td")[0].text: r.find_elements(By.TAG_NAME, "td")[1].text
            for r in page.find_elements(By.CSS_SELECTOR, "#values tbody tr")}
    assert rows == {"muffins": "10", "cakes": "15"}
    assert page.find_elements(By.CSS_SELECTOR, "#math li[data-name='cakes_max'] math")

    editor = page.find_element(By.ID, "yaml")
    edited = editor.get_attribute("value").replace("cakes <= 15", "cakes <= 10")
    assert edited != editor.get_attribute("value")
    page.execute_script("arguments[0].value = arguments[1];", editor, edited)
    click(page, "#resolve")
    wait(page, lambda d: objective_shown(d) == "objective 140")
    if SCREENSHOT:
        page.save_screenshot(SCREENSHOT)
    page.save_screenshot(str(tmp_path / "page.png"))
    assert (tmp_path / "page.png").stat().st_size > 10_000

    click(page, "#downloads button[data-target='pulp']")
    target = page.downloads / "rules_model_pulp.py"
    wait(page, lambda d: target.exists())
    script = target.read_text()
    assert "import pulp" in script and "cakes" in script and "10" in script
    assert page.find_element(By.ID, "error").is_displayed() is False


def test_infeasible_model_highlights_the_iis(page):
    editor = page.find_element(By.ID, "yaml")
    page.execute_script("arguments[0].value = arguments[1];", editor, INFEASIBLE)
    click(page, "#resolve")
    wait(page, lambda d: d.find_element(By.ID, "status").text == "infeasible")
    marked = {li.get_attribute("data-name") for li in page.find_elements(By.CSS_SELECTOR, "#math li.iis")}
    assert marked == {"budget", "minimum_x", "y"}  # y >= 0 is part of the conflict too
    findings = page.find_element(By.ID, "findings").text
    assert "`budget`" in findings and "`minimum_x`" in findings


def test_other_readings_side_by_side(page):
    editor = page.find_element(By.ID, "yaml")
    page.execute_script("arguments[0].value = arguments[1];", editor, WITH_READINGS)
    click(page, "#resolve")
    wait(page, lambda d: objective_shown(d) == "objective 1400")
    cards = [c.text.split("\n") for c in page.find_elements(By.CSS_SELECTOR, "#reading-cards .card")]
    assert cards[0][:2] == ["as formulated", "1400"]
    assert cards[1][:3] == ["demand is capped at 30 a product", "1300", "differs from the main answer"]
    assert cards[2][0] == "wood may be bought"


def test_errors_are_shown_as_one_message(page):
    editor = page.find_element(By.ID, "yaml")
    page.execute_script("arguments[0].value = arguments[1];", editor, "name: broken\nvariables: [")
    click(page, "#resolve")
    box = wait(page, ec.visibility_of_element_located((By.ID, "error")))
    assert "YAML error at line 2" in box.text
    page.execute_script("document.getElementById('problem').value = '';")
    click(page, "#formulate")
    wait(page, lambda d: "write the problem" in d.find_element(By.ID, "error").text)



def test_the_page_sends_the_token_from_its_address(browser):
    with running_server("--token", "pa55") as base:
        browser.get(base + "/#token=pa55")
        wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#downloads button"))
        assert browser.find_element(By.ID, "error").is_displayed() is False
        browser.execute_script("sessionStorage.clear();")
        browser.get(base + "/?fresh")
        box = wait(browser, ec.visibility_of_element_located((By.ID, "error")))
        assert "Authorization: Bearer TOKEN" in box.text and box.text.endswith("open this page as /#token=TOKEN")
