using System.Runtime.Intrinsics;
namespace RelpSae.Sae;

/// <summary>Adam (PyTorch's form, bias-corrected) over a fixed list of parameter arrays, with global
/// gradient-norm clipping and per-entry state reset for resampled latents.</summary>
internal sealed class AdamOptimizer
{
    public float[][] M { get; }
    public float[][] V { get; }

    public AdamOptimizer(float[][] parameters)
    {
        M = [.. parameters.Select(p => new float[p.Length])];
        V = [.. parameters.Select(p => new float[p.Length])];
    }

    /// <summary>The global L2 norm of the gradients, in double.</summary>
    public static double GlobalNorm(float[][] grads)
    {
        // Four lanes at a time (the lanes' partial sums differ from a sequential sum only by double
        // rounding, far below float resolution); a vector of 8 floats widens to two of those steps.
        var lanes = Vector256<double>.Zero;
        double sum = 0;
        foreach (var g in grads)
        {
            int i = 0;
            for (; i <= g.Length - 8; i += 8)
            {
                var (low, high) = Vector256.Widen(Vector256.Create(g.AsSpan(i, 8)));
                lanes += low * low;
                lanes += high * high;
            }
            for (; i <= g.Length - 4; i += 4)
            {
                var x = Vector256.Create((double)g[i], g[i + 1], g[i + 2], g[i + 3]);
                lanes += x * x;
            }
            for (; i < g.Length; i++) sum += (double)g[i] * g[i];
        }
        sum += Vector256.Sum(lanes);
        return Math.Sqrt(sum);
    }

    /// <summary>The factor that brings gradients of norm <paramref name="norm"/> down to at most maxNorm (0: no clipping).</summary>
    public static float ClipScale(double norm, float maxNorm) => maxNorm > 0 && norm > maxNorm ? (float)(maxNorm / norm) : 1f;

    /// <summary>One update at 1-based step t with the gradients times <paramref name="gradScale"/> (clipping),
    /// in one pass over each array, split over the threads.</summary>
    public void Step(float[][] parameters, float[][] grads, float gradScale, float lr, long t, float beta1, float beta2, float eps)
    {
        double c1 = 1 - Math.Pow(beta1, t), c2 = 1 - Math.Pow(beta2, t);
        float stepSize = (float)(lr / c1), rootC2 = (float)Math.Sqrt(c2);
        for (int a = 0; a < parameters.Length; a++)
        {
            float[] p = parameters[a], g = grads[a], m = M[a], v = V[a];
            LaneBands.For(p.Length, 1, (start, end) =>
            {
                // The same operations in the same order on vectors as on the scalar tail: identical results.
                int i = start, lanes = Vector256<float>.Count;
                for (; i <= end - lanes; i += lanes)
                {
                    var gi = Vector256.Create(g.AsSpan(i, lanes)) * gradScale;
                    var mi = beta1 * Vector256.Create(m.AsSpan(i, lanes)) + (1 - beta1) * gi;
                    var vi = beta2 * Vector256.Create(v.AsSpan(i, lanes)) + (1 - beta2) * gi * gi;
                    mi.CopyTo(m.AsSpan(i, lanes));
                    vi.CopyTo(v.AsSpan(i, lanes));
                    (Vector256.Create(p.AsSpan(i, lanes)) - stepSize * mi / (Vector256.Sqrt(vi) / rootC2 + Vector256.Create(eps))).CopyTo(p.AsSpan(i, lanes));
                }
                for (; i < end; i++)
                {
                    float gi = g[i] * gradScale;
                    m[i] = beta1 * m[i] + (1 - beta1) * gi;
                    v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
                    p[i] -= stepSize * m[i] / (MathF.Sqrt(v[i]) / rootC2 + eps);
                }
            });
        }
    }

    /// <summary>Forgets the moments of entries start, start+stride, … (count of them) of array a.</summary>
    public void Reset(int a, int start, int count, int stride = 1)
    {
        for (int c = 0; c < count; c++)
        {
            M[a][start + c * stride] = 0;
            V[a][start + c * stride] = 0;
        }
    }
}
