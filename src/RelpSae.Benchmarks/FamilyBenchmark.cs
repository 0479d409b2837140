using RelpSae.Formats;
using RelpSae.Lrp;
using RelpSae.Model;

namespace RelpSae.Benchmarks;

/// <summary>
/// A Llama-shaped and a Pythia-shaped workload with random weights (SmolLM-135M's and Pythia-160m's
/// shapes): the forward to full logits and the RelP pass (forward keeping activations, then the relp
/// rules' backward of one last-position logit to the middle block's hook_resid_pre), at 1×128 and 8×128.
/// </summary>
public static class FamilyBenchmark
{
    /// <summary>SmolLM-135M: 30 blocks of width 576, 9 query heads sharing 3 key-value heads, SwiGLU 1536, tied 49,152-token head.</summary>
    public static readonly LlamaConfig SmolLm135M = new("LlamaForCausalLM", VocabSize: 49152, Context: 2048, DModel: 576, NLayers: 30, NHeads: 9,
        NKvHeads: 3, DHead: 64, DMlp: 1536, RmsNormEps: 1e-5f, RopeTheta: 10000, RopeScaling: null, TiedEmbeddings: true, QkvBias: false, OutputBias: false, BosTokenId: 1);

    /// <summary>Pythia-160m: 12 parallel blocks of width 768, 12 heads with a quarter of each rotated, GELU 3072, untied 50,304-token head.</summary>
    public static readonly GptNeoXConfig Pythia160M = new(VocabSize: 50304, Context: 2048, DModel: 768, NLayers: 12, NHeads: 12, DMlp: 3072,
        RotaryDims: 16, RopeTheta: 10000, LayerNormEps: 1e-5f, ParallelResidual: true, ExactGelu: true, TiedEmbeddings: false, BosTokenId: 0);

    public static readonly (int Batch, int Tokens)[] Shapes = [(1, 128), (8, 128)];

    /// <summary>The two models with random weights (N(0, 0.02), norms at 1), built through the checkpoint loaders.</summary>
    public static IEnumerable<(string Name, ITransformer Model)> Models()
    {
        yield return ("llama", new Llama(LlamaWeights.FromTensors(SmolLm135M, Random(LlamaShapes(SmolLm135M)), "SmolLM-135M shapes")));
        yield return ("pythia", new GptNeoX(GptNeoXWeights.FromTensors(Pythia160M, Random(NeoXShapes(Pythia160M)), "Pythia-160m shapes")));
    }

    public static IEnumerable<BenchRow> Run(string name, ITransformer model, int threads, int warmup, int reps)
    {
        var f = model.Facts;
        var hook = new HookPoint(HookKind.ResidPre, f.NLayers / 2);
        var metric = new Metric(MetricKind.Logit, ModelBenchmark.Target);
        foreach (var (batch, tokens) in Shapes)
        {
            var rng = new Random(batch * 1000 + tokens);
            var ids = Enumerable.Range(0, batch * tokens).Select(_ => rng.Next(f.VocabSize)).ToArray();
            double blocks = BlockFlops(model, batch, tokens);
            yield return new BenchRow($"{name} forward", batch, tokens, threads,
                Timing.MedianMs(() => model.Forward(ids, batch, new RunOptions { Logits = LogitRows.All }).Dispose(), warmup, reps))
            { Gflop = (f.NLayers * blocks + 2.0 * batch * tokens * f.DModel * f.VocabSize) / 1e9 };
            // The backward runs every product of the blocks after the hook once more (input gradients only), attention twice.
            int after = f.NLayers - hook.Layer;
            yield return new BenchRow($"{name} relp", batch, tokens, threads, Timing.MedianMs(() =>
            {
                using var run = model.Forward(ids, batch, new RunOptions { KeepForBackward = true, Logits = LogitRows.None });
                run.Backward(metric, hook, PropagationRules.RelP);
            }, warmup, reps))
            { Gflop = (f.NLayers * blocks + after * (blocks + AttentionFlops(f, batch, tokens))) / 1e9 };
        }
    }

    /// <summary>One block's products on batch × tokens rows: the linear maps and the two T×T attention products.</summary>
    private static double BlockFlops(ITransformer model, int batch, int tokens)
    {
        var f = model.Facts;
        double rows = (double)batch * tokens, d = f.DModel, m = f.DMlp, attention = f.NHeads * f.DHead;
        double kv = model is Llama l ? l.Config.DKv : attention;
        double linear = model is Llama
            ? 2 * rows * (d * attention + 2 * d * kv + attention * d + 3 * d * m)   // q, k, v, o; gate, up, down
            : 2 * rows * (3 * d * attention + attention * d + 2 * d * m);          // fused qkv, dense; h→4h, 4h→h
        return linear + AttentionFlops(f, batch, tokens);
    }

    private static double AttentionFlops(ModelFacts f, int batch, int tokens) => 2 * 2 * (double)batch * tokens * tokens * f.NHeads * f.DHead;

    internal static IEnumerable<(string, int[])> LlamaShapes(LlamaConfig c)
    {
        int d = c.DModel;
        yield return ("model.embed_tokens.weight", [c.VocabSize, d]);
        yield return ("model.norm.weight", [d]);
        for (int l = 0; l < c.NLayers; l++)
        {
            string p = $"model.layers.{l}.";
            yield return (p + "input_layernorm.weight", [d]);
            yield return (p + "post_attention_layernorm.weight", [d]);
            yield return (p + "self_attn.q_proj.weight", [c.DAttention, d]);
            yield return (p + "self_attn.k_proj.weight", [c.DKv, d]);
            yield return (p + "self_attn.v_proj.weight", [c.DKv, d]);
            yield return (p + "self_attn.o_proj.weight", [d, c.DAttention]);
            yield return (p + "mlp.gate_proj.weight", [c.DMlp, d]);
            yield return (p + "mlp.up_proj.weight", [c.DMlp, d]);
            yield return (p + "mlp.down_proj.weight", [d, c.DMlp]);
        }
    }

    private static IEnumerable<(string, int[])> NeoXShapes(GptNeoXConfig c)
    {
        int d = c.DModel;
        yield return ("gpt_neox.embed_in.weight", [c.VocabSize, d]);
        yield return ("embed_out.weight", [c.VocabSize, d]);
        yield return ("gpt_neox.final_layer_norm.weight", [d]);
        yield return ("gpt_neox.final_layer_norm.bias", [d]);
        for (int l = 0; l < c.NLayers; l++)
        {
            string p = $"gpt_neox.layers.{l}.";
            foreach (var norm in new[] { "input_layernorm", "post_attention_layernorm" })
            {
                yield return (p + norm + ".weight", [d]);
                yield return (p + norm + ".bias", [d]);
            }
            foreach (var (linear, outputs, inputs) in new[] { ("attention.query_key_value", 3 * d, d), ("attention.dense", d, d), ("mlp.dense_h_to_4h", c.DMlp, d), ("mlp.dense_4h_to_h", d, c.DMlp) })
            {
                yield return (p + linear + ".weight", [outputs, inputs]);
                yield return (p + linear + ".bias", [outputs]);
            }
        }
    }

    internal static CheckpointTensors Random(IEnumerable<(string Name, int[] Shape)> shapes)
    {
        var rng = new Random(0);
        var tensors = new CheckpointTensors();
        foreach (var (name, shape) in shapes)
        {
            var values = new float[shape.Aggregate(1, (a, b) => a * b)];
            // Norm gains at 1, biases at 0, matrices small: activations stay in range through every block.
            bool gain = shape.Length == 1 && name.EndsWith(".weight", StringComparison.Ordinal);
            if (gain) Array.Fill(values, 1f);
            else if (shape.Length == 2) for (int i = 0; i < values.Length; i++) values[i] = (float)(rng.NextDouble() - 0.5) * 0.04f;
            tensors.Add(new FloatTensor(name, shape, values), "random");
        }
        return tensors;
    }
}
