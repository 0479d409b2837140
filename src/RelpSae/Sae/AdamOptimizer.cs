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

    /// <summary>Scales the gradients so their global L2 norm is at most maxNorm (0: off); returns the norm before.</summary>
    public static double ClipGlobalNorm(float[][] grads, float maxNorm)
    {
        // In double, four lanes at a time (the lanes' partial sums differ from a sequential sum only
        // by double rounding, far below float resolution).
        var lanes = Vector256<double>.Zero;
        double sum = 0;
        foreach (var g in grads)
        {
            int i = 0;
            for (; i <= g.Length - 4; i += 4)
            {
                var x = Vector256.Create((double)g[i], g[i + 1], g[i + 2], g[i + 3]);
                lanes += x * x;
            }
            for (; i < g.Length; i++) sum += (double)g[i] * g[i];
        }
        sum += Vector256.Sum(lanes);
        double norm = Math.Sqrt(sum);
        if (maxNorm > 0 && norm > maxNorm)
        {
            float scale = (float)(maxNorm / norm);
            foreach (var g in grads) System.Numerics.Tensors.TensorPrimitives.Multiply(g, scale, g);
        }
        return norm;
    }

    /// <summary>One update at 1-based step t.</summary>
    public void Step(float[][] parameters, float[][] grads, float lr, long t, float beta1, float beta2, float eps)
    {
        double c1 = 1 - Math.Pow(beta1, t), c2 = 1 - Math.Pow(beta2, t);
        float stepSize = (float)(lr / c1), rootC2 = (float)Math.Sqrt(c2);
        for (int a = 0; a < parameters.Length; a++)
        {
            float[] p = parameters[a], g = grads[a], m = M[a], v = V[a];
            // The same operations in the same order on vectors as on the scalar tail: identical results.
            int i = 0, lanes = Vector256<float>.Count;
            for (; i <= p.Length - lanes; i += lanes)
            {
                var gi = Vector256.Create(g.AsSpan(i, lanes));
                var mi = beta1 * Vector256.Create(m.AsSpan(i, lanes)) + (1 - beta1) * gi;
                var vi = beta2 * Vector256.Create(v.AsSpan(i, lanes)) + (1 - beta2) * gi * gi;
                mi.CopyTo(m.AsSpan(i, lanes));
                vi.CopyTo(v.AsSpan(i, lanes));
                (Vector256.Create(p.AsSpan(i, lanes)) - stepSize * mi / (Vector256.Sqrt(vi) / rootC2 + Vector256.Create(eps))).CopyTo(p.AsSpan(i, lanes));
            }
            for (; i < p.Length; i++)
            {
                m[i] = beta1 * m[i] + (1 - beta1) * g[i];
                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
                p[i] -= stepSize * m[i] / (MathF.Sqrt(v[i]) / rootC2 + eps);
            }
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
