using System.Runtime.Intrinsics;

namespace RelpSae.Lrp;

/// <summary>
/// Identity-rule: an elementwise map's gate is treated as a constant, post = u·gate(u) with gate = f(u)/u
/// (f: GELU, SiLU, the logit soft-cap), so du = g·f(u)/u — in PyTorch, u·(f(u)/u).detach(). Relevance is
/// conserved: Σ u·du = Σ post·g.
/// </summary>
public static class IdentityRule
{
    /// <summary>Stabiliser for u near 0, as docs/methods.md §4: u + sign(u)·1e-6, and 1e-6 at exactly 0.</summary>
    public const float Epsilon = 1e-6f;

    public static void Backward(ReadOnlySpan<float> u, ReadOnlySpan<float> post, ReadOnlySpan<float> g, Span<float> du)
    {
        // x + sign(x)·ε with sign(0) = +1, sixteen lanes at a time: element by element, the divide and a
        // branch on a random sign made this rule slower than the exact GELU derivative.
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var eps = Vector512.Create(Epsilon);
            for (; i + Vector512<float>.Count <= u.Length; i += Vector512<float>.Count)
            {
                var x = Vector512.Create(u.Slice(i, Vector512<float>.Count));
                var stabilised = x + Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), -eps, eps);
                var r = Vector512.Create(g.Slice(i, Vector512<float>.Count)) * Vector512.Create(post.Slice(i, Vector512<float>.Count)) / stabilised;
                r.CopyTo(du.Slice(i, Vector512<float>.Count));
            }
        }
        for (; i < u.Length; i++)
        {
            float x = u[i];
            du[i] = g[i] * post[i] / (x + (x < 0 ? -Epsilon : Epsilon));
        }
    }
}
