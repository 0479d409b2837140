namespace RelpSae.Model;

/// <summary>
/// Rotary position embedding in Hugging Face's rotate-half convention: the first <see cref="Dims"/> of a
/// head's d_head dims are split in halves x₁, x₂ and rotated, x₁' = x₁cos − x₂sin, x₂' = x₂cos + x₁sin,
/// with angle p·θ^(−2i/Dims) at position p (its frequency θ^(−2i/Dims) scaled where the config sets a rope_scaling:
/// Llama 3's, or Gemma 3's linear one on its global layers); the other dims (GPT-NeoX's partial rotary) pass unchanged.
/// </summary>
public sealed class Rope
{
    private readonly Lock gate = new();
    private readonly float[] invFreq;   // [Dims/2]
    private (float[] Cos, float[] Sin) table = ([], []);   // [positions × Dims/2], grown to the longest sequence seen

    /// <param name="scaling">Each inverse frequency's scaled value (float32, as Hugging Face's tensors); null: unscaled.</param>
    public Rope(int dims, double theta, Func<float, float>? scaling = null)
    {
        Dims = dims % 2 == 0 && dims > 0 ? dims : throw new RelpSaeException($"rotary dimensions must be even and positive, got {dims}");
        // As HF: inv_freq and the angle are float32 products, the cosine taken of that float angle.
        invFreq = [.. Enumerable.Range(0, dims / 2).Select(i => (float)(1.0 / Math.Pow(theta, (float)(2 * i) / dims)))];
        if (scaling is not null) invFreq = [.. invFreq.Select(scaling)];
    }

    public int Dims { get; }

    /// <summary>The cos and sin tables for at least <paramref name="positions"/> positions (contexts reach 128K: built as far as used).</summary>
    private (float[] Cos, float[] Sin) Table(int positions)
    {
        int half = Dims / 2;
        lock (gate)
        {
            if (table.Cos.Length >= positions * half) return table;
            var cos = new float[positions * half];
            var sin = new float[positions * half];
            for (int i = 0; i < half; i++)
                for (int p = 0; p < positions; p++)
                {
                    float angle = p * invFreq[i];
                    cos[p * half + i] = MathF.Cos(angle);
                    sin[p * half + i] = MathF.Sin(angle);
                }
            return table = (cos, sin);
        }
    }

    /// <summary>
    /// Rotates <paramref name="heads"/> heads of d_head dims in each of batch × tokens rows (rows
    /// <paramref name="ld"/> apart; position = <paramref name="firstPosition"/> + row mod tokens, the
    /// rows of each sequence after a reused prefix starting there). <paramref name="inverse"/> applies the
    /// transposed rotation, which is also the backward pass of the forward one.
    /// </summary>
    public void Apply(Span<float> rows, int ld, int rowCount, int tokens, int heads, int headDim, bool inverse = false, int firstPosition = 0)
    {
        int half = Dims / 2;
        var (cos, sin) = Table(firstPosition + tokens);
        for (int r = 0; r < rowCount; r++)
        {
            var c = cos.AsSpan((firstPosition + r % tokens) * half, half);
            var s = sin.AsSpan((firstPosition + r % tokens) * half, half);
            for (int h = 0; h < heads; h++)
            {
                var x = rows.Slice(r * ld + h * headDim, Dims);
                for (int i = 0; i < half; i++)
                {
                    float x1 = x[i], x2 = x[i + half], si = inverse ? -s[i] : s[i];
                    x[i] = x1 * c[i] - x2 * si;
                    x[i + half] = x2 * c[i] + x1 * si;
                }
            }
        }
    }
}
