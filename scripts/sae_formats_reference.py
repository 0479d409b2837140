#!/usr/bin/python3
"""Small SAEs in the formats other communities publish, with the features their own code computes.

Writes tests/RelpSae.Tests/TestData/community-saes/:
  layer_3/params.npz   Gemma Scope layout (numpy.savez: W_enc [d_in, d_sae], W_dec, b_enc, b_dec, threshold)
  ae.pt                dictionary_learning's AutoEncoder state dict (torch.save: encoder.weight [d_sae, d_in],
                       encoder.bias, decoder.weight [d_in, d_sae], bias)
  expected.json        inputs x [3, d_in] and, per file, the features f and reconstructions x_hat computed
                       with each library's formulas (Gemma Scope's JumpReLU without b_dec shift;
                       dictionary_learning's relu(encoder(x - bias)) and decoder(f) + bias)

Run: /usr/bin/python3 scripts/sae_formats_reference.py   (from the repository root)
"""
import json
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "RelpSae.Tests", "TestData", "community-saes")
D_IN, D_SAE = 8, 12


def main():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, D_IN)).astype(np.float32)
    os.makedirs(os.path.join(OUT, "layer_3"), exist_ok=True)

    gs = {"W_enc": rng.normal(size=(D_IN, D_SAE)), "W_dec": rng.normal(size=(D_SAE, D_IN)),
          "b_enc": rng.normal(size=D_SAE) * 0.5, "b_dec": rng.normal(size=D_IN) * 0.5, "threshold": rng.uniform(0, 1, size=D_SAE)}
    gs = {k: v.astype(np.float32) for k, v in gs.items()}
    np.savez(os.path.join(OUT, "layer_3", "params.npz"), **gs)
    pre = x @ gs["W_enc"] + gs["b_enc"]
    f_gs = (pre > gs["threshold"]) * np.maximum(pre, 0)
    xhat_gs = f_gs @ gs["W_dec"] + gs["b_dec"]

    g = torch.Generator().manual_seed(4)
    ae = {"encoder.weight": torch.randn(D_SAE, D_IN, generator=g), "encoder.bias": torch.randn(D_SAE, generator=g) * 0.5,
          "decoder.weight": torch.randn(D_IN, D_SAE, generator=g), "bias": torch.randn(D_IN, generator=g) * 0.5}
    torch.save(ae, os.path.join(OUT, "ae.pt"))
    xt = torch.tensor(x)
    f_dl = torch.relu((xt - ae["bias"]) @ ae["encoder.weight"].T + ae["encoder.bias"])
    xhat_dl = f_dl @ ae["decoder.weight"].T + ae["bias"]

    expected = {"x": x.tolist(),
                "gemma_scope": {"f": f_gs.tolist(), "x_hat": xhat_gs.tolist()},
                "dictionary_learning": {"f": f_dl.tolist(), "x_hat": xhat_dl.tolist()}}
    with open(os.path.join(OUT, "expected.json"), "w") as fh:
        json.dump(expected, fh)


if __name__ == "__main__":
    main()
