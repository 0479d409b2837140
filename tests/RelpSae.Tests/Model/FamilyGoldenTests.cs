using System.Text.Json;
using RelpSae.Lrp;
using RelpSae.Model;

namespace RelpSae.Tests.Model;

/// <summary>
/// Every family's forward and backward against golden logits and gradients from an independent PyTorch
/// forward pass (scripts/llama_neox_reference.py: HF semantics in plain torch; rules by detaching inside
/// the forward, as the seed's fork does): the trained stories260K Llama, and random checkpoints for Qwen2
/// (grouped-query attention, q/k/v biases, untied head, bf16 in two shards), Llama (multi-query, head_dim
/// wider than d_model / n_heads, all attention biases, tied head, f16), Gemma-2 (pre- and post-norms with
/// (1 + w) scales, a scaled embedding, query_pre_attn_scalar, attention and logit soft-caps small enough to
/// bend, GeGLU) and GPT-NeoX (parallel and sequential residual, partial rotary, exact and tanh GELU).
/// </summary>
public class FamilyGoldenTests
{
    public static TheoryData<string> Models => Families.WithGolden;

    private sealed record Golden(int[] Tokens, int Batch, Metric Metric, float[] Logits, Dictionary<string, float[]> Gradients);

    private static Golden Read(string folder)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Data(folder, "golden.json")));
        var root = doc.RootElement;
        var rows = root.GetProperty("tokens").EnumerateArray().ToArray();
        var metric = root.GetProperty("metric");
        float[] Floats(JsonElement e) => e.EnumerateArray().Select(v => v.GetSingle()).ToArray();
        return new Golden(rows.SelectMany(r => r.EnumerateArray().Select(v => v.GetInt32())).ToArray(), rows.Length,
            new Metric(MetricKind.LogitDiff, metric.GetProperty("target").GetInt32(), metric.GetProperty("foil").GetInt32()),
            Floats(root.GetProperty("logits")),
            root.GetProperty("gradients").EnumerateObject().ToDictionary(p => p.Name, p => Floats(p.Value)));
    }

    private static void AssertClose(float[] expected, float[] actual, double relative, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(v => Math.Abs(v)), worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        Assert.True(worst <= relative * scale + 1e-6, $"{what}: max |Δ| {worst:G3} against a scale of {scale:G3}");
    }

    [Theory, MemberData(nameof(Models))]
    public void LogitsMatchTheReference(string folder)
    {
        var golden = Read(folder);
        var model = Families.Named(folder).Load();
        using var run = model.Forward(golden.Tokens, golden.Batch, new RunOptions { Logits = LogitRows.All });
        AssertClose(golden.Logits, run.Logits, 2e-5, $"{folder} logits");
    }

    [Theory, MemberData(nameof(Models))]
    public void GradientsUnderEveryRuleMatchTheReference(string folder)
    {
        var golden = Read(folder);
        var model = Families.Named(folder).Load();
        using var run = model.Forward(golden.Tokens, golden.Batch, new RunOptions { KeepForBackward = true });
        foreach (var (key, expected) in golden.Gradients)
        {
            var (rule, hook) = (key.Split('@')[0], key.Split('@')[1]);
            var rules = rule == "gradient" ? PropagationRules.Gradient : PropagationRules.Parse(rule);
            var actual = run.Backward([golden.Metric], model.Facts.ParseHook(hook), rules);
            AssertClose(expected, actual, 1e-4, $"{folder} {key}");
        }
    }

    [Fact]
    public void StoriesGreedyContinuationIsTheFixturesReference()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Data("stories260K-llama", "reference.json")));
        var expected = doc.RootElement.GetProperty("greedy_next_10").EnumerateArray().Select(e => e.GetInt32());
        var model = LanguageModels.Load(TestPaths.Data("stories260K-llama"));
        Assert.Equal(expected, Generation.Continue(model, [1], 10));
    }

    public static TheoryData<string> AllModels => Families.Folders();

    /// <summary>
    /// On a gated MLP the Half-rule halves the MLP's path: the gradient at the last block's resid_mid is
    /// resid_post's plus the MLP's path, whose every step is linear in the product's gradient, so under the
    /// Half-rule the MLP's part is half the exact one. Without a gated MLP the rule acts on nothing, and the
    /// rules in force say so.
    /// </summary>
    [Theory, MemberData(nameof(AllModels))]
    public void TheHalfRuleHalvesTheGatedMlpsPathAndActsOnNothingElse(string folder)
    {
        var family = Families.Named(folder);
        var model = family.Load();
        var f = model.Facts;
        var tokens = Enumerable.Range(0, 12).Select(i => (7 * i + 3) % f.VocabSize).ToArray();
        var metric = new Metric(MetricKind.LogitDiff, 5 % f.VocabSize, 11 % f.VocabSize);
        var half = PropagationRules.Parse("half");
        using var run = model.Forward(tokens, 2, new RunOptions { KeepForBackward = true });
        if (!family.GatedMlp)
        {
            var start = new HookPoint(HookKind.ResidPre, 0);
            Assert.Equal(run.Backward([metric], start, PropagationRules.Gradient), run.Backward([metric], start, half));
            Assert.Equal("half (half: no gated MLP in this model)", half.Describe(f.GatedMlp));
            return;
        }
        Assert.Equal("half", half.Describe(f.GatedMlp));
        int last = f.NLayers - 1;
        var post = run.Backward([metric], new HookPoint(HookKind.ResidPost, last), PropagationRules.Gradient);
        var exact = run.Backward([metric], new HookPoint(HookKind.ResidMid, last), PropagationRules.Gradient);
        var halved = run.Backward([metric], new HookPoint(HookKind.ResidMid, last), half);
        var expected = exact.Select((g, i) => 0.5f * (g - post[i])).ToArray();
        Assert.True(expected.Max(Math.Abs) > 1e-2 * post.Max(Math.Abs), $"{folder}: the MLP's path is too small to tell");
        AssertClose(expected, halved.Select((g, i) => g - post[i]).ToArray(), 1e-5, $"{folder}: the MLP's path under the Half-rule");
    }
}
