namespace RelpSae.Model;

/// <summary>
/// What one Llama block's forward pass leaves for its backward pass (llm.c style: plain arrays, rows =
/// batch·tokens): both RMSNorms' x̂ and 1/rms, the fused and rotated Q | K | V rows (K, V repeated per
/// query head), the pattern, z, and the gated MLP's gate, act(gate), up and their product.
/// </summary>
public sealed class LlamaActivations
{
    internal readonly float[] Ln1Hat, Ln1Rstd, Qkv, K, V, Pattern, Z, Ln2Hat, Ln2Rstd, Gate, Act, Up, Hidden, Normed, Out;

    internal LlamaActivations(LlamaConfig c, int batch, int tokens, int prefixRows = 0)
    {
        int n = batch * tokens, d = c.DModel, m = c.DMlp;
        Ln1Hat = new float[n * d]; Ln1Rstd = new float[n]; Ln2Hat = new float[n * d]; Ln2Rstd = new float[n];
        Qkv = new float[n * 3 * c.DAttention]; K = new float[n * c.DKv]; V = new float[n * c.DKv];
        Pattern = new float[batch * c.NHeads * tokens * (prefixRows + tokens)]; Z = new float[n * c.DAttention];
        Gate = new float[n * m]; Act = new float[n * m]; Up = new float[n * m]; Hidden = new float[n * m];
        Normed = new float[n * d]; Out = new float[n * d];
    }
}
