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
    public static TheoryData<string> Models => new() { "stories260K-llama", "tiny-qwen2", "tiny-llama-mqa", "tiny-gemma2", "tiny-neox", "tiny-neox-seq" };

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
        var model = LanguageModels.Load(TestPaths.Data(folder));
        using var run = model.Forward(golden.Tokens, golden.Batch, new RunOptions { Logits = LogitRows.All });
        AssertClose(golden.Logits, run.Logits, 2e-5, $"{folder} logits");
    }

    [Theory, MemberData(nameof(Models))]
    public void GradientsUnderEveryRuleMatchTheReference(string folder)
    {
        var golden = Read(folder);
        var model = LanguageModels.Load(TestPaths.Data(folder));
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

    [Fact]
    public void TheHalfRuleActsOnGatedModelsOnly()
    {
        // On a gated MLP the Half-rule halves the MLP's share of the gradient; on GPT-NeoX it changes nothing.
        var golden = Read("tiny-qwen2");
        Assert.NotEqual(golden.Gradients["half@blocks.0.hook_resid_pre"], golden.Gradients["gradient@blocks.0.hook_resid_pre"]);
        var neox = LanguageModels.Load(TestPaths.Data("tiny-neox"));
        var tokens = Read("tiny-neox").Tokens;
        using var run = neox.Forward(tokens, 2, new RunOptions { KeepForBackward = true });
        var hook = new HookPoint(HookKind.ResidPre, 0);
        Assert.Equal(run.Backward([golden.Metric], hook, PropagationRules.Gradient), run.Backward([golden.Metric], hook, PropagationRules.Parse("half")));
        Assert.Equal("ln+identity+half (half: no gated MLP in this model)", PropagationRules.RelP.Describe(neox.Facts.GatedMlp));
        Assert.Equal("ln+identity+half", PropagationRules.RelP.Describe(LanguageModels.Load(TestPaths.Data("tiny-qwen2")).Facts.GatedMlp));
    }
}
