"""The HTML report in headless Chromium: rows, values, hover breakdowns,
sorting, columns, sparklines, leaks, hot lines, functions, collapsing, the
active-lines toggle, offline operation; reports rendered by the library
from crafted profiles and from a real profiling session."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

from report_helpers import (By, cpu, hover_tip, mb3, pct2, row, rows, section, short_num,
                            short_pct, to_fixed)
from report_profiles import MAIN_SRC, cpu_only, rich_profile
from selenium.webdriver.support.ui import WebDriverWait

MAIN = "/home/user/proj/main.py"
UTIL = "/home/user/proj/util.py"


def is_active(rec: Dict[str, Any]) -> bool:
    keys = ("n_cpu_percent_python", "n_cpu_percent_c", "n_sys_percent", "n_cpu_samples", "n_malloc_mb",
            "n_peak_mb", "n_mallocs", "n_growth_mb", "n_copy_mb_s", "n_gpu_percent", "n_gpu_peak_memory_mb")
    return any(rec.get(k) for k in keys) or bool(rec.get("memory_samples"))


def test_rows_and_values_match_the_json(make_report, open_report, artifacts):
    doc = rich_profile()
    drv = open_report(make_report(doc))
    assert drv.title == "Scalene: crafted.py"
    assert [e.text for e in drv.find_elements(By.CSS_SELECTOR, "section.file .fname")] == [MAIN, UTIL]
    leaks = {int(k) for k in doc["files"][MAIN]["leaks"]}
    for fname, fdoc in doc["files"].items():
        expect = [r for r in fdoc["lines"] if is_active(r) or r["lineno"] in leaks]
        got = rows(drv, fname)
        assert [g["lineno"] for g in got] == [r["lineno"] for r in expect], fname
        for g, r in zip(got, expect):
            assert g["src"] == r["line"].rstrip("\n")
            c = cpu(r)
            assert g["time"] == (short_pct(c) if c > 0 else "")
            peak = r["n_peak_mb"] or r["n_malloc_mb"]
            assert g["mem"] == (short_num(peak) + " MB" if peak > 0 else "")
            assert g["net"] == (short_num(r["n_growth_mb"]) if r["n_growth_mb"] else "")
            assert g["copy"] == (short_num(r["n_copy_mb_s"]) if r["n_copy_mb_s"] > 0 else "")
            assert g["gpu"] == (short_pct(r["n_gpu_percent"]) if r["n_gpu_percent"] > 0 else "")
            assert g["gpumem"] == (short_num(r["n_gpu_peak_memory_mb"]) if r["n_gpu_peak_memory_mb"] > 0 else "")
            assert g["spark"] == len(r["memory_samples"])
            assert g["leak"] == (r["lineno"] in leaks and fname == MAIN)
            hot = c >= 5 or r["n_gpu_percent"] >= 5 or r["n_usage_fraction"] >= 0.05
            assert g["hot"] == hot, (fname, r["lineno"])
    # every source line with the toggle off
    drv.find_element(By.ID, "active-only").click()
    WebDriverWait(drv, 10).until(lambda d: d.execute_script("return window.__scaleneIdle !== undefined"))
    for fname, fdoc in doc["files"].items():
        got = rows(drv, fname)
        assert [g["lineno"] for g in got] == [r["lineno"] for r in fdoc["lines"]]
        assert [g["src"] for g in got] == [r["line"].rstrip("\n") for r in fdoc["lines"]]
    drv.find_element(By.ID, "active-only").click()
    assert len(rows(drv, MAIN)) == len([r for r in doc["files"][MAIN]["lines"] if is_active(r)])
    drv.save_screenshot(str(artifacts / "report-crafted.png"))


def test_memory_gpu_columns_only_with_data(make_report, open_report):
    drv = open_report(make_report(rich_profile(), "rich"))
    heads = [e.get_attribute("class").split()[0] for e in
             section(drv, MAIN).find_elements(By.CSS_SELECTOR, ".ptable.lines th")]
    assert heads == ["c-time", "c-mem", "c-net", "c-timeline", "c-copy", "c-gpu", "c-gpumem", "c-line",
                     "c-ai", "c-src"]
    assert "NVIDIA Stub 80GB" in drv.find_element(By.ID, "stats").text
    drv = open_report(make_report(cpu_only(rich_profile()), "cpu"))
    heads = [e.get_attribute("class").split()[0] for e in
             section(drv, MAIN).find_elements(By.CSS_SELECTOR, ".ptable.lines th")]
    assert heads == ["c-time", "c-line", "c-ai", "c-src"]
    assert "Memory was not profiled" in drv.find_element(By.ID, "notices").text


def test_hover_breakdowns_equal_the_json(make_report, open_report):
    doc = rich_profile()
    drv = open_report(make_report(doc))
    r8 = next(r for r in doc["files"][MAIN]["lines"] if r["lineno"] == 8)
    tip = hover_tip(drv, row(drv, MAIN, 8).find_element(By.CSS_SELECTOR, "td.c-time .bar"))
    lines = tip.splitlines()
    assert lines[0].startswith("Line 8")
    for want in (f"Python {pct2(r8['n_cpu_percent_python'])}", f"native {pct2(r8['n_cpu_percent_c'])}",
                 f"system {pct2(r8['n_sys_percent'])}", f"total {pct2(cpu(r8))}",
                 f"core utilization {pct2(r8['n_core_utilization'] * 100)}",
                 f"samples {r8['n_cpu_samples']}"):
        assert want in lines, (want, lines)
    t = r8["threads"][1]
    assert (f"thread worker (4243) {pct2(t['n_cpu_percent_python'])} / {pct2(t['n_cpu_percent_c'])} / "
            f"{pct2(t['n_sys_percent'])}") in lines

    tip = hover_tip(drv, row(drv, MAIN, 8).find_element(By.CSS_SELECTOR, "td.c-mem .bar")).splitlines()
    pf = r8["n_python_fraction"]
    for want in (f"Python {mb3(r8['n_peak_mb'] * pf)}", f"native {mb3(r8['n_peak_mb'] * (1 - pf))}",
                 f"peak {mb3(r8['n_peak_mb'])}", f"average {mb3(r8['n_avg_mb'])}",
                 f"allocated {mb3(r8['n_malloc_mb'])}", f"net growth {mb3(r8['n_growth_mb'])}",
                 f"allocations {r8['n_mallocs']}", f"Python fraction {pct2(pf * 100)}",
                 f"share of memory activity {pct2(r8['n_usage_fraction'] * 100)}"):
        assert want in tip, (want, tip)

    tip = hover_tip(drv, row(drv, MAIN, 8).find_element(By.CSS_SELECTOR, "td.c-timeline svg")).splitlines()
    ms = [v for _, v in r8["memory_samples"]]
    assert f"samples {len(ms)}" in tip and f"min {mb3(min(ms))}" in tip and f"max {mb3(max(ms))}" in tip

    r18 = next(r for r in doc["files"][MAIN]["lines"] if r["lineno"] == 18)
    tip = hover_tip(drv, row(drv, MAIN, 18).find_element(By.CSS_SELECTOR, "td.c-gpu .bar")).splitlines()
    for want in (f"utilization {pct2(r18['n_gpu_percent'])}", f"peak memory {mb3(r18['n_gpu_peak_memory_mb'])}",
                 f"average memory {mb3(r18['n_gpu_avg_memory_mb'])}"):
        assert want in tip, (want, tip)

    r12 = next(r for r in doc["files"][MAIN]["lines"] if r["lineno"] == 12)
    tip = hover_tip(drv, row(drv, MAIN, 12).find_element(By.CSS_SELECTOR, "td.c-copy")).splitlines()
    assert f"copy {to_fixed(r12['n_copy_mb_s'], 3)} MB/s" in tip

    leak = doc["files"][MAIN]["leaks"]["13"]
    tip = hover_tip(drv, row(drv, MAIN, 13).find_element(By.CSS_SELECTOR, ".leak")).splitlines()
    assert "possible memory leak" in tip[0]
    assert f"likelihood {pct2(leak['likelihood'] * 100)}" in tip
    assert f"velocity {to_fixed(leak['velocity_mb_s'], 3)} MB/s" in tip

    f = doc["files"][MAIN]["functions"][1]
    tip = hover_tip(drv, row(drv, MAIN, 11, "funcs").find_element(By.CSS_SELECTOR, "td.c-time .bar")).splitlines()
    assert tip[0].startswith("Function grow (line 11)")
    assert f"total {pct2(cpu(f))}" in tip


def _order(recs: List[Dict[str, Any]], key, desc: bool) -> List[int]:
    """The page's order: by the column, ties by line number."""
    sign = -1 if desc else 1
    return [r["lineno"] for r in sorted(recs, key=lambda r: (sign * key(r), r["lineno"]))]


def test_sorting_by_columns(make_report, open_report):
    doc = rich_profile()
    drv = open_report(make_report(doc))
    active = [r for r in doc["files"][MAIN]["lines"] if is_active(r)]
    sec = section(drv, MAIN)

    def click(table: str, col: str) -> None:
        sec.find_element(By.CSS_SELECTOR, f".ptable.{table} th.{col}").click()

    def got(kind: str = "lines") -> List[int]:
        return [g["lineno"] for g in rows(drv, MAIN, kind)]

    assert got() == sorted(r["lineno"] for r in active)
    click("lines", "c-time")
    assert got() == _order(active, cpu, True)
    th = sec.find_element(By.CSS_SELECTOR, ".ptable.lines th.c-time")
    assert th.get_attribute("aria-sort") == "descending"
    click("lines", "c-time")
    assert got() == _order(active, cpu, False)
    assert th.get_attribute("aria-sort") == "ascending"
    click("lines", "c-mem")
    assert got() == _order(active, lambda r: r["n_peak_mb"] or r["n_malloc_mb"], True)
    click("lines", "c-copy")
    assert got() == _order(active, lambda r: r["n_copy_mb_s"], True)
    click("lines", "c-gpu")
    assert got() == _order(active, lambda r: r["n_gpu_percent"], True)
    click("lines", "c-line")
    assert got() == sorted(r["lineno"] for r in active)
    # the function table: by time at first, then by name
    funcs = doc["files"][MAIN]["functions"]
    assert got("funcs") == _order(funcs, cpu, True)
    click("funcs", "c-fn")
    assert [g["fn"] for g in rows(drv, MAIN, "funcs")] == sorted(f["fn_name"] for f in funcs)


def test_function_table_and_navigation(make_report, open_report):
    doc = rich_profile()
    drv = open_report(make_report(doc))
    got = rows(drv, MAIN, "funcs")
    want = sorted(doc["files"][MAIN]["functions"], key=lambda f: -cpu(f))
    assert [(g["fn"], g["lineno"], g["time"]) for g in got] == [
        (f["fn_name"], f["lineno"], short_pct(cpu(f))) for f in want]
    assert [b.text for b in section(drv, MAIN).find_elements(By.CSS_SELECTOR, ".ptable.funcs button.ai")] == ["\U0001F4A5"] * 3
    assert all(b.text == "\u26A1" for b in section(drv, MAIN).find_elements(By.CSS_SELECTOR, ".ptable.lines button.ai"))
    # "grow" starts at line 11, which has no samples: the page shows the next profiled line
    row(drv, MAIN, 11, "funcs").find_element(By.CSS_SELECTOR, "button.goto").click()
    WebDriverWait(drv, 5).until(lambda d: "flash" in row(d, MAIN, 12).get_attribute("class"))


def test_highlighting_collapsing_sparklines_offline(make_report, open_report):
    doc = rich_profile()
    drv = open_report(make_report(doc))
    drv.find_element(By.ID, "active-only").click()
    WebDriverWait(drv, 10).until(lambda d: len(rows(d, MAIN)) == len(MAIN_SRC))

    def spans(lineno: int) -> List[List[str]]:
        return drv.execute_script(
            "return [...arguments[0].querySelectorAll('td.c-src span')].map(s => [s.className, s.textContent])",
            row(drv, MAIN, lineno))

    assert ["t-kw", "def"] in spans(3) and ["t-fn", "compute"] in spans(3)
    assert spans(4) == [["t-s", '"""Sum of squares,']]
    assert spans(5) == [["t-s", '    the slow way."""']]  # inside the docstring: state carried over
    assert ["t-kw", "for"] in spans(7) and ["t-bi", "range"] in spans(7)
    assert ["t-cm", "# hot loop"] in spans(8)
    assert ["t-nu", "10_000_000"] in spans(12)
    assert ["t-de", "@profile"] in spans(16)
    assert ["t-s", "'done'"] in spans(20)

    # sparklines: per line, and the program's footprint
    fp = drv.find_element(By.CSS_SELECTOR, "#footprint polyline").get_attribute("points").split()
    assert len(fp) == len(doc["samples"])
    tip = hover_tip(drv, drv.find_element(By.CSS_SELECTOR, "#footprint svg")).splitlines()
    assert f"samples {len(doc['samples'])}" in tip and f"max {mb3(doc['max_footprint_mb'])}" in tip

    # collapsing a file
    sec = section(drv, UTIL)
    table = sec.find_element(By.CSS_SELECTOR, ".ptable.lines")
    assert table.is_displayed()
    sec.find_element(By.CSS_SELECTOR, ".fname").click()
    assert "collapsed" in sec.get_attribute("class") and not table.is_displayed()
    assert sec.find_element(By.CSS_SELECTOR, ".toggle").get_attribute("aria-expanded") == "false"
    sec.find_element(By.CSS_SELECTOR, ".toggle").click()
    assert table.is_displayed()
    drv.find_element(By.ID, "collapse-all").click()
    assert all("collapsed" in s.get_attribute("class") for s in drv.find_elements(By.CSS_SELECTOR, "section.file"))
    drv.find_element(By.ID, "expand-all").click()
    assert not any("collapsed" in s.get_attribute("class") for s in drv.find_elements(By.CSS_SELECTOR, "section.file"))

    # self-contained: nothing was fetched, nothing refers outside the page
    assert drv.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert drv.execute_script(
        "return document.querySelectorAll('[src], link[href], [srcset], iframe, object, embed').length") == 0


def test_odd_documents_render(make_report, open_report):
    """Missing fields, wrong types, an empty profile: the page still works."""
    odd = {"files": {
        "a.py": {"lines": [{"lineno": 3, "line": "x = 1\n", "n_cpu_percent_python": 12.25},
                           {"line": 5}, "not an object", {"lineno": "7", "n_cpu_percent_c": "lots"}],
                 "functions": [{"fn_name": None, "lineno": 1, "n_cpu_percent_python": 1}],
                 "leaks": {"3": "not an object", "99": {}}},
        "b.py": {},
        "c.py": None,
    }, "samples": [1, 2, "x", [0.5]], "threads": "none", "args": "not-a-list"}
    drv = open_report(make_report(odd))
    assert drv.find_elements(By.ID, "fatal") == []
    got = rows(drv, "a.py")
    assert [g["lineno"] for g in got] == [3]
    assert got[0]["time"] == "12%" and got[0]["leak"]
    assert len(drv.find_elements(By.CSS_SELECTOR, "section.file")) == 3
    drv = open_report(make_report({"files": {}}, "empty"))
    assert "no files" in drv.find_element(By.ID, "files").text


def test_real_session_report(core, tmp_path: Path, open_report, artifacts):
    """A real profiling session exports HTML (sc_export) and JSON; the page
    shows what the JSON says."""
    prog = tmp_path / "prog.py"
    prog.write_text(
        "def spin(n):\n"
        "    s = 0\n"
        "    for i in range(n):\n"
        "        s += i * i\n"
        "    return s\n"
        "\n"
        "def main():\n"
        "    import time\n"
        "    t = time.process_time()\n"
        "    while time.process_time() - t < 0.4:\n"
        "        spin(20000)\n"
        "\n"
        "main()\n")
    p = core.Profiler({}, lambda f: f == str(prog))
    p.start()
    p.set_meta("program", str(prog))
    runpy.run_path(str(prog), run_name="__main__")
    p.stop()
    p.export(str(tmp_path / "real.json"))
    p.export(str(tmp_path / "real.html"))
    doc = json.loads((tmp_path / "real.json").read_text())
    fdoc = doc["files"][str(prog)]
    drv = open_report(tmp_path / "real.html")
    got = rows(drv, str(prog))
    want = [r for r in fdoc["lines"] if is_active(r)]
    assert want, "the session recorded no line"
    assert [(g["lineno"], g["src"], g["time"]) for g in got] == [
        (r["lineno"], r["line"].rstrip("\n"), short_pct(cpu(r)) if cpu(r) > 0 else "") for r in want]
    heads = [e.get_attribute("class").split()[0] for e in drv.find_elements(By.CSS_SELECTOR, ".ptable.lines th")]
    assert heads == ["c-time", "c-line", "c-ai", "c-src"]  # no memory/GPU data in this version
    hottest = max(want, key=cpu)
    tip = hover_tip(drv, row(drv, str(prog), hottest["lineno"]).find_element(By.CSS_SELECTOR, "td.c-time .bar"))
    assert f"total {pct2(cpu(hottest))}" in tip.splitlines()
    drv.save_screenshot(str(artifacts / "report-real-session.png"))


def test_cli_run_then_convert(core, tmp_path: Path, open_report):
    """`scalene run -o profile.json prog.py`, then JSON -> HTML through the
    library (sc_profile_load + sc_profile_export): the page matches the JSON."""
    prog = tmp_path / "busy.py"
    prog.write_text(
        "import time\n"
        "def busy():\n"
        "    t = time.process_time()\n"
        "    x = 0\n"
        "    while time.process_time() - t < 0.4:\n"
        "        x += sum(range(200))\n"
        "    return x\n"
        "busy()\n")
    out = tmp_path / "busy.json"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2] / "bindings" / "python"))
    proc = subprocess.run([sys.executable, "-m", "scalene", "run", "-o", str(out), str(prog)],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=25,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    html = tmp_path / "busy.html"
    core.convert_profile(str(out), str(html))
    drv = open_report(html)
    (fname, fdoc), = doc["files"].items()
    want = [r for r in fdoc["lines"] if is_active(r)]
    assert want
    got = rows(drv, fname)
    assert [(g["lineno"], g["src"], g["time"]) for g in got] == [
        (r["lineno"], r["line"].rstrip("\n"), short_pct(cpu(r)) if cpu(r) > 0 else "") for r in want]
    assert drv.title == "Scalene: " + str(doc.get("program") or "profile")
