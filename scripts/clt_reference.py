#!/usr/bin/python3
"""Small cross-layer transcoders in circuit-tracer's layout, with the features and outputs its formulas give.

Writes tests/RelpSae.Tests/TestData/clt/:
  jumprelu/            config.yaml (model_kind: cross_layer_transcoder, feature_input_hook ln2.hook_normalized,
                       feature_output_hook hook_mlp_out) and, per layer i of 3, W_enc_i.safetensors (W_enc_i [d_sae, d_model],
                       b_enc_i [d_sae], b_dec_i [d_model], threshold_i [d_sae]) and W_dec_i.safetensors (W_dec_i
                       [d_sae, 3 - i, d_model]): what CrossLayerTranscoder.to_safetensors writes
  relu/                the same layout without thresholds (ReLU) and without a config.yaml (load_clt's default hooks)
  expected.json        inputs x [3 layers, 4 positions, d_model] and, per folder, the features f [3, 4, d_sae] and outputs
                       y [3, 4, d_model] computed as CrossLayerTranscoder does: f = act(einsum("lbd,lfd->lbf", x, W_enc)
                       + b_enc), y_l = b_dec_l + sum over l' <= l of f_l' @ W_dec_l'[:, l - l', :]

Run: /usr/bin/python3 scripts/clt_reference.py   (from the repository root)
"""
import json
import os

import torch

from sae_formats_reference import write_safetensors

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "RelpSae.Tests", "TestData", "clt")
LAYERS, D, D_SAE, POSITIONS = 3, 8, 6, 4


def write(folder, g, x, jump):
    os.makedirs(folder, exist_ok=True)
    w_enc = torch.randn(LAYERS, D_SAE, D, generator=g) / D ** 0.5
    b_enc = torch.randn(LAYERS, D_SAE, generator=g) * 0.3
    b_dec = torch.randn(LAYERS, D, generator=g) * 0.3
    threshold = torch.rand(LAYERS, D_SAE, generator=g) * 0.4
    w_dec = [torch.randn(D_SAE, LAYERS - i, D, generator=g) for i in range(LAYERS)]
    pre = torch.einsum("lbd,lfd->lbf", x, w_enc) + b_enc[:, None]
    f = pre * (pre > threshold[:, None]) if jump else torch.relu(pre)
    y = torch.stack([b_dec[l] + sum(f[s] @ w_dec[s][:, l - s, :] for s in range(l + 1)) for l in range(LAYERS)])
    for i in range(LAYERS):
        enc = {f"W_enc_{i}": w_enc[i], f"b_enc_{i}": b_enc[i], f"b_dec_{i}": b_dec[i]}
        if jump:
            enc[f"threshold_{i}"] = threshold[i]
        write_safetensors(os.path.join(folder, f"W_enc_{i}.safetensors"), {k: v.numpy() for k, v in enc.items()})
        write_safetensors(os.path.join(folder, f"W_dec_{i}.safetensors"), {f"W_dec_{i}": w_dec[i].numpy()})
    return {"f": f.tolist(), "y": y.tolist()}


def main():
    g = torch.Generator().manual_seed(17)
    x = torch.randn(LAYERS, POSITIONS, D, generator=g)
    expected = {"x": x.tolist(),
                "jumprelu": write(os.path.join(OUT, "jumprelu"), g, x, jump=True),
                "relu": write(os.path.join(OUT, "relu"), g, x, jump=False)}
    with open(os.path.join(OUT, "jumprelu", "config.yaml"), "w") as fh:
        fh.write('model_name: "tiny/model"  # a test set\nmodel_kind: cross_layer_transcoder\n'
                 'feature_input_hook: "ln2.hook_normalized"\nfeature_output_hook: "hook_mlp_out"\n')
    with open(os.path.join(OUT, "expected.json"), "w") as fh:
        json.dump(expected, fh)


if __name__ == "__main__":
    main()
