using RelpSae.Attribution;
using RelpSae.Model;
using RelpSae.Sae;

namespace RelpSae.Tests.Attribution;

/// <summary>
/// A transcoder spliced in place of an MLP with its error node leaves the model's output as it was, in every family,
/// from each kind of input hook, to either output hook, with each activation and with and without a skip connection.
/// </summary>
public class TranscoderSpliceTests
{
    internal static readonly int[] Prompt = [1, 7, 3, 12, 5, 9];

    /// <summary>A transcoder of random weights for a model of width <paramref name="d"/>, about half its features active on normalised inputs.</summary>
    internal static Transcoder RandomTranscoder(int d, SaeArchitecture architecture, string input, string output, bool skip, int seed = 5)
    {
        int dSae = 3 * d;
        var sae = new SparseAutoencoder(new SaeConfig { Architecture = architecture, DIn = d, DSae = dSae, K = 4, ApplyBDecToInput = false, HookName = input });
        var rng = new Random(seed);
        float Normal() => (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        void Fill(float[] a, float scale) { for (int i = 0; i < a.Length; i++) a[i] = scale * Normal(); }
        Fill(sae.WEnc, 1f / MathF.Sqrt(d));
        Fill(sae.BEnc, 0.1f);
        Fill(sae.WDec, 0.3f);
        Fill(sae.BDec, 0.1f);
        for (int i = 0; i < sae.Threshold.Length; i++) sae.Threshold[i] = 0.3f * (float)rng.NextDouble();
        float[]? wSkip = null;
        if (skip) Fill(wSkip = new float[d * d], 0.1f / MathF.Sqrt(d));
        return new Transcoder(sae, input, output, wSkip);
    }

    public static TheoryData<string, HookKind, HookKind, SaeArchitecture, bool> Cases => new()
    {
        { "tarot-gpt2", HookKind.Ln2Normalized, HookKind.MlpOut, SaeArchitecture.JumpRelu, false },
        { "stories260K-llama", HookKind.ResidMid, HookKind.MlpHookOut, SaeArchitecture.Standard, true },
        { "tiny-qwen2", HookKind.Ln2Normalized, HookKind.MlpOut, SaeArchitecture.Standard, false },
        { "tiny-gemma2", HookKind.Ln2Normalized, HookKind.MlpOut, SaeArchitecture.JumpRelu, false },
        { "tiny-gemma3", HookKind.MlpHookIn, HookKind.MlpHookOut, SaeArchitecture.Standard, true },
        { "tiny-neox", HookKind.ResidPre, HookKind.MlpOut, SaeArchitecture.TopK, false },
        { "tiny-neox-seq", HookKind.MlpResidualIn, HookKind.MlpOut, SaeArchitecture.Standard, true },
        { "tiny-qwen3", HookKind.MlpHookIn, HookKind.MlpHookOut, SaeArchitecture.TopK, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void TheSplicedModelComputesWhatTheModelDid(string folder, HookKind input, HookKind output, SaeArchitecture architecture, bool skip)
    {
        var model = Families.Named(folder).Load();
        int l = model.Facts.NLayers / 2;
        var transcoder = RandomTranscoder(model.Facts.DModel, architecture, new HookPoint(input, l).Name, new HookPoint(output, l).Name, skip);
        var splice = TranscoderSplice.Create(model, transcoder, "test transcoder", Prompt);
        Assert.Contains(splice.Features, f => f == 0);
        Assert.Contains(splice.Features, f => f != 0);

        var outputHook = new HookPoint(output, l);
        using var clean = model.Forward(Prompt, 1, new RunOptions { Logits = LogitRows.All });
        using var spliced = model.Forward(Prompt, 1, new RunOptions { Logits = LogitRows.All, Rewrite = splice.Replacement(), Cache = [outputHook] });
        for (int i = 0; i < clean.Logits.Length; i++) Assert.Equal(clean.Logits[i], spliced.Logits[i], 1e-4f * (1 + MathF.Abs(clean.Logits[i])));
        for (int i = 0; i < splice.TrueOutput.Length; i++)
            Assert.Equal(splice.TrueOutput[i], spliced.Cached(outputHook)[i], 1e-5f * (1 + MathF.Abs(splice.TrueOutput[i])));

        // The features do reach the output: without them the logits move.
        using var ablated = model.Forward(Prompt, 1, new RunOptions { Logits = LogitRows.All, Rewrite = splice.Replacement(new float[splice.Features.Length]) });
        Assert.Contains(Enumerable.Range(0, clean.Logits.Length), i => MathF.Abs(clean.Logits[i] - ablated.Logits[i]) > 1e-3f);
    }
}
