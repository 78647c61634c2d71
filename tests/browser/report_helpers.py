"""What the browser tests share: formatting as the report does it, reading
rows and tooltips out of the page."""

from __future__ import annotations

import os
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Dict, List

import pytest

try:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # pragma: no cover - depends on the machine
    if os.environ.get("SCALENE_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("browser tests need selenium (pip install selenium)", allow_module_level=True)


def to_fixed(x: float, digits: int) -> str:
    """JavaScript's Number.prototype.toFixed: the exact binary value rounded,
    ties away from zero."""
    d = Decimal(x).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return f"{d:.{digits}f}"


def pct2(x: float) -> str:
    return to_fixed(x, 2) + "%"


def mb3(x: float) -> str:
    return to_fixed(x, 3) + " MB"


def short_pct(x: float) -> str:
    if x >= 9.95:
        return to_fixed(x, 0) + "%"
    return to_fixed(x, 1) + "%" if x >= 0.05 else "<0.1%"


def short_num(x: float) -> str:
    a = abs(x)
    return to_fixed(x, 0) if a >= 100 else to_fixed(x, 1) if a >= 10 else to_fixed(x, 2)


def cpu(rec: Dict[str, Any]) -> float:
    return rec["n_cpu_percent_python"] + rec["n_cpu_percent_c"] + rec["n_sys_percent"]


ROWS_JS = """
const [fname, kind] = arguments;
const sec = [...document.querySelectorAll('section.file')]
  .find(s => s.querySelector('.fname').textContent === fname);
if (!sec) return null;
const cell = (tr, c) => { const td = tr.querySelector('td.' + c); return td ? td.textContent : null; };
return [...sec.querySelectorAll('.ptable.' + kind + ' tr.row')].map(tr => {
  const src = tr.querySelector('td.c-src');
  return {
    lineno: +tr.dataset.lineno,
    src: src ? [...src.childNodes].filter(n => !(n.classList && n.classList.contains('leak')))
                 .map(n => n.textContent).join('') : null,
    fn: cell(tr, 'c-fn'), time: cell(tr, 'c-time'), mem: cell(tr, 'c-mem'), net: cell(tr, 'c-net'),
    timeline: cell(tr, 'c-timeline'), copy: cell(tr, 'c-copy'), gpu: cell(tr, 'c-gpu'),
    gpumem: cell(tr, 'c-gpumem'), hot: tr.classList.contains('hot'),
    leak: !!tr.querySelector('.leak'),
    spark: tr.querySelectorAll('td.c-timeline polyline').length
      ? tr.querySelector('td.c-timeline polyline').getAttribute('points').trim().split(/\\s+/).length : 0,
  };
});
"""


def rows(driver: Any, fname: str, kind: str = "lines") -> List[Dict[str, Any]]:
    return driver.execute_script(ROWS_JS, fname, kind)


def section(driver: Any, fname: str) -> Any:
    for sec in driver.find_elements(By.CSS_SELECTOR, "section.file"):
        if sec.find_element(By.CSS_SELECTOR, ".fname").text == fname:
            return sec
    raise AssertionError(f"no section for {fname}")


def row(driver: Any, fname: str, lineno: int, kind: str = "lines") -> Any:
    return section(driver, fname).find_element(
        By.CSS_SELECTOR, f".ptable.{kind} tr.row[data-lineno='{lineno}']")


def hover_tip(driver: Any, element: Any) -> str:
    """Move the mouse over `element`; the tooltip's text, a line per row."""
    ActionChains(driver).move_to_element(driver.find_element(By.ID, "title")).perform()
    ActionChains(driver).move_to_element(element).perform()
    tip = driver.find_element(By.ID, "tip")
    WebDriverWait(driver, 5).until(lambda d: tip.is_displayed())
    # one line per row: "label value"
    return driver.execute_script(
        "const t = document.getElementById('tip');"
        "return [...t.children].map(e => e.classList.contains('tr')"
        "  ? e.querySelector('.k').textContent + ' ' + e.querySelector('.v').textContent"
        "  : e.textContent).join('\\n');")
