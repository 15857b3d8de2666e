"""Run every bench script in this folder and print their tables one after another."""
from __future__ import annotations

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

if __name__ == "__main__":
    only = sys.argv[1:]
    for name in sorted(os.listdir(HERE)):
        if name.startswith("bench_") and name.endswith(".py") and (not only or any(o in name for o in only)):
            print(f"\n== {name}", flush=True)
            subprocess.run([sys.executable, os.path.join(HERE, name)], check=False)
