"""Profile strings that look like markup stay text: a source line, a file
name, a function name, the program's name and arguments, thread names,
whatever field they come in.  No alert opens and no flag that a payload
would set gets set."""

from __future__ import annotations

import re
import runpy
from pathlib import Path
from typing import Any, List

from report_helpers import By, rows
from report_profiles import document, func, line
from selenium.common.exceptions import NoAlertPresentException

PAYLOADS = [
    "</script><script>window.__xss=1;alert(1)</script>",
    "<img src=x onerror=\"window.__xss=2;alert(2)\">",
    "<img src=x onerror=alert(1)>",
    "<!--<script>window.__xss=3</script>-->",
    "<svg onload=window.__xss=4>",
    "&lt;b&gt;entity&amp;stays&#x3c;",
    "line\u2028separator\u2029paragraph",
    "</SCRIPT  ><script >window.__xss=5</script >",
]


def assert_inert(drv: Any) -> None:
    try:
        alert = drv.switch_to.alert
        text = alert.text
        alert.dismiss()
        raise AssertionError(f"an alert opened: {text!r}")
    except NoAlertPresentException:
        pass
    assert drv.execute_script("return typeof window.__xss") == "undefined"
    assert drv.find_elements(By.ID, "fatal") == []
    # only the two script elements of the template
    assert drv.execute_script("return document.scripts.length") == 2
    assert drv.execute_script("return document.querySelectorAll('img, svg:not(.spark), iframe').length") == 0


def assert_embedded_safely(html: str) -> None:
    block = re.search(r'<script type="application/json" id="profile-data">(.*?)</script>', html, re.S)
    assert block, "no profile block"
    data = block.group(1)
    for bad in ("<", ">", "&", "\u2028", "\u2029"):
        assert bad not in data, f"raw {bad!r} in the embedded JSON"
    assert html.count("<script") == 2


def test_payloads_in_every_string_field(make_report, open_report):
    lines: List[Any] = []
    for i, p in enumerate(PAYLOADS, start=1):
        lines.append(line(i, f"x{i} = {p!r}  # {p}", n_cpu_percent_python=2.0 + i, n_cpu_samples=3))
    fname = "/tmp/<img src=x onerror=alert(1)>/</script><script>alert(1)</script>.py"
    doc = document({fname: {"percent_cpu_time": 50.0, "lines": lines,
                            "functions": [func(1, "<svg onload=alert(1)>", n_cpu_percent_python=9.0)],
                            "leaks": {"1": {"likelihood": 0.5, "velocity_mb_s": 1.0}}}},
                   program=PAYLOADS[0], args=PAYLOADS[1:3], gpu_device=PAYLOADS[2], gpu=True,
                   no_samples_reason=PAYLOADS[3],
                   threads=[{"tid": 1, "name": PAYLOADS[4], "cpu_sec": 1, "blocked_sec": 0, "samples": 1}])
    path = make_report(doc)
    assert_embedded_safely(path.read_text(encoding="utf-8"))
    drv = open_report(path)
    assert_inert(drv)
    got = rows(drv, fname)
    assert [g["src"] for g in got] == [r["line"].rstrip("\n") for r in lines]
    assert [g["fn"] for g in rows(drv, fname, "funcs")] == ["<svg onload=alert(1)>"]
    assert drv.find_element(By.CSS_SELECTOR, "section.file .fname").text == fname
    assert drv.find_element(By.ID, "title").text.startswith("Scalene profile: " + PAYLOADS[0])
    assert PAYLOADS[3] in drv.find_element(By.ID, "notices").text
    assert "&lt;b&gt;entity&amp;stays&#x3c;" in got[5]["src"]
    # hovering and sorting re-render rows; still inert
    section = drv.find_element(By.CSS_SELECTOR, "section.file")
    section.find_element(By.CSS_SELECTOR, ".ptable.lines th.c-time").click()
    drv.find_element(By.ID, "active-only").click()
    assert_inert(drv)


def test_payloads_from_a_real_session(core, tmp_path: Path, open_report, artifacts):
    """Through the real exporter (sc_export on a session): the payloads are
    in the profiled program's source and in its directory's name."""
    d = tmp_path / "<img src=x onerror=window.__xss=7>"
    d.mkdir()
    prog = d / "evil.py"
    prog.write_text(
        "import time\n"
        "def spin():\n"
        "    t = time.process_time()\n"
        "    while time.process_time() - t < 0.3:\n"
        "        s = '</script><script>window.__xss=1;alert(1)</script>'; x = len(s) * 2  # <img src=x onerror=alert(1)>\n"
        "spin()\n")
    p = core.Profiler({}, lambda f: f == str(prog))
    p.start()
    p.set_meta("program", "</script><script>alert('meta')</script>")
    runpy.run_path(str(prog), run_name="__main__")
    p.stop()
    out = tmp_path / "evil.html"
    p.export(str(out))
    html = out.read_text(encoding="utf-8")
    assert_embedded_safely(html)
    drv = open_report(out)
    assert_inert(drv)
    drv.find_element(By.ID, "active-only").click()
    src = [g["src"] for g in rows(drv, str(prog))]
    assert "        s = '</script><script>window.__xss=1;alert(1)</script>'; x = len(s) * 2  # <img src=x onerror=alert(1)>" in src
    assert drv.find_element(By.ID, "title").text == "Scalene profile: </script><script>alert('meta')</script>"
    assert_inert(drv)
    drv.save_screenshot(str(artifacts / "report-xss.png"))
