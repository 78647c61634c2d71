"""AI optimization proposals against tests/browser/stub_ai_server.py: the
request carries the code and its profile context, the proposal appears
under the line and is copied on click, a second click asks again, errors
are shown, and the key never reaches the report file or the page's markup."""

from __future__ import annotations

import socket
from typing import Any, Dict, Iterator

import pytest
from report_helpers import By, pct2, row, section
from report_profiles import rich_profile
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait
from stub_ai_server import StubAIServer

MAIN = "/home/user/proj/main.py"
KEY = "sk-test-SECRET-9f8e7d"


@pytest.fixture
def stub() -> Iterator[StubAIServer]:
    with StubAIServer() as s:
        yield s


@pytest.fixture
def report(make_report, open_report):
    doc = rich_profile()
    path = make_report(doc)
    drv = open_report(path)
    return drv, path, doc


def configure(drv: Any, provider: str, endpoint: str, model: str = "", key: str = "") -> None:
    panel = drv.find_element(By.ID, "ai-settings")
    if not panel.is_displayed():
        drv.find_element(By.ID, "ai-toggle").click()
    Select(drv.find_element(By.ID, "ai-provider")).select_by_value(provider)
    for fid, value in (("ai-endpoint", endpoint), ("ai-model", model), ("ai-key", key)):
        el = drv.find_element(By.ID, fid)
        el.clear()
        if value:
            el.send_keys(value)
        el.send_keys(Keys.TAB)


def wait_box(drv: Any, css: str, state: str, timeout: float = 10) -> Any:
    WebDriverWait(drv, timeout).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, f"{css}[data-state='{state}']"))
    return drv.find_element(By.CSS_SELECTOR, f"{css}[data-state='{state}']")


def prompt_of(req: Dict[str, Any]) -> str:
    return req["body"]["messages"][-1]["content"]


def test_openai_line_proposal_round_trip(report, stub, artifacts):
    drv, path, doc = report
    configure(drv, "openai", stub.url, "stub-model", KEY)
    assert drv.find_element(By.ID, "ai-url").text == f"Requests go to: {stub.url}/v1/chat/completions"
    r8 = next(r for r in doc["files"][MAIN]["lines"] if r["lineno"] == 8)
    row(drv, MAIN, 8).find_element(By.CSS_SELECTOR, "button.ai").click()
    box = wait_box(drv, ".prop[data-key='line']", "done")
    # under line 8
    assert drv.execute_script("return arguments[0].closest('tr').previousElementSibling.dataset.lineno", box) == "8"
    assert "total = sum(i * i for i in range(n))  # proposal 1" in box.find_element(By.CSS_SELECTOR, "pre").text
    assert "generator expression" in box.text
    drv.save_screenshot(str(artifacts / "report-ai-proposal.png"))
    reqs = stub.requests
    assert len(reqs) == 1
    req = reqs[0]
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["authorization"] == f"Bearer {KEY}"
    assert req["body"]["model"] == "stub-model"
    assert req["body"]["messages"][0]["role"] == "system"
    prompt = prompt_of(req)
    for want in ("total += i * i  # hot loop", f"File: {MAIN}", "Line 8", "Function: compute",
                 f"Python {pct2(r8['n_cpu_percent_python'])}", f"native {pct2(r8['n_cpu_percent_c'])}",
                 f"system {pct2(r8['n_sys_percent'])}", "copy volume 3.750 MB/s"):
        assert want in prompt, (want, prompt)
    # click: copied (the code of the proposal)
    box.find_element(By.CSS_SELECTOR, "pre").click()
    WebDriverWait(drv, 5).until(lambda d: d.execute_script("return window.__scaleneLastCopied") is not None)
    assert drv.execute_script("return window.__scaleneLastCopied") == \
        "total = sum(i * i for i in range(n))  # proposal 1"
    WebDriverWait(drv, 5).until(lambda d: box.find_element(By.CSS_SELECTOR, ".status").text
                                in ("Copied to the clipboard.",
                                    "Could not copy automatically: select the text and copy it."))
    # again: a second request, a new proposal in the same place
    row(drv, MAIN, 8).find_element(By.CSS_SELECTOR, "button.ai").click()
    WebDriverWait(drv, 10).until(lambda d: "# proposal 2" in d.find_element(
        By.CSS_SELECTOR, ".prop[data-key='line'] pre").text)
    assert len(stub.requests) == 2
    assert len(drv.find_elements(By.CSS_SELECTOR, ".prop")) == 1
    # the proposal survives re-sorting
    section(drv, MAIN).find_element(By.CSS_SELECTOR, ".ptable.lines th.c-time").click()
    assert drv.execute_script(
        "return document.querySelector('.prop').closest('tr').previousElementSibling.dataset.lineno") == "8"

    # the key: in localStorage only
    assert drv.execute_script("return localStorage.getItem('scalene-ai-key:openai')") == KEY
    assert KEY not in drv.execute_script("return document.documentElement.outerHTML")
    assert KEY.encode() not in path.read_bytes()
    assert KEY.encode() not in path.with_suffix(".json").read_bytes()
    # a reload keeps the settings (localStorage), the report file is unchanged
    drv.refresh()
    WebDriverWait(drv, 10).until(lambda d: d.execute_script("return window.__scaleneReady !== undefined"))
    drv.find_element(By.ID, "ai-toggle").click()
    assert drv.find_element(By.ID, "ai-endpoint").get_attribute("value") == stub.url
    assert drv.find_element(By.ID, "ai-key").get_attribute("value") == KEY
    assert KEY not in drv.execute_script("return document.documentElement.outerHTML")
    # each provider keeps its own settings and key
    Select(drv.find_element(By.ID, "ai-provider")).select_by_value("ollama")
    assert drv.find_element(By.ID, "ai-endpoint").get_attribute("value") == ""
    assert drv.find_element(By.ID, "ai-key").get_attribute("value") == ""
    assert drv.find_element(By.ID, "ai-url").text == "Requests go to: http://localhost:11434/api/chat"
    Select(drv.find_element(By.ID, "ai-provider")).select_by_value("openai")
    assert drv.find_element(By.ID, "ai-endpoint").get_attribute("value") == stub.url
    assert drv.find_element(By.ID, "ai-key").get_attribute("value") == KEY
    drv.find_element(By.ID, "ai-forget").click()
    assert drv.execute_script("return localStorage.getItem('scalene-ai-key:openai')") is None


def test_ollama_function_and_region(report, stub):
    drv, path, doc = report
    configure(drv, "ollama", stub.url, "llama-stub")
    assert drv.find_element(By.ID, "ai-url").text == f"Requests go to: {stub.url}/api/chat"
    # the explosion beside a function
    row(drv, MAIN, 3, "funcs").find_element(By.CSS_SELECTOR, "button.ai").click()
    box = wait_box(drv, ".prop[data-key='func']", "done")
    assert drv.execute_script(
        "const p = arguments[0].closest('tr').previousElementSibling;"
        "return [p.closest('.ptable').classList.contains('funcs'), p.dataset.lineno]", box) == [True, "3"]
    req = stub.requests[-1]
    assert req["path"] == "/api/chat"
    assert req["body"]["stream"] is False
    assert req["body"]["model"] == "llama-stub"
    assert "authorization" not in req["headers"]
    prompt = prompt_of(req)
    func_src = "\n".join(l["line"].rstrip("\n") for l in doc["files"][MAIN]["lines"] if 3 <= l["lineno"] <= 9)
    assert func_src in prompt
    assert "def grow" not in prompt
    assert "Function: compute (line 3)" in prompt and f"File: {MAIN}" in prompt
    assert "proposal 1" in box.text

    # a region: click line 7's number, shift-click line 13's
    drv.find_element(By.ID, "active-only").click()
    WebDriverWait(drv, 10).until(lambda d: d.execute_script("return window.__scaleneIdle !== undefined"))
    row(drv, MAIN, 7).find_element(By.CSS_SELECTOR, "td.c-line").click()
    target = row(drv, MAIN, 13).find_element(By.CSS_SELECTOR, "td.c-line")
    ActionChains(drv).key_down(Keys.SHIFT).click(target).key_up(Keys.SHIFT).perform()
    sec = section(drv, MAIN)
    btn = sec.find_element(By.CSS_SELECTOR, ".region-ai")
    assert btn.is_displayed() and btn.text.endswith("Optimize lines 7\u201313")
    assert len(sec.find_elements(By.CSS_SELECTOR, ".ptable.lines tr.sel")) == 7
    btn.click()
    box = wait_box(drv, ".prop[data-key='region:7-13']", "done")
    assert drv.execute_script("return arguments[0].closest('tr').previousElementSibling.dataset.lineno", box) == "13"
    prompt = prompt_of(stub.requests[-1])
    region = "\n".join(l["line"].rstrip("\n") for l in doc["files"][MAIN]["lines"] if 7 <= l["lineno"] <= 13)
    assert region in prompt
    assert "Lines 7\u201313" in prompt and "Busiest lines: line 8" in prompt
    sec.find_element(By.CSS_SELECTOR, ".region-clear").click()
    assert sec.find_elements(By.CSS_SELECTOR, ".ptable.lines tr.sel") == []
    # dismissing a proposal
    box.find_element(By.CSS_SELECTOR, ".close").click()
    assert drv.find_elements(By.CSS_SELECTOR, ".prop[data-key='region:7-13']") == []
    # selecting source text across lines 9..12 selects that region too
    drv.execute_script(
        "const [a, b] = arguments; const r = document.createRange();"
        "r.setStart(a.querySelector('td.c-src').firstChild, 0);"
        "r.setEnd(b.querySelector('td.c-src').lastChild, 1);"
        "const s = getSelection(); s.removeAllRanges(); s.addRange(r);"
        "document.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));",
        row(drv, MAIN, 9), row(drv, MAIN, 12))
    assert btn.is_displayed() and btn.text.endswith("Optimize lines 9\u201312")
    btn.click()
    wait_box(drv, ".prop[data-key='region:9-12']", "done")
    region = "\n".join(l["line"].rstrip("\n") for l in doc["files"][MAIN]["lines"] if 9 <= l["lineno"] <= 12)
    assert region in prompt_of(stub.requests[-1])


def test_azure_style_full_url(report, stub):
    drv, _, _ = report
    full = f"{stub.url}/openai/deployments/dep1/chat/completions?api-version=2024-06-01"
    configure(drv, "azure", full, "", "azure-key-1")
    row(drv, MAIN, 12).find_element(By.CSS_SELECTOR, "button.ai").click()
    wait_box(drv, ".prop[data-key='line']", "done")
    req = stub.requests[-1]
    assert req["path"] == "/openai/deployments/dep1/chat/completions?api-version=2024-06-01"
    assert req["headers"]["api-key"] == "azure-key-1"
    assert "authorization" not in req["headers"]
    assert "a = np.arange(10_000_000)" in prompt_of(req)
    # an OpenAI-compatible server given as a full URL is used as it is
    configure(drv, "openai", f"{stub.url}/custom/v1/chat/completions", "m", "k")
    row(drv, MAIN, 13).find_element(By.CSS_SELECTOR, "button.ai").click()
    WebDriverWait(drv, 10).until(lambda d: len(stub.requests) == 2)
    assert stub.requests[-1]["path"] == "/custom/v1/chat/completions"
    assert stub.requests[-1]["headers"]["authorization"] == "Bearer k"


def test_errors_are_shown(report, stub):
    drv, _, _ = report
    configure(drv, "openai", stub.url, "stub-model", "bad")
    row(drv, MAIN, 8).find_element(By.CSS_SELECTOR, "button.ai").click()
    box = wait_box(drv, ".prop[data-key='line']", "error")
    msg = box.find_element(By.CSS_SELECTOR, ".status").text
    assert "HTTP 401" in msg and "Incorrect API key provided" in msg and "API key" in msg
    assert box.find_elements(By.CSS_SELECTOR, "pre") == []
    # an unreachable server
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    configure(drv, "ollama", f"http://127.0.0.1:{dead}", "m")
    row(drv, MAIN, 8).find_element(By.CSS_SELECTOR, "button.ai").click()
    box = wait_box(drv, ".prop[data-key='line']", "error")
    msg = box.find_element(By.CSS_SELECTOR, ".status").text
    assert f"Could not reach http://127.0.0.1:{dead}/api/chat" in msg
    # and then a working one replaces the error in the same box
    configure(drv, "openai", stub.url, "stub-model", "good")
    row(drv, MAIN, 8).find_element(By.CSS_SELECTOR, "button.ai").click()
    wait_box(drv, ".prop[data-key='line']", "done")
