namespace RelpSae.Model;

/// <summary>
/// What one Gemma-2 block's forward pass leaves for its backward pass (rows = batch·tokens): the four
/// RMSNorms' x̂ and 1/rms, the fused and rotated Q | K | V rows (K, V repeated per query head), the
/// pattern, z, and the gated MLP's gate, act(gate), up and their product; Raw and Out are scratch.
/// </summary>
public sealed class Gemma2Activations
{
    internal readonly float[] Ln1Hat, Ln1Rstd, Post1Hat, Post1Rstd, Ln2Hat, Ln2Rstd, Post2Hat, Post2Rstd;
    internal readonly float[] Qkv, K, V, Pattern, Z, Gate, Act, Up, Hidden, Normed, Raw, Out;

    internal Gemma2Activations(Gemma2Config c, int batch, int tokens, int prefixRows = 0)
    {
        int n = batch * tokens, d = c.DModel, m = c.DMlp;
        Ln1Hat = new float[n * d]; Post1Hat = new float[n * d]; Ln2Hat = new float[n * d]; Post2Hat = new float[n * d];
        Ln1Rstd = new float[n]; Post1Rstd = new float[n]; Ln2Rstd = new float[n]; Post2Rstd = new float[n];
        Qkv = new float[n * 3 * c.DAttention]; K = new float[n * c.DKv]; V = new float[n * c.DKv];
        Pattern = new float[batch * c.NHeads * tokens * (prefixRows + tokens)]; Z = new float[n * c.DAttention];
        Gate = new float[n * m]; Act = new float[n * m]; Up = new float[n * m]; Hidden = new float[n * m];
        Normed = new float[n * d]; Raw = new float[n * d]; Out = new float[n * d];
    }
}
