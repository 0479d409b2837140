namespace RelpSae.Model;

/// <summary>
/// What one block's forward pass leaves for its backward pass (llm.c style: plain arrays, rows = batch·tokens):
/// the LayerNorms' x̂ and 1/σ, the fused qkv, the attention pattern, the MLP pre- and post-activations.
/// </summary>
internal sealed class LayerActivations(Gpt2Config c, int batch, int tokens)
{
    public readonly float[] Ln1Hat = new float[batch * tokens * c.DModel];
    public readonly float[] Ln1Rstd = new float[batch * tokens];
    public readonly float[] Qkv = new float[batch * tokens * 3 * c.DModel];
    public readonly float[] Pattern = new float[batch * c.NHeads * tokens * tokens];
    public readonly float[] Ln2Hat = new float[batch * tokens * c.DModel];
    public readonly float[] Ln2Rstd = new float[batch * tokens];
    public readonly float[] Pre = new float[batch * tokens * c.DMlp];
    public readonly float[] Post = new float[batch * tokens * c.DMlp];
}
