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

/// <summary>
/// All parameters of a GPT-2 model, loaded once and shared by every forward and backward pass. Every matrix is held once,
/// packed in its checkpoint's width (<see cref="CheckpointTensors.Holding"/>): the embeddings as nn.Linear-shaped tables
/// read back a row at a time, the Conv1D maps as they are stored.
/// </summary>
public sealed class Gpt2Weights
{
    public required Gpt2Config Config { get; init; }
    public required Linear Embedding { get; init; }   // wte [V, d]: row v is token v's vector
    public required Linear Positions { get; init; }   // wpe [P, d]: row p is position p's vector
    public required Gpt2Layer[] Layers { get; init; }
    public required float[] LnFGamma { get; init; }   // [d]
    public required float[] LnFBeta { get; init; }    // [d]
    /// <summary>The unembedding [V, d]: the <see cref="Embedding"/> itself when tied (never centred: see <see cref="CenterWritingWeights"/>), else lm_head.</summary>
    public required Linear Unembed { get; init; }

    /// <summary>True once <see cref="CenterWritingWeights"/> has run.</summary>
    public bool WritingWeightsCentered { get; private set; }

    /// <summary>Token <paramref name="id"/>'s embedding (centred once the writing weights are).</summary>
    public void TokenVector(int id, Span<float> into) => Centred(Embedding, id, into);

    /// <summary>Position <paramref name="position"/>'s embedding (centred once the writing weights are).</summary>
    public void PositionVector(int position, Span<float> into) => Centred(Positions, position, into);

    private void Centred(Linear table, int row, Span<float> into)
    {
        table.Row(row, into);
        if (WritingWeightsCentered) CenterRows(into, into.Length);
    }

    /// <summary>
    /// The weights of a Hugging Face GPT-2 checkpoint (GPT2Model's names, with or without GPT2LMHeadModel's "transformer."),
    /// each checked against the shape <paramref name="config"/> implies before it is read; the causal-mask buffers are left
    /// unread, and so is a tied lm_head (GPT2LMHeadModel replaces it by wte as well).
    /// </summary>
    public static Gpt2Weights FromTensors(Gpt2Config config, CheckpointTensors t, string configPath)
    {
        string by = configPath, top = t.Contains("transformer.wte.weight") ? "transformer." : "";
        int d = config.DModel, m = config.DMlp;
        Linear Map(string name, int inputs, int outputs) => Linear.TakeConv1D(t, name, by, inputs, outputs);
        var layers = t.Layers(top + "h.", config.NLayers, "n_layer", by, p => new Gpt2Layer
        {
            Ln1Gamma = t.Take(p + "ln_1.weight", by, d), Ln1Beta = t.Take(p + "ln_1.bias", by, d),
            Qkv = Map(p + "attn.c_attn", d, 3 * d), O = Map(p + "attn.c_proj", d, d),
            Ln2Gamma = t.Take(p + "ln_2.weight", by, d), Ln2Beta = t.Take(p + "ln_2.bias", by, d),
            Fc = Map(p + "mlp.c_fc", d, m), Proj = Map(p + "mlp.c_proj", m, d),
        });
        var embedding = Linear.Take(t, top + "wte", by, config.VocabSize, d, bias: false);
        var w = new Gpt2Weights
        {
            Config = config, Embedding = embedding, Positions = Linear.Take(t, top + "wpe", by, config.NPositions, d, bias: false),
            Layers = layers, LnFGamma = t.Take(top + "ln_f.weight", by, d), LnFBeta = t.Take(top + "ln_f.bias", by, d),
            Unembed = Linear.Head(t, "lm_head", embedding, config.TiedEmbeddings, by),
        };
        // The causal mask (attn.bias) and its fill value (attn.masked_bias) are buffers, not weights.
        t.CheckAllTaken(by, name => name.EndsWith(".attn.bias", StringComparison.Ordinal) || name.EndsWith(".attn.masked_bias", StringComparison.Ordinal));
        return w;
    }

    /// <summary>The parameters as GPT2Model-named tensors, widened to float32, as loaded (the writing weights uncentred; lm_head when untied).</summary>
    public Dictionary<string, FloatTensor> ToTensors()
    {
        if (WritingWeightsCentered) throw new InvalidOperationException("the writing weights are centred; the checkpoint's own are gone");
        int d = Config.DModel, m = Config.DMlp;
        var result = new Dictionary<string, FloatTensor>();
        void Add(string name, float[] data, params int[] shape) => result[name] = new FloatTensor(name, shape, data);
        Add("wte.weight", Embedding.OutIn(), Config.VocabSize, d);
        Add("wpe.weight", Positions.OutIn(), Config.NPositions, d);
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
        if (Unembed != Embedding) Add("lm_head.weight", Unembed.OutIn(), Config.VocabSize, d);
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
        var embedding = new Linear(N(c.VocabSize * d), null, d, c.VocabSize);
        return new Gpt2Weights
        {
            Config = c, Embedding = embedding, Positions = new Linear(N(c.NPositions * d), null, d, c.NPositions),
            Layers = Enumerable.Range(0, c.NLayers).Select(_ => new Gpt2Layer
            {
                Ln1Gamma = Ones(d), Ln1Beta = new float[d], Qkv = Linear.Conv1D(N(d * 3 * d), N(3 * d), d, 3 * d), O = Linear.Conv1D(N(d * d), N(d), d, d),
                Ln2Gamma = Ones(d), Ln2Beta = new float[d], Fc = Linear.Conv1D(N(d * m), N(m), d, m), Proj = Linear.Conv1D(N(m * d), N(d), m, d),
            }).ToArray(),
            LnFGamma = Ones(d), LnFBeta = new float[d], Unembed = embedding,
        };
    }

    /// <summary>
    /// TransformerLens' center_writing_weights: every weight and bias that writes to the residual stream
    /// (token and position embeddings, attention and MLP output projections) has its mean over d_model
    /// removed, so the residual stream is centred. Every read of the residual goes through a LayerNorm,
    /// which removes the mean anyway, so the model's outputs are unchanged. The embeddings are centred a row
    /// at a time as they are read (<see cref="TokenVector"/>), so the tied unembedding, the same panels, stays
    /// uncentred with no second copy (TransformerLens' W_U is likewise uncentred; its center_unembed, which would
    /// shift all logits of a position by one constant, is not applied).
    /// SAEs trained this way (the public GPT-2 small residual SAEs) expect these centred activations.
    /// </summary>
    public void CenterWritingWeights()
    {
        if (WritingWeightsCentered) return;
        int d = Config.DModel;
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

    private static void CenterRows(Span<float> a, int width)
    {
        for (int r = 0; r < a.Length; r += width)
        {
            var row = a.Slice(r, width);
            float mean = System.Numerics.Tensors.TensorPrimitives.Sum<float>(row) / width;
            System.Numerics.Tensors.TensorPrimitives.Subtract(row, mean, row);
        }
    }
}
