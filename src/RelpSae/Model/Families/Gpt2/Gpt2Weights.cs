using RelpSae.Formats;

namespace RelpSae.Model;

/// <summary>One GPT-2 block's parameters: LayerNorm scales and shifts, and Conv1D maps (W stored [in, out]).</summary>
public sealed class Gpt2Layer
{
    public required float[] Ln1Gamma, Ln1Beta;   // [d]
    public required Linear Qkv;                  // c_attn [d → 3d]: columns Q | K | V, heads contiguous d_head slices
    public required Linear O;                    // c_proj [d → d]
    public required float[] Ln2Gamma, Ln2Beta;   // [d]
    public required Linear Fc, Proj;             // c_fc [d → m], c_proj [m → d]
}

/// <summary>All parameters of a GPT-2 model, loaded once and shared by every forward and backward pass.</summary>
public sealed class Gpt2Weights
{
    public required Gpt2Config Config { get; init; }
    public required float[] Wte { get; init; }        // [V, d] token embedding
    public required float[] Wpe { get; init; }        // [P, d] position embedding
    public required Gpt2Layer[] Layers { get; init; }
    public required float[] LnFGamma { get; init; }   // [d]
    public required float[] LnFBeta { get; init; }    // [d]

    /// <summary>The unembedding [V, d]: the tied <see cref="Wte"/>, or its uncentred copy once the writing weights are centred.</summary>
    public Linear Unembed { get; private set; } = null!;

    /// <summary>True once <see cref="CenterWritingWeights"/> has run.</summary>
    public bool WritingWeightsCentered { get; private set; }

    public static Gpt2Weights FromTensors(Gpt2Config config, IReadOnlyDictionary<string, FloatTensor> tensors, Numerics.PanelElement held = Numerics.PanelElement.Float32)
    {
        float[] T(string name, params int[] shape)
        {
            if (!tensors.TryGetValue(name, out var t)) throw new RelpSaeException($"checkpoint lacks tensor {name}");
            if (!t.Shape.SequenceEqual(shape))
                throw new RelpSaeException($"tensor {name} has shape [{string.Join(", ", t.Shape)}], expected [{string.Join(", ", shape)}]");
            return t.Data;
        }
        int d = config.DModel, m = config.DMlp;
        Linear Map(string name, int inputs, int outputs) =>
            Linear.Conv1D(T(name + ".weight", inputs, outputs), T(name + ".bias", outputs), inputs, outputs, held);
        var layers = new Gpt2Layer[config.NLayers];
        for (int l = 0; l < layers.Length; l++)
        {
            string p = $"h.{l}.";
            layers[l] = new Gpt2Layer
            {
                Ln1Gamma = T(p + "ln_1.weight", d), Ln1Beta = T(p + "ln_1.bias", d),
                Qkv = Map(p + "attn.c_attn", d, 3 * d), O = Map(p + "attn.c_proj", d, d),
                Ln2Gamma = T(p + "ln_2.weight", d), Ln2Beta = T(p + "ln_2.bias", d),
                Fc = Map(p + "mlp.c_fc", d, m), Proj = Map(p + "mlp.c_proj", m, d),
            };
        }
        var w = new Gpt2Weights
        {
            Config = config,
            Wte = T("wte.weight", config.VocabSize, d), Wpe = T("wpe.weight", config.NPositions, d),
            Layers = layers, LnFGamma = T("ln_f.weight", d), LnFBeta = T("ln_f.bias", d),
        };
        w.Unembed = new Linear(w.Wte, null, d, config.VocabSize, held);
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
            Add(p + "attn.c_attn.weight", L.Qkv.InOut(), d, 3 * d); Add(p + "attn.c_attn.bias", L.Qkv.Bias!, 3 * d);
            Add(p + "attn.c_proj.weight", L.O.InOut(), d, d); Add(p + "attn.c_proj.bias", L.O.Bias!, d);
            Add(p + "ln_2.weight", L.Ln2Gamma, d); Add(p + "ln_2.bias", L.Ln2Beta, d);
            Add(p + "mlp.c_fc.weight", L.Fc.InOut(), d, m); Add(p + "mlp.c_fc.bias", L.Fc.Bias!, m);
            Add(p + "mlp.c_proj.weight", L.Proj.InOut(), m, d); Add(p + "mlp.c_proj.bias", L.Proj.Bias!, d);
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
            Layers = Enumerable.Range(0, c.NLayers).Select(_ => new Gpt2Layer
            {
                Ln1Gamma = Ones(d), Ln1Beta = new float[d], Qkv = Linear.Conv1D(N(d * 3 * d), N(3 * d), d, 3 * d), O = Linear.Conv1D(N(d * d), N(d), d, d),
                Ln2Gamma = Ones(d), Ln2Beta = new float[d], Fc = Linear.Conv1D(N(d * m), N(m), d, m), Proj = Linear.Conv1D(N(m * d), N(d), m, d),
            }).ToArray(),
            LnFGamma = Ones(d), LnFBeta = new float[d],
        };
        w.Unembed = new Linear(w.Wte, null, d, c.VocabSize);
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
        CenterRows(Wte, d);   // the unembedding, packed from it at load, keeps it uncentred
        CenterRows(Wpe, d);
        foreach (var l in Layers)
        {
            l.O = Centered(l.O, d);
            l.Proj = Centered(l.Proj, d);
        }
        WritingWeightsCentered = true;
    }

    /// <summary>A Conv1D writing d values, its weights [in × d] and bias each with the mean over d removed.</summary>
    private static Linear Centered(Linear map, int d)
    {
        var weight = map.InOut();
        var bias = (float[])map.Bias!.Clone();
        CenterRows(weight, d);
        CenterRows(bias, d);
        return Linear.Conv1D(weight, bias, map.Inputs, d, map.Element);
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
