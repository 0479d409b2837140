#!/usr/bin/python3
"""Writes src/RelpSae/Hub/sae-releases.json: the releases of SAELens' release table (sae_lens/pretrained_saes.yaml)
that this tool loads through a converter, each SAE id with its path in the Hub repository and the converter
SAELens names (conversion_func):

- gemma_2: Gemma Scope's residual-stream releases for Gemma-2 (layer_N/... ids: blocks.N.hook_resid_post; the
  embedding's are left out), a params.npz per SAE;
- gemma_2_transcoder: Gemma Scope's transcoders for Gemma-2 2B (gemma-scope-2b-pt-transcoders, layer_N/... ids), a
  params.npz per transcoder;
- gemma_3: Gemma Scope 2's residual-stream, MLP-output and transcoder releases for Gemma 3 (resid_post[_all]/layer_N_...,
  mlp_out[_all]/layer_N_... and transcoder[_all]/layer_N_..., the affine ones with their skip connection), a
  params.safetensors per SAE; the attention (attn.hook_z) releases are left out;
- llama_scope: Llama Scope's releases for Llama-3.1 8B (residual, attention-output and MLP-output SAEs), a folder
  per SAE with hyperparams.json and checkpoints/final.safetensors. llama_scope_r1_distill, stored another way,
  is left out.

Run: /usr/bin/python3 scripts/sae_releases.py PATH/TO/sae_lens/pretrained_saes.yaml [RELEASE ...]   (from the repository root)
With release names, only those are (re)written into the committed table, the rest kept.
The committed table comes from SAELens 6.37.6; gemma-scope-2b-pt-transcoders from SAELens 6.18.0 (its ids are the ones
circuit-tracer's gemmascope-l0-0.yaml lists).
"""
import json
import os
import re
import sys

import yaml

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "RelpSae", "Hub", "sae-releases.json")
GEMMA_SCOPE = ["gemma-scope-2b-pt-res", "gemma-scope-2b-pt-res-canonical", "gemma-scope-9b-pt-res", "gemma-scope-9b-pt-res-canonical",
               "gemma-scope-2b-pt-transcoders"]
GEMMA_SCOPE_2 = re.compile(r"^gemma-scope-2-[0-9]+[mb]-(pt|it)-(res|mlp|transcoders)(-all)?$")
LLAMA_SCOPE = re.compile(r"^llama_scope_lx[ram]_(8|32)x$")
# Where each converter's SAEs lie in their repository: what the loader's hook and files are read from.
PATHS = {
    "gemma_2": re.compile(r"^layer_\d+/width_\w+/average_l0_\d+$"),
    "gemma_2_transcoder": re.compile(r"^layer_\d+/width_\w+/average_l0_\d+$"),
    "gemma_3": re.compile(r"^(resid_post|mlp_out|transcoder)(_all)?/layer_\d+_width_\w+$"),
    "llama_scope": re.compile(r"^Llama3_1-8B-Base-L\d+[RAM]-(8|32)x$"),
}


def main(table_path, only):
    table = yaml.safe_load(open(table_path))
    names = sorted(GEMMA_SCOPE + [n for n in table if GEMMA_SCOPE_2.match(n) or LLAMA_SCOPE.match(n)])
    out = {}
    if only:
        names = [n for n in names if n in only]
        assert set(names) == set(only), set(only) - set(names)
        out = json.load(open(OUT))
    for name in names:
        release = table[name]
        convert = release["conversion_func"]
        saes = {s["id"]: s["path"] for s in release["saes"] if convert != "gemma_2" or s["id"].startswith("layer_")}
        for path in saes.values():
            assert PATHS[convert].match(path), (name, path)
        out[name] = {"conversion_func": convert, "repo_id": release["repo_id"], "model": release["model"], "saes": saes}
    out = dict(sorted(out.items()))
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)   # each release's ids in SAELens' order, which error messages list
        f.write("\n")
    print(OUT, {k: len(v["saes"]) for k, v in out.items()})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
