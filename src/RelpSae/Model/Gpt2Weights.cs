using RelpSae.Formats;

namespace RelpSae.Model;

/// <summary>All parameters of a GPT-2 model, loaded once and shared by every forward and backward pass.</summary>
public sealed class Gpt2Weights
{
    public required Gpt2Config Config { get; init; }
    public required float[] Wte { get; init; }        // [V, d] token embedding
    public required float[] Wpe { get; init; }        // [P, d] position embedding
    public required LayerWeights[] Layers { get; init; }
    public required float[] LnFGamma { get; init; }   // [d]
    public required float[] LnFBeta { get; init; }    // [d]

    /// <summary>The unembedding [V, d]: the tied <see cref="Wte"/>, or its uncentred copy once the writing weights are centred.</summary>
    public float[] Unembed { get; private set; } = [];

    /// <summary>The matrices packed for the GEMM, built on first use (and dropped when the weights change).</summary>
    internal PackedWeights Packed
    {
        get
        {
            if (packed is null) Interlocked.CompareExchange(ref packed, new PackedWeights(this), null);
            return packed;
        }
    }

    private PackedWeights? packed;

    /// <summary>True once <see cref="CenterWritingWeights"/> has run.</summary>
    public bool WritingWeightsCentered { get; private set; }

    public static Gpt2Weights FromTensors(Gpt2Config config, IReadOnlyDictionary<string, FloatTensor> tensors)
    {
        float[] T(string name, params int[] shape)
        {
            if (!tensors.TryGetValue(name, out var t)) throw new RelpSaeException($"checkpoint lacks tensor {name}");
            if (!t.Shape.SequenceEqual(shape))
                throw new RelpSaeException($"tensor {name} has shape [{string.Join(", ", t.Shape)}], expected [{string.Join(", ", shape)}]");
            return t.Data;
        }
        int d = config.DModel, m = config.DMlp;
        var layers = new LayerWeights[config.NLayers];
        for (int l = 0; l < layers.Length; l++)
        {
            string p = $"h.{l}.";
            layers[l] = new LayerWeights
            {
                Ln1Gamma = T(p + "ln_1.weight", d), Ln1Beta = T(p + "ln_1.bias", d),
                WQkv = T(p + "attn.c_attn.weight", d, 3 * d), BQkv = T(p + "attn.c_attn.bias", 3 * d),
                WO = T(p + "attn.c_proj.weight", d, d), BO = T(p + "attn.c_proj.bias", d),
                Ln2Gamma = T(p + "ln_2.weight", d), Ln2Beta = T(p + "ln_2.bias", d),
                WFc = T(p + "mlp.c_fc.weight", d, m), BFc = T(p + "mlp.c_fc.bias", m),
                WProj = T(p + "mlp.c_proj.weight", m, d), BProj = T(p + "mlp.c_proj.bias", d),
            };
        }
        var w = new Gpt2Weights
        {
            Config = config,
            Wte = T("wte.weight", config.VocabSize, d), Wpe = T("wpe.weight", config.NPositions, d),
            Layers = layers, LnFGamma = T("ln_f.weight", d), LnFBeta = T("ln_f.bias", d),
        };
        w.Unembed = w.Wte;
        return w;
    }

    /// <summary>The parameters as HF-named tensors (the inverse of <see cref="FromTensors"/>).</summary>
    public Dictionary<string, FloatTensor> ToTensors()
    {
        int d = Config.DModel, m = Config.DMlp;
        var result = new Dictionary<string, FloatTensor>();
        void Add(string name, float[] data, params int[] shape) => result[name] = new FloatTensor(name, shape, data);
        Add("wte.weight", Wte, Config.VocabSize, d);
        Add("wpe.weight", Wpe, Config.NPositions, d);
        for (int l = 0; l < Layers.Length; l++)
        {
            var L = Layers[l];
            string p = $"h.{l}.";
            Add(p + "ln_1.weight", L.Ln1Gamma, d); Add(p + "ln_1.bias", L.Ln1Beta, d);
            Add(p + "attn.c_attn.weight", L.WQkv, d, 3 * d); Add(p + "attn.c_attn.bias", L.BQkv, 3 * d);
            Add(p + "attn.c_proj.weight", L.WO, d, d); Add(p + "attn.c_proj.bias", L.BO, d);
            Add(p + "ln_2.weight", L.Ln2Gamma, d); Add(p + "ln_2.bias", L.Ln2Beta, d);
            Add(p + "mlp.c_fc.weight", L.WFc, d, m); Add(p + "mlp.c_fc.bias", L.BFc, m);
            Add(p + "mlp.c_proj.weight", L.WProj, m, d); Add(p + "mlp.c_proj.bias", L.BProj, d);
        }
        Add("ln_f.weight", LnFGamma, d); Add("ln_f.bias", LnFBeta, d);
        return result;
    }

    /// <summary>Random weights (normal, std <paramref name="scale"/>; LayerNorm γ = 1, β = 0), for tests and benchmarks.</summary>
    public static Gpt2Weights Random(Gpt2Config c, int seed, float scale = 0.02f)
    {
        var rng = new Random(seed);
        float[] N(int n)
        {
            var a = GC.AllocateUninitializedArray<float>(n);
            for (int i = 0; i < n; i += 2)
            {
                // Box–Muller: two normals per pair of uniforms.
                double u = 1 - rng.NextDouble(), v = rng.NextDouble(), r = Math.Sqrt(-2 * Math.Log(u)) * scale;
                a[i] = (float)(r * Math.Cos(2 * Math.PI * v));
                if (i + 1 < n) a[i + 1] = (float)(r * Math.Sin(2 * Math.PI * v));
            }
            return a;
        }
        float[] Ones(int n) { var a = new float[n]; Array.Fill(a, 1f); return a; }
        int d = c.DModel, m = c.DMlp;
        var w = new Gpt2Weights
        {
            Config = c, Wte = N(c.VocabSize * d), Wpe = N(c.NPositions * d),
            Layers = Enumerable.Range(0, c.NLayers).Select(_ => new LayerWeights
            {
                Ln1Gamma = Ones(d), Ln1Beta = new float[d], WQkv = N(d * 3 * d), BQkv = N(3 * d), WO = N(d * d), BO = N(d),
                Ln2Gamma = Ones(d), Ln2Beta = new float[d], WFc = N(d * m), BFc = N(m), WProj = N(m * d), BProj = N(d),
            }).ToArray(),
            LnFGamma = Ones(d), LnFBeta = new float[d],
        };
        w.Unembed = w.Wte;
        return w;
    }

    /// <summary>
    /// TransformerLens' center_writing_weights: every weight and bias that writes to the residual stream
    /// (token and position embeddings, attention and MLP output projections) has its mean over d_model
    /// removed, so the residual stream is centred. Every read of the residual goes through a LayerNorm,
    /// which removes the mean anyway, so the model's outputs are unchanged; the unembedding keeps an
    /// uncentred copy of the tied embedding for that reason (TransformerLens' W_U is likewise a separate copy;
    /// its center_unembed, which would shift all logits of a position by one constant, is not applied).
    /// SAEs trained this way (the public GPT-2 small residual SAEs) expect these centred activations.
    /// </summary>
    public void CenterWritingWeights()
    {
        if (WritingWeightsCentered) return;
        int d = Config.DModel;
        Unembed = (float[])Wte.Clone();
        CenterRows(Wte, d);
        CenterRows(Wpe, d);
        foreach (var l in Layers)
        {
            CenterRows(l.WO, d); CenterRows(l.BO, d);
            CenterRows(l.WProj, d); CenterRows(l.BProj, d);
        }
        WritingWeightsCentered = true;
        packed = null;
    }

    private static void CenterRows(float[] a, int width)
    {
        for (int r = 0; r < a.Length; r += width)
        {
            var row = a.AsSpan(r, width);
            float mean = System.Numerics.Tensors.TensorPrimitives.Sum<float>(row) / width;
            System.Numerics.Tensors.TensorPrimitives.Subtract(row, mean, row);
        }
    }
}
