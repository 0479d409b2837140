using System.Numerics.Tensors;

namespace RelpSae.Model;

/// <summary>GPT-2's gelu_new: ½u(1 + tanh(√(2/π)(u + 0.044715u³))).</summary>
public static class Gelu
{
    /// <summary>A GELU backward: du = f(u, post, g), the exact derivative or a rule.</summary>
    public delegate void Backward(ReadOnlySpan<float> u, ReadOnlySpan<float> post, ReadOnlySpan<float> g, Span<float> du);

    private const float C = 0.7978845608028654f; // √(2/π)
    private const float A = 0.044715f;

    public static void Forward(ReadOnlySpan<float> u, Span<float> post)
    {
        // post = ½u(1 + tanh(C(u + A·u³))), in vectorised passes over the row.
        TensorPrimitives.Multiply(u, u, post);
        TensorPrimitives.Multiply(post, u, post);
        TensorPrimitives.MultiplyAdd(post, A, u, post);
        TensorPrimitives.Multiply(post, C, post);
        TensorPrimitives.Tanh(post, post);
        TensorPrimitives.Add(post, 1f, post);
        TensorPrimitives.Multiply(post, u, post);
        TensorPrimitives.Multiply(post, 0.5f, post);
    }

    /// <summary>The exact derivative: du = g·(½(1 + t) + ½u(1 − t²)·C(1 + 3A·u²)), t = tanh(C(u + A·u³)).</summary>
    public static void Gradient(ReadOnlySpan<float> u, ReadOnlySpan<float> post, ReadOnlySpan<float> g, Span<float> du)
    {
        for (int i = 0; i < u.Length; i++)
        {
            float x = u[i];
            float t = MathF.Tanh(C * (x + A * x * x * x));
            du[i] = g[i] * (0.5f * (1 + t) + 0.5f * x * (1 - t * t) * C * (1 + 3 * A * x * x));
        }
    }
}
