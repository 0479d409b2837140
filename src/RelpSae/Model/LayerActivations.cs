using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// What one block's forward pass leaves for its backward pass (llm.c style: plain arrays, rows = batch·tokens):
/// the LayerNorms' x̂ and 1/σ, the fused qkv, the attention pattern (each row over the reused prefix's keys too,
/// when a pass starts after one), the MLP pre- and post-activations.
/// Rented from the model's pool (every one is written before it is read) and given back with the run.
/// </summary>
internal sealed class LayerActivations(Gpt2Config c, int batch, int tokens, FloatPool pool, int prefixRows = 0)
{
    public readonly float[] Ln1Hat = pool.Rent(batch * tokens * c.DModel);
    public readonly float[] Ln1Rstd = pool.Rent(batch * tokens);
    public readonly float[] Qkv = pool.Rent(batch * tokens * 3 * c.DModel);
    public readonly float[] Pattern = pool.Rent(batch * c.NHeads * tokens * (prefixRows + tokens));
    public readonly float[] Ln2Hat = pool.Rent(batch * tokens * c.DModel);
    public readonly float[] Ln2Rstd = pool.Rent(batch * tokens);
    public readonly float[] Pre = pool.Rent(batch * tokens * c.DMlp);
    public readonly float[] Post = pool.Rent(batch * tokens * c.DMlp);

    public void ReturnTo(FloatPool pool)
    {
        foreach (var a in new[] { Ln1Hat, Ln1Rstd, Qkv, Pattern, Ln2Hat, Ln2Rstd, Pre, Post }) pool.Return(a);
    }
}
