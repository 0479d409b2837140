using System.Numerics.Tensors;

namespace RelpSae.Sae;

/// <summary>What an SAE does to a set of activations (docs/methods.md §7).</summary>
/// <param name="L0">Mean number of active features per token.</param>
/// <param name="Mse">Mean squared error per element, ‖x − x̂‖² / d_in averaged over tokens.</param>
/// <param name="ExplainedVariance">1 − Σ‖x − x̂‖² / Σ‖x − x̄‖², x̄ the mean over all tokens.</param>
/// <param name="DeadFraction">Features that never fired.</param>
/// <param name="DenseFraction">Features that fired on more than the dense threshold's share of tokens.</param>
/// <param name="FeatureDensity">Per feature, the share of tokens it fired on.</param>
public sealed record SaeMetrics(long Tokens, double L0, double Mse, double ExplainedVariance,
    double DeadFraction, double DenseFraction, double[] FeatureDensity);

/// <summary>
/// Accumulates <see cref="SaeMetrics"/> over batches, in double precision. Feed it batches with
/// <see cref="Add(SparseAutoencoder, ReadOnlySpan{float})"/>, or with activations, reconstructions and features
/// the caller already has (e.g. while splicing the SAE into a model run).
/// </summary>
public sealed class SaeEvaluation(int dIn, int dSae)
{
    private readonly double[] _sum = new double[dIn];
    private readonly long[] _fired = new long[dSae];
    private double _sumSquares, _squaredError;
    private long _active, _tokens;
    private float[] _features = [], _reconstruction = [];

    public long Tokens => _tokens;

    /// <summary>Adds rows x [n × d_in] with their reconstructions [n × d_in] and features [n × d_sae].</summary>
    public void Add(ReadOnlySpan<float> x, ReadOnlySpan<float> reconstruction, ReadOnlySpan<float> features)
    {
        int n = x.Length / dIn;
        if (x.Length != n * dIn || reconstruction.Length != x.Length || features.Length != (long)n * dSae)
            throw new ArgumentException($"expected x and x̂ of n×{dIn} and features of n×{dSae} values");
        for (int r = 0; r < n; r++)
        {
            var xr = x.Slice(r * dIn, dIn);
            float distance = TensorPrimitives.Distance(xr, reconstruction.Slice(r * dIn, dIn));
            _squaredError += (double)distance * distance;
            for (int j = 0; j < dIn; j++)
            {
                _sum[j] += xr[j];
                _sumSquares += (double)xr[j] * xr[j];
            }
            var fr = features.Slice(r * dSae, dSae);
            for (int i = 0; i < dSae; i++)
                if (fr[i] != 0) { _fired[i]++; _active++; }
        }
        _tokens += n;
    }

    /// <summary>Encodes and decodes x [n × d_in] with the SAE and adds the result.</summary>
    public void Add(SparseAutoencoder sae, ReadOnlySpan<float> x)
    {
        if (sae.DIn != dIn || sae.DSae != dSae) throw new ArgumentException("SAE shape differs from the evaluation's", nameof(sae));
        int n = x.Length / dIn;
        if (_reconstruction.Length != x.Length)
        {
            _reconstruction = new float[x.Length];
            _features = new float[(long)n * dSae];
        }
        sae.Encode(x, _features);
        sae.Decode(_features, _reconstruction);
        Add(x, _reconstruction, _features);
    }

    /// <param name="denseThreshold">A feature is dense when it fires on more than this share of tokens.</param>
    public SaeMetrics Result(double denseThreshold = 0.1)
    {
        if (_tokens == 0) throw new InvalidOperationException("no tokens evaluated");
        double meanNormSquared = _sum.Sum(s => s * s) / ((double)_tokens * _tokens);
        double totalVariance = _sumSquares - _tokens * meanNormSquared;
        var density = _fired.Select(c => (double)c / _tokens).ToArray();
        return new SaeMetrics(
            _tokens,
            (double)_active / _tokens,
            _squaredError / _tokens / dIn,
            totalVariance > 0 ? 1 - _squaredError / totalVariance : 0,
            (double)density.Count(p => p == 0) / dSae,
            (double)density.Count(p => p > denseThreshold) / dSae,
            density);
    }

    /// <summary>log10(density + 1e-10) per feature: the <c>sparsity</c> tensor of SAELens' sparsity.safetensors.</summary>
    public static float[] LogDensity(IReadOnlyList<double> density) =>
        [.. density.Select(p => (float)Math.Log10(p + 1e-10))];

    /// <summary>
    /// Share of the language-model loss the SAE recovers: (CE_zero − CE_sae) / (CE_zero − CE_clean), with CE
    /// the model's cross-entropy run clean, with the SAE's reconstruction spliced in, and with the hook zeroed.
    /// NaN when zero-ablation does not change the loss.
    /// </summary>
    public static double CeLossRecovered(double ceClean, double ceSae, double ceZero) =>
        ceZero == ceClean ? double.NaN : (ceZero - ceSae) / (ceZero - ceClean);
}
