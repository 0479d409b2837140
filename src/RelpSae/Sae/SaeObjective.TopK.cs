using System.Numerics.Tensors;
using RelpSae.Model;

namespace RelpSae.Sae;

/// <summary>TopK's part of the objective: the selection, the sparse path through the k active latents, and AuxK.</summary>
internal sealed partial class SaeObjective
{
    /// <summary>
    /// TopK: per row, pre += b_enc, then f keeps the k largest positive entries, whose latents (increasing)
    /// are listed for the sparse passes and the fired counts. One band of rows per thread.
    /// </summary>
    private void ActivateTopK(SparseAutoencoder p)
    {
        int s = _s, k = _k;
        RowBands.For(_b, s, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                var pre = _pre.AsSpan(r * s, s);
                var f = _f.AsSpan(r * s, s);
                TensorPrimitives.Add(pre, p.BEnc, pre);
                var list = _active.AsSpan(r * k, k);
                int count = _activeCounts[r] = TopKSelection.Select(pre, k, default, list);
                list[..count].Sort();
                f.Clear();
                foreach (int i in list[..count]) f[i] = pre[i];
            }
        });
        Array.Clear(FiredCounts);
        for (int r = 0; r < _b; r++)
            foreach (int i in _active.AsSpan(r * k, _activeCounts[r])) FiredCounts[i]++;
    }

    /// <summary>
    /// TopK's x̂ = b_dec + Σ_i f_i W_dec[i] over the row's k active latents: k·d_in multiply-adds a row
    /// instead of the dense product's d_sae·d_in. One band of rows per thread.
    /// </summary>
    private void DecodeActive(SparseAutoencoder p) => RowBands.For(_b, _k * _d, (r0, r1) =>
    {
        int d = _d, s = _s, k = _k;
        for (int r = r0; r < r1; r++)
        {
            var xr = _xhat.AsSpan(r * d, d);
            p.BDec.CopyTo(xr);
            foreach (int i in _active.AsSpan(r * k, _activeCounts[r]))
                TensorPrimitives.MultiplyAdd(p.DecoderRow(i), _f[(long)r * s + i], xr, xr);
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
        Transpose(_wEncGradT, s, d, g.WEnc);
        BDecThroughInput(p, g);
    }

    private void AddToLatent(int latent, float gradient, int row, float[] gBEnc)
    {
        gBEnc[latent] += gradient;
        var target = _wEncGradT.AsSpan(latent * _d, _d);
        TensorPrimitives.MultiplyAdd(_xin.AsSpan(row * _d, _d), gradient, target, target);
    }

    private bool UseAux(ObjectiveSettings settings, ReadOnlySpan<bool> dead) =>
        _config.Architecture == SaeArchitecture.TopK && settings.AuxKCoefficient > 0 && dead.Contains(true);

    // ê_b from the dead latents' top-k_aux positive pre-activations; returns α·(1/B) Σ‖e − ê‖² and leaves
    // the residual r = e − ê in _auxRecon (e = target − x̂, the target x for an SAE).
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
}
