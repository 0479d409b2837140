using System.Numerics;
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
internal sealed class SaeObjective
{
    private static readonly int Lanes = Vector256<float>.Count;
    private readonly SaeConfig _config;
    private readonly int _b, _d, _s;
    private readonly float[] _xin, _pre, _f, _grad, _xhat, _dxhat, _decNorm, _featureSum, _tmpD;
    private readonly float[] _auxRecon, _auxValues, _auxGrad;
    private readonly int[] _auxIndices, _auxCounts;
    // TopK with few latents per row: the active latents of each row (increasing), dL/dpre there, and
    // W_enc's gradient transposed (one row per latent, so that rows can be added to it).
    private readonly bool _sparse;
    private readonly int _k;
    private readonly int[] _active, _activeCounts;
    private readonly float[] _activeGrad, _wEncGradT;

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
        _pre = config.Architecture == SaeArchitecture.Standard ? _f : new float[(long)_b * _s];
        _grad = new float[(long)_b * _s];
        _xhat = new float[_b * _d];
        _dxhat = new float[_b * _d];
        _decNorm = new float[_s];
        _featureSum = new float[_s];
        _tmpD = new float[_d];
        bool aux = config.Architecture == SaeArchitecture.TopK;
        _auxRecon = new float[aux ? _b * _d : 0];
        _auxIndices = new int[aux ? _b * auxK : 0];
        _auxValues = new float[aux ? _b * auxK : 0];
        _auxCounts = new int[aux ? _b : 0];
        _auxGrad = new float[aux ? _b * auxK : 0];
        _sparse = aux && (sparse ?? config.K <= SparseDensity * config.DSae);
        _k = aux ? config.K : 0;
        _active = new int[_sparse ? _b * _k : 0];
        _activeCounts = new int[_sparse ? _b : 0];
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
    /// dL/dparameter into it (same shapes as p). <paramref name="dead"/> marks dead latents (AuxK).</summary>
    public LossTerms Evaluate(SparseAutoencoder p, ReadOnlySpan<float> x, ObjectiveSettings settings,
        ReadOnlySpan<bool> dead, SparseAutoencoder? grads)
    {
        int b = _b, d = _d, s = _s;
        if (x.Length != b * d) throw new ArgumentException($"expected {b}×{d} values", nameof(x));

        // Forward: xin = x − b_dec, pre = xin·W_enc + b_enc, f = act(pre), x̂ = f·W_dec + b_dec.
        x.CopyTo(_xin);
        if (_config.ApplyBDecToInput)
            for (int r = 0; r < b; r++) TensorPrimitives.Subtract(_xin.AsSpan(r * d, d), p.BDec, _xin.AsSpan(r * d, d));
        Gemm.Multiply(b, s, d, _xin, d, false, p.WEnc, s, false, _pre, s);
        for (int r = 0; r < b; r++) TensorPrimitives.Add(_pre.AsSpan(r * s, s), p.BEnc, _pre.AsSpan(r * s, s));
        if (_pre != _f) _pre.CopyTo(_f, 0);
        p.Activate(_f);
        if (_sparse) DecodeActive(p);
        else p.Decode(_f, _xhat);

        for (int i = 0; i < s; i++) _decNorm[i] = TensorPrimitives.Norm(p.DecoderRow(i));
        double squaredError = 0, l1 = 0;
        long active = 0;
        Array.Clear(FiredCounts);
        var l1Lanes = Vector256<double>.Zero;
        bool standard = _config.Architecture == SaeArchitecture.Standard;
        for (int r = 0; r < b; r++)
        {
            var xr = x.Slice(r * d, d);
            RowErrors[r] = SquaredDistance(_xhat.AsSpan(r * d, d), xr);
            squaredError += RowErrors[r];
            var fr = _f.AsSpan(r * s, s);
            int c = 0;
            for (; c <= s - Lanes; c += Lanes)
            {
                // A vector at a time: dense rows (ReLU's half) defeated a branch per entry. Zero chunks
                // (TopK's 32 of 3072) cost one comparison.
                var v = Vector256.Create(fr.Slice(c, Lanes));
                var fired = ~Vector256.Equals(v, Vector256<float>.Zero);
                if (fired == Vector256<float>.Zero) continue;
                (Vector256.Create(FiredCounts.AsSpan(c, Lanes)) - fired.AsInt32()).CopyTo(FiredCounts.AsSpan(c, Lanes));
                active += BitOperations.PopCount(fired.ExtractMostSignificantBits());
                if (!standard) continue;
                var (low, high) = Vector256.Widen(v * Vector256.Create(_decNorm.AsSpan(c, Lanes)));
                l1Lanes += low + high;
            }
            for (; c < s; c++)
            {
                if (fr[c] == 0) continue;
                active++;
                FiredCounts[c]++;
                l1 += fr[c] * _decNorm[c];
            }
        }
        l1 += Vector256.Sum(l1Lanes);
        double penalty = settings.Sparsity / b * _config.Architecture switch
        {
            SaeArchitecture.Standard => l1,
            SaeArchitecture.JumpRelu => active,
            _ => 0,
        };

        double aux = UseAux(settings, dead) ? AuxForward(p, x, settings, dead) : 0;
        double reconstruction = squaredError / b;
        var terms = new LossTerms(reconstruction + penalty + aux, reconstruction, penalty, aux, (double)active / b,
            squaredError, TotalVariance(x));
        if (grads is not null) Backward(p, x, settings, dead, grads);
        return terms;
    }

    private void Backward(SparseAutoencoder p, ReadOnlySpan<float> x, ObjectiveSettings settings,
        ReadOnlySpan<bool> dead, SparseAutoencoder g)
    {
        int b = _b, d = _d, s = _s;
        float lambdaPerRow = settings.Sparsity / b;

        // dL/dx̂ = (2/B)(x̂ − x); b_dec and W_dec receive it directly.
        for (int r = 0; r < b; r++)
        {
            var dx = _dxhat.AsSpan(r * d, d);
            TensorPrimitives.Subtract(_xhat.AsSpan(r * d, d), x.Slice(r * d, d), dx);
            TensorPrimitives.Multiply(dx, 2f / b, dx);
        }
        Array.Clear(g.BDec);
        for (int r = 0; r < b; r++) TensorPrimitives.Add(g.BDec, _dxhat.AsSpan(r * d, d), g.BDec);
        if (_sparse)
        {
            BackwardActive(p, settings, dead, g);
            return;
        }
        Gemm.Multiply(s, d, b, _f, s, true, _dxhat, d, false, g.WDec, d);
        Gemm.Multiply(b, s, d, _dxhat, d, false, p.WDec, d, true, _grad, s);

        switch (_config.Architecture)
        {
            case SaeArchitecture.Standard:
                // λ f_i ‖W_dec[i]‖: into f (added to every entry; the mask below keeps the active ones) and into W_dec[i].
                for (int r = 0; r < b; r++)
                    TensorPrimitives.MultiplyAdd(_decNorm, lambdaPerRow, _grad.AsSpan(r * s, s), _grad.AsSpan(r * s, s));
                Array.Clear(_featureSum);
                for (int r = 0; r < b; r++) TensorPrimitives.Add(_featureSum, _f.AsSpan(r * s, s), _featureSum);
                for (int i = 0; i < s; i++)
                {
                    if (_decNorm[i] == 0) continue;
                    TensorPrimitives.MultiplyAdd(p.DecoderRow(i), lambdaPerRow * _featureSum[i] / _decNorm[i],
                        g.WDec.AsSpan(i * d, d), g.WDec.AsSpan(i * d, d));
                }
                break;
            case SaeArchitecture.JumpRelu:
                ThresholdPseudoGradient(p, settings, g.Threshold);
                break;
        }

        // Through the activation: every architecture passes the gradient exactly where f ≠ 0.
        KeepWhereActive(_f, _grad);
        if (UseAux(settings, dead))
        {
            AuxBackward(p, settings, g);
            for (int r = 0; r < b; r++)
                for (int c = 0; c < _auxCounts[r]; c++)
                    _grad[(long)r * s + _auxIndices[r * settings.AuxK + c]] += _auxGrad[r * settings.AuxK + c];
        }

        Array.Clear(g.BEnc);
        for (int r = 0; r < b; r++) TensorPrimitives.Add(g.BEnc, _grad.AsSpan(r * s, s), g.BEnc);
        Gemm.Multiply(d, s, b, _xin, d, true, _grad, s, false, g.WEnc, s);
        BDecThroughInput(p, g);
    }

    // xin = x − b_dec, so b_dec also gets −W_enc·(Σ_b dL/dpre_b).
    private void BDecThroughInput(SparseAutoencoder p, SparseAutoencoder g)
    {
        if (!_config.ApplyBDecToInput) return;
        Gemm.Multiply(_d, 1, _s, p.WEnc, _s, false, g.BEnc, 1, false, _tmpD, 1);
        TensorPrimitives.Subtract(g.BDec, _tmpD, g.BDec);
    }

    /// <summary>
    /// TopK's x̂ = b_dec + Σ_i f_i W_dec[i] over the row's k active latents (listed here for the backward
    /// pass): k·d_in multiply-adds a row instead of the dense product's d_sae·d_in. One band of rows per thread.
    /// </summary>
    private void DecodeActive(SparseAutoencoder p) => RowBands.For(_b, _s, (r0, r1) =>
    {
        int d = _d, s = _s, k = _k;
        for (int r = r0; r < r1; r++)
        {
            var fr = _f.AsSpan(r * s, s);
            var xr = _xhat.AsSpan(r * d, d);
            p.BDec.CopyTo(xr);
            int count = 0;
            for (int c = 0; c < s; c += Lanes)
            {
                int stop = Math.Min(c + Lanes, s);
                if (ZeroChunk(fr, c, stop)) continue;
                for (int i = c; i < stop; i++)
                {
                    if (fr[i] == 0) continue;
                    _active[r * k + count++] = i;
                    TensorPrimitives.MultiplyAdd(p.DecoderRow(i), fr[i], xr, xr);
                }
            }
            _activeCounts[r] = count;
        }
    });

    /// <summary>
    /// The TopK backward pass on the active latents alone (every other entry of dL/dpre is masked to zero,
    /// AuxK's dead latents aside): dL/dpre as k dot products a row, W_dec's gradient as k scaled rows a row,
    /// and W_enc's gradient built transposed (a latent's row at a time), then transposed once. Threads take
    /// bands of rows for the dot products and bands of latents for the sums, so every sum runs over the
    /// rows in order whatever the thread count.
    /// </summary>
    private void BackwardActive(SparseAutoencoder p, ObjectiveSettings settings, ReadOnlySpan<bool> dead, SparseAutoencoder g)
    {
        int d = _d, s = _s, k = _k, kAux = settings.AuxK;
        RowBands.For(_b, k * d, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
                for (int c = 0; c < _activeCounts[r]; c++)
                    _activeGrad[r * k + c] = TensorPrimitives.Dot(_dxhat.AsSpan(r * d, d), p.DecoderRow(_active[r * k + c]));
        });
        RowBands.For(s, d, (i0, i1) =>
        {
            g.WDec.AsSpan(i0 * d, (i1 - i0) * d).Clear();
            for (int r = 0; r < _b; r++)
                for (int c = 0; c < _activeCounts[r]; c++)
                    if (_active[r * k + c] is var i && i >= i0 && i < i1)
                        TensorPrimitives.MultiplyAdd(_dxhat.AsSpan(r * d, d), _f[(long)r * s + i], g.WDec.AsSpan(i * d, d), g.WDec.AsSpan(i * d, d));
        });
        bool aux = UseAux(settings, dead);
        if (aux) AuxBackward(p, settings, g);

        RowBands.For(s, d, (i0, i1) =>
        {
            g.BEnc.AsSpan(i0, i1 - i0).Clear();
            _wEncGradT.AsSpan(i0 * d, (i1 - i0) * d).Clear();
            for (int r = 0; r < _b; r++)
            {
                for (int c = 0; c < _activeCounts[r]; c++)
                    if (_active[r * k + c] is var i && i >= i0 && i < i1) AddToLatent(i, _activeGrad[r * k + c], r, g.BEnc);
                if (!aux) continue;
                for (int c = 0; c < _auxCounts[r]; c++)
                    if (_auxIndices[r * kAux + c] is var i && i >= i0 && i < i1) AddToLatent(i, _auxGrad[r * kAux + c], r, g.BEnc);
            }
        });
        // Transposed in blocks of 16 latents, so that each write fills one cache line of W_enc's gradient.
        RowBands.For(d, s, (j0, j1) =>
        {
            for (int i0 = 0; i0 < s; i0 += 16)
            {
                int i1 = Math.Min(i0 + 16, s);
                for (int j = j0; j < j1; j++)
                    for (int i = i0; i < i1; i++) g.WEnc[(long)j * s + i] = _wEncGradT[(long)i * d + j];
            }
        });
        BDecThroughInput(p, g);
    }

    private void AddToLatent(int latent, float gradient, int row, float[] gBEnc)
    {
        gBEnc[latent] += gradient;
        var target = _wEncGradT.AsSpan(latent * _d, _d);
        TensorPrimitives.MultiplyAdd(_xin.AsSpan(row * _d, _d), gradient, target, target);
    }

    /// <summary>
    /// JumpReLU paper: with H'(z) replaced by K(z/ε)/ε (K the unit rectangle), f = pre·H(pre − θ) gives
    /// ∂f/∂θ = −(θ/ε)K((pre − θ)/ε), and the L0 term λ H(pre − θ) gives −(λ/ε)K((pre − θ)/ε).
    /// Reads dL/df before the activation mask is applied.
    /// </summary>
    private void ThresholdPseudoGradient(SparseAutoencoder p, ObjectiveSettings settings, float[] gThreshold)
    {
        float eps = settings.JumpReluBandwidth, lambdaPerRow = settings.Sparsity / _b;
        Array.Clear(gThreshold);
        for (int r = 0; r < _b; r++)
        {
            var pre = _pre.AsSpan(r * _s, _s);
            var df = _grad.AsSpan(r * _s, _s);
            for (int c = 0; c < _s; c += Lanes)
            {
                int stop = Math.Min(c + Lanes, _s);
                // Few pre-activations fall in the band: one comparison skips a chunk with none.
                if (stop - c == Lanes && !Vector256.LessThanAny(
                        Vector256.Abs(Vector256.Create(pre.Slice(c, Lanes)) - Vector256.Create(p.Threshold.AsSpan(c, Lanes))), Vector256.Create(eps / 2)))
                    continue;
                for (int i = c; i < stop; i++)
                {
                    float theta = p.Threshold[i];
                    if (Math.Abs(pre[i] - theta) < eps / 2)
                        gThreshold[i] -= (theta * df[i] + lambdaPerRow) / eps;
                }
            }
        }
    }

    private bool UseAux(ObjectiveSettings settings, ReadOnlySpan<bool> dead) =>
        _config.Architecture == SaeArchitecture.TopK && settings.AuxKCoefficient > 0 && dead.Contains(true);

    // ê_b from the dead latents' top-k_aux positive pre-activations; returns α·(1/B) Σ‖e − ê‖² and leaves
    // the residual r = e − ê in _auxRecon.
    private double AuxForward(SparseAutoencoder p, ReadOnlySpan<float> x, ObjectiveSettings settings, ReadOnlySpan<bool> dead)
    {
        int b = _b, d = _d, s = _s, k = settings.AuxK;
        double sum = 0;
        for (int r = 0; r < b; r++)
        {
            var pre = _pre.AsSpan(r * s, s);
            var idx = _auxIndices.AsSpan(r * k, k);
            var val = _auxValues.AsSpan(r * k, k);
            int count = _auxCounts[r] = TopKSelection.Select(pre, k, dead, idx);
            var res = _auxRecon.AsSpan(r * d, d);
            TensorPrimitives.Subtract(x.Slice(r * d, d), _xhat.AsSpan(r * d, d), res);
            for (int c = 0; c < count; c++)
            {
                val[c] = pre[idx[c]];
                TensorPrimitives.MultiplyAdd(p.DecoderRow(idx[c]), -val[c], res, res);
            }
            sum += TensorPrimitives.Dot(res, res);
        }
        return settings.AuxKCoefficient * sum / b;
    }

    // dL/dpre of the dead latents AuxK used, into _auxGrad (one entry per _auxIndices entry), and their W_dec gradients.
    private void AuxBackward(SparseAutoencoder p, ObjectiveSettings settings, SparseAutoencoder g)
    {
        int d = _d, k = settings.AuxK;
        float scale = -2f * settings.AuxKCoefficient / _b; // dL/dê_b = scale·r_b
        for (int r = 0; r < _b; r++)
        {
            var res = _auxRecon.AsSpan(r * d, d);
            for (int c = 0; c < _auxCounts[r]; c++)
            {
                int i = _auxIndices[r * k + c];
                _auxGrad[r * k + c] = scale * TensorPrimitives.Dot(res, p.DecoderRow(i));
                TensorPrimitives.MultiplyAdd(res, scale * _auxValues[r * k + c], g.WDec.AsSpan(i * d, d), g.WDec.AsSpan(i * d, d));
            }
        }
    }

    /// <summary>Sparse rows (TopK's 32 of 3072) are mostly zero chunks: one comparison skips each.</summary>
    private static bool ZeroChunk(ReadOnlySpan<float> row, int start, int stop) =>
        stop - start == Lanes && Vector256.EqualsAll(Vector256.Create(row.Slice(start, Lanes)), Vector256<float>.Zero);

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

    private double TotalVariance(ReadOnlySpan<float> x)
    {
        Array.Clear(_tmpD);
        for (int r = 0; r < _b; r++) TensorPrimitives.Add(_tmpD, x.Slice(r * _d, _d), _tmpD);
        TensorPrimitives.Divide(_tmpD, _b, _tmpD);
        double total = 0;
        for (int r = 0; r < _b; r++) total += SquaredDistance(x.Slice(r * _d, _d), _tmpD);
        return total;
    }

    private static float SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float dist = TensorPrimitives.Distance(a, b);
        return dist * dist;
    }
}
