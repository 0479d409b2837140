#!/usr/bin/python3
"""Small transcoders in circuit-tracer's per-layer layout, with the outputs circuit-tracer's formulas give.

Writes tests/RelpSae.Tests/TestData/transcoders/:
  config.yaml          the set's config as circuit-tracer's Hugging Face repositories ship it (model_name,
                       feature_input_hook, feature_output_hook, without the blocks.N. prefix)
  layer_0.safetensors  JumpReLU: W_enc [d_sae, d_model], W_dec [d_sae, d_model], b_enc, b_dec,
                       activation_function.threshold [d_sae] (the layout SingleLayerTranscoder.to_safetensors writes)
  layer_1.safetensors  ReLU with a skip connection W_skip [d_model, d_model], in the older layout whose W_dec is
                       [d_model, d_sae] (circuit-tracer's first loader transposed it on load)
  expected.json        inputs x [3, d_model] and, per file, the features f and outputs y computed as
                       SingleLayerTranscoder does: f = act(F.linear(x, W_enc, b_enc)), y = f @ W_dec + b_dec + x @ W_skip.T

Run: /usr/bin/python3 scripts/transcoder_formats_reference.py   (from the repository root)
"""
import json
import os

import torch
import torch.nn.functional as F

from sae_formats_reference import write_safetensors

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "RelpSae.Tests", "TestData", "transcoders")
D, D_SAE = 8, 12


def main():
    g = torch.Generator().manual_seed(11)
    os.makedirs(OUT, exist_ok=True)
    x = torch.randn(3, D, generator=g)
    expected = {"x": x.tolist()}

    jump = {"W_enc": torch.randn(D_SAE, D, generator=g), "W_dec": torch.randn(D_SAE, D, generator=g),
            "b_enc": torch.randn(D_SAE, generator=g) * 0.5, "b_dec": torch.randn(D, generator=g) * 0.5,
            "activation_function.threshold": torch.rand(D_SAE, generator=g)}
    pre = F.linear(x, jump["W_enc"], jump["b_enc"])
    f = pre * (pre > jump["activation_function.threshold"])
    expected["layer_0"] = {"f": f.tolist(), "y": (f @ jump["W_dec"] + jump["b_dec"]).tolist()}
    write_safetensors(os.path.join(OUT, "layer_0.safetensors"), {k: v.numpy() for k, v in jump.items()})

    skip = {"W_enc": torch.randn(D_SAE, D, generator=g), "W_dec": torch.randn(D_SAE, D, generator=g),
            "b_enc": torch.randn(D_SAE, generator=g) * 0.5, "b_dec": torch.randn(D, generator=g) * 0.5,
            "W_skip": torch.randn(D, D, generator=g) * 0.3}
    f = torch.relu(F.linear(x, skip["W_enc"], skip["b_enc"]))
    expected["layer_1"] = {"f": f.tolist(), "y": (f @ skip["W_dec"] + skip["b_dec"] + x @ skip["W_skip"].T).tolist()}
    stored = dict(skip, W_dec=skip["W_dec"].T.contiguous())
    write_safetensors(os.path.join(OUT, "layer_1.safetensors"), {k: v.numpy() for k, v in stored.items()})

    with open(os.path.join(OUT, "config.yaml"), "w") as fh:
        fh.write('model_name: "tiny/model"  # a test set\nmodel_kind: "transcoder_set"\n'
                 'feature_input_hook: "mlp.hook_in"\nfeature_output_hook: \'mlp.hook_out\'\n')
    with open(os.path.join(OUT, "expected.json"), "w") as fh:
        json.dump(expected, fh)


if __name__ == "__main__":
    main()
