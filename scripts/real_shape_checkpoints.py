#!/usr/bin/python3
"""Random checkpoints of real models' shapes, to measure memory and speed at real size where the real
weights cannot be downloaded. Standard library only.

Writes into OUT a Hugging Face model folder with the real model's config.json, tensor names and bf16 (or
float32) dtype, sharded as Hugging Face ships it (model-0000i-of-0000n.safetensors, shards of at most 5 GB,
and model.safetensors.index.json; one model.safetensors when it fits in one), and a Gemma Scope-shaped JumpReLU params.npz (width 16k) reading the
middle block's output, in Gemma Scope's folders (OUT/sae/layer_N/width_16k/average_l0_71/params.npz; layer
12 for gemma-2-2b). With --transcoders, also one JumpReLU transcoder per block in circuit-tracer's layout
(OUT/transcoders/config.yaml, reading ln2.hook_normalized and writing hook_mlp_out as its Gemma set does, and
layer_N.safetensors, width 16k, bf16): of each layer's features only the first 64 have a threshold low enough
to fire, so about 32 are active a position, as real transcoders' L0 is tens. The values are small random
numbers (a 1 MiB random block repeated), so nothing overflows and every check on load passes; they mean nothing.

GPT-2 small (gpt2) is written in GPT2Model's names (wte, wpe, h.N.attn.c_attn, ...; Conv1D weights [in, out]) with its
causal-mask buffers (h.N.attn.bias), as openai-community/gpt2 ships them; pass --float32 for its shipped width.

Usage: /usr/bin/python3 scripts/real_shape_checkpoints.py gemma-2-2b|llama-3.2-1b|llama-3.1-8b|gpt2 OUT [--float32] [--transcoders]
Then: scripts/measure_memory.sh OUT   (peak resident memory of attribute, gradient and relp, 32 prompt ids)
Do not commit the output: it is 2.5 to 16 GB.
"""
import json
import os
import random
import struct
import sys
import zipfile

SHAPES = {
    # hidden, layers, heads, kv heads, head_dim, mlp, vocab, tied
    "gemma-2-2b": dict(d=2304, layers=26, heads=8, kv=4, head_dim=256, mlp=9216, vocab=256000, tied=True),
    "llama-3.2-1b": dict(d=2048, layers=16, heads=32, kv=8, head_dim=64, mlp=8192, vocab=128256, tied=True),
    "llama-3.1-8b": dict(d=4096, layers=32, heads=32, kv=8, head_dim=128, mlp=14336, vocab=128256, tied=False),
    "gpt2": dict(d=768, layers=12, heads=12, kv=12, head_dim=64, mlp=3072, vocab=50257, tied=True, positions=1024),
}
SHARD_BYTES = 5_000_000_000


def config(name, s):
    if name == "gpt2":
        return {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": s["vocab"], "n_embd": s["d"],
                "n_layer": s["layers"], "n_head": s["heads"], "n_positions": s["positions"], "n_ctx": s["positions"], "n_inner": None,
                "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new", "bos_token_id": 50256, "eos_token_id": 50256}
    if name.startswith("gemma"):
        return {"architectures": ["Gemma2ForCausalLM"], "model_type": "gemma2", "vocab_size": s["vocab"], "hidden_size": s["d"],
                "num_hidden_layers": s["layers"], "num_attention_heads": s["heads"], "num_key_value_heads": s["kv"],
                "head_dim": s["head_dim"], "intermediate_size": s["mlp"], "max_position_embeddings": 8192, "rms_norm_eps": 1e-6,
                "rope_theta": 10000.0, "query_pre_attn_scalar": 256, "attn_logit_softcapping": 50.0, "final_logit_softcapping": 30.0,
                "hidden_activation": "gelu_pytorch_tanh", "sliding_window": 4096, "tie_word_embeddings": True, "bos_token_id": 2,
                "eos_token_id": 1, "pad_token_id": 0}
    return {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": s["vocab"], "hidden_size": s["d"],
            "num_hidden_layers": s["layers"], "num_attention_heads": s["heads"], "num_key_value_heads": s["kv"], "head_dim": s["head_dim"],
            "intermediate_size": s["mlp"], "max_position_embeddings": 131072, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
            "rope_scaling": {"rope_type": "llama3", "factor": 32.0 if name == "llama-3.2-1b" else 8.0, "low_freq_factor": 1.0,
                             "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
            "tie_word_embeddings": s["tied"], "bos_token_id": 128000, "eos_token_id": 128001, "hidden_act": "silu"}


def gpt2_tensors(s):
    d, m = s["d"], s["mlp"]
    yield "wte.weight", [s["vocab"], d]
    yield "wpe.weight", [s["positions"], d]
    for l in range(s["layers"]):
        p = f"h.{l}."
        yield p + "attn.bias", [1, 1, s["positions"], s["positions"]]
        for name, shape in [("ln_1", [d]), ("attn.c_attn", [d, 3 * d]), ("attn.c_proj", [d, d]), ("ln_2", [d]), ("mlp.c_fc", [d, m]), ("mlp.c_proj", [m, d])]:
            yield p + name + ".weight", shape
            yield p + name + ".bias", [shape[-1]]
    yield "ln_f.weight", [d]
    yield "ln_f.bias", [d]


def tensors(name, s):
    if name == "gpt2":
        yield from gpt2_tensors(s)
        return
    d, hd = s["d"], s["head_dim"]
    yield "model.embed_tokens.weight", [s["vocab"], d]
    for l in range(s["layers"]):
        p = f"model.layers.{l}."
        norms = ["input_layernorm", "post_attention_layernorm"]
        if name.startswith("gemma"):
            norms += ["pre_feedforward_layernorm", "post_feedforward_layernorm"]
        for n in norms:
            yield p + n + ".weight", [d]
        yield p + "self_attn.q_proj.weight", [s["heads"] * hd, d]
        yield p + "self_attn.k_proj.weight", [s["kv"] * hd, d]
        yield p + "self_attn.v_proj.weight", [s["kv"] * hd, d]
        yield p + "self_attn.o_proj.weight", [d, s["heads"] * hd]
        yield p + "mlp.gate_proj.weight", [s["mlp"], d]
        yield p + "mlp.up_proj.weight", [s["mlp"], d]
        yield p + "mlp.down_proj.weight", [d, s["mlp"]]
    yield "model.norm.weight", [d]
    if not s["tied"]:
        yield "lm_head.weight", [s["vocab"], d]


def block(dtype):
    """1 MiB of small random values (|x| < 0.06) in the dtype's little-endian bytes."""
    rng = random.Random(0)
    values = [rng.uniform(-0.06, 0.06) for _ in range((1 << 20) // (2 if dtype == "BF16" else 4))]
    if dtype == "F32":
        return struct.pack(f"<{len(values)}f", *values)
    return b"".join(struct.pack("<f", v)[2:] for v in values)   # bf16: the upper half of the float32


def write_data(f, nbytes, pattern):
    while nbytes > 0:
        chunk = pattern[:nbytes]
        f.write(chunk)
        nbytes -= len(chunk)


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in SHAPES:
        sys.exit(__doc__)
    name, out = sys.argv[1], sys.argv[2]
    dtype, size = ("F32", 4) if "--float32" in sys.argv else ("BF16", 2)
    s = SHAPES[name]
    os.makedirs(out, exist_ok=True)
    json.dump(config(name, s), open(os.path.join(out, "config.json"), "w"), indent=2)
    all_tensors = list(tensors(name, s))
    shards, current, used = [], [], 0
    for t in all_tensors:
        n = size
        for x in t[1]:
            n *= x
        if current and used + n > SHARD_BYTES:
            shards.append(current)
            current, used = [], 0
        current.append((t[0], t[1], n))
        used += n
    shards.append(current)
    pattern = block(dtype)
    weight_map = {}
    for i, shard in enumerate(shards):
        fname = "model.safetensors" if len(shards) == 1 else f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        header, offset = {"__metadata__": {"format": "pt"}}, 0
        for tname, shape, n in shard:
            header[tname] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
            offset += n
            weight_map[tname] = fname
        raw = json.dumps(header).encode()
        raw += b" " * (-len(raw) % 8)
        with open(os.path.join(out, fname), "wb") as f:
            f.write(struct.pack("<Q", len(raw)))
            f.write(raw)
            write_data(f, offset, pattern)
        print(f"{fname}: {len(shard)} tensors, {offset / 1e9:.2f} GB")
    total = sum(n for shard in shards for _, _, n in shard)
    if len(shards) > 1:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map},
                  open(os.path.join(out, "model.safetensors.index.json"), "w"), indent=2)
    sae = os.path.join(out, "sae", f"layer_{s['layers'] // 2 - (1 if name == 'gemma-2-2b' else 0)}", "width_16k", "average_l0_71")
    os.makedirs(sae, exist_ok=True)
    write_gemma_scope(os.path.join(sae, "params.npz"), s["d"], 16384)
    if "--transcoders" in sys.argv:
        write_transcoders(os.path.join(out, "transcoders"), s["d"], 16384, s["layers"])


def npy(shape, data_bytes):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % "".join(f"{x}, " for x in shape).rstrip(" ")
    header += " " * (-(10 + len(header) + 1) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode(), data_bytes


def write_gemma_scope(path, d_in, d_sae):
    """A JumpReLU SAE as Gemma Scope ships it: W_enc [d_in, d_sae], W_dec [d_sae, d_in], b_enc, b_dec, threshold (float32, stored)."""
    pattern = block("F32")
    rng = random.Random(1)
    thresholds = struct.pack(f"<{d_sae}f", *[rng.uniform(0.01, 0.05) for _ in range(d_sae)])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name, shape in [("W_enc", [d_in, d_sae]), ("W_dec", [d_sae, d_in]), ("b_enc", [d_sae]), ("b_dec", [d_in]), ("threshold", [d_sae])]:
            n = 4
            for x in shape:
                n *= x
            head, _ = npy(shape, None)
            with z.open(name + ".npy", "w", force_zip64=True) as f:
                f.write(head)
                if name == "threshold":
                    f.write(thresholds)
                else:
                    write_data(f, n, pattern)
    print(f"{path}: Gemma Scope-shaped JumpReLU SAE, {d_in} -> {d_sae}")


def write_transcoders(folder, d, d_sae, layers, firing=64):
    """circuit-tracer's per-layer files: W_enc and W_dec [d_sae, d] and b_dec [d] in bf16, b_enc [d_sae] zero, and a
    threshold [d_sae] of 0 for the first `firing` features and 1e4 (never reached) for the rest."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.yaml"), "w") as f:
        f.write('model_kind: "transcoder_set"\nfeature_input_hook: "ln2.hook_normalized"\nfeature_output_hook: "hook_mlp_out"\n')
    pattern = block("BF16")
    thresholds = struct.pack(f"<{d_sae}f", *([0.0] * firing + [1e4] * (d_sae - firing)))
    for l in range(layers):
        entries = [("W_enc", "BF16", [d_sae, d]), ("W_dec", "BF16", [d_sae, d]), ("b_enc", "F32", [d_sae]), ("b_dec", "BF16", [d]),
                   ("activation_function.threshold", "F32", [d_sae])]
        header, offset, sizes = {"__metadata__": {"format": "pt"}}, 0, []
        for name, dtype, shape in entries:
            n = (2 if dtype == "BF16" else 4) * shape[0] * (shape[1] if len(shape) > 1 else 1)
            header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
            sizes.append(n)
            offset += n
        raw = json.dumps(header).encode()
        raw += b" " * (-len(raw) % 8)
        with open(os.path.join(folder, f"layer_{l}.safetensors"), "wb") as f:
            f.write(struct.pack("<Q", len(raw)))
            f.write(raw)
            for (name, _, _), n in zip(entries, sizes):
                if name == "b_enc":
                    f.write(bytes(n))
                elif name == "activation_function.threshold":
                    f.write(thresholds)
                else:
                    write_data(f, n, pattern)
    print(f"{folder}: {layers} circuit-tracer JumpReLU transcoders, {d} -> {d_sae}, {firing} features able to fire")


if __name__ == "__main__":
    main()
