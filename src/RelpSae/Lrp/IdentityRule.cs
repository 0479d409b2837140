namespace RelpSae.Lrp;

/// <summary>
/// Identity-rule: GELU's gate is treated as a constant, post = u·gate(u) with gate = gelu(u)/u, so
/// du = g·gelu(u)/u and relevance is conserved: Σ u·du = Σ post·g.
/// </summary>
public static class IdentityRule
{
    /// <summary>Stabiliser for u near 0, as DESIGN §4: u + sign(u)·1e-6, and 1e-6 at exactly 0.</summary>
    public const float Epsilon = 1e-6f;

    public static void Backward(ReadOnlySpan<float> u, ReadOnlySpan<float> post, ReadOnlySpan<float> g, Span<float> du)
    {
        for (int i = 0; i < u.Length; i++)
        {
            float x = u[i];
            float stabilised = x > 0 ? x + Epsilon : x < 0 ? x - Epsilon : Epsilon;
            du[i] = g[i] * post[i] / stabilised;
        }
    }
}
