using RelpSae.Lrp;
using RelpSae.Model;

namespace RelpSae.Tests.Model;

/// <summary>The README's library example, run on the shipped tarot checkpoint.</summary>
public class LibraryExampleTests
{
    [Fact]
    public void ReadmeExampleGivesRelevanceAtEveryPosition()
    {
        var model = ModelFolder.Load(TestPaths.Data("tarot-gpt2"));
        var ids = model.Encode("The Tower", prependBos: true);
        var hook = model.Facts.ParseHook("blocks.2.hook_resid_pre");
        using var run = model.Transformer.Forward(ids, batch: 1, new RunOptions { KeepForBackward = true, Cache = [hook] });
        int target = model.Encode(" card")[0];
        float[] relevance = run.Backward(new Metric(MetricKind.Logit, target), hook, PropagationRules.RelP);
        float[] activation = run.Cached(hook);

        Assert.Equal(ids.Length * model.Facts.DModel, relevance.Length);
        Assert.Equal(relevance.Length, activation.Length);
        // Relevance is gradient-like: it reaches the earlier positions through attention, and the
        // last position's row is not zero.
        int d = model.Facts.DModel;
        Assert.Contains(relevance.AsSpan(0, (ids.Length - 1) * d).ToArray(), v => v != 0);
        Assert.Contains(relevance.AsSpan((ids.Length - 1) * d, d).ToArray(), v => v != 0);
    }
}
