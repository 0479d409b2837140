#!/usr/bin/python3
"""Writes src/RelpSae/Hub/gemma-scope-releases.json: the Gemma Scope residual-stream releases of SAELens' release
table (sae_lens/pretrained_saes.yaml), each SAE id with its folder in the Hub repository. Only the blocks'
residual SAEs (layer_N/...: blocks.N.hook_resid_post); the embedding's are left out.

Run: /usr/bin/python3 scripts/gemma_scope_releases.py PATH/TO/sae_lens/pretrained_saes.yaml   (from the repository root)
"""
import json
import os
import sys

import yaml

RELEASES = ["gemma-scope-2b-pt-res", "gemma-scope-2b-pt-res-canonical", "gemma-scope-9b-pt-res", "gemma-scope-9b-pt-res-canonical"]
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "RelpSae", "Hub", "gemma-scope-releases.json")


def main(table_path):
    table = yaml.safe_load(open(table_path))
    out = {}
    for name in RELEASES:
        release = table[name]
        assert release["conversion_func"] == "gemma_2", name
        saes = {s["id"]: s["path"] for s in release["saes"] if s["id"].startswith("layer_")}
        out[name] = {"repo_id": release["repo_id"], "model": release["model"], "saes": saes}
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print(OUT, {k: len(v["saes"]) for k, v in out.items()})


if __name__ == "__main__":
    main(sys.argv[1])
