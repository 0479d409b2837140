using RelpSae.Model;

namespace RelpSae.Tests.Model;

/// <summary>
/// The hooks around every family's MLP, the ones transcoders read and write: hook_mlp_in (the residual the branch
/// reads), ln2.hook_normalized (x̂, before the norm's scale), mlp.hook_in (the norm's output), mlp.hook_out (the MLP's
/// output; Gemma's before its post-feedforward norm) and hook_mlp_out (what the branch adds to the residual stream).
/// </summary>
public class MlpHookTests
{
    private static readonly int[] PromptA = [1, 5, 9, 3, 7], PromptB = [2, 11, 4, 8, 6];

    public static TheoryData<string> AllFamilies => Families.Folders();

    private static HookPoint[] MlpHooks(ModelFacts facts, int l) =>
        [.. new[] { HookKind.ResidPre, HookKind.MlpResidualIn, HookKind.Ln2Normalized, HookKind.MlpHookIn, HookKind.MlpHookOut, HookKind.MlpOut, HookKind.ResidPost }
            .Select(k => new HookPoint(k, l)), .. facts.ParallelResidual ? Array.Empty<HookPoint>() : [new HookPoint(HookKind.ResidMid, l)]];

    [Theory]
    [MemberData(nameof(AllFamilies))]
    public void TheMlpHooksHoldWhatTheBranchReadsAndAdds(string folder)
    {
        var model = Families.Named(folder).Load();
        var facts = model.Facts;
        int l = facts.NLayers - 1, d = facts.DModel;
        using var run = model.Forward(PromptA, 1, new RunOptions { Cache = MlpHooks(facts, l) });
        float[] At(HookKind kind) => run.Cached(new HookPoint(kind, l));
        // hook_mlp_in is the residual the branch reads: resid_mid, or resid_pre when attention and MLP run in parallel.
        Assert.Equal(At(facts.ParallelResidual ? HookKind.ResidPre : HookKind.ResidMid), At(HookKind.MlpResidualIn));
        if (!facts.ParallelResidual)
            for (int i = 0; i < PromptA.Length * d; i++)
                Assert.Equal(At(HookKind.ResidPost)[i], At(HookKind.ResidMid)[i] + At(HookKind.MlpOut)[i], 1e-5f * (1 + MathF.Abs(At(HookKind.ResidPost)[i])));
        // ln2.hook_normalized is x̂ before the norm's scale: each row has RMS 1 (LayerNorm's, mean 0 too, up to eps).
        var hat = At(HookKind.Ln2Normalized);
        for (int t = 0; t < PromptA.Length; t++)
        {
            var row = hat.AsSpan(t * d, d);
            Assert.Equal(1, Math.Sqrt(System.Numerics.Tensors.TensorPrimitives.SumOfSquares(row) / d), 1e-2);
        }
        // mlp.hook_in is x̂ ⊙ γ (+ β), the norm's output.
        var (gamma, beta) = Ln2Scale(model, l);
        for (int t = 0; t < PromptA.Length; t++)
            for (int j = 0; j < d; j++)
                Assert.Equal(hat[t * d + j] * gamma[j] + (beta?[j] ?? 0), At(HookKind.MlpHookIn)[t * d + j], 1e-5f);
        // mlp.hook_out is hook_mlp_out except in Gemma, whose post-feedforward norm lies between them.
        if (model is Gemma2) Assert.NotEqual(At(HookKind.MlpHookOut), At(HookKind.MlpOut));
        else Assert.Equal(At(HookKind.MlpHookOut), At(HookKind.MlpOut));
    }

    /// <summary>
    /// Writing one prompt's activation at an input hook into another prompt's pass gives the first prompt's MLP output:
    /// the branch is a function of that hook alone, so a transcoder trained on it predicts what the block adds. Writing
    /// hook_mlp_in leaves the residual stream as it was (TransformerLens' hook holds a clone).
    /// </summary>
    [Theory]
    [MemberData(nameof(AllFamilies))]
    public void TheMlpIsAFunctionOfEachInputHook(string folder)
    {
        var model = Families.Named(folder).Load();
        var facts = model.Facts;
        int l = facts.NLayers - 1;
        using var a = model.Forward(PromptA, 1, new RunOptions { Cache = MlpHooks(facts, l) });
        foreach (var kind in new[] { HookKind.MlpResidualIn, HookKind.Ln2Normalized, HookKind.MlpHookIn, HookKind.MlpHookOut })
        {
            var hook = new HookPoint(kind, l);
            var written = a.Cached(hook);
            var patches = Enumerable.Range(0, PromptA.Length)
                .Select(t => new ActivationPatch(hook, t, 0, written.AsMemory(t * facts.DModel, facts.DModel))).ToArray();
            using var b = model.Forward(PromptB, 1, new RunOptions { Cache = MlpHooks(facts, l), Patches = patches });
            var expected = a.Cached(new HookPoint(HookKind.MlpOut, l));
            var seen = b.Cached(new HookPoint(HookKind.MlpOut, l));
            for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], seen[i], 1e-5f * (1 + MathF.Abs(expected[i])));
            if (kind == HookKind.MlpResidualIn)
            {
                using var plain = model.Forward(PromptB, 1, new RunOptions { Cache = [new HookPoint(HookKind.ResidPre, l)] });
                Assert.Equal(plain.Cached(new HookPoint(HookKind.ResidPre, l)), b.Cached(new HookPoint(HookKind.ResidPre, l)));
                if (!facts.ParallelResidual)
                    Assert.NotEqual(a.Cached(new HookPoint(HookKind.ResidMid, l)), b.Cached(new HookPoint(HookKind.ResidMid, l)));
            }
        }
    }

    [Fact]
    public void TheCatalogueNamesTheMlpHooksAsTransformerLensAndCircuitTracerDo()
    {
        var facts = TinyModels.Create().Facts;
        string[] expected = ["blocks.1.hook_resid_mid", "blocks.1.hook_mlp_in", "blocks.1.ln2.hook_normalized", "blocks.1.mlp.hook_in",
            "blocks.1.mlp.hook_post", "blocks.1.mlp.hook_out", "blocks.1.hook_mlp_out"];
        var names = facts.HookPoints().Select(h => h.Name).ToList();
        int first = names.IndexOf(expected[0]);
        Assert.Equal(expected, names.Skip(first).Take(expected.Length));
        foreach (var name in expected.Where(n => !n.EndsWith("hook_post"))) Assert.Equal(facts.DModel, facts.Width(facts.ParseHook(name), 3));
    }

    /// <summary>The MLP norm's scale (and LayerNorm's bias) of block <paramref name="l"/>, from the family's weights.</summary>
    private static (float[] Gamma, float[]? Beta) Ln2Scale(ITransformer model, int l) => model switch
    {
        Gpt2 g => (g.Weights.Layers[l].Ln2Gamma, g.Weights.Layers[l].Ln2Beta),
        GptNeoX n => (n.Weights.Layers[l].Ln2Gamma, n.Weights.Layers[l].Ln2Beta),
        Llama m => (m.Weights.Layers[l].PostAttentionNorm, null),
        Gemma2 m => (m.Weights.Layers[l].PreFeedforwardNorm, null),
        _ => throw new ArgumentException(model.GetType().Name),
    };
}
