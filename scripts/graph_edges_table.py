#!/usr/bin/env python3
"""Edge faithfulness of attribution graphs over many prompts: runs `relp-sae graph` (measuring every kept edge
against patching) on the first words of the first N documents of a text file, and prints, per method and edge
type, the mean over prompts of Pearson r, Spearman, sign agreement and relative error, with their range.

  scripts/graph_edges_table.py [--n 20] [--words 8] [--data data/tarot-samples-seed2.txt] [-- GRAPH OPTIONS]

Uses `relp-sae` from PATH (the embedded model and transcoders unless graph options say otherwise).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

KEYS = ["pearson", "spearman", "sign_agreement", "relative_error"]


def prompts(path, n, words):
    docs = [d.strip() for d in open(path, encoding="utf-8").read().split("\n\n") if d.strip()]
    return [" ".join(d.split()[:words]) for d in docs[:n]]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--words", type=int, default=8)
    parser.add_argument("--data", default="data/tarot-samples-seed2.txt")
    parser.add_argument("rest", nargs="*")
    args = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, prompt in enumerate(prompts(args.data, args.n, args.words)):
            out = os.path.join(tmp, str(i))
            done = subprocess.run(["relp-sae", "graph", "--prompt", prompt, "--out", out, *args.rest], capture_output=True, text=True)
            if done.returncode != 0:
                sys.exit(f"prompt {i} ({prompt!r}): {done.stderr.strip()}")
            runs.append(json.load(open(os.path.join(out, "results.json"))))
    methods = [m["name"] for m in runs[0]["edges"]["methods"]]
    types = [k for k in runs[0]["edges"]["methods"][0] if k != "name"]
    edges = [r["edges_measured"] for r in runs]
    print(f"{len(runs)} prompts, {min(edges)}–{max(edges)} kept edges each (mean {statistics.mean(edges):.0f}); "
          "mean over prompts [min, max]\n")
    print("| edges | method | pearson | spearman | sign agreement | relative error |")
    print("|---|---|---|---|---|---|")
    for t in types:
        for m in methods:
            cells = []
            for key in KEYS:
                values = [next(x for x in r["edges"]["methods"] if x["name"] == m)[t][key] for r in runs]
                values = [v for v in values if v is not None]
                cells.append(f"{statistics.mean(values):.3f} [{min(values):.2f}, {max(values):.2f}]" if values else "—")
            print(f"| {t} | {m} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
