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
        double sum = 0;
        foreach (var g in grads)
            foreach (float v in g) sum += (double)v * v;
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
            for (int i = 0; i < p.Length; i++)
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
