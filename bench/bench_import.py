"""Batch import benchmark: the 8,800-row pipeline of the public data set, and 10,000 generated leads.

Run ``python bench/bench_import.py`` (or ``make bench``). In a temporary book
made by ``crmctl init`` it imports the data set's accounts, products and
sales teams with the example mappings, then times importing the pipeline
(``crmctl import opportunities``, a real subprocess, git commit included)
against PyYAML's C dumper writing the same records as files, and measures
peak memory (``resource.getrusage`` in the child) importing 10,000 leads.
"""
from __future__ import annotations

import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
DATASET = Path(os.environ.get("CRMCTL_DATASET", REPO.parent / "shared" / "datasets" / "crm-sales-opportunities"))
EXAMPLES = REPO / "examples" / "datasets" / "crm-sales-opportunities"
# runs crmctl in this child and reports the child's own peak memory on stderr
CHILD = ("import resource, sys\nfrom crmctl.cli import cli\ntry:\n    cli.main(sys.argv[1:], prog_name='crmctl')\n"
         "finally:\n    print('maxrss_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n")


def crmctl(book: Path, *args: str) -> tuple[float, int, str]:
    """Run crmctl in a subprocess: seconds, peak RSS in KiB, stderr."""
    env = {**os.environ, "CRMCTL_USER": "", "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, "--book", str(book), *args], capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"crmctl {' '.join(args)} failed:\n{proc.stderr}")
    rss = next((int(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("maxrss_kb")), 0)
    return elapsed, rss, proc.stderr


def make_book(root: Path, settings: Path | None = None) -> Path:
    book = root / "book"
    subprocess.run([sys.executable, "-m", "crmctl", "init", str(book)], check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(REPO)})
    if settings:
        shutil.copy(settings, book / "crm.yaml")
        subprocess.run(["git", "-C", str(book), "add", "-A"], check=True)
        subprocess.run(["git", "-C", str(book), "-c", "user.name=bench", "-c", "user.email=bench@localhost",
                        "commit", "-qm", "settings"], check=True)
    return book


def cdumper_baseline(records: list[dict[str, object]], folder: Path) -> float:
    """PyYAML's CDumper writing each record to its own file: the floor for any YAML-per-file writer."""
    folder.mkdir(parents=True)
    start = time.perf_counter()
    for n, data in enumerate(records):
        with open(folder / f"{n:06d}.yaml", "w", encoding="utf-8") as handle:
            handle.write(yaml.dump(data, Dumper=yaml.CDumper, allow_unicode=True, sort_keys=False))
    os.sync()
    return time.perf_counter() - start


def generate_leads(path: Path, count: int) -> None:
    rng = random.Random(7)
    first = ["Wei", "Jing", "Lei", "Na", "Tao", "Anna", "Tom", "Maria", "Ken", "Yuki"]
    last = ["Wang", "Li", "Zhang", "Liu", "Chen", "Smith", "Baker", "Garcia", "Sato", "Kim"]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "company", "email", "phone", "source", "city", "score"])
        for n in range(count):
            name = f"{rng.choice(first)} {rng.choice(last)} {n}"
            writer.writerow([name, f"Company {n // 3}", f"lead{n}@example.com", f"+86 138 {n:04d} {n % 10000:04d}",
                             rng.choice(["web", "referral", "trade_show"]), rng.choice(["Shanghai", "Suzhou", "Ningbo"]),
                             rng.randint(0, 100)])


def main() -> None:
    if not (DATASET / "sales_pipeline.csv").exists():
        raise SystemExit(f"data set not found at {DATASET}; set CRMCTL_DATASET")
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        book = make_book(tmp, EXAMPLES / "crm.yaml")
        steps = (("accounts", "accounts.csv", "accounts.yaml"), ("products", "products.csv", "products.yaml"),
                 ("users", "sales_teams.csv", "managers.yaml"), ("users", "sales_teams.csv", "users.yaml"))
        for rtype, csv_name, mapping in steps:
            crmctl(book, "import", rtype, str(DATASET / csv_name), "--mapping", str(EXAMPLES / mapping))
        seconds, rss, _ = crmctl(book, "import", "opportunities", str(DATASET / "sales_pipeline.csv"), "--mapping",
                                 str(EXAMPLES / "opportunities.yaml"), "--skip-invalid", "--rejected", str(tmp / "rejected.csv"))
        files = sorted((book / "records" / "opportunities").glob("*.yaml"))
        records = [yaml.load(f.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) for f in files]
        baseline = cdumper_baseline(records, tmp / "baseline")
        again, _, _ = crmctl(book, "import", "opportunities", str(DATASET / "sales_pipeline.csv"), "--mapping",
                             str(EXAMPLES / "opportunities.yaml"), "--skip-invalid", "--rejected", str(tmp / "rejected.csv"))
        print(f"pipeline import {seconds:.2f} s, baseline {baseline:.2f} s, re-run {again:.2f} s", file=sys.stderr)
        rows.append((f"import 8,800-row pipeline ({len(files)} created)", f"{seconds:.2f} s", "< 20 s"))
        rows.append((f"PyYAML CDumper writing the same {len(records)} files", f"{baseline:.2f} s", ""))
        rows.append(("import / CDumper", f"{seconds / baseline:.2f}x", "< 3x"))
        rows.append(("re-run of the same import (nothing changes)", f"{again:.2f} s", ""))
        rows.append(("peak memory, pipeline import", f"{rss / 1024:.0f} MB", ""))

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        book = make_book(tmp)
        leads = tmp / "leads.csv"
        generate_leads(leads, 10_000)
        seconds, rss, _ = crmctl(book, "import", "leads", str(leads))
        rows.append(("import 10,000 generated leads", f"{seconds:.2f} s", ""))
        rows.append(("peak memory, 10,000 leads (getrusage in the child)", f"{rss / 1024:.0f} MB", "< 400 MB"))

    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>10}  target")
    print(f"{'-' * width}  {'-' * 10}  ------")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>10}  {target}")


if __name__ == "__main__":
    main()
