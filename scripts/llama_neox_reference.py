#!/usr/bin/python3
"""Golden logits and gradients for the Llama-family, Qwen3, Gemma-2 and GPT-NeoX tests, from an independent PyTorch
forward pass written here in plain torch after Hugging Face's modeling code (LlamaForCausalLM,
Qwen2ForCausalLM, Qwen3ForCausalLM, Gemma2ForCausalLM, Gemma3ForCausalLM, GPTNeoXForCausalLM, and
modeling_rope_utils' llama3 and linear rotary scaling; PyTorch 1.13, no transformers package).

Writes, under tests/RelpSae.Tests/TestData:
  tiny-qwen2/   random Qwen2 (grouped-query attention, q/k/v biases, untied head), bf16, in two shards
  tiny-llama-mqa/ random Llama (one K/V head, head_dim 16 x 4 heads on width 32, q/k/v/o biases, tied head), f16
  tiny-gemma2/  random Gemma-2 (grouped-query, head_dim 12 x 4 heads on width 32, query_pre_attn_scalar 24,
                attention and final logit soft-capping, sandwich norms with 1+w scales, sqrt(d)-scaled tied embedding)
  tiny-gemma2-window/ tiny-gemma2 whose even layers attend within a window of 3 keys
  tiny-neox/    random GPT-NeoX (parallel residual, rotary_pct 0.5, exact gelu)
  tiny-neox-seq/ random GPT-NeoX (sequential residual, rotary_pct 0.25, gelu_new)
  tiny-qwen3/   random Qwen3 (QK-norm, grouped-query, head_dim 12 x 4 heads on width 32, tied head)
  tiny-llama3-rope/ random Llama with Llama 3.1's rope_scaling (factor 8, low 1, high 4, original context 8,
                so that at head_dim 8 one frequency is interpolated and the others divided by 8)
  tiny-gemma3/  random Gemma 3 (QK-norm with 1+w scales, three layers: sliding, sliding, global; a window of 3 keys
                on six-token prompts; local rope base 100, global 10000 with linear rope_scaling factor 4; no caps)
  <model>/golden.json for these and for stories260K-llama (copied from ../shared/fixtures).

Rule-modified gradients are taken as the seed's fork takes them, by detaching inside the forward pass:
LN/RMS rule: the scale 1/sigma (1/rms) detached; Identity: act(u) = u * (act(u)/u).detach();
Half: h = a*b becomes h/2 + (h/2).detach(); AH: the pattern detached; half-attn: A.v and q.k^T each
become p/2 + (p/2).detach().
Gemma-2 soft-capping, cap * tanh(s / cap): on attention scores it is left exact (it sits inside the pattern,
which AH detaches); on the final logits it is an elementwise activation, so Identity replaces it as above.
Gemma-2 hooks: hook_resid_mid is the residual after adding the post-attention-normed attention output.
Qwen3's QK-norm is an RMSNorm like the others: the LN-rule detaches each head's 1/rms there too (Gemma 3's as well).
Gemma 3's sliding layers mask every key j <= i - sliding_window from query i (masking_utils' sliding window).

Run: /usr/bin/python3 scripts/llama_neox_reference.py [fixture ...]   (from the repository root; every fixture
without names, stories260K-llama's golden.json from ../shared/fixtures)
"""
import json
import math
import os
import shutil
import struct
import sys

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DATA = os.path.join(ROOT, "tests", "RelpSae.Tests", "TestData")
FIXTURE = os.path.join(ROOT, "..", "shared", "fixtures", "stories260K-llama")

RULES = {
    "gradient": set(),
    "ln": {"ln"},
    "identity": {"identity"},
    "half": {"half"},
    "ah": {"ah"},
    "half-attn": {"half-attn"},
    "relp": {"ln", "identity", "half"},
}


# ---------------------------------------------------------------- safetensors without the package

DTYPES = {"F32": (np.float32, 4), "BF16": (None, 2), "F16": (np.float16, 2)}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        raw = data[a:b]
        if e["dtype"] == "BF16":
            bits = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
            arr = bits.view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype=DTYPES[e["dtype"]][0]).astype(np.float32)
        out[name] = torch.tensor(arr.reshape(e["shape"]))
    return out


def write_safetensors(path, tensors, dtype="F32"):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        if dtype == "BF16":
            raw = t.to(torch.bfloat16).view(torch.int16).numpy().tobytes()
        elif dtype == "F16":
            raw = t.to(torch.float16).numpy().tobytes()
        else:
            raw = t.to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


# ---------------------------------------------------------------- rule-aware building blocks

def half(p):
    return p / 2 + (p / 2).detach()


def rms_norm(x, w, eps, rules):
    r = torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    if "ln" in rules:
        r = r.detach()
    return w * (x * r)


def layer_norm(x, w, b, eps, rules):
    xc = x - x.mean(-1, keepdim=True)
    r = torch.rsqrt(xc.pow(2).mean(-1, keepdim=True) + eps)
    if "ln" in rules:
        r = r.detach()
    return xc * r * w + b


def activation(u, fn, rules):
    y = fn(u)
    if "identity" in rules:
        stab = u + torch.where(u < 0, -1e-6, 1e-6)
        return u * (y / stab).detach()
    return y


def gelu_new(u):
    return 0.5 * u * (1 + torch.tanh(math.sqrt(2 / math.pi) * (u + 0.044715 * u ** 3)))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def llama3_scaled(inv_freq, s):
    """modeling_rope_utils' llama3 type: frequencies of wavelength above original/low divided by factor, below
    original/high kept, between them interpolated linearly in original/wavelength."""
    factor, low, high, original = s["factor"], s["low_freq_factor"], s["high_freq_factor"], s["original_max_position_embeddings"]
    wavelength = 2 * math.pi / inv_freq
    long_scaled = torch.where(wavelength > original / low, inv_freq / factor, inv_freq)
    smooth = (original / wavelength - low) / (high - low)
    between = (1 - smooth) * long_scaled / factor + smooth * long_scaled
    medium = ~(wavelength < original / high) * ~(wavelength > original / low)
    return torch.where(medium, between, long_scaled)


def rope(x, dims, theta, scaling=None):
    """x [B, H, T, dh]: HF's rotate-half rotation of the first `dims` dims of each head (scaling: rope_scaling,
    llama3 or linear: every frequency divided by factor)."""
    T = x.shape[2]
    inv_freq = 1.0 / (theta ** (torch.arange(0, dims, 2).float() / dims))
    if scaling is not None and scaling.get("rope_type") == "linear":
        inv_freq = inv_freq / scaling["factor"]
    elif scaling is not None:
        inv_freq = llama3_scaled(inv_freq, scaling)
    freqs = torch.outer(torch.arange(T).float(), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    rot, rest = x[..., :dims], x[..., dims:]
    return torch.cat((rot * cos + rotate_half(rot) * sin, rest), dim=-1)


def attention(q, k, v, rules, scale=None, softcap=None, window=None):
    """q, k, v [B, H, T, dh] -> z [B, T, H*dh]. scale None: divide by sqrt(dh) (bit-for-bit as before);
    softcap: Gemma-2's cap * tanh(scores / cap) after scaling, before the mask; window: query i sees keys
    i - window < j <= i."""
    B, H, T, dh = q.shape
    scores = q @ k.transpose(-1, -2)
    if "half-attn" in rules and "ah" not in rules:
        scores = half(scores)
    scores = scores / math.sqrt(dh) if scale is None else scores * scale
    if softcap is not None:
        scores = softcap * torch.tanh(scores / softcap)
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
    if window is not None:
        mask = mask | torch.tril(torch.ones(T, T, dtype=torch.bool), -window)
    scores = scores.masked_fill(mask, float("-inf"))
    pattern = torch.softmax(scores, dim=-1)
    if "ah" in rules:
        pattern = pattern.detach()
    z = pattern @ v
    if "half-attn" in rules and "ah" not in rules:
        z = half(z)
    return z.transpose(1, 2).reshape(B, T, H * dh)


def linear(x, w, b=None):
    y = x @ w.T
    return y if b is None else y + b


# ---------------------------------------------------------------- the families

class Llama:
    def __init__(self, cfg, t):
        self.c, self.t = cfg, t
        self.L = cfg["num_hidden_layers"]
        self.H = cfg["num_attention_heads"]
        self.KV = cfg.get("num_key_value_heads", self.H)
        self.dh = cfg.get("head_dim", cfg["hidden_size"] // self.H)
        self.bias = cfg["model_type"] == "qwen2" or cfg.get("attention_bias", False)
        self.out_bias = cfg.get("attention_bias", False)
        self.head = t["lm_head.weight"] if "lm_head.weight" in t else t["model.embed_tokens.weight"]

    def embed(self, ids):
        return self.t["model.embed_tokens.weight"][ids]

    def attn(self, l, x, rules):
        t, p = self.t, f"model.layers.{l}."
        B, T, _ = x.shape
        a = rms_norm(x, t[p + "input_layernorm.weight"], self.c["rms_norm_eps"], rules)
        b = (lambda n: t[p + f"self_attn.{n}_proj.bias"]) if self.bias else (lambda n: None)
        q = linear(a, t[p + "self_attn.q_proj.weight"], b("q")).view(B, T, self.H, self.dh).transpose(1, 2)
        k = linear(a, t[p + "self_attn.k_proj.weight"], b("k")).view(B, T, self.KV, self.dh).transpose(1, 2)
        v = linear(a, t[p + "self_attn.v_proj.weight"], b("v")).view(B, T, self.KV, self.dh).transpose(1, 2)
        q, k = self.qk_norm(p, q, k, rules)
        theta, scaling = self.c.get("rope_theta", 10000.0), self.c.get("rope_scaling")
        q, k = rope(q, self.dh, theta, scaling), rope(k, self.dh, theta, scaling)
        g = self.H // self.KV
        k, v = k.repeat_interleave(g, dim=1), v.repeat_interleave(g, dim=1)
        o_bias = t[p + "self_attn.o_proj.bias"] if self.out_bias else None
        return linear(attention(q, k, v, rules), t[p + "self_attn.o_proj.weight"], o_bias)

    def qk_norm(self, p, q, k, rules):   # Llama has none
        return q, k

    def mlp(self, l, x, rules):
        t, p = self.t, f"model.layers.{l}."
        a = rms_norm(x, t[p + "post_attention_layernorm.weight"], self.c["rms_norm_eps"], rules)
        gate = activation(linear(a, t[p + "mlp.gate_proj.weight"]), torch.nn.functional.silu, rules)
        h = gate * linear(a, t[p + "mlp.up_proj.weight"])
        if "half" in rules:
            h = half(h)
        return linear(h, t[p + "mlp.down_proj.weight"])

    def block(self, l, x, rules, start="pre"):
        if start == "pre":
            x = x + self.attn(l, x, rules)
        return x + self.mlp(l, x, rules)

    def logits(self, x, rules):
        return linear(rms_norm(x, self.t["model.norm.weight"], self.c["rms_norm_eps"], rules), self.head)


class Qwen3(Llama):
    """HF Qwen3ForCausalLM: Llama's block with q_norm and k_norm, RMSNorms over each head's d_head values (eps
    rms_norm_eps) between the projections and RoPE; q/k/v biases only with attention_bias."""

    def qk_norm(self, p, q, k, rules):
        eps = self.c["rms_norm_eps"]
        return (rms_norm(q, self.t[p + "self_attn.q_norm.weight"], eps, rules),
                rms_norm(k, self.t[p + "self_attn.k_norm.weight"], eps, rules))


class Gemma2(Llama):
    """HF Gemma2ForCausalLM: attn() and mlp() return what is added to the residual (post-normed), so block(),
    hook_state() and run_from() work unchanged. Even layers attend within sliding_window keys (HF's is_sliding)."""

    def norm(self, x, name, rules):   # Gemma stores the RMSNorm scale as an offset: x * rsqrt(...) * (1 + w)
        return rms_norm(x, 1 + self.t[name], self.c["rms_norm_eps"], rules)

    def embed(self, ids):   # HF's normalizer is a float32 tensor, sqrt(d) rounded to float32
        return self.t["model.embed_tokens.weight"][ids] * torch.tensor(self.c["hidden_size"] ** 0.5)

    def attn(self, l, x, rules):
        t, p = self.t, f"model.layers.{l}."
        B, T, _ = x.shape
        a = self.norm(x, p + "input_layernorm.weight", rules)
        q = linear(a, t[p + "self_attn.q_proj.weight"]).view(B, T, self.H, self.dh).transpose(1, 2)
        k = linear(a, t[p + "self_attn.k_proj.weight"]).view(B, T, self.KV, self.dh).transpose(1, 2)
        v = linear(a, t[p + "self_attn.v_proj.weight"]).view(B, T, self.KV, self.dh).transpose(1, 2)
        q, k = self.qk_norm(p, q, k, rules)
        theta, scaling = self.rotary(l)
        q, k = rope(q, self.dh, theta, scaling), rope(k, self.dh, theta, scaling)
        g = self.H // self.KV
        k, v = k.repeat_interleave(g, dim=1), v.repeat_interleave(g, dim=1)
        z = attention(q, k, v, rules, scale=self.c["query_pre_attn_scalar"] ** -0.5,
                      softcap=self.c.get("attn_logit_softcapping"), window=self.window(l))
        return self.norm(linear(z, t[p + "self_attn.o_proj.weight"]), p + "post_attention_layernorm.weight", rules)

    def rotary(self, l):   # every layer's base and scaling
        return self.c.get("rope_theta", 10000.0), None

    def window(self, l):   # Gemma2Attention: is_sliding = not bool(layer_idx % 2)
        return self.c.get("sliding_window") if l % 2 == 0 else None

    def mlp(self, l, x, rules):
        t, p = self.t, f"model.layers.{l}."
        a = self.norm(x, p + "pre_feedforward_layernorm.weight", rules)
        gate = activation(linear(a, t[p + "mlp.gate_proj.weight"]), gelu_new, rules)   # = gelu_pytorch_tanh
        h = gate * linear(a, t[p + "mlp.up_proj.weight"])
        if "half" in rules:
            h = half(h)
        return self.norm(linear(h, t[p + "mlp.down_proj.weight"]), p + "post_feedforward_layernorm.weight", rules)

    def logits(self, x, rules):
        y = linear(self.norm(x, "model.norm.weight", rules), self.head)
        cap = self.c.get("final_logit_softcapping")
        return y if cap is None else activation(y, lambda u: cap * torch.tanh(u / cap), rules)


class GptNeoX:
    def __init__(self, cfg, t):
        self.c, self.t = cfg, t
        self.L = cfg["num_hidden_layers"]
        self.H = cfg["num_attention_heads"]
        self.dh = cfg["hidden_size"] // self.H
        self.rot = int(self.dh * cfg["rotary_pct"])
        self.parallel = cfg["use_parallel_residual"]
        self.act = torch.nn.functional.gelu if cfg["hidden_act"] == "gelu" else gelu_new

    def embed(self, ids):
        return self.t["gpt_neox.embed_in.weight"][ids]

    def ln(self, x, name, rules):
        return layer_norm(x, self.t[name + ".weight"], self.t[name + ".bias"], self.c["layer_norm_eps"], rules)

    def attn(self, l, x, rules):
        t, p = self.t, f"gpt_neox.layers.{l}."
        B, T, _ = x.shape
        a = self.ln(x, p + "input_layernorm", rules)
        qkv = linear(a, t[p + "attention.query_key_value.weight"], t[p + "attention.query_key_value.bias"])
        qkv = qkv.view(B, T, self.H, 3 * self.dh).permute(0, 2, 1, 3)   # HF: per-head [q | k | v]
        q, k, v = qkv[..., :self.dh], qkv[..., self.dh:2 * self.dh], qkv[..., 2 * self.dh:]
        theta = self.c.get("rotary_emb_base", 10000)
        q, k = rope(q, self.rot, theta), rope(k, self.rot, theta)
        return linear(attention(q, k, v, rules), t[p + "attention.dense.weight"], t[p + "attention.dense.bias"])

    def mlp(self, l, x, rules):
        t, p = self.t, f"gpt_neox.layers.{l}."
        a = self.ln(x, p + "post_attention_layernorm", rules)
        h = activation(linear(a, t[p + "mlp.dense_h_to_4h.weight"], t[p + "mlp.dense_h_to_4h.bias"]), self.act, rules)
        return linear(h, t[p + "mlp.dense_4h_to_h.weight"], t[p + "mlp.dense_4h_to_h.bias"])

    def block(self, l, x, rules, start="pre"):
        if self.parallel:
            return x + self.attn(l, x, rules) + self.mlp(l, x, rules)
        if start == "pre":
            x = x + self.attn(l, x, rules)
        return x + self.mlp(l, x, rules)

    def logits(self, x, rules):
        return linear(self.ln(x, "gpt_neox.final_layer_norm", set(rules)), self.t["embed_out.weight"])


class Gemma3(Gemma2):
    """HF Gemma3ForCausalLM: Gemma-2's block with q_norm and k_norm (Gemma RMSNorms, 1 + w, over each head) before
    RoPE; layer_types picks the sliding layers, which see the last sliding_window keys and rotate with base
    rope_local_base_freq, unscaled; the global layers see every key and rotate with rope_theta and rope_scaling."""

    def qk_norm(self, p, q, k, rules):
        return (self.norm(q, p + "self_attn.q_norm.weight", rules), self.norm(k, p + "self_attn.k_norm.weight", rules))

    def sliding(self, l):
        return self.c["layer_types"][l] == "sliding_attention"

    def rotary(self, l):
        if self.sliding(l):
            return self.c["rope_local_base_freq"], None
        return self.c["rope_theta"], self.c.get("rope_scaling")

    def window(self, l):
        return self.c["sliding_window"] if self.sliding(l) else None


# ---------------------------------------------------------------- golden data

def hook_state(model, ids, layer, kind):
    """The residual at blocks.layer.hook_resid_{kind} (no gradient), and where the rest starts."""
    with torch.no_grad():
        x = model.embed(ids)
        for l in range(layer):
            x = model.block(l, x, set())
        if kind == "mid":
            x = x + model.attn(layer, x, set())
    return x


def run_from(model, x, layer, kind, rules):
    x = model.block(layer, x, rules, start=kind)
    for l in range(layer + 1, model.L):
        x = model.block(l, x, rules)
    return model.logits(x, rules)


def golden(model, ids, target, foil, hooks):
    out = {"tokens": ids.tolist(), "metric": {"kind": "logit-diff", "target": target, "foil": foil}}
    with torch.no_grad():
        out["logits"] = [round(float(v), 6) for v in run_from(model, model.embed(ids), 0, "pre", set()).flatten()]
    grads = {}
    for hook in hooks:
        layer, kind = int(hook.split(".")[1]), hook.split("_")[-1]
        for name, rules in RULES.items():
            x = hook_state(model, ids, layer, kind).clone().requires_grad_(True)
            logits = run_from(model, x, layer, kind, rules)
            metric = (logits[:, -1, target] - logits[:, -1, foil]).sum()
            metric.backward()
            grads[f"{name}@{hook}"] = [float("%.7g" % v) for v in x.grad.flatten()]
    out["gradients"] = grads
    return out


def random_tensors(shapes, seed, norms, norm_scale=1):
    """norm_scale: the centre of norm weights, 1 for scales, 0 for Gemma's stored offsets (scale 1 + w)."""
    g = torch.Generator().manual_seed(seed)
    t = {}
    for name, shape in shapes.items():
        if name in norms:   # norm scales near norm_scale, biases of norms near 0
            t[name] = (norm_scale if name.endswith("weight") else 0) + 0.3 * (2 * torch.rand(shape, generator=g) - 1)
        else:
            fan_in = shape[-1] if len(shape) == 2 else 8
            t[name] = torch.randn(shape, generator=g) * (1.2 / math.sqrt(fan_in))
    return t


def tiny_qwen2():
    cfg = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 32, "intermediate_size": 48,
           "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 64,
           "max_position_embeddings": 32, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": False,
           "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "bfloat16"}
    d, m, V, dh = 32, 48, 64, 8
    shapes = {"model.embed_tokens.weight": [V, d], "model.norm.weight": [d], "lm_head.weight": [V, d]}
    norms = {"model.norm.weight"}
    for l in range(2):
        p = f"model.layers.{l}."
        shapes.update({p + "input_layernorm.weight": [d], p + "post_attention_layernorm.weight": [d],
                       p + "self_attn.q_proj.weight": [4 * dh, d], p + "self_attn.q_proj.bias": [4 * dh],
                       p + "self_attn.k_proj.weight": [2 * dh, d], p + "self_attn.k_proj.bias": [2 * dh],
                       p + "self_attn.v_proj.weight": [2 * dh, d], p + "self_attn.v_proj.bias": [2 * dh],
                       p + "self_attn.o_proj.weight": [d, 4 * dh], p + "mlp.gate_proj.weight": [m, d],
                       p + "mlp.up_proj.weight": [m, d], p + "mlp.down_proj.weight": [d, m]})
        norms |= {p + "input_layernorm.weight", p + "post_attention_layernorm.weight"}
    t = random_tensors(shapes, 14, norms)
    t = {k: v.to(torch.bfloat16).to(torch.float32) for k, v in t.items()}   # the model is what bf16 holds
    return cfg, t


def tiny_llama_mqa():
    """Multi-query attention (one K/V head), head_dim 16 with 4 heads on a width of 32, all four attention biases, tied head."""
    cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 32, "intermediate_size": 40,
           "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 1, "head_dim": 16, "vocab_size": 64,
           "max_position_embeddings": 32, "rms_norm_eps": 1e-5, "rope_theta": 500.0, "tie_word_embeddings": True,
           "attention_bias": True, "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float16"}
    d, m, V, D, dh = 32, 40, 64, 64, 16
    shapes = {"model.embed_tokens.weight": [V, d], "model.norm.weight": [d]}
    norms = {"model.norm.weight"}
    for l in range(2):
        p = f"model.layers.{l}."
        shapes.update({p + "input_layernorm.weight": [d], p + "post_attention_layernorm.weight": [d],
                       p + "self_attn.q_proj.weight": [D, d], p + "self_attn.q_proj.bias": [D],
                       p + "self_attn.k_proj.weight": [dh, d], p + "self_attn.k_proj.bias": [dh],
                       p + "self_attn.v_proj.weight": [dh, d], p + "self_attn.v_proj.bias": [dh],
                       p + "self_attn.o_proj.weight": [d, D], p + "self_attn.o_proj.bias": [d],
                       p + "mlp.gate_proj.weight": [m, d], p + "mlp.up_proj.weight": [m, d], p + "mlp.down_proj.weight": [d, m]})
        norms |= {p + "input_layernorm.weight", p + "post_attention_layernorm.weight"}
    t = random_tensors(shapes, 17, norms)
    return cfg, {k: v.to(torch.float16).to(torch.float32) for k, v in t.items()}


def tiny_llama_shapes(d, m, V, heads, kv_heads, dh, tied, extra=()):
    """The tensor shapes of a two-block Llama-shaped model without biases; extra: per-block [dh] norms (QK-norm)."""
    shapes = {"model.embed_tokens.weight": [V, d], "model.norm.weight": [d]}
    if not tied:
        shapes["lm_head.weight"] = [V, d]
    norms = {"model.norm.weight"}
    for l in range(2):
        p = f"model.layers.{l}."
        block_norms = {p + "input_layernorm.weight": [d], p + "post_attention_layernorm.weight": [d]}
        block_norms.update({p + n: [dh] for n in extra})
        shapes.update(block_norms)
        shapes.update({p + "self_attn.q_proj.weight": [heads * dh, d], p + "self_attn.k_proj.weight": [kv_heads * dh, d],
                       p + "self_attn.v_proj.weight": [kv_heads * dh, d], p + "self_attn.o_proj.weight": [d, heads * dh],
                       p + "mlp.gate_proj.weight": [m, d], p + "mlp.up_proj.weight": [m, d], p + "mlp.down_proj.weight": [d, m]})
        norms |= set(block_norms)
    return shapes, norms


def tiny_qwen3():
    """QK-norm on grouped-query heads of head_dim 12 x 4 heads != width 32 (Qwen3's head_dim is its own setting), tied head."""
    cfg = {"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "hidden_size": 32, "intermediate_size": 48,
           "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 12, "vocab_size": 64,
           "max_position_embeddings": 64, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "rope_scaling": None,
           "attention_bias": False, "use_sliding_window": False, "sliding_window": None, "max_window_layers": 2,
           "tie_word_embeddings": True, "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32"}
    shapes, norms = tiny_llama_shapes(32, 48, 64, 4, 2, 12, tied=True, extra=("self_attn.q_norm.weight", "self_attn.k_norm.weight"))
    return cfg, random_tensors(shapes, 19, norms)


def tiny_llama3_rope():
    """Llama 3.1's rope_scaling at a scale the test sequences reach: at head_dim 8 and theta 10000 the wavelengths are
    6.3, 63, 628 and 6283 positions, so against original context 8 (low 1, high 4: 8 and 2) the first is
    interpolated and the other three divided by factor 8."""
    cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 32, "intermediate_size": 40,
           "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 64,
           "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
           "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                            "original_max_position_embeddings": 8, "rope_type": "llama3"},
           "tie_word_embeddings": False, "attention_bias": False, "mlp_bias": False, "hidden_act": "silu",
           "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32"}
    shapes, norms = tiny_llama_shapes(32, 40, 64, 4, 2, 8, tied=False)
    return cfg, random_tensors(shapes, 20, norms)


def tiny_gemma2():
    """head_dim 12 x 4 heads != width 32 and query_pre_attn_scalar 24 != head_dim, so neither can stand in for
    the other; caps 5 and 3 are small enough that tanh bends at these scales."""
    cfg = {"architectures": ["Gemma2ForCausalLM"], "model_type": "gemma2", "hidden_size": 32, "intermediate_size": 48,
           "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 12, "vocab_size": 64,
           "max_position_embeddings": 64, "sliding_window": 48, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
           "query_pre_attn_scalar": 24, "attn_logit_softcapping": 5.0, "final_logit_softcapping": 3.0,
           "hidden_activation": "gelu_pytorch_tanh", "hidden_act": "gelu_pytorch_tanh", "tie_word_embeddings": True,
           "attention_bias": False, "bos_token_id": 2, "eos_token_id": 1, "pad_token_id": 0, "torch_dtype": "float32"}
    shapes, norms = tiny_gemma_shapes(2)
    return cfg, random_tensors(shapes, 18, norms, norm_scale=0)


def tiny_gemma2_window():
    """tiny-gemma2 with a window of 3 keys on its even layers, so that the six-token prompts' sliding layer masks."""
    cfg, t = tiny_gemma2()
    cfg["sliding_window"] = 3
    return cfg, t


def tiny_gemma_shapes(layers, extra=()):
    """The tensor shapes of a Gemma block stack at width 32, MLP 48, vocabulary 64, 4 heads and 2 K/V heads of 12;
    extra: per-block [dh] norms (QK-norm)."""
    d, m, V, dh = 32, 48, 64, 12
    shapes = {"model.embed_tokens.weight": [V, d], "model.norm.weight": [d]}
    norms = {"model.norm.weight"}
    for l in range(layers):
        p = f"model.layers.{l}."
        ln = [p + n + "_layernorm.weight" for n in ("input", "post_attention", "pre_feedforward", "post_feedforward")]
        shapes.update({n: [d] for n in ln})
        shapes.update({p + n: [dh] for n in extra})
        shapes.update({p + "self_attn.q_proj.weight": [4 * dh, d], p + "self_attn.k_proj.weight": [2 * dh, d],
                       p + "self_attn.v_proj.weight": [2 * dh, d], p + "self_attn.o_proj.weight": [d, 4 * dh],
                       p + "mlp.gate_proj.weight": [m, d], p + "mlp.up_proj.weight": [m, d], p + "mlp.down_proj.weight": [d, m]})
        norms |= set(ln) | {p + n for n in extra}
    return shapes, norms


def tiny_gemma3():
    """Three layers, sliding, sliding, global, with a window of 3 keys on six-token prompts, so the mask cuts into
    every sliding layer; local base 100 and global 10000 with linear factor 4, so that no base can stand for another;
    head_dim 12 x 4 heads != width 32, query_pre_attn_scalar 24; caps null as Gemma 3's."""
    cfg = {"architectures": ["Gemma3ForCausalLM"], "model_type": "gemma3_text", "hidden_size": 32, "intermediate_size": 48,
           "num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 12, "vocab_size": 64,
           "max_position_embeddings": 64, "sliding_window": 3, "sliding_window_pattern": 3,
           "layer_types": ["sliding_attention", "sliding_attention", "full_attention"], "rms_norm_eps": 1e-6,
           "rope_theta": 10000.0, "rope_local_base_freq": 100.0, "rope_scaling": {"factor": 4.0, "rope_type": "linear"},
           "query_pre_attn_scalar": 24, "attn_logit_softcapping": None, "final_logit_softcapping": None,
           "hidden_activation": "gelu_pytorch_tanh", "tie_word_embeddings": True, "attention_bias": False,
           "bos_token_id": 2, "eos_token_id": [1, 106], "pad_token_id": 0, "torch_dtype": "float32"}
    shapes, norms = tiny_gemma_shapes(3, extra=("self_attn.q_norm.weight", "self_attn.k_norm.weight"))
    return cfg, random_tensors(shapes, 21, norms, norm_scale=0)


def tiny_neox(parallel):
    cfg = {"architectures": ["GPTNeoXForCausalLM"], "model_type": "gpt_neox", "hidden_size": 32, "intermediate_size": 64,
           "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 64, "max_position_embeddings": 32,
           "layer_norm_eps": 1e-5, "rotary_pct": 0.5 if parallel else 0.25, "rotary_emb_base": 10000,
           "use_parallel_residual": parallel, "hidden_act": "gelu" if parallel else "gelu_new",
           "tie_word_embeddings": False, "bos_token_id": 0, "eos_token_id": 0, "torch_dtype": "float32"}
    d, m, V = 32, 64, 64
    shapes = {"gpt_neox.embed_in.weight": [V, d], "gpt_neox.final_layer_norm.weight": [d],
              "gpt_neox.final_layer_norm.bias": [d], "embed_out.weight": [V, d]}
    norms = {"gpt_neox.final_layer_norm.weight", "gpt_neox.final_layer_norm.bias"}
    for l in range(2):
        p = f"gpt_neox.layers.{l}."
        for n in ("input_layernorm", "post_attention_layernorm"):
            shapes.update({p + n + ".weight": [d], p + n + ".bias": [d]})
            norms |= {p + n + ".weight", p + n + ".bias"}
        shapes.update({p + "attention.query_key_value.weight": [3 * d, d], p + "attention.query_key_value.bias": [3 * d],
                       p + "attention.dense.weight": [d, d], p + "attention.dense.bias": [d],
                       p + "mlp.dense_h_to_4h.weight": [m, d], p + "mlp.dense_h_to_4h.bias": [m],
                       p + "mlp.dense_4h_to_h.weight": [d, m], p + "mlp.dense_4h_to_h.bias": [d]})
    return cfg, random_tensors(shapes, 15 if parallel else 16, norms)


def save(folder, cfg, t, dtype="F32", shards=1):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    if shards == 1:
        write_safetensors(os.path.join(folder, "model.safetensors"), t, dtype)
        return
    names, weight_map = list(t), {}
    for s in range(shards):
        file = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        part = names[s::shards]
        write_safetensors(os.path.join(folder, file), {n: t[n] for n in part}, dtype)
        weight_map.update({n: file for n in part})
    with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": 0}, "weight_map": dict(sorted(weight_map.items()))}, f, indent=2)


SMALL = torch.tensor([[1, 5, 9, 33, 2, 60], [1, 17, 40, 8, 8, 21]])
THREE_HOOKS = ["blocks.0.hook_resid_pre", "blocks.0.hook_resid_mid", "blocks.1.hook_resid_pre"]


def stories():
    ids = torch.tensor([[1, 461, 461, 401, 401, 401], [1, 300, 72, 90, 400, 13]])
    folder = os.path.join(DATA, "stories260K-llama")
    os.makedirs(folder, exist_ok=True)
    for f in ("config.json", "model.safetensors", "reference.json", "LICENSE"):
        shutil.copy(os.path.join(FIXTURE, f), folder)
    cfg = json.load(open(os.path.join(folder, "config.json")))
    model = Llama(cfg, read_safetensors(os.path.join(folder, "model.safetensors")))
    with torch.no_grad():   # the fixture's own check: ten greedy tokens from BOS
        seq = [1]
        for _ in range(10):
            seq.append(int(run_from(model, model.embed(torch.tensor([seq])), 0, "pre", set())[0, -1].argmax()))
    assert seq[1:] == json.load(open(os.path.join(folder, "reference.json")))["greedy_next_10"], seq
    hooks = ["blocks.0.hook_resid_pre", "blocks.2.hook_resid_mid", "blocks.4.hook_resid_pre"]
    json.dump(golden(model, ids, 461, 401, hooks), open(os.path.join(folder, "golden.json"), "w"))


def random_fixture(name, family, make, hooks, dtype="F32", shards=1):
    """A random checkpoint under TestData/name and its golden.json on the small token batch (metric logit 7 - logit 3)."""
    def write():
        cfg, t = make()
        save(os.path.join(DATA, name), cfg, t, dtype=dtype, shards=shards)
        json.dump(golden(family(cfg, t), SMALL, 7, 3, hooks), open(os.path.join(DATA, name, "golden.json"), "w"))
    return write


FIXTURES = {
    "stories260K-llama": stories,
    "tiny-qwen2": random_fixture("tiny-qwen2", Llama, tiny_qwen2, THREE_HOOKS, dtype="BF16", shards=2),
    "tiny-llama-mqa": random_fixture("tiny-llama-mqa", Llama, tiny_llama_mqa,
                                     ["blocks.0.hook_resid_pre", "blocks.1.hook_resid_mid"], dtype="F16"),
    "tiny-gemma2": random_fixture("tiny-gemma2", Gemma2, tiny_gemma2, THREE_HOOKS),
    "tiny-gemma2-window": random_fixture("tiny-gemma2-window", Gemma2, tiny_gemma2_window, THREE_HOOKS),
    "tiny-neox": random_fixture("tiny-neox", GptNeoX, lambda: tiny_neox(True),
                                ["blocks.0.hook_resid_pre", "blocks.1.hook_resid_pre"]),
    "tiny-neox-seq": random_fixture("tiny-neox-seq", GptNeoX, lambda: tiny_neox(False),
                                    ["blocks.0.hook_resid_pre", "blocks.1.hook_resid_pre", "blocks.0.hook_resid_mid"]),
    "tiny-qwen3": random_fixture("tiny-qwen3", Qwen3, tiny_qwen3, THREE_HOOKS),
    "tiny-llama3-rope": random_fixture("tiny-llama3-rope", Llama, tiny_llama3_rope, THREE_HOOKS),
    "tiny-gemma3": random_fixture("tiny-gemma3", Gemma3, tiny_gemma3,
                                  ["blocks.0.hook_resid_pre", "blocks.1.hook_resid_mid", "blocks.2.hook_resid_pre"]),
}


def main(names):
    unknown = [n for n in names if n not in FIXTURES]
    if unknown:
        sys.exit(f"unknown fixture {unknown[0]}; fixtures: {', '.join(FIXTURES)}")
    for name in names or FIXTURES:
        torch.manual_seed(0)
        FIXTURES[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
