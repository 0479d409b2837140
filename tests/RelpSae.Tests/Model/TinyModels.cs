using RelpSae.Model;

namespace RelpSae.Tests.Model;

/// <summary>Small random GPT-2s for exact checks: every parameter random, LayerNorm γ near 1 and β non-zero.</summary>
internal static class TinyModels
{
    public static readonly Gpt2Config Config = new(VocabSize: 50, NPositions: 16, DModel: 16, NLayers: 2, NHeads: 2, DMlp: 64,
        LayerNormEps: 1e-5f, Activation: "gelu_new", BosTokenId: 0);

    public static Gpt2 Create(int seed = 1, bool zeroBiases = false)
    {
        var w = Gpt2Weights.Random(Config, seed, scale: 0.3f);
        var rng = new Random(seed + 1000);
        void Fill(float[] a, float center, float spread)
        {
            for (int i = 0; i < a.Length; i++) a[i] = zeroBiases && center == 0 ? 0 : center + spread * (float)(rng.NextDouble() * 2 - 1);
        }
        foreach (var l in w.Layers)
        {
            Fill(l.Ln1Gamma, 1, 0.3f); Fill(l.Ln1Beta, 0, 0.2f); Fill(l.Ln2Gamma, 1, 0.3f); Fill(l.Ln2Beta, 0, 0.2f);
            if (zeroBiases) { Array.Clear(l.Qkv.Bias!); Array.Clear(l.O.Bias!); Array.Clear(l.Fc.Bias!); Array.Clear(l.Proj.Bias!); }
        }
        Fill(w.LnFGamma, 1, 0.3f); Fill(w.LnFBeta, 0, 0.2f);
        return new Gpt2(w);
    }

    public static int[] Tokens(int batch, int tokens, int seed = 7)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, batch * tokens).Select(_ => rng.Next(Config.VocabSize)).ToArray();
    }
}
