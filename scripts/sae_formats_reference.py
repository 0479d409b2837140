#!/usr/bin/python3
"""Small SAEs in the formats other communities publish, with the features their own code computes.

Writes tests/RelpSae.Tests/TestData/community-saes/:
  layer_3/params.npz   Gemma Scope layout (numpy.savez: W_enc [d_in, d_sae], W_dec, b_enc, b_dec, threshold)
  resid_post/layer_2_width_16k_l0_small/params.safetensors
                       Gemma Scope 2 layout (w_enc [d_in, d_sae], w_dec, b_enc, b_dec, threshold)
  Llama3_1-8B-Base-L1R-8x/hyperparams.json, checkpoints/final.safetensors
                       Llama Scope layout (encoder.weight [d_sae, d_in], encoder.bias, decoder.weight [d_in, d_sae],
                       decoder.bias; one jump_relu_threshold and the dataset-wise input norm in hyperparams.json)
  ae.pt                dictionary_learning's AutoEncoder state dict (torch.save: encoder.weight [d_sae, d_in],
                       encoder.bias, decoder.weight [d_in, d_sae], bias)
  expected.json        inputs x [3, d_in] and, per file, the features f and reconstructions x_hat computed
                       with each library's formulas (Gemma Scope's JumpReLU without b_dec shift;
                       dictionary_learning's relu(encoder(x - bias)) and decoder(f) + bias; Gemma Scope 2's
                       JumpReLU as Gemma Scope's; Llama Scope as SAELens' llama_scope converter defines it, written
                       out unfolded: the input scaled by s = sqrt(d_model) / norm_in, the threshold by s too, and
                       the reconstruction scaled back by 1/s)

Run: /usr/bin/python3 scripts/sae_formats_reference.py   (from the repository root)
"""
import json
import os
import struct

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "RelpSae.Tests", "TestData", "community-saes")
D_IN, D_SAE = 8, 12


def write_safetensors(path, tensors):
    """safetensors by hand (the format is a little-endian header length, a JSON header and the raw float32 data)."""
    header, offset, blobs = {}, 0, []
    for name, array in tensors.items():
        blob = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


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

    gs2_dir = os.path.join(OUT, "resid_post", "layer_2_width_16k_l0_small")
    os.makedirs(gs2_dir, exist_ok=True)
    gs2 = {"w_enc": rng.normal(size=(D_IN, D_SAE)), "w_dec": rng.normal(size=(D_SAE, D_IN)),
           "b_enc": rng.normal(size=D_SAE) * 0.5, "b_dec": rng.normal(size=D_IN) * 0.5, "threshold": rng.uniform(0, 1, size=D_SAE)}
    gs2 = {k: v.astype(np.float32) for k, v in gs2.items()}
    write_safetensors(os.path.join(gs2_dir, "params.safetensors"), gs2)
    pre = x.astype(np.float64) @ gs2["w_enc"] + gs2["b_enc"]
    f_gs2 = (pre > gs2["threshold"]) * np.maximum(pre, 0)
    xhat_gs2 = f_gs2 @ gs2["w_dec"] + gs2["b_dec"]

    ls_dir = os.path.join(OUT, "Llama3_1-8B-Base-L1R-8x")
    os.makedirs(os.path.join(ls_dir, "checkpoints"), exist_ok=True)
    ls = {"encoder.weight": rng.normal(size=(D_SAE, D_IN)) * 0.3, "encoder.bias": rng.normal(size=D_SAE) * 0.5,
          "decoder.weight": rng.normal(size=(D_IN, D_SAE)), "decoder.bias": rng.normal(size=D_IN) * 0.5}
    ls = {k: v.astype(np.float32) for k, v in ls.items()}
    write_safetensors(os.path.join(ls_dir, "checkpoints", "final.safetensors"), ls)
    norm_in, threshold = 0.75, 0.5
    hyperparams = {"d_model": D_IN, "d_sae": D_SAE, "act_fn": "jumprelu", "jump_relu_threshold": threshold, "top_k": 50,
                   "norm_activation": "dataset-wise", "dataset_average_activation_norm": {"in": norm_in, "out": norm_in},
                   "apply_decoder_bias_to_pre_encoder": False, "use_decoder_bias": True, "sparsity_include_decoder_norm": True,
                   "hook_point_in": "blocks.1.hook_resid_post", "hook_point_out": "blocks.1.hook_resid_post"}
    with open(os.path.join(ls_dir, "hyperparams.json"), "w") as fh:
        json.dump(hyperparams, fh, indent=2)
    scale = np.sqrt(D_IN) / norm_in
    pre = (x.astype(np.float64) * scale) @ ls["encoder.weight"].T.astype(np.float64) + ls["encoder.bias"]
    f_ls = (pre > threshold * scale) * np.maximum(pre, 0)
    # The file tells the threshold's scaling apart: some pre-activations lie between the threshold and the scaled one.
    assert ((pre > threshold) & (pre <= threshold * scale)).any() and (f_ls > 0).any()
    xhat_ls = (f_ls @ ls["decoder.weight"].T.astype(np.float64) + ls["decoder.bias"]) / scale

    expected = {"x": x.tolist(),
                "gemma_scope": {"f": f_gs.tolist(), "x_hat": xhat_gs.tolist()},
                "dictionary_learning": {"f": f_dl.tolist(), "x_hat": xhat_dl.tolist()},
                "gemma_scope_2": {"f": f_gs2.tolist(), "x_hat": xhat_gs2.tolist()},
                "llama_scope": {"f": f_ls.tolist(), "x_hat": xhat_ls.tolist()}}
    with open(os.path.join(OUT, "expected.json"), "w") as fh:
        json.dump(expected, fh)


if __name__ == "__main__":
    main()
