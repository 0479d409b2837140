using System.Runtime.Intrinsics;
using System.Numerics.Tensors;
using RelpSae.Model;
using RelpSae.Numerics;

namespace RelpSae.Sae;

/// <summary>The parts of one batch's loss, plus what the metrics need.</summary>
internal readonly record struct LossTerms(
    double Loss, double Reconstruction, double Sparsity, double Aux, double L0, double SquaredError, double TotalVariance)
{
    public double ExplainedVariance => TotalVariance > 0 ? 1 - SquaredError / TotalVariance : 0;
}

/// <summary>The hyperparameters the loss itself reads.</summary>
internal readonly record struct ObjectiveSettings(float Sparsity, float JumpReluBandwidth, float AuxKCoefficient, int AuxK);

/// <summary>
/// The SAE training loss for one batch of B rows and its hand-written backward pass, on preallocated buffers:
/// L = (1/B) Σ_b [ Σ_d (x̂ − x)² + penalty_b ] (+ AuxK),
/// penalty = λ Σ_i f_i ‖W_dec[i]‖ (standard), λ Σ_i [f_i ≠ 0] (JumpReLU, L0), none (TopK).
/// JumpReLU's threshold gets the JumpReLU paper's pseudo-gradient (rectangle kernel of width ε);
/// TopK adds Gao et al.'s AuxK: α·(1/B) Σ_b ‖e_b − ê_b‖², e = x − x̂ held constant, ê decoded from the
/// top-k_aux pre-activations of the dead latents alone.
/// </summary>
internal sealed partial class SaeObjective
{
    private static readonly int Lanes = Vector256<float>.Count;
    private readonly SaeConfig _config;
    private readonly int _b, _d, _s;
    private readonly float[] _xin, _pre, _f, _grad, _xhat, _dxhat, _decNorm, _featureSum, _tmpD, _rowVariance;
    private readonly float[] _auxRecon, _auxValues, _auxGrad;
    private readonly int[] _auxIndices, _auxCounts;
    // TopK: the active latents of each row (increasing); with few latents per row (the sparse path) also
    // dL/dpre there and W_enc's gradient transposed (one row per latent, so that rows can be added to it).
    private readonly bool _sparse;
    private readonly int _k;
    private readonly int[] _active, _activeCounts;
    private readonly float[] _activeGrad, _wEncGradT;
    // JumpReLU: one bit per entry, in a byte per 8 latents of a row, for |pre − θ| < ε/2 (the pseudo-gradient's
    // band), so that the activation can overwrite pre in place.
    private readonly int _chunksPerRow;
    private readonly byte[] _nearThreshold;
    // ReLU's Σ_b f_i‖W_dec[i]‖ per latent, summed over the rows in order.
    private readonly double[] _l1PerLatent;

    /// <summary>TopK rows at most this dense (k / d_sae) take the sparse path.</summary>
    public const double SparseDensity = 1.0 / 8;

    /// <summary><paramref name="sparse"/> forces the TopK path (tests); by default TopK takes the sparse one
    /// when k / d_sae ≤ <see cref="SparseDensity"/>.</summary>
    public SaeObjective(SaeConfig config, int batchSize, int auxK, bool? sparse = null)
    {
        _config = config;
        (_b, _d, _s) = (batchSize, config.DIn, config.DSae);
        _xin = new float[_b * _d];
        _f = new float[(long)_b * _s];
        _pre = config.Architecture == SaeArchitecture.TopK ? new float[(long)_b * _s] : _f;
        _chunksPerRow = (_s + Lanes - 1) / Lanes;
        _nearThreshold = new byte[config.Architecture == SaeArchitecture.JumpRelu ? (long)_b * _chunksPerRow : 0];
        _grad = new float[(long)_b * _s];
        _xhat = new float[_b * _d];
        _dxhat = new float[_b * _d];
        _decNorm = new float[_s];
        _featureSum = new float[_s];
        _tmpD = new float[_d];
        _rowVariance = new float[_b];
        _l1PerLatent = new double[_s];
        bool topK = config.Architecture == SaeArchitecture.TopK;
        _auxRecon = new float[topK ? _b * _d : 0];
        _auxIndices = new int[topK ? _b * auxK : 0];
        _auxValues = new float[topK ? _b * auxK : 0];
        _auxCounts = new int[topK ? _b : 0];
        _auxGrad = new float[topK ? _b * auxK : 0];
        _sparse = topK && (sparse ?? config.K <= SparseDensity * config.DSae);
        _k = topK ? config.K : 0;
        _active = new int[topK ? _b * _k : 0];
        _activeCounts = new int[topK ? _b : 0];
        _activeGrad = new float[_sparse ? _b * _k : 0];
        _wEncGradT = new float[_sparse ? (long)_s * _d : 0];
        FiredCounts = new int[_s];
        RowErrors = new float[_b];
    }

    /// <summary>Per latent: rows of the last batch where it fired.</summary>
    public int[] FiredCounts { get; }
    /// <summary>Per row of the last batch: ‖x − x̂‖².</summary>
    public float[] RowErrors { get; }
    /// <summary>x̂ of the last batch [B × d_in].</summary>
    public ReadOnlySpan<float> Reconstruction => _xhat;
    /// <summary>f of the last batch [B × d_sae].</summary>
    public ReadOnlySpan<float> Features => _f;
    /// <summary>AuxK of the last batch: per row, how many dead latents it used, and which (B × k_aux).</summary>
    public ReadOnlySpan<int> AuxCounts => _auxCounts;
    public ReadOnlySpan<int> AuxIndices => _auxIndices;

    /// <summary>Loss of <paramref name="p"/> on batch x [B × d_in]; with <paramref name="grads"/>, also writes
    /// dL/dparameter into it (same shapes as p). <paramref name="dead"/> marks dead latents (AuxK). A transcoder's
    /// <paramref name="target"/> [B × d_in] (its MLP's output) takes x's place as what x̂ must match; an SAE's target is x.</summary>
    public LossTerms Evaluate(SparseAutoencoder p, float[] x, ObjectiveSettings settings,
        ReadOnlySpan<bool> dead, SparseAutoencoder? grads, float[]? target = null)
    {
        int b = _b, d = _d, s = _s;
        if (x.Length != b * d) throw new ArgumentException($"expected {b}×{d} values", nameof(x));
        var y = target ?? x;
        if (y.Length != b * d) throw new ArgumentException($"expected {b}×{d} target values", nameof(target));

        // Forward: xin = x − b_dec, pre = xin·W_enc + b_enc, f = act(pre), x̂ = f·W_dec + b_dec.
        RowBands.For(b, d, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
                if (_config.ApplyBDecToInput) TensorPrimitives.Subtract(x.AsSpan(r * d, d), p.BDec, _xin.AsSpan(r * d, d));
                else x.AsSpan(r * d, d).CopyTo(_xin.AsSpan(r * d, d));
        });
        Gemm.Multiply(Matrix.Of(_xin, b, d), Matrix.Of(p.WEnc, d, s), Matrix.Into(_pre, b, s));
        RowBands.For(s, d, (i0, i1) =>
        {
            for (int i = i0; i < i1; i++) _decNorm[i] = TensorPrimitives.Norm(p.DecoderRow(i));
        });
        double l1 = 0;
        if (_config.Architecture == SaeArchitecture.TopK) ActivateTopK(p);
        else l1 = ActivateElementwise(p, settings.JumpReluBandwidth / 2);
        long active = 0;
        foreach (int count in FiredCounts) active += count;
        if (_sparse) DecodeActive(p);
        else p.Decode(_f, _xhat);

        // Per row ‖x̂ − y‖², and dL/dx̂ = (2/B)(x̂ − y) for the backward pass.
        bool backward = grads is not null;
        RowBands.For(b, d, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                var xhat = _xhat.AsSpan(r * d, d);
                var xr = y.AsSpan(r * d, d);
                RowErrors[r] = SquaredDistance(xhat, xr);
                if (!backward) continue;
                var dx = _dxhat.AsSpan(r * d, d);
                TensorPrimitives.Subtract(xhat, xr, dx);
                TensorPrimitives.Multiply(dx, 2f / b, dx);
            }
        });
        double squaredError = 0;
        foreach (float e in RowErrors) squaredError += e;
        double penalty = settings.Sparsity / b * _config.Architecture switch
        {
            SaeArchitecture.Standard => l1,
            SaeArchitecture.JumpRelu => active,
            _ => 0,
        };

        double aux = UseAux(settings, dead) ? AuxForward(p, y, settings, dead) : 0;
        double reconstruction = squaredError / b;
        var terms = new LossTerms(reconstruction + penalty + aux, reconstruction, penalty, aux, (double)active / b,
            squaredError, TotalVariance(y));
        if (grads is not null) Backward(p, settings, dead, grads);
        return terms;
    }

    /// <summary>
    /// ReLU and JumpReLU: pre += b_enc and f = act(pre) in place, counting where each latent fired and summing
    /// ReLU's f_i‖W_dec[i]‖ (returned), and marking where JumpReLU's pre-activation lies within
    /// <paramref name="halfBand"/> of the threshold; one pass over bands of columns (each column's rows in order).
    /// </summary>
    private double ActivateElementwise(SparseAutoencoder p, float halfBand)
    {
        int b = _b, s = _s, chunks = _chunksPerRow;
        bool standard = _config.Architecture == SaeArchitecture.Standard;
        LaneBands.For(s, b, (c0, c1) =>
        {
            int n = c1 - c0;
            var bias = p.BEnc.AsSpan(c0, n);
            var fired = FiredCounts.AsSpan(c0, n);
            var l1 = _l1PerLatent.AsSpan(c0, n);
            fired.Clear();
            l1.Clear();
            for (int r = 0; r < b; r++)
            {
                var f = _f.AsSpan(r * s + c0, n);
                TensorPrimitives.Add(f, bias, f);
                if (!standard) MarkNearThreshold(f, p.Threshold.AsSpan(c0, n), halfBand, _nearThreshold.AsSpan(r * chunks + c0 / Lanes));
                p.ActivateColumns(f, f, c0);
                CountFired(f, fired, standard ? _decNorm.AsSpan(c0, n) : default, l1);
            }
        });
        double sum = 0;
        foreach (double v in _l1PerLatent) sum += v;
        return sum;
    }

    /// <summary>fired += [f ≠ 0], and with <paramref name="decNorm"/> also l1 += f·decNorm, a vector at a time
    /// (ReLU's dense rows defeat a branch per entry).</summary>
    private static void CountFired(ReadOnlySpan<float> f, Span<int> fired, ReadOnlySpan<float> decNorm, Span<double> l1)
    {
        int c = 0;
        for (; c <= f.Length - Lanes; c += Lanes)
        {
            var v = Vector256.Create(f.Slice(c, Lanes));
            var on = ~Vector256.Equals(v, Vector256<float>.Zero);
            if (on == Vector256<float>.Zero) continue;
            (Vector256.Create(fired.Slice(c, Lanes)) - on.AsInt32()).CopyTo(fired.Slice(c, Lanes));
            if (decNorm.IsEmpty) continue;
            var (low, high) = Vector256.Widen(v * Vector256.Create(decNorm.Slice(c, Lanes)));
            (Vector256.Create(l1.Slice(c, 4)) + low).CopyTo(l1.Slice(c, 4));
            (Vector256.Create(l1.Slice(c + 4, 4)) + high).CopyTo(l1.Slice(c + 4, 4));
        }
        for (; c < f.Length; c++)
        {
            if (f[c] == 0) continue;
            fired[c]++;
            if (!decNorm.IsEmpty) l1[c] += f[c] * decNorm[c];
        }
    }

    private void Backward(SparseAutoencoder p, ObjectiveSettings settings, ReadOnlySpan<bool> dead, SparseAutoencoder g)
    {
        int b = _b, d = _d, s = _s;

        // b_dec and W_dec receive dL/dx̂ directly.
        LaneBands.For(d, b, (c0, c1) =>
        {
            var sum = g.BDec.AsSpan(c0, c1 - c0);
            sum.Clear();
            for (int r = 0; r < b; r++) TensorPrimitives.Add(sum, _dxhat.AsSpan(r * d + c0, c1 - c0), sum);
        });
        if (_sparse)
        {
            BackwardActive(p, settings, dead, g);
            return;
        }
        Gemm.Multiply(Matrix.Of(_f, b, s).T, Matrix.Of(_dxhat, b, d), Matrix.Into(g.WDec, s, d));
        Gemm.Multiply(Matrix.Of(_dxhat, b, d), Matrix.Of(p.WDec, s, d).T, Matrix.Into(_grad, b, s));
        bool aux = UseAux(settings, dead);
        if (aux) AuxBackward(p, settings, g);
        ThroughActivation(p, settings, aux, g);
        if (_config.Architecture == SaeArchitecture.Standard) DecoderNormPenalty(p, settings.Sparsity / b, g.WDec);
        Gemm.Multiply(Matrix.Of(_xin, b, d).T, Matrix.Of(_grad, b, s), Matrix.Into(g.WEnc, d, s));
        BDecThroughInput(p, g);
    }

    /// <summary>
    /// dL/df (in _grad) to dL/dpre and b_enc's gradient, in one pass over bands of columns (each column's rows
    /// in order): ReLU's penalty λ‖W_dec[i]‖ joins every entry (and Σ_b f is kept for W_dec's share), JumpReLU's
    /// threshold takes its pseudo-gradient from dL/df, every architecture passes the gradient exactly where
    /// f ≠ 0, AuxK adds its dead latents, and b_enc sums the result.
    /// </summary>
    private void ThroughActivation(SparseAutoencoder p, ObjectiveSettings settings, bool aux, SparseAutoencoder g)
    {
        int b = _b, s = _s, kAux = settings.AuxK;
        float lambdaPerRow = settings.Sparsity / b;
        var architecture = _config.Architecture;
        LaneBands.For(s, b, (c0, c1) =>
        {
            int n = c1 - c0;
            var gBias = g.BEnc.AsSpan(c0, n);
            var decNorm = _decNorm.AsSpan(c0, n);
            var featureSum = _featureSum.AsSpan(c0, n);
            gBias.Clear();
            featureSum.Clear();
            if (architecture == SaeArchitecture.JumpRelu) g.Threshold.AsSpan(c0, n).Clear();
            for (int r = 0; r < b; r++)
            {
                var grad = _grad.AsSpan(r * s + c0, n);
                var f = _f.AsSpan(r * s + c0, n);
                if (architecture == SaeArchitecture.Standard)
                {
                    TensorPrimitives.MultiplyAdd(decNorm, lambdaPerRow, grad, grad);
                    TensorPrimitives.Add(featureSum, f, featureSum);
                }
                else if (architecture == SaeArchitecture.JumpRelu)
                    ThresholdPseudoGradient(_nearThreshold.AsSpan(r * _chunksPerRow + c0 / Lanes), grad, p.Threshold.AsSpan(c0, n), g.Threshold.AsSpan(c0, n), settings);
                KeepWhereActive(f, grad);
                if (aux)
                    for (int c = 0; c < _auxCounts[r]; c++)
                        if (_auxIndices[r * kAux + c] is var i && i >= c0 && i < c1) _grad[(long)r * s + i] += _auxGrad[r * kAux + c];
                TensorPrimitives.Add(gBias, grad, gBias);
            }
        });
    }

    /// <summary>ReLU's λ Σ_b f_i ‖W_dec[i]‖ reaches W_dec[i] as λ (Σ_b f_i) W_dec[i] / ‖W_dec[i]‖.</summary>
    private void DecoderNormPenalty(SparseAutoencoder p, float lambdaPerRow, float[] gWDec) => RowBands.For(_s, _d, (i0, i1) =>
    {
        for (int i = i0; i < i1; i++)
        {
            if (_decNorm[i] == 0) continue;
            var row = gWDec.AsSpan(i * _d, _d);
            TensorPrimitives.MultiplyAdd(p.DecoderRow(i), lambdaPerRow * _featureSum[i] / _decNorm[i], row, row);
        }
    });

    // xin = x − b_dec, so b_dec also gets −W_enc·(Σ_b dL/dpre_b).
    private void BDecThroughInput(SparseAutoencoder p, SparseAutoencoder g)
    {
        if (!_config.ApplyBDecToInput) return;
        Gemm.Multiply(Matrix.Of(p.WEnc, _d, _s), Matrix.Of(g.BEnc, _s, 1), Matrix.Into(_tmpD, _d, 1));
        TensorPrimitives.Subtract(g.BDec, _tmpD, g.BDec);
    }

    /// <summary>dst [cols × rows] = srcᵀ, src [rows × cols]: in blocks of 16 source rows, so that each write
    /// fills one cache line of dst; one band of dst rows per thread.</summary>
    private static void Transpose(float[] src, int rows, int cols, float[] dst) => RowBands.For(cols, rows, (j0, j1) =>
    {
        for (int i0 = 0; i0 < rows; i0 += 16)
        {
            int i1 = Math.Min(i0 + 16, rows);
            for (int j = j0; j < j1; j++)
                for (int i = i0; i < i1; i++) dst[(long)j * rows + i] = src[(long)i * cols + j];
        }
    });

    /// <summary>One row's columns: bit j of bits[c / 8] says |pre − θ| &lt; halfBand at column c = 8·(c / 8) + j.</summary>
    private static void MarkNearThreshold(ReadOnlySpan<float> pre, ReadOnlySpan<float> threshold, float halfBand, Span<byte> bits)
    {
        int c = 0, k = 0;
        for (; c <= pre.Length - Lanes; c += Lanes, k++)
            bits[k] = (byte)Vector256.LessThan(Vector256.Abs(Vector256.Create(pre.Slice(c, Lanes)) - Vector256.Create(threshold.Slice(c, Lanes))),
                Vector256.Create(halfBand)).ExtractMostSignificantBits();
        if (c == pre.Length) return;
        int tail = 0;
        for (int j = 0; c + j < pre.Length; j++)
            if (Math.Abs(pre[c + j] - threshold[c + j]) < halfBand) tail |= 1 << j;
        bits[k] = (byte)tail;
    }

    /// <summary>
    /// JumpReLU paper: with H'(z) replaced by K(z/ε)/ε (K the unit rectangle), f = pre·H(pre − θ) gives
    /// ∂f/∂θ = −(θ/ε)K((pre − θ)/ε), and the L0 term λ H(pre − θ) gives −(λ/ε)K((pre − θ)/ε).
    /// One row's columns, with the band marked by <see cref="MarkNearThreshold"/>; reads dL/df before the
    /// activation mask is applied. Few pre-activations fall in the band: a zero byte skips 8 columns.
    /// </summary>
    private void ThresholdPseudoGradient(ReadOnlySpan<byte> nearThreshold, ReadOnlySpan<float> df, ReadOnlySpan<float> threshold,
        Span<float> gThreshold, ObjectiveSettings settings)
    {
        float eps = settings.JumpReluBandwidth, lambdaPerRow = settings.Sparsity / _b;
        var laneBits = Vector256.Create(1, 2, 4, 8, 16, 32, 64, 128);
        int c = 0, k = 0;
        for (; c <= df.Length - Lanes; c += Lanes, k++)
        {
            if (nearThreshold[k] == 0) continue;
            var inBand = Vector256.Equals(Vector256.Create((int)nearThreshold[k]) & laneBits, laneBits).AsSingle();
            var step = (Vector256.Create(threshold.Slice(c, Lanes)) * Vector256.Create(df.Slice(c, Lanes)) + Vector256.Create(lambdaPerRow)) / Vector256.Create(eps);
            (Vector256.Create(gThreshold.Slice(c, Lanes)) - (step & inBand)).CopyTo(gThreshold.Slice(c, Lanes));
        }
        for (int j = 0; c + j < df.Length; j++)
            if ((nearThreshold[k] >> j & 1) != 0)
                gThreshold[c + j] -= (threshold[c + j] * df[c + j] + lambdaPerRow) / eps;
    }

    /// <summary>grad = 0 wherever f = 0, a vector at a time.</summary>
    private static void KeepWhereActive(ReadOnlySpan<float> f, Span<float> grad)
    {
        int e = 0;
        for (; e <= f.Length - Lanes; e += Lanes)
        {
            var active = ~Vector256.Equals(Vector256.Create(f.Slice(e, Lanes)), Vector256<float>.Zero);
            (Vector256.Create(grad.Slice(e, Lanes)) & active).CopyTo(grad.Slice(e, Lanes));
        }
        for (; e < f.Length; e++)
            if (f[e] == 0) grad[e] = 0;
    }

    private double TotalVariance(float[] x)
    {
        int b = _b, d = _d;
        LaneBands.For(d, b, (c0, c1) =>
        {
            var mean = _tmpD.AsSpan(c0, c1 - c0);
            mean.Clear();
            for (int r = 0; r < b; r++) TensorPrimitives.Add(mean, x.AsSpan(r * d + c0, c1 - c0), mean);
            TensorPrimitives.Divide(mean, b, mean);
        });
        RowBands.For(b, d, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++) _rowVariance[r] = SquaredDistance(x.AsSpan(r * d, d), _tmpD);
        });
        double total = 0;
        foreach (float v in _rowVariance) total += v;
        return total;
    }

    private static float SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float dist = TensorPrimitives.Distance(a, b);
        return dist * dist;
    }
}
