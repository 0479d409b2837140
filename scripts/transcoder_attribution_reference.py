#!/usr/bin/python3
"""Golden attribution to a single-layer transcoder's features, from the independent PyTorch pass of
llama_neox_reference.py (and a plain-torch GPT-2 here, after Hugging Face's GPT2LMHeadModel).

For each case a transcoder of seeded random weights is written in circuit-tracer's layout (layer_L.safetensors beside
config.yaml: W_enc [d_sae, d], W_dec [d_sae, d], b_enc, b_dec, activation_function.threshold, and W_skip [d, d] with a
skip connection) and spliced in place of block L's MLP for one prompt: the MLP's output y = ŷ + ε with
ŷ = f @ W_dec + b_dec (+ x @ W_skip.T), f = JumpReLU(x @ W_enc.T + b_enc) of the input hook's x, and ε = y - ŷ held
fixed. The features are made leaves, the residual after the block is rest + ŷ(f) + ε, the model after it runs under each
method's rules (gradient, relp, relp-ah, detached as llama_neox_reference.py detaches them), and the metric logit(target)
- logit(foil) at the last position is differentiated: a feature's score against the zero baseline is f * dm/df.
With the clean input fixed, the skip connection's term is a constant: it moves the error node's score, not a feature's.

Writes tests/RelpSae.Tests/TestData/transcoder-goldens/<case>/: config.yaml, layer_L.safetensors, golden.json
(tokens, target, foil, the features f [T, d_sae], each method's scores [T, d_sae] and its error node's score
(ε · dm/dy summed, the skip connection's term counted in ε as the C# splice counts it)).

And clt-tarot-gpt2/: a cross-layer transcoder of seeded random weights on tarot-gpt2 in circuit-tracer's layout
(W_enc_i / W_dec_i.safetensors, config.yaml; every layer's features read ln2.hook_normalized and write hook_mlp_out of
it and every later layer) and golden.json: every layer's features and, per method, every feature's score and the error
nodes'. Each feature is a leaf added along its decoders to the real model's MLP outputs (the error nodes pass the
gradient through, the later MLPs respond), so dm/df_l' = sum over l >= l' of W_dec[l'->l] . dm/dy_l under the rules.

Run: /usr/bin/python3 scripts/transcoder_attribution_reference.py   (from the repository root)
"""
import json
import math
import os

import torch

from llama_neox_reference import DATA, Gemma2, Llama, activation, attention, gelu_new, hook_state, layer_norm, linear, \
    read_safetensors, run_from, write_safetensors

OUT = os.path.join(DATA, "transcoder-goldens")
METHODS = {"gradient": set(), "relp": {"ln", "identity", "half"}, "relp-ah": {"ln", "identity", "ah"}}


class Gpt2:
    """HF GPT2LMHeadModel (Conv1D weights [in, out], gelu_new, tied head), with llama_neox_reference's block interface."""

    def __init__(self, cfg, t):
        self.c, self.t, self.L, self.H = cfg, t, cfg["n_layer"], cfg["n_head"]

    def embed(self, ids):
        return self.t["transformer.wte.weight"][ids] + self.t["transformer.wpe.weight"][torch.arange(ids.shape[1])]

    def ln(self, x, name, rules):
        return layer_norm(x, self.t[name + ".weight"], self.t[name + ".bias"], self.c["layer_norm_epsilon"], rules)

    def attn(self, l, x, rules):
        t, p = self.t, f"transformer.h.{l}."
        B, T, d = x.shape
        qkv = linear(self.ln(x, p + "ln_1", rules), t[p + "attn.c_attn.weight"].T, t[p + "attn.c_attn.bias"])
        q, k, v = (u.view(B, T, self.H, d // self.H).transpose(1, 2) for u in qkv.split(d, dim=-1))
        return linear(attention(q, k, v, rules), t[p + "attn.c_proj.weight"].T, t[p + "attn.c_proj.bias"])

    def mlp(self, l, x, rules):
        t, p = self.t, f"transformer.h.{l}."
        h = activation(linear(self.ln(x, p + "ln_2", rules), t[p + "mlp.c_fc.weight"].T, t[p + "mlp.c_fc.bias"]), gelu_new, rules)
        return linear(h, t[p + "mlp.c_proj.weight"].T, t[p + "mlp.c_proj.bias"])

    def block(self, l, x, rules, start="pre"):
        if start == "pre":
            x = x + self.attn(l, x, rules)
        return x + self.mlp(l, x, rules)

    def logits(self, x, rules):
        return linear(self.ln(x, "transformer.ln_f", rules), self.t["transformer.wte.weight"])


def normalized(model, x):
    """ln2.hook_normalized: the MLP norm's x-hat before its scale (LayerNorm's (x - mean)/sigma, RMSNorm's x/rms)."""
    if isinstance(model, Gpt2):
        return layer_norm(x, 1, 0, model.c["layer_norm_epsilon"], set())
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + model.c["rms_norm_eps"])


def case(name, model, layer, input_hook, output_hook, ids, target, foil, skip, seed):
    with torch.no_grad():
        mid = hook_state(model, ids, layer, "mid")
        y = model.mlp(layer, mid, set())
        x = normalized(model, mid) if input_hook == "ln2.hook_normalized" else mid
    d = mid.shape[-1]
    n = d
    g = torch.Generator().manual_seed(seed)
    w = {"W_enc": torch.randn(n, d, generator=g) / math.sqrt(d), "W_dec": torch.randn(n, d, generator=g) * 0.3,
         "b_enc": torch.randn(n, generator=g) * 0.1, "b_dec": torch.randn(d, generator=g) * 0.1,
         "activation_function.threshold": torch.rand(n, generator=g) * 0.3}
    if skip:
        w["W_skip"] = torch.randn(d, d, generator=g) * (0.1 / math.sqrt(d))
    with torch.no_grad():
        pre = x @ w["W_enc"].T + w["b_enc"]
        f = pre * (pre > w["activation_function.threshold"])
        # The skip connection's term rides with the error node, as the C# splice keeps it: ε = y − (f @ W_dec + b_dec).
        error = y - (f @ w["W_dec"] + w["b_dec"])
    golden = {"tokens": ids[0].tolist(), "target": target, "foil": foil, "layer": layer,
              "features": [float("%.8g" % v) for v in f[0].flatten()], "scores": {}, "error_node": {}}
    for method, rules in METHODS.items():
        leaf, error_leaf = f.clone().requires_grad_(True), error.clone().requires_grad_(True)
        residual = mid + leaf @ w["W_dec"] + w["b_dec"] + error_leaf
        logits = run_from(model, residual, layer + 1, "pre", rules)
        (logits[0, -1, target] - logits[0, -1, foil]).backward()
        golden["scores"][method] = [float("%.8g" % v) for v in (f * leaf.grad)[0].flatten()]
        golden["error_node"][method] = float((error * error_leaf.grad).sum())
    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    write_safetensors(os.path.join(folder, f"layer_{layer}.safetensors"), w)
    with open(os.path.join(folder, "config.yaml"), "w") as fh:
        fh.write(f'model_kind: transcoder_set\nfeature_input_hook: "{input_hook}"\nfeature_output_hook: "{output_hook}"\n')
    with open(os.path.join(folder, "golden.json"), "w") as fh:
        json.dump(golden, fh)


def clt_case(name, model, ids, target, foil, n, seed):
    layers = model.L
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        x, inputs, outputs = model.embed(ids), [], []
        for l in range(layers):
            x = x + model.attn(l, x, set())
            inputs.append(normalized(model, x))
            outputs.append(model.mlp(l, x, set()))
            x = x + outputs[-1]
    d = x.shape[-1]
    w_enc = torch.randn(layers, n, d, generator=g) / math.sqrt(d)
    b_enc = torch.randn(layers, n, generator=g) * 0.1
    b_dec = torch.randn(layers, d, generator=g) * 0.1
    threshold = torch.rand(layers, n, generator=g) * 0.3
    w_dec = [torch.randn(n, layers - i, d, generator=g) * 0.3 for i in range(layers)]
    with torch.no_grad():
        pre = [inputs[l] @ w_enc[l].T + b_enc[l] for l in range(layers)]
        f = [pre[l] * (pre[l] > threshold[l]) for l in range(layers)]
        error = [outputs[l] - b_dec[l] - sum(f[s] @ w_dec[s][:, l - s, :] for s in range(l + 1)) for l in range(layers)]
    golden = {"tokens": ids[0].tolist(), "target": target, "foil": foil,
              "features": [[float("%.8g" % v) for v in f[l][0].flatten()] for l in range(layers)], "scores": {}, "error_node": {}}
    for method, rules in METHODS.items():
        leaves = [fl.clone().requires_grad_(True) for fl in f]
        taps = [torch.zeros_like(y, requires_grad=True) for y in outputs]
        x = model.embed(ids)
        for l in range(layers):
            x = x + model.attn(l, x, rules)
            nudge = sum((leaves[s] - f[s]) @ w_dec[s][:, l - s, :] for s in range(l + 1))
            x = x + model.mlp(l, x, rules) + nudge + taps[l]
        logits = model.logits(x, rules)
        (logits[0, -1, target] - logits[0, -1, foil]).backward()
        golden["scores"][method] = [[float("%.8g" % v) for v in (f[l] * leaves[l].grad)[0].flatten()] for l in range(layers)]
        golden["error_node"][method] = float(sum((error[l] * taps[l].grad).sum() for l in range(layers)))
    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    for i in range(layers):
        write_safetensors(os.path.join(folder, f"W_enc_{i}.safetensors"),
                          {f"W_enc_{i}": w_enc[i], f"b_enc_{i}": b_enc[i], f"b_dec_{i}": b_dec[i], f"threshold_{i}": threshold[i]})
        write_safetensors(os.path.join(folder, f"W_dec_{i}.safetensors"), {f"W_dec_{i}": w_dec[i]})
    with open(os.path.join(folder, "config.yaml"), "w") as fh:
        fh.write('model_kind: cross_layer_transcoder\nfeature_input_hook: "ln2.hook_normalized"\nfeature_output_hook: "hook_mlp_out"\n')
    with open(os.path.join(folder, "golden.json"), "w") as fh:
        json.dump(golden, fh)


def main():
    gpt2_folder = os.path.join(DATA, "tarot-gpt2")
    gpt2 = Gpt2(json.load(open(os.path.join(gpt2_folder, "config.json"))),
                torch.load(os.path.join(gpt2_folder, "pytorch_model.bin"), map_location="cpu"))
    llama_folder = os.path.join(DATA, "stories260K-llama")
    llama = Llama(json.load(open(os.path.join(llama_folder, "config.json"))), read_safetensors(os.path.join(llama_folder, "model.safetensors")))
    gemma_folder = os.path.join(DATA, "tiny-gemma2")
    gemma = Gemma2(json.load(open(os.path.join(gemma_folder, "config.json"))), read_safetensors(os.path.join(gemma_folder, "model.safetensors")))
    tarot = torch.tensor([[44, 79, 296, 271, 724, 338]])
    story = torch.tensor([[1, 461, 461, 401, 401, 401]])
    small = torch.tensor([[1, 5, 9, 33, 2, 60]])
    for skip in (False, True):
        suffix = "-skip" if skip else ""
        case("tarot-gpt2" + suffix, gpt2, 1, "ln2.hook_normalized", "hook_mlp_out", tarot, 724, 338, skip, 21 + 10 * skip)
        case("stories260K-llama" + suffix, llama, 2, "hook_resid_mid", "mlp.hook_out", story, 461, 401, skip, 22 + 10 * skip)
        case("tiny-gemma2" + suffix, gemma, 0, "ln2.hook_normalized", "hook_mlp_out", small, 7, 3, skip, 23 + 10 * skip)
    clt_case("clt-tarot-gpt2", gpt2, tarot, 724, 338, 32, 41)


if __name__ == "__main__":
    main()
