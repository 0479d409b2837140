using System.Numerics.Tensors;

namespace RelpSae.Model;

/// <summary>SiLU (swish), the gate activation of SwiGLU MLPs: silu(u) = u·σ(u).</summary>
public static class Silu
{
    public static void Forward(ReadOnlySpan<float> u, Span<float> post)
    {
        TensorPrimitives.Sigmoid(u, post);
        TensorPrimitives.Multiply(post, u, post);
    }

    /// <summary>The exact derivative (an <see cref="Lrp.ElementwiseBackward"/>): du = g·σ(u)(1 + u(1 − σ(u))) = g·(σ(u) + post·(1 − σ(u))).</summary>
    public static void Gradient(ReadOnlySpan<float> u, ReadOnlySpan<float> post, ReadOnlySpan<float> g, Span<float> du)
    {
        for (int i = 0; i < u.Length; i++)
        {
            float s = 1f / (1f + MathF.Exp(-u[i]));
            du[i] = g[i] * (s + post[i] * (1f - s));
        }
    }
}
