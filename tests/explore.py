"""Exploration in Chromium, as a new user: every page, every tab on it, then the sidebar
filters (period type, town, period, language) and every download button; nothing may leave
the machine. Used by tests/test_explore.py; `python -m tests.explore [--scale small]
[--lang zh en]` runs it by hand on a demo warehouse and prints what it found."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ui.nav import PAGES

# Streamlit's frontend probes /<page>/_stcore/health and host-config on a deep link before
# finding the app root: those 404s are its normal start, not the app's.
BENIGN = re.compile(r"/_stcore/(health|host-config)$")
BAD_TEXT = [re.compile(p) for p in (r"\bNone\b", r"\bNaN\b", r"\bnan\b", r"Page not found",
                                    r"Traceback", r"\bnull\b")]
WALL_KEYS = {"wall"}
# Latin words a Chinese page may show: units, file types, model and method names, IDs.
ALLOWED_LATIN = {"ID", "AUC", "CSV", "XLSX", "PDF", "DOCX", "PNG", "Excel", "PM4Py", "H3", "km", "kg", "KPI",
                 "APP", "App", "app", "Top", "TOP", "AI", "GB", "MB", "Monte", "Carlo", "Brier",
                 "MASE", "ETS", "Theta", "p90", "P90", "vs", "Q1", "Q2", "Q3", "Q4", "SSRA", "OK",
                 "URL", "HMAC", "SHA", "WeChat", "Weibo", "Douyin", "INFORM", "JRC", "OECD", "ISO",
                 "min", "max", "log"}
PATH = re.compile(r"[\w./-]+\.(?:yaml|yml|py|csv|xlsx|json|sql)\b")
LATIN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]+(?![A-Za-z0-9])")  # "_" splits: coverage_80


def english_words(text: str) -> list[str]:
    """Latin words outside the allow-list (what a Chinese page should not show)."""
    text = PATH.sub(" ", text)  # a config file named on a method tab
    return sorted({w for w in LATIN.findall(text) if w not in ALLOWED_LATIN
                   and not any(ch.isdigit() for ch in w)})  # IDs and codes: YQ320813, W47, p90


@dataclass
class Findings:
    items: list[str] = field(default_factory=list)
    visits: int = 0
    tabs: int = 0
    interactions: int = 0
    downloads: int = 0

    def add(self, where: str, what: str) -> None:
        item = f"{where}: {what}"
        if item not in self.items:
            self.items.append(item)
            print(" -", item, flush=True)  # shown live by the CLI; pytest captures it


def _local(url: str, base: str) -> bool:
    return url.startswith(base) or url.startswith(("data:", "blob:", "about:"))


# Streamlit marks its root with data-test-script-state (running / notRunning / ...). A click's
# rerun starts only after a round trip, so "not running" right after a click says nothing:
# count the runs that ended (an observer installed before the page's own scripts) and wait
# for one more than before the action, with the app idle and every element drawn (a widget
# whose code is still loading shows a skeleton: not clickable yet).
RUN_COUNTER = """window.__stEnds = 0;
new MutationObserver(ms => { for (const m of ms) if (m.oldValue === 'running') window.__stEnds++; })
  .observe(document, {subtree: true, attributes: true, attributeOldValue: true,
                      attributeFilter: ['data-test-script-state']});"""
IDLE = """n => window.__stEnds > n && document.querySelector('[data-testid="stApp"]')
  ?.getAttribute('data-test-script-state') === 'notRunning'
  && !document.querySelector('[data-testid^="stSkeleton"], [data-testid="stAppSkeleton"]')"""


def runs(page) -> int:
    return page.evaluate("window.__stEnds || 0")


def settle(page, before: int = 0, timeout_ms: int = 120_000, expect: bool = True) -> bool:
    """Wait until a script run that ended after `before` runs is over and the app is idle
    (a run that reruns itself, st.rerun, is waited for too). With expect=False an action
    that started no run (a tab drawn without a rerun) returns False after a short look."""
    try:
        page.wait_for_function(IDLE, arg=before, timeout=timeout_ms if expect else 1_500, polling=50)
    except Exception:  # noqa: BLE001 - playwright's TimeoutError
        if expect:
            raise
        return False
    while True:  # one more look: a run that asked for another (st.rerun) is still going
        ended = runs(page)
        page.wait_for_timeout(120)
        if runs(page) == ended and page.evaluate(IDLE, ended - 1):
            return True
        page.wait_for_function(IDLE, arg=ended, timeout=timeout_ms, polling=50)


# the main area's text (tables: their headers), node by node (so "ETS" and "MASE" in two cells stay two words),
# without Material icon ligatures ("download" is an icon), scripts, styles and the TeX
# source KaTeX keeps beside a formula
MAIN_TEXT = """() => { const m = document.querySelector('[data-testid="stMain"]'); if (!m) return null;
  const skip = '[data-testid="stIconMaterial"], script, style, .katex-mathml, [data-testid="stToolbar"], ' +
               '[data-testid="stDataFrame"] td';  // cells: raw values for screen readers, not what is drawn
  const w = document.createTreeWalker(m, NodeFilter.SHOW_TEXT); const out = [];
  const icon = e => getComputedStyle(e).fontFamily.includes('Material');  // ligatures: "lock", "grid_on"
  for (let n = w.nextNode(); n; n = w.nextNode())
    if (!n.parentElement.closest(skip) && !icon(n.parentElement)) out.push(n.data);
  return out.join(' '); }"""


def check(page, where: str, found: Findings, lang: str = "en") -> None:
    for box in page.query_selector_all('[data-testid="stException"]'):
        found.add(where, "exception: " + box.inner_text()[:200].replace("\n", " "))
    text = page.inner_text("body")
    if lang == "zh":
        main = page.evaluate(MAIN_TEXT) or text
        words = english_words(main)
        if words:
            w = words[0]
            i = re.search(rf"(?<![A-Za-z]){w}(?![A-Za-z])", main)
            near = main[max(i.start() - 30, 0):i.end() + 30].replace("\n", " ") if i else ""
            found.add(where, "English words: " + " ".join(words[:15]) + f" (…{near}…)")
    for pat in BAD_TEXT:
        m = pat.search(text)
        if m:
            s = max(m.start() - 40, 0)
            found.add(where, f"text {pat.pattern!r}: …{text[s:m.end() + 40]!r}…".replace("\n", " "))
    # data grids draw on a canvas: their cells are not in the body text; read them via the
    # grid's accessible table (glide-data-grid keeps one for screen readers)
    for cell in page.query_selector_all('[data-testid="stDataFrame"] td'):
        t = cell.inner_text().strip()
        if t in ("None", "NaN", "nan", "null"):
            found.add(where, f"table cell {t!r}")
            break


# Clicks skip Playwright's "stable" wait (two equal animation frames): the map's WebGL canvas,
# drawn in software, can hold frames back for many seconds; the controls do not move.


def _radio(page, key: str, label: str) -> bool:
    opt = page.locator(f".st-key-{key} label").filter(has_text=re.compile(f"^{re.escape(label)}$"))
    if opt.count() == 0:
        return False
    opt.first.click(timeout=20_000, force=True)
    return True


def _select(page, key: str, index: int) -> bool:
    opener = page.locator(f".st-key-{key} button[aria-label='Open']")
    if opener.count() == 0:
        return False
    opener.first.click(timeout=20_000, force=True)
    opts = page.locator('[role="option"]')
    try:
        opts.first.wait_for(timeout=10_000)
    except Exception:  # noqa: BLE001 - no list: nothing to pick
        page.keyboard.press("Escape")
        return False
    free = [i for i in range(opts.count()) if opts.nth(i).get_attribute("aria-selected") != "true"]
    if not free:
        page.keyboard.press("Escape")
        return False
    opts.nth(free[min(index, len(free)) - 1]).click(timeout=20_000, force=True)  # never the one chosen: no rerun
    return True


def _click_tab(page, label: str) -> None:
    """Open a tab; a tab bound to the URL (ui.tabs, lazy) reruns the page, st.tabs does not."""
    tab = page.get_by_role("tab", name=label, exact=True).first
    keyed = tab.evaluate("e => !!e.closest('[class*=\"st-key-\"]')")
    before = runs(page)
    tab.click(force=True)
    settle(page, before, expect=keyed)


def visit(page, base: str, key: str, lang: str, found: Findings, interact: bool = True,
          download: bool = True, verbose: bool = False) -> None:
    where = f"{key}[{lang}]"
    page.goto(f"{base}/{key}?lang={lang}")
    settle(page)
    if key not in WALL_KEYS:  # a deep link's first run may end before the sidebar is drawn
        page.wait_for_selector(".st-key-lang", timeout=60_000)
    found.visits += 1
    if verbose:
        print(where, len(found.items), "findings so far", flush=True)
    check(page, where, found, lang)
    tabs = page.get_by_role("tab")
    labels = [tabs.nth(i).inner_text() for i in range(tabs.count())]
    for i, label in enumerate(labels):
        if i:  # the first is open already
            _click_tab(page, label)
            check(page, f"{where} tab {label}", found, lang)
        found.tabs += 1
        if download:
            _downloads(page, f"{where} tab {label}", found)
    if not labels and download:
        _downloads(page, where, found)
    if not interact or key in WALL_KEYS:
        return
    # the crash of issue 21: a tab other than the first open, then the filters change
    if len(labels) > 1:
        _click_tab(page, labels[1])
    zh = lang == "zh"
    steps = [("grain", lambda: _radio(page, "f_grain", "季" if zh else "Quarter")),
             ("town", lambda: _select(page, "f_town", 1)),
             ("period", lambda: _select(page, "f_period", 1)),
             ("lang", lambda: _radio(page, "lang", "English" if zh else "中文"))]
    shown = lang
    for name, step in steps:
        before = runs(page)
        try:
            done = step()
        except Exception as e:  # noqa: BLE001 - a control that cannot be driven is a finding
            found.add(where, f"could not change {name}: {type(e).__name__}")
            continue
        if done:
            settle(page, before)
            found.interactions += 1
            shown = ("en" if zh else "zh") if name == "lang" else shown
            check(page, f"{where} after {name}", found, shown)


def _downloads(page, where: str, found: Findings) -> None:
    buttons = page.locator('[data-testid="stDownloadButton"] button')
    for i in range(buttons.count()):
        b = buttons.nth(i)
        if not b.is_visible():
            continue
        try:
            with page.expect_download(timeout=60_000) as dl:
                b.click()
            if dl.value.failure():
                found.add(where, f"download {i} failed: {dl.value.failure()}")
            found.downloads += 1
        except Exception as e:  # noqa: BLE001 - reported, not raised
            found.add(where, f"download {i}: {type(e).__name__}")


def explore(b, base: str, langs=("zh", "en"), keys=None, interact=True, download=True,
            verbose: bool = False) -> Findings:
    """Drive every page; returns what went wrong (empty list: nothing)."""
    found = Findings()
    ctx = b.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    page = ctx.new_page()
    page.set_default_timeout(120_000)

    def route(r):
        if _local(r.request.url, base):
            return r.continue_()
        found.add("network", f"blocked request to {r.request.url[:120]}")
        return r.abort()

    ctx.route("**/*", route)
    ctx.add_init_script(RUN_COUNTER)
    page.on("console", lambda m: found.add("console", m.text[:200])
            if m.type == "error" and "Failed to load resource" not in m.text else None)
    page.on("response", lambda r: found.add("http", f"{r.status} {r.url.replace(base, '')}")
            if r.status >= 400 and not BENIGN.search(r.url) else None)
    page.on("pageerror", lambda e: found.add("pageerror", str(e)[:200]))
    for lang in langs:
        for spec in PAGES:
            if keys and spec.key not in keys:
                continue
            try:
                visit(page, base, spec.key, lang, found, interact, download, verbose)
            except Exception as e:  # noqa: BLE001 - one stuck page must not hide the others
                found.add(f"{spec.key}[{lang}]", f"visit broke off: {type(e).__name__}: {str(e)[:120]}")
    ctx.close()
    return found


def main() -> None:
    import argparse
    import tempfile
    from datetime import datetime
    from pathlib import Path

    from tests.browser import browser, streamlit_server

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", default="small", choices=("small", "county"))
    ap.add_argument("--db", type=Path, help="an existing warehouse instead of a new demo")
    ap.add_argument("--lang", nargs="+", default=["zh", "en"])
    ap.add_argument("--pages", nargs="*")
    ap.add_argument("--quick", action="store_true", help="pages and tabs only: no filter changes, no downloads")
    args = ap.parse_args()
    db = args.db
    if db is None:
        from etl.demo.build import build

        db = Path(tempfile.mkdtemp()) / "demo.duckdb"
        build(db, seed=20261124, scale=args.scale, as_of=datetime(2026, 11, 24, 10), show_progress=True)
    with streamlit_server(db) as url, browser() as b:
        f = explore(b, url, tuple(args.lang), args.pages, interact=not args.quick, download=not args.quick,
                    verbose=True)
    print(f"visits {f.visits}, tabs {f.tabs}, interactions {f.interactions}, downloads {f.downloads}")
    for item in f.items:
        print(" -", item)


if __name__ == "__main__":
    main()
