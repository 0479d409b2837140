using System.Runtime.Intrinsics;
using System.Buffers;
using System.Numerics.Tensors;
using RelpSae.Formats;
using RelpSae.Numerics;

namespace RelpSae.Sae;

/// <summary>
/// A sparse autoencoder in SAELens' convention, on row-major batches:
/// f = act((x − b_dec·[apply_b_dec_to_input])·W_enc + b_enc), x̂ = f·W_dec + b_dec.
/// The weight arrays are the SAE's own storage (the trainer updates them in place).
/// </summary>
public sealed class SparseAutoencoder
{
    public SaeConfig Config { get; }
    public int DIn => Config.DIn;
    public int DSae => Config.DSae;
    /// <summary>[d_in × d_sae]</summary>
    public float[] WEnc { get; }
    /// <summary>[d_sae]</summary>
    public float[] BEnc { get; }
    /// <summary>[d_sae × d_in]: row i is feature i's direction in the model's activation space.</summary>
    public float[] WDec { get; }
    /// <summary>[d_in]</summary>
    public float[] BDec { get; }
    /// <summary>[d_sae] for JumpReLU, empty otherwise.</summary>
    public float[] Threshold { get; }

    /// <summary>An SAE of the given shape with all weights zero.</summary>
    public SparseAutoencoder(SaeConfig config)
    {
        config.Validate("SAE config");
        Config = config;
        WEnc = new float[(long)config.DIn * config.DSae];
        BEnc = new float[config.DSae];
        WDec = new float[(long)config.DSae * config.DIn];
        BDec = new float[config.DIn];
        Threshold = new float[config.Architecture == SaeArchitecture.JumpRelu ? config.DSae : 0];
    }

    /// <summary>The trainable arrays, in a fixed order (W_enc, b_enc, W_dec, b_dec[, threshold]).</summary>
    internal float[][] Parameters =>
        Threshold.Length > 0 ? [WEnc, BEnc, WDec, BDec, Threshold] : [WEnc, BEnc, WDec, BDec];

    /// <summary>Builds an SAE from SAELens-named tensors (W_enc, b_enc, W_dec, b_dec, threshold), checking
    /// every shape against the config; <paramref name="source"/> names the file in errors.</summary>
    public static SparseAutoencoder FromTensors(SaeConfig config, IEnumerable<FloatTensor> tensors, string source)
    {
        var sae = new SparseAutoencoder(config);
        var byName = new Dictionary<string, FloatTensor>();
        foreach (var t in tensors) byName[t.Name] = t;
        sae.Fill(byName, "W_enc", [config.DIn, config.DSae], sae.WEnc, source);
        sae.Fill(byName, "b_enc", [config.DSae], sae.BEnc, source);
        sae.Fill(byName, "W_dec", [config.DSae, config.DIn], sae.WDec, source);
        sae.Fill(byName, "b_dec", [config.DIn], sae.BDec, source);
        if (config.Architecture == SaeArchitecture.JumpRelu)
        {
            if (byName.ContainsKey("threshold") || !byName.ContainsKey("log_threshold"))
                sae.Fill(byName, "threshold", [config.DSae], sae.Threshold, source);
            else
            {
                sae.Fill(byName, "log_threshold", [config.DSae], sae.Threshold, source);
                for (int i = 0; i < sae.Threshold.Length; i++) sae.Threshold[i] = MathF.Exp(sae.Threshold[i]);
            }
            int negative = Array.FindIndex(sae.Threshold, t => t < 0);
            if (negative >= 0)
                throw new RelpSaeException($"{source}: threshold of feature {negative} is {sae.Threshold[negative]}; a JumpReLU threshold must be >= 0");
        }
        // SAELens once saved an all-ones scaling_factor with every SAE; anything else changes the features.
        if (byName.Remove("scaling_factor", out var scaling) && scaling.Data.Any(v => v != 1f))
            throw new RelpSaeException($"{source}: tensor 'scaling_factor' is not all ones (finetuning scaling is not supported)");
        if (byName.Count > 0)
            throw new RelpSaeException($"{source}: unexpected tensor '{byName.Keys.First()}' for a {SaeLensConfig.ArchitectureName(config.Architecture)} SAE");
        return sae;
    }

    /// <summary>The weights as SAELens names them, for sae_weights.safetensors.</summary>
    public IReadOnlyList<FloatTensor> ToTensors()
    {
        var list = new List<FloatTensor>
        {
            new("W_enc", [DIn, DSae], (float[])WEnc.Clone()),
            new("b_enc", [DSae], (float[])BEnc.Clone()),
            new("W_dec", [DSae, DIn], (float[])WDec.Clone()),
            new("b_dec", [DIn], (float[])BDec.Clone()),
        };
        if (Threshold.Length > 0) list.Add(new("threshold", [DSae], (float[])Threshold.Clone()));
        return list;
    }

    /// <summary>A deep copy, optionally under another config of the same shape.</summary>
    public SparseAutoencoder Clone(SaeConfig? config = null)
    {
        var copy = new SparseAutoencoder(config ?? Config);
        if (copy.DIn != DIn || copy.DSae != DSae || copy.Config.Architecture != Config.Architecture)
            throw new ArgumentException("a clone keeps the SAE's shape and architecture", nameof(config));
        var from = Parameters;
        var to = copy.Parameters;
        for (int p = 0; p < from.Length; p++) from[p].CopyTo(to[p], 0);
        return copy;
    }

    /// <summary>Feature activations f [n × d_sae] of a batch x [n × d_in].</summary>
    public void Encode(ReadOnlySpan<float> x, Span<float> features)
    {
        int n = Rows(x, DIn, nameof(x));
        CheckLength(features, n, DSae, nameof(features));
        // (x − b_dec)·W_enc + b_enc = x·W_enc + (b_enc − b_dec·W_enc): no copy of x needed.
        float[] bias = ArrayPool<float>.Shared.Rent(DSae);
        try
        {
            var b = bias.AsSpan(0, DSae);
            if (Config.ApplyBDecToInput)
            {
                Gemm.Multiply(Matrix.Of(BDec, 1, DIn), Matrix.Of(WEnc, DIn, DSae), Matrix.Into(b, 1, DSae));
                for (int i = 0; i < DSae; i++) b[i] = BEnc[i] - b[i];
            }
            else BEnc.CopyTo(b);
            Gemm.Multiply(Matrix.Of(x, n, DIn), Matrix.Of(WEnc, DIn, DSae), Matrix.Into(features, n, DSae));
            for (int r = 0; r < n; r++) Add(features.Slice(r * DSae, DSae), b);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(bias);
        }
        Activate(features);
    }

    public float[] Encode(ReadOnlySpan<float> x)
    {
        var f = new float[(long)Rows(x, DIn, nameof(x)) * DSae];
        Encode(x, f);
        return f;
    }

    /// <summary>Reconstruction x̂ = f·W_dec + b_dec [n × d_in] of features f [n × d_sae].</summary>
    public void Decode(ReadOnlySpan<float> features, Span<float> reconstruction)
    {
        int n = Rows(features, DSae, nameof(features));
        CheckLength(reconstruction, n, DIn, nameof(reconstruction));
        for (int r = 0; r < n; r++) BDec.CopyTo(reconstruction.Slice(r * DIn, DIn));
        Gemm.Multiply(Matrix.Of(features, n, DSae), Matrix.Of(WDec, DSae, DIn), Matrix.Into(reconstruction, n, DIn), accumulate: true);
    }

    public float[] Decode(ReadOnlySpan<float> features)
    {
        var x = new float[(long)Rows(features, DSae, nameof(features)) * DIn];
        Decode(features, x);
        return x;
    }

    /// <summary>Feature i's decoder direction W_dec[i, :] (what one unit of f_i adds to x̂).</summary>
    public ReadOnlySpan<float> DecoderRow(int feature) => WDec.AsSpan(feature * DIn, DIn);

    /// <summary>x += delta·W_dec[feature, :]: the change in x̂ when f_feature changes by delta.</summary>
    public void AddFeatureContribution(int feature, float delta, Span<float> x)
    {
        CheckLength(x, 1, DIn, nameof(x));
        TensorPrimitives.MultiplyAdd(DecoderRow(feature), delta, x, x);
    }

    /// <summary>Turns pre-activations [n × d_sae] into feature activations, in place.</summary>
    public void Activate(Span<float> values)
    {
        if (Config.Architecture == SaeArchitecture.TopK)
        {
            TopKSelection.KeepTopK(values, DSae, Config.K);
            return;
        }
        for (int r = 0; r < values.Length / DSae; r++)
        {
            var row = values.Slice(r * DSae, DSae);
            ActivateColumns(row, row, 0);
        }
    }

    /// <summary>f = act(pre) on the columns [first, first + pre.Length) of one row, for the element-wise
    /// activations (ReLU, JumpReLU); <paramref name="f"/> may be <paramref name="pre"/> itself.</summary>
    internal void ActivateColumns(ReadOnlySpan<float> pre, Span<float> f, int first)
    {
        if (Config.Architecture == SaeArchitecture.Standard)
        {
            TensorPrimitives.Max(pre, 0f, f);
            return;
        }
        var threshold = Threshold.AsSpan(first, pre.Length);
        int i = 0, lanes = Vector256<float>.Count;
        for (; i <= pre.Length - lanes; i += lanes)
        {
            var v = Vector256.Create(pre.Slice(i, lanes));
            var keep = Vector256.GreaterThan(v, Vector256.Create(threshold.Slice(i, lanes))) & Vector256.GreaterThan(v, Vector256<float>.Zero);
            (v & keep).CopyTo(f.Slice(i, lanes));
        }
        for (; i < pre.Length; i++)
            f[i] = pre[i] > threshold[i] && pre[i] > 0 ? pre[i] : 0;
    }

    /// <summary>
    /// Makes an SAE that expects inputs scaled by <paramref name="scale"/> work on unscaled ones: with
    /// x = x_raw·s, W_enc·s, W_dec/s and b_dec/s give the same features and x̂_raw = x̂/s (SAELens'
    /// fold_activation_norm_scaling_factor).
    /// </summary>
    public void FoldInputScale(float scale) => FoldScales(scale, scale);

    /// <summary>
    /// <see cref="FoldInputScale"/> for a transcoder trained on inputs scaled by <paramref name="input"/> to predict outputs
    /// scaled by <paramref name="output"/>: W_enc·s_in gives the same features from raw inputs, W_dec/s_out and b_dec/s_out raw outputs.
    /// </summary>
    public void FoldScales(float input, float output)
    {
        if (!(input > 0) || !float.IsFinite(input)) throw new ArgumentOutOfRangeException(nameof(input));
        if (!(output > 0) || !float.IsFinite(output)) throw new ArgumentOutOfRangeException(nameof(output));
        TensorPrimitives.Multiply(WEnc, input, WEnc);
        TensorPrimitives.Divide(WDec, output, WDec);
        TensorPrimitives.Divide(BDec, output, BDec);
    }

    private void Fill(Dictionary<string, FloatTensor> tensors, string name, int[] shape, float[] target, string source)
    {
        if (!tensors.Remove(name, out var t))
            throw new RelpSaeException($"{source}: missing tensor '{name}'");
        if (!t.Shape.SequenceEqual(shape))
            throw new RelpSaeException(
                $"{source}: tensor '{name}' has shape [{string.Join(", ", t.Shape)}] but cfg.json (d_in {DIn}, d_sae {DSae}) needs [{string.Join(", ", shape)}]");
        t.Data.CopyTo(target, 0);
    }

    private static void Add(Span<float> row, ReadOnlySpan<float> bias) =>
        TensorPrimitives.Add(row, bias, row);

    private static int Rows(ReadOnlySpan<float> data, int width, string name) =>
        data.Length % width == 0 ? data.Length / width
            : throw new ArgumentException($"length {data.Length} is not a multiple of {width}", name);

    private static void CheckLength(Span<float> data, int rows, int width, string name)
    {
        if (data.Length != (long)rows * width)
            throw new ArgumentException($"expected {rows}×{width} values, got {data.Length}", name);
    }
}
