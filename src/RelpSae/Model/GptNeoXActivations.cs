namespace RelpSae.Model;

/// <summary>
/// What one GPT-NeoX block's forward pass leaves for its backward pass: both LayerNorms' x̂ and 1/σ, the
/// rotated Q | K | V rows, the pattern, z, and the MLP's pre- and post-activations.
/// </summary>
public sealed class GptNeoXActivations
{
    internal readonly float[] Ln1Hat, Ln1Rstd, Qkv, Pattern, Z, Ln2Hat, Ln2Rstd, Pre, Post, Normed, AttnOut, MlpOut;

    internal GptNeoXActivations(GptNeoXConfig c, int batch, int tokens, int prefixRows = 0)
    {
        int n = batch * tokens, d = c.DModel, m = c.DMlp;
        Ln1Hat = new float[n * d]; Ln1Rstd = new float[n]; Ln2Hat = new float[n * d]; Ln2Rstd = new float[n];
        Qkv = new float[n * 3 * d]; Pattern = new float[batch * c.NHeads * tokens * (prefixRows + tokens)]; Z = new float[n * d];
        Pre = new float[n * m]; Post = new float[n * m]; Normed = new float[n * d]; AttnOut = new float[n * d]; MlpOut = new float[n * d];
    }
}
