using System.Numerics.Tensors;
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
    private readonly SaeConfig _config;
    private readonly int _b, _d, _s;
    private readonly float[] _xin, _pre, _f, _grad, _xhat, _dxhat, _decNorm, _featureSum, _tmpD;
    private readonly float[] _auxRecon, _auxValues;
    private readonly int[] _auxIndices, _auxCounts;

    public SaeObjective(SaeConfig config, int batchSize, int auxK)
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
        p.Decode(_f, _xhat);

        for (int i = 0; i < s; i++) _decNorm[i] = TensorPrimitives.Norm(p.DecoderRow(i));
        double squaredError = 0, l1 = 0;
        long active = 0;
        Array.Clear(FiredCounts);
        for (int r = 0; r < b; r++)
        {
            var xr = x.Slice(r * d, d);
            RowErrors[r] = SquaredDistance(_xhat.AsSpan(r * d, d), xr);
            squaredError += RowErrors[r];
            var fr = _f.AsSpan(r * s, s);
            for (int i = 0; i < s; i++)
            {
                if (fr[i] == 0) continue;
                active++;
                FiredCounts[i]++;
                l1 += fr[i] * _decNorm[i];
            }
        }
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
        for (long e = 0; e < _grad.LongLength; e++)
            if (_f[e] == 0) _grad[e] = 0;
        if (UseAux(settings, dead)) AuxBackward(p, x, settings, g);

        Array.Clear(g.BEnc);
        for (int r = 0; r < b; r++) TensorPrimitives.Add(g.BEnc, _grad.AsSpan(r * s, s), g.BEnc);
        Gemm.Multiply(d, s, b, _xin, d, true, _grad, s, false, g.WEnc, s);
        if (_config.ApplyBDecToInput)
        {
            // xin = x − b_dec, so b_dec also gets −W_enc·(Σ_b dL/dpre_b).
            Gemm.Multiply(d, 1, s, p.WEnc, s, false, g.BEnc, 1, false, _tmpD, 1);
            TensorPrimitives.Subtract(g.BDec, _tmpD, g.BDec);
        }
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
            for (int i = 0; i < _s; i++)
            {
                float theta = p.Threshold[i];
                if (Math.Abs(pre[i] - theta) < eps / 2)
                    gThreshold[i] -= (theta * df[i] + lambdaPerRow) / eps;
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

    private void AuxBackward(SparseAutoencoder p, ReadOnlySpan<float> x, ObjectiveSettings settings, SparseAutoencoder g)
    {
        int d = _d, s = _s, k = settings.AuxK;
        float scale = -2f * settings.AuxKCoefficient / _b; // dL/dê_b = scale·r_b
        for (int r = 0; r < _b; r++)
        {
            var res = _auxRecon.AsSpan(r * d, d);
            for (int c = 0; c < _auxCounts[r]; c++)
            {
                int i = _auxIndices[r * k + c];
                _grad[(long)r * s + i] += scale * TensorPrimitives.Dot(res, p.DecoderRow(i));
                TensorPrimitives.MultiplyAdd(res, scale * _auxValues[r * k + c], g.WDec.AsSpan(i * d, d), g.WDec.AsSpan(i * d, d));
            }
        }
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
