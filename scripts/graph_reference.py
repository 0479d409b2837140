#!/usr/bin/python3
"""An attribution graph of tarot-gpt2 with small random transcoders, computed by autograd on the frozen replacement model.

Writes tests/RelpSae.Tests/TestData/graph-transcoders/ (and graph-transcoders-qwen3/, the same for tiny-qwen3: a gated
MLP, RMSNorms, QK-norm, grouped-query attention, transcoders reading blocks.N.mlp.hook_in, no BOS in front; and
graph-transcoders-neox/ for tiny-neox: attention and MLP in parallel, both reading hook_resid_pre; and graph-resid-saes/
for tarot-gpt2 with residual-stream SAEs, below):
  config.yaml, layer_N.safetensors  one JumpReLU transcoder per block in circuit-tracer's layout, reading
                                    blocks.N.ln2.hook_normalized and writing blocks.N.hook_mlp_out; block 1's has a
                                    skip connection W_skip
  expected.safetensors              the graph: tokens, logit_tokens, logit_probabilities, features [n_features × 4]
                                    (layer, position, index, activation), adjacency [n × n] (target × source, nodes in
                                    circuit-tracer's order: features, errors, embeddings, logits) and bias [n];
                                    gradient_adjacency/gradient_bias and ig_adjacency/ig_bias (ig_steps midpoint
                                    steps): the same nodes' edges by the gradient and integrated-gradients methods

The replacement model is GPT-2 written out here in float64 with the attention patterns and the LayerNorm scales (ln_1,
ln_2, ln_f) detached at their clean values, each MLP replaced by its transcoder's features (the source a_s times W_dec)
+ b_dec + the skip connection (live) + the error node. As circuit-tracer does, the prompt starts with BOS and the
features and error at position 0 are no nodes: they stay at their clean values. Sources: each active feature's
activation, each error vector, each embedding row (hook_embed). Targets: each feature's pre-activation and each
salient logit's demeaned value. Edge = source · d(target)/d(source) (autograd); bias = the target with every source
set to zero, computed by running the frozen model again, not from the edges. The script checks that edges + bias give
each target back.

The gradient and integrated-gradients edges are those of the same spliced model with its attention and norms live:
every node feature and error is α times its value (the embeddings, b_dec, the skip connection's live path and what
is no node as they are), and edge = source · Σ_j w_j d(target)/d(source) at the points α_j (α = 1 alone for the
gradient; the midpoint rule for IG, whose bias is input − Σ edges). The script checks that the live model at α = 1
is the clean run and that IG's edges from the features and errors approach target(1) − target(0) as the steps grow.

graph-resid-saes/: one random JumpReLU SAE at every blocks.N.hook_resid_post in SAELens' folder layout (cfg.json,
sae_weights.safetensors; b_dec subtracted from the input) and the graph over their features. Each hook's activation is
replaced by its features (a_s times W_dec) + b_dec + its error node, so a feature's pre-activation (x − b_dec)·W_enc +
b_enc reads only the hook below through one block, whose attention patterns, LayerNorm scales and GELU gates
(gelu(h)/h, the Identity-rule) are detached at their clean values; the logits read the last hook through ln_f.

Run: /usr/bin/python3 scripts/graph_reference.py   (from the repository root)
"""
import json
import math
import os

import torch

from sae_formats_reference import write_safetensors

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "RelpSae.Tests", "TestData")
OUT = os.path.join(ROOT, "graph-transcoders")
TOKENS = [0, 17, 250, 3, 99, 512, 7]
D_SAE = 32
IG_STEPS = 4   # midpoint rule
torch.set_default_dtype(torch.float64)


def gpt2():
    sd = torch.load(os.path.join(ROOT, "tarot-gpt2", "pytorch_model.bin"), map_location="cpu")
    return {k.removeprefix("transformer."): v.double() for k, v in sd.items()}


def transcoders(d, layers, d_sae=D_SAE, seed=23, skip_layer=1):
    """Random JumpReLU transcoders, about half their features active on normalised inputs; skip_layer's has W_skip."""
    g = torch.Generator().manual_seed(seed)
    sets = []
    for l in range(layers):
        t = {"W_enc": torch.randn(d_sae, d, generator=g) / d ** 0.5, "W_dec": torch.randn(d_sae, d, generator=g) * 0.3,
             "b_enc": torch.randn(d_sae, generator=g) * 0.1, "b_dec": torch.randn(d, generator=g) * 0.1,
             "activation_function.threshold": torch.rand(d_sae, generator=g) * 0.5}
        if l == skip_layer:
            t["W_skip"] = torch.randn(d, d, generator=g) * 0.1 / d ** 0.5
        # Stored in float32: the oracle uses the stored values.
        sets.append({k: v.float().double() for k, v in t.items()})
    return sets


def layer_norm(x, w, b, scale=None):
    mu = x.mean(-1, keepdim=True)
    sigma = ((x - mu) ** 2).mean(-1, keepdim=True).add(1e-5).sqrt() if scale is None else scale
    return (x - mu) / sigma * w + b, sigma


def gelu_new(x):
    return 0.5 * x * (1 + torch.tanh((2 / torch.pi) ** 0.5 * (x + 0.044715 * x ** 3)))


def run(w, tcs, n_layers, n_heads, emb, frozen=None, sources=None):
    """The model on embedding rows emb [T, d]; clean when sources is None (recording what to freeze and splice), else the
    MLPs made of sources (features, errors), with the patterns and scales frozen (the replacement model) or, when frozen
    is None, live."""
    T, d = emb.shape
    dh = d // n_heads
    rec = {"pattern": [], "s1": [], "s2": [], "xhat": [], "mlp": [], "pre": []}
    x = emb + w["wpe.weight"][:T]
    for l in range(n_layers):
        p = f"h.{l}."
        h, s1 = layer_norm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"], None if frozen is None else frozen["s1"][l])
        qkv = h @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        q, k, v = (t.view(T, n_heads, dh).transpose(0, 1) for t in qkv.split(d, -1))
        if frozen is None:
            scores = q @ k.transpose(-1, -2) / dh ** 0.5
            scores = scores.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf"))
            pattern = scores.softmax(-1)
        else:
            pattern = frozen["pattern"][l]
        z = (pattern @ v).transpose(0, 1).reshape(T, d)
        x = x + z @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        xhat, s2 = layer_norm(x, torch.ones(d), torch.zeros(d), None if frozen is None else frozen["s2"][l])
        t = tcs[l]
        pre = xhat @ t["W_enc"].T + t["b_enc"]
        if sources is None:
            h2 = xhat * w[p + "ln_2.weight"] + w[p + "ln_2.bias"]
            mlp = gelu_new(h2 @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"]) @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
        else:
            mlp = sources["features"][l] @ t["W_dec"] + t["b_dec"] + sources["errors"][l]
            if "W_skip" in t:
                mlp = mlp + xhat @ t["W_skip"].T
        for key, value in (("pattern", pattern), ("s1", s1), ("s2", s2), ("xhat", xhat), ("mlp", mlp), ("pre", pre)):
            rec[key].append(value)
        x = x + mlp
    final, sf = layer_norm(x, w["ln_f.weight"], w["ln_f.bias"], None if frozen is None else frozen["sf"])
    rec["sf"], rec["final"] = sf, final
    return rec


def write_set(folder, tcs, input_hook):
    os.makedirs(folder, exist_ok=True)
    for l, t in enumerate(tcs):
        write_safetensors(os.path.join(folder, f"layer_{l}.safetensors"), {k: v.float().numpy() for k, v in t.items()})
    with open(os.path.join(folder, "config.yaml"), "w") as fh:
        fh.write(f'feature_input_hook: "{input_hook}"\nfeature_output_hook: "hook_mlp_out"\n')


def graph(folder, tokens, tcs, n_layers, emb, unembed, clean, spliced_run, zero_bos):
    """The graph of the frozen replacement model, and those of the gradient and integrated-gradients methods. clean: the
    clean run's record (per layer the transcoder's input "xhat", its pre-activations "pre" and the MLP's output "mlp";
    "final", the final norm's output); spliced_run(emb, features, errors, frozen): the record of the model with its MLPs
    made of each layer's features [T, d_sae] and errors [T, d], from embedding rows, its patterns and norm scales frozen
    at their clean values or (frozen=False) live. zero_bos: position 0's features and errors are no nodes (the prompt
    starts with BOS)."""
    T = len(tokens)
    feats, errors, node_mask = [], [], []
    for l, t in enumerate(tcs):
        pre = clean["pre"][l]
        f = pre * (pre > t["activation_function.threshold"])
        recon = f @ t["W_dec"] + t["b_dec"] + (clean["xhat"][l] @ t["W_skip"].T if "W_skip" in t else 0)
        feats.append(f.detach())
        errors.append((clean["mlp"][l] - recon).detach())
        mask = f != 0
        if zero_bos:
            mask[0] = False
        node_mask.append(mask)
    d_sae = tcs[0]["W_enc"].shape[0]
    active = [(l, p, i) for l in range(n_layers) for p in range(T) for i in range(d_sae) if node_mask[l][p, i]]
    first = 1 if zero_bos else 0

    logits = clean["final"][-1] @ unembed.T
    probs = logits.softmax(-1)
    top_p, top_i = probs.topk(10)
    cutoff = int(torch.searchsorted(top_p.cumsum(0), 0.95)) + 1
    top_p, top_i = top_p[:cutoff], top_i[:cutoff]
    directions = unembed[top_i] - unembed.mean(0)

    # Sources as leaves: node features' activations, node errors, embeddings; the rest held at clean values.
    a = torch.tensor([float(feats[l][p, i]) for l, p, i in active], requires_grad=True)
    err = torch.stack(errors).clone().requires_grad_(True)
    e = emb.clone().requires_grad_(True)

    def targets(a, err, e, frozen=True):
        features, k = [], 0
        for l in range(n_layers):
            f = torch.where(node_mask[l], torch.zeros(()), feats[l])
            idx = [(p, i) for (ll, p, i) in active if ll == l]
            if idx:
                f = f.index_put(tuple(torch.tensor(x) for x in zip(*idx)), a[k:k + len(idx)])
                k += len(idx)
            features.append(f)
        errs = [torch.cat([errors[l][:first], err[l][first:]]) for l in range(n_layers)]
        r = spliced_run(e, features, errs, frozen)
        pre = torch.stack([r["pre"][l][p, i] for l, p, i in active])
        return torch.cat([pre, directions @ r["final"][-1]])

    out = targets(a, err, e)
    clean_inputs = torch.cat([torch.stack([clean["pre"][l][p, i] for l, p, i in active]), directions @ clean["final"][-1]])
    assert torch.allclose(out, clean_inputs, atol=1e-9), "the frozen model does not reproduce the clean run"

    n_feat, n_logit = len(active), len(top_i)
    n = n_feat + n_layers * T + T + n_logit
    adjacency = torch.zeros(n, n)
    for row in range(n_feat + n_logit):
        ga, gerr, ge = torch.autograd.grad(out[row], (a, err, e), retain_graph=True)
        target = row if row < n_feat else n - n_logit + (row - n_feat)
        adjacency[target, :n_feat] = a.detach() * ga
        adjacency[target, n_feat:n_feat + n_layers * T] = (err.detach() * gerr).sum(-1).reshape(-1)
        adjacency[target, n_feat + n_layers * T:n_feat + n_layers * T + T] = (emb * ge).sum(-1)
    with torch.no_grad():
        zero = targets(torch.zeros_like(a), torch.zeros_like(err), torch.zeros_like(e))
    bias = torch.zeros(n)
    bias[:n_feat], bias[n - n_logit:] = zero[:n_feat], zero[n_feat:]
    rows = torch.cat([torch.arange(n_feat), torch.arange(n - n_logit, n)])
    assert torch.allclose(adjacency[rows].sum(1) + bias[rows], clean_inputs, atol=1e-8), "edges + bias do not give the inputs back"

    def path_edges(alphas, weights):
        """The live model's edges averaged along the path: source · Σ_j w_j ∂target/∂source at the point α_j, where every
        node feature and error is α_j times its value (the embeddings, and what is no node, held); bias = input − Σ edges."""
        adj = torch.zeros(n, n)
        for alpha, weight in zip(alphas, weights):
            xa, xerr, xe = (alpha * a.detach()).requires_grad_(True), (alpha * err.detach()).requires_grad_(True), emb.clone().requires_grad_(True)
            point = targets(xa, xerr, xe, frozen=False)
            for row in range(n_feat + n_logit):
                ga, gerr, ge = torch.autograd.grad(point[row], (xa, xerr, xe), retain_graph=True)
                target = row if row < n_feat else n - n_logit + (row - n_feat)
                adj[target, :n_feat] += weight * a.detach() * ga
                adj[target, n_feat:n_feat + n_layers * T] += weight * (err.detach() * gerr).sum(-1).reshape(-1)
                adj[target, n_feat + n_layers * T:n_feat + n_layers * T + T] += weight * (emb * ge).sum(-1)
        b = torch.zeros(n)
        b[rows] = clean_inputs - adj[rows].sum(1)
        return adj, b

    with torch.no_grad():
        live_one = targets(a, err, e, frozen=False)
        live_zero = targets(torch.zeros_like(a), torch.zeros_like(err), e, frozen=False)
    assert torch.allclose(live_one, clean_inputs, atol=1e-9), "the live spliced model does not reproduce the clean run"
    gradient, gradient_bias = path_edges([1.0], [1.0])

    def midpoint(steps):
        return [(k + 0.5) / steps for k in range(steps)], [1 / steps] * steps

    def completeness_gap(adj):
        """Largest |Σ edges from the MLP outputs − (target(α=1) − target(α=0))| over the targets."""
        return float((adj[rows, :n_feat + n_layers * T].sum(1) - (live_one - live_zero)).abs().max())

    ig, ig_bias = path_edges(*midpoint(IG_STEPS))
    gaps = {steps: completeness_gap(path_edges(*midpoint(steps))[0]) for steps in (1, 4, 32)}
    assert gaps[32] < gaps[4] < gaps[1], f"integrated gradients' completeness does not converge: {gaps}"

    features = torch.tensor([[l, p, i, float(feats[l][p, i])] for l, p, i in active])
    write_safetensors(os.path.join(folder, "expected.safetensors"), {
        "tokens": torch.tensor(tokens, dtype=torch.float32).numpy(), "logit_tokens": top_i.float().numpy(),
        "logit_probabilities": top_p.float().numpy(), "features": features.float().numpy(),
        "adjacency": adjacency.float().numpy(), "bias": bias.float().numpy(),
        "gradient_adjacency": gradient.float().numpy(), "gradient_bias": gradient_bias.float().numpy(),
        "ig_adjacency": ig.float().numpy(), "ig_bias": ig_bias.float().numpy(),
        "ig_steps": torch.tensor([IG_STEPS], dtype=torch.float32).numpy()})
    print(f"{folder}: {n_feat} features, {n_logit} logits, {n} nodes; largest edge {adjacency.abs().max():.3f}; "
          f"IG completeness gap by steps {', '.join(f'{k}: {v:.2e}' for k, v in gaps.items())}")


def tarot_gpt2():
    w = gpt2()
    d, n_layers, n_heads = 128, 4, 4
    tcs = transcoders(d, n_layers)
    write_set(OUT, tcs, "ln2.hook_normalized")
    emb = w["wte.weight"][TOKENS]
    clean = run(w, tcs, n_layers, n_heads, emb)
    frozen = {k: [v.detach() for v in clean[k]] for k in ("pattern", "s1", "s2")}
    frozen["sf"] = clean["sf"].detach()
    graph(OUT, TOKENS, tcs, n_layers, emb, w["wte.weight"], clean,
          lambda e, features, errors, freeze: run(w, tcs, n_layers, n_heads, e, frozen if freeze else None, {"features": features, "errors": errors}),
          zero_bos=True)


class Recorder:
    """Stands in for llama_neox_reference's rms_norm, layer_norm and attention: on the clean pass it records each
    call's 1/rms (1/σ) and pattern, on a frozen pass it replays them in the same order (the patterns and norm scales detached at
    their clean values, whatever the inputs), on a live pass it computes them, recording nothing."""

    def __init__(self, ref):
        self.ref, self.scales, self.patterns, self.frozen, self.live = ref, [], [], False, False
        self.i = self.j = 0

    def rms_norm(self, x, w, eps, rules):
        r = torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
        if self.live:
            return w * (x * r)
        if not self.frozen:
            self.scales.append(r.detach())
        r = self.scales[self.i]
        self.i += 1
        return w * (x * r)

    def layer_norm(self, x, w, b, eps, rules):
        xc = x - x.mean(-1, keepdim=True)
        r = torch.rsqrt(xc.pow(2).mean(-1, keepdim=True) + eps)
        if self.live:
            return xc * r * w + b
        if not self.frozen:
            self.scales.append(r.detach())
        r = self.scales[self.i]
        self.i += 1
        return xc * r * w + b

    def attention(self, q, k, v, rules, scale=None, softcap=None, window=None):
        B, H, T, dh = q.shape
        if self.live or not self.frozen:
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(dh)
            scores = scores.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf"))
            pattern = torch.softmax(scores, dim=-1)
            if self.live:
                return (pattern @ v).transpose(1, 2).reshape(B, T, H * dh)
            self.patterns.append(pattern.detach())
        pattern = self.patterns[self.j]
        self.j += 1
        return (pattern @ v).transpose(1, 2).reshape(B, T, H * dh)


def tiny_qwen3():
    """tiny-qwen3 (gated MLP, RMSNorm, QK-norm, grouped-query attention) with transcoders reading blocks.N.mlp.hook_in."""
    import llama_neox_reference as ref
    folder = os.path.join(ROOT, "graph-transcoders-qwen3")
    fixture = os.path.join(ROOT, "tiny-qwen3")
    cfg = json.load(open(os.path.join(fixture, "config.json")))
    model = ref.Qwen3(cfg, {k: v.double() for k, v in ref.read_safetensors(os.path.join(fixture, "model.safetensors")).items()})
    d, n_layers = cfg["hidden_size"], cfg["num_hidden_layers"]
    tcs = transcoders(d, n_layers, d_sae=24, seed=29, skip_layer=0)
    write_set(folder, tcs, "mlp.hook_in")
    tokens = [5, 9, 33, 2, 60, 17, 40]   # no BOS in front: position 0's features are nodes
    recorder = Recorder(ref)
    ref.rms_norm, ref.attention = recorder.rms_norm, recorder.attention
    eps = cfg["rms_norm_eps"]

    def forward(emb, features=None, errors=None, frozen=True):
        recorder.frozen, recorder.live, recorder.i, recorder.j = features is not None, features is not None and not frozen, 0, 0
        rec = {"xhat": [], "pre": [], "mlp": []}
        x = emb[None]
        for l in range(n_layers):
            p, t = f"model.layers.{l}.", tcs[l]
            x = x + model.attn(l, x, set())
            a = ref.rms_norm(x, model.t[p + "post_attention_layernorm.weight"], eps, set())[0]
            pre = a @ t["W_enc"].T + t["b_enc"]
            if features is None:
                h = torch.nn.functional.silu(a @ model.t[p + "mlp.gate_proj.weight"].T) * (a @ model.t[p + "mlp.up_proj.weight"].T)
                mlp = h @ model.t[p + "mlp.down_proj.weight"].T
            else:
                mlp = features[l] @ t["W_dec"] + t["b_dec"] + errors[l] + (a @ t["W_skip"].T if "W_skip" in t else 0)
            rec["xhat"].append(a)
            rec["pre"].append(pre)
            rec["mlp"].append(mlp)
            x = x + mlp[None]
        rec["final"] = ref.rms_norm(x, model.t["model.norm.weight"], eps, set())[0]
        return rec

    emb = model.embed(torch.tensor(tokens))
    clean = forward(emb)
    graph(folder, tokens, tcs, n_layers, emb, model.head, clean, forward, zero_bos=False)


def tiny_neox():
    """tiny-neox (parallel attention and MLP, LayerNorm, partial rotary) with transcoders reading ln2.hook_normalized,
    which here normalises hook_resid_pre."""
    import llama_neox_reference as ref
    folder = os.path.join(ROOT, "graph-transcoders-neox")
    fixture = os.path.join(ROOT, "tiny-neox")
    cfg = json.load(open(os.path.join(fixture, "config.json")))
    model = ref.GptNeoX(cfg, {k: v.double() for k, v in ref.read_safetensors(os.path.join(fixture, "model.safetensors")).items()})
    assert model.parallel
    d, n_layers, eps = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["layer_norm_eps"]
    tcs = transcoders(d, n_layers, d_sae=24, seed=31, skip_layer=n_layers - 1)
    write_set(folder, tcs, "ln2.hook_normalized")
    tokens = [cfg["bos_token_id"], 9, 33, 2, 60, 17]
    recorder = Recorder(ref)
    ref.layer_norm, ref.attention = recorder.layer_norm, recorder.attention
    ones, zeros = torch.ones(d), torch.zeros(d)

    def forward(emb, features=None, errors=None, frozen=True):
        recorder.frozen, recorder.live, recorder.i, recorder.j = features is not None, features is not None and not frozen, 0, 0
        rec = {"xhat": [], "pre": [], "mlp": []}
        x = emb[None]
        for l in range(n_layers):
            p, t = f"gpt_neox.layers.{l}.", tcs[l]
            attn = model.attn(l, x, set())
            xhat = ref.layer_norm(x, ones, zeros, eps, set())[0]
            pre = xhat @ t["W_enc"].T + t["b_enc"]
            if features is None:
                a = xhat * model.t[p + "post_attention_layernorm.weight"] + model.t[p + "post_attention_layernorm.bias"]
                h = model.act(a @ model.t[p + "mlp.dense_h_to_4h.weight"].T + model.t[p + "mlp.dense_h_to_4h.bias"])
                mlp = h @ model.t[p + "mlp.dense_4h_to_h.weight"].T + model.t[p + "mlp.dense_4h_to_h.bias"]
            else:
                mlp = features[l] @ t["W_dec"] + t["b_dec"] + errors[l] + (xhat @ t["W_skip"].T if "W_skip" in t else 0)
            rec["xhat"].append(xhat)
            rec["pre"].append(pre)
            rec["mlp"].append(mlp)
            x = x + attn + mlp[None]
        rec["final"] = model.ln(x, "gpt_neox.final_layer_norm", set())[0]
        return rec

    emb = model.embed(torch.tensor(tokens))
    clean = forward(emb)
    graph(folder, tokens, tcs, n_layers, emb, model.t["embed_out.weight"], clean, forward, zero_bos=True)


def residual_saes(d, layers, xs, d_sae=D_SAE, seed=37):
    """Random JumpReLU SAEs, one per hook_resid_post, scaled to each hook's clean activations xs[l] so that about half
    their features are active; W_enc is [d_in, d_sae] as SAELens stores it."""
    g = torch.Generator().manual_seed(seed)
    saes = []
    for l in range(layers):
        scale = xs[l].norm(dim=-1).mean()
        s = {"W_enc": torch.randn(d, d_sae, generator=g) / scale, "W_dec": torch.randn(d_sae, d, generator=g) * scale / d ** 0.5,
             "b_enc": torch.randn(d_sae, generator=g) * 0.1, "b_dec": torch.randn(d, generator=g) * 0.1 * scale / d ** 0.5,
             "threshold": torch.rand(d_sae, generator=g) * 0.5}
        saes.append({k: v.float().double() for k, v in s.items()})
    return saes


def gpt2_residual(w, saes, n_layers, n_heads, emb, frozen=None, sources=None):
    """GPT-2 on embedding rows emb [T, d]; clean when frozen is None (recording what to freeze), else with patterns,
    LayerNorm scales and GELU gates frozen and every hook_resid_post made of its sources. Records each hook's computed
    activation ("mlp": what the SAE splits) and each SAE's pre-activations from it ("pre")."""
    T, d = emb.shape
    dh = d // n_heads
    rec = {"pattern": [], "s1": [], "s2": [], "gate": [], "mlp": [], "pre": [], "xhat": []}
    x = emb + w["wpe.weight"][:T]
    for l in range(n_layers):
        p = f"h.{l}."
        h, s1 = layer_norm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"], None if frozen is None else frozen["s1"][l])
        q, k, v = (t.view(T, n_heads, dh).transpose(0, 1) for t in (h @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]).split(d, -1))
        if frozen is None:
            scores = (q @ k.transpose(-1, -2) / dh ** 0.5).masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf"))
            pattern = scores.softmax(-1)
        else:
            pattern = frozen["pattern"][l]
        x = x + (pattern @ v).transpose(0, 1).reshape(T, d) @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        h2, s2 = layer_norm(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"], None if frozen is None else frozen["s2"][l])
        hidden = h2 @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"]
        gate = (gelu_new(hidden) / hidden).detach() if frozen is None else frozen["gate"][l]
        x = x + (hidden * gate) @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
        s = saes[l]
        for key, value in (("pattern", pattern), ("s1", s1), ("s2", s2), ("gate", gate), ("mlp", x), ("xhat", x),
                           ("pre", (x - s["b_dec"]) @ s["W_enc"] + s["b_enc"])):
            rec[key].append(value)
        if frozen is not None:
            x = sources["features"][l] @ s["W_dec"] + s["b_dec"] + sources["errors"][l]
    rec["final"], rec["sf"] = layer_norm(x, w["ln_f.weight"], w["ln_f.bias"], None if frozen is None else frozen["sf"])
    return rec


def tarot_gpt2_residual():
    """tarot-gpt2 with an SAE at every hook_resid_post: the graph's edges pass through attention and the MLPs."""
    folder = os.path.join(ROOT, "graph-resid-saes")
    w = gpt2()
    d, n_layers, n_heads = 128, 4, 4
    emb = w["wte.weight"][TOKENS]
    placeholder = [{"b_dec": torch.zeros(d), "W_enc": torch.zeros(d, D_SAE), "b_enc": torch.zeros(D_SAE)}] * n_layers
    saes = residual_saes(d, n_layers, gpt2_residual(w, placeholder, n_layers, n_heads, emb)["mlp"])
    for l, s in enumerate(saes):
        sub = os.path.join(folder, f"blocks.{l}.hook_resid_post")
        os.makedirs(sub, exist_ok=True)
        write_safetensors(os.path.join(sub, "sae_weights.safetensors"), {k: v.float().numpy() for k, v in s.items()})
        with open(os.path.join(sub, "cfg.json"), "w") as fh:
            json.dump({"architecture": "jumprelu", "d_in": d, "d_sae": D_SAE, "dtype": "float32", "device": "cpu",
                       "apply_b_dec_to_input": True, "normalize_activations": "none",
                       "metadata": {"hook_name": f"blocks.{l}.hook_resid_post", "model_name": "tarot-gpt2"}}, fh, indent=2)
    clean = gpt2_residual(w, saes, n_layers, n_heads, emb)
    frozen = {k: [v.detach() for v in clean[k]] for k in ("pattern", "s1", "s2", "gate")}
    frozen["sf"] = clean["sf"].detach()
    # graph() reads each SAE as a transcoder: W_enc [d_sae, d_in], the threshold under the transcoders' key.
    as_transcoders = [dict(s, **{"W_enc": s["W_enc"].T, "activation_function.threshold": s["threshold"]}) for s in saes]
    graph(folder, TOKENS, as_transcoders, n_layers, emb, w["wte.weight"], clean,
          lambda e, features, errors: gpt2_residual(w, saes, n_layers, n_heads, e, frozen, {"features": features, "errors": errors}), zero_bos=True)


if __name__ == "__main__":
    tarot_gpt2_residual()
    tarot_gpt2()
    tiny_qwen3()
    tiny_neox()
