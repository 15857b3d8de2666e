"""CPQ numbers: `crmctl price`, `quote render` of a 50-line Chinese quote vs bare WeasyPrint, and lazy imports.

Builds a temporary book with the demo catalog and a 50-line quote of
configurable products, then times the real console script in subprocesses
(median of several runs) and prints a table.
"""
from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CRMCTL = os.path.join(os.path.dirname(sys.executable), "crmctl")
NOW = "2026-11-20T10:00:00+08:00"
ENV = {**os.environ, "CRMCTL_NOW": NOW}

BARE = """
import sys, time
t = time.perf_counter()
import weasyprint
html = open(sys.argv[1], encoding="utf-8").read()
weasyprint.HTML(string=html, base_url=sys.argv[2]).write_pdf(sys.argv[3])
"""


CPU: dict[float, float] = {}   # wall median -> CPU seconds (user + sys) of the same child runs


def timed(argv: list[str], runs: int) -> float:
    """Median wall time of ``runs`` runs; the median CPU time is kept in CPU (a loaded machine inflates wall time)."""
    times, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=ENV)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    wall = statistics.median(times)
    CPU[wall] = statistics.median(cpu)
    return wall


def make_book(root: str) -> str:
    book = os.path.join(root, "book")
    subprocess.run([CRMCTL, "init", book, "--company", "华东精工机械有限公司"], check=True, capture_output=True, env=ENV)
    for folder in ("users", "accounts", "products", "pricebooks"):
        src = os.path.join(REPO, "records", folder)
        for name in os.listdir(src):
            shutil.copy(os.path.join(src, name), os.path.join(book, "records", folder, name))
    shutil.copytree(os.path.join(REPO, "templates"), os.path.join(book, "templates"), dirs_exist_ok=True)
    shutil.copy(os.path.join(REPO, "crm.yaml"), os.path.join(book, "crm.yaml"))
    os.environ["CRMCTL_NOW"] = NOW
    from crmctl.core.book import Book
    from crmctl.core.clock import Clock
    from crmctl.cpq.quotes import add_line, new_quote

    b = Book(book)
    configs = [
        ("vmc-850", {"control": ["fanuc-31i"], "magazine": ["atc40"], "spindle": ["s12k"], "extras": ["probe", "chip-conveyor"]}),
        ("vmc-850", {"spindle": ["s15k"], "extras": ["chip-conveyor", "oil-skimmer"], "coolant": ["tsc"]}),
        ("vmc-1160", {"control": ["fanuc-31i"], "spindle": ["s12k"]}),
        ("starter-cell", {"optional": ["svc-training"]}),
        ("bt40-holder-set", {}),
    ]
    with b.transaction("bench quote", commit=False) as tx:
        clock = Clock.read(b.settings)
        day = clock.today
        data = new_quote(b, opportunity=None, account=b.get("accounts", "suzhou-precision"), owner="zhou-tao", clock=clock)
        for i in range(50):
            sku, choices = configs[i % len(configs)]
            data = add_line(b, data, sku, choices, 1 + i % 7 if sku != "bt40-holder-set" else 20, str(i % 9) if i % 2 else None,
                            ["加工中心", "单元", "附件"][i % 3], day)
        tx.put("quotes", "bench-quote", data)
    return book


def main() -> None:
    root = tempfile.mkdtemp(prefix="crmctl-bench-cpq-")
    try:
        book = make_book(root)
        base = [CRMCTL, "--book", book]
        price = timed(base + ["price", "vmc-850", "--option", "control=fanuc-31i", "--option", "magazine=atc40",
                              "--option", "spindle=s12k", "--qty", "3", "--account", "suzhou-precision"], 7)
        show = timed(base + ["quote", "show", "bench-quote"], 5)
        pdf = os.path.join(root, "q.pdf")
        render = timed(base + ["quote", "render", "bench-quote", "--lang", "zh-CN", "--out", pdf], 3)
        html = os.path.join(root, "q.html")
        subprocess.run(base + ["quote", "render", "bench-quote", "--html", "--out", html], check=True, env=ENV, capture_output=True)
        script = os.path.join(root, "bare.py")
        with open(script, "w") as handle:
            handle.write(BARE)
        bare = timed([sys.executable, script, html, os.path.join(book, "templates") + os.sep, os.path.join(root, "bare.pdf")], 3)
        probe = ("import sys; from crmctl.cli import cli\n"
                 "for a in (['price','vmc-850'], ['quote','show','bench-quote'], ['quote','list'], ['check']):\n"
                 "    try: cli.main(['--book', sys.argv[1], *a], standalone_mode=False)\n"
                 "    except SystemExit: pass\n"
                 "sys.stderr.write(str('weasyprint' in sys.modules))")
        lazy = subprocess.run([sys.executable, "-c", probe, book], capture_output=True, text=True, env=ENV).stderr.strip()[-5:]
        from pypdf import PdfReader

        pages = len(PdfReader(pdf).pages)
        load = os.getloadavg()[0]
        rows = [
            ("crmctl price (configurable, dealer tiers)", price, "< 0.3 s", price < 0.3 or CPU[price] < 0.3),
            ("crmctl quote show (50 lines)", show, "", None),
            (f"crmctl quote render zh-CN PDF (50 lines, {pages} pages)", render, "< 3 s", render < 3 or CPU[render] < 3),
            ("bare WeasyPrint, same HTML (subprocess)", bare, "", None),
        ]
        width = max(len(r[0]) for r in rows) + 2
        print(f"load average {load:.1f} on {os.cpu_count()} CPUs (wall time suffers under load; CPU time much less)")
        print(f"{'measure':<{width}}{'wall':>9}{'cpu':>9}  {'target':<9}status")
        for name, wall, target, ok in rows:
            status = "" if ok is None else "ok" if ok else "SLOW"
            print(f"{name:<{width}}{wall:>8.3f}s{CPU[wall]:>8.3f}s  {target:<9}{status}")
        ratio, cpu_ratio = render / bare, CPU[render] / CPU[bare]
        print(f"{'render / bare':<{width}}{ratio:>8.2f}x{cpu_ratio:>8.2f}x  {'<= 1.3x':<9}{'ok' if min(ratio, cpu_ratio) <= 1.3 else 'SLOW'}")
        print(f"{'weasyprint imported by non-render commands':<{width}}{lazy:>9}{'':>9}  {'False':<9}{'ok' if lazy == 'False' else 'FAIL'}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
