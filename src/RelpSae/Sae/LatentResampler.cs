using System.Numerics.Tensors;

namespace RelpSae.Sae;

/// <summary>
/// Re-initialises dead latents toward what the SAE reconstructs worst (after Anthropic's "Towards
/// Monosemanticity"): each dead latent takes one row of the current batch, drawn with probability ∝ ‖x − x̂‖⁴
/// (squared loss, squared), and points its decoder row along that row's residual x − x̂ (at the mean alive
/// decoder norm) and its encoder column the same way (at a fraction of the mean alive encoder norm);
/// b_enc = 0, the threshold back to its initial value, and the latent's Adam moments are forgotten.
/// </summary>
internal static class LatentResampler
{
    public static int Resample(SparseAutoencoder p, AdamOptimizer adam, DeadLatentTracker tracker,
        ReadOnlySpan<float> x, ReadOnlySpan<float> reconstruction, ReadOnlySpan<float> rowErrors,
        DeterministicRandom rng, float encoderScale, float initialThreshold)
    {
        int d = p.DIn, s = p.DSae, rows = rowErrors.Length;
        int dead = tracker.Dead.Count(x => x);
        if (dead == 0) return 0;
        // New latents take the typical size of the alive ones (of all, when none is alive).
        double decNorm = 0, encNorm = 0, total = 0;
        int counted = 0;
        for (int i = 0; i < s; i++)
        {
            if (tracker.Dead[i] && dead < s) continue;
            counted++;
            decNorm += TensorPrimitives.Norm(p.DecoderRow(i));
            encNorm += EncoderColumnNorm(p, i);
        }
        decNorm /= counted;
        encNorm /= counted;
        for (int r = 0; r < rows; r++) total += (double)rowErrors[r] * rowErrors[r];
        if (total == 0) return 0;

        Span<float> direction = d <= 4096 ? stackalloc float[d] : new float[d];
        int resampled = 0;
        for (int i = 0; i < s; i++)
        {
            if (!tracker.Dead[i]) continue;
            int r = SampleRow(rowErrors, total, rng);
            TensorPrimitives.Subtract(x.Slice(r * d, d), reconstruction.Slice(r * d, d), direction);
            float norm = TensorPrimitives.Norm(direction);
            if (!(norm > 0)) continue;
            TensorPrimitives.Multiply(direction, (float)(decNorm / norm), p.WDec.AsSpan(i * d, d));
            float enc = (float)(encoderScale * encNorm / norm);
            for (int j = 0; j < d; j++) p.WEnc[(long)j * s + i] = direction[j] * enc;
            p.BEnc[i] = 0;
            adam.Reset(0, i, d, s);
            adam.Reset(1, i, 1);
            adam.Reset(2, i * d, d);
            if (p.Threshold.Length > 0)
            {
                p.Threshold[i] = initialThreshold;
                adam.Reset(4, i, 1);
            }
            tracker.Revive(i);
            resampled++;
        }
        return resampled;
    }

    private static double EncoderColumnNorm(SparseAutoencoder p, int latent)
    {
        double sum = 0;
        for (int j = 0; j < p.DIn; j++)
        {
            double w = p.WEnc[(long)j * p.DSae + latent];
            sum += w * w;
        }
        return Math.Sqrt(sum);
    }

    private static int SampleRow(ReadOnlySpan<float> rowErrors, double total, DeterministicRandom rng)
    {
        double u = rng.NextDouble() * total;
        for (int r = 0; r < rowErrors.Length; r++)
        {
            u -= (double)rowErrors[r] * rowErrors[r];
            if (u < 0) return r;
        }
        return rowErrors.Length - 1;
    }
}
