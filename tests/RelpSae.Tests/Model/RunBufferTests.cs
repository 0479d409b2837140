using RelpSae.Lrp;
using RelpSae.Model;

namespace RelpSae.Tests.Model;

/// <summary>Disposed runs lend their buffers to the next pass; nothing of one pass may leak into another.</summary>
public class RunBufferTests
{
    [Fact]
    public void ReusedBuffersGiveTheSameLogitsAndGradients()
    {
        var model = TinyModels.Create();
        var hook = model.Facts.ParseHook("blocks.0.hook_resid_pre");
        var metric = new Metric(MetricKind.Logit, 3);
        var a = TinyModels.Tokens(2, 6, seed: 1);
        var b = TinyModels.Tokens(2, 6, seed: 2);
        (float[] Logits, float[] Gradient) Pass(int[] tokens)
        {
            using var run = model.Forward(tokens, 2, new RunOptions { KeepForBackward = true, Logits = LogitRows.All });
            return ((float[])run.Logits.Clone(), run.Backward(metric, hook, PropagationRules.RelP));
        }
        var first = Pass(a);
        Assert.True(model.Pool.HeldFloats > 0, "the disposed run gave nothing back");
        var other = Pass(b);   // same shape: runs on the first pass's buffers
        var again = Pass(a);   // and this one on the second's
        Assert.NotEqual(first.Logits, other.Logits);
        Assert.Equal(first.Logits, again.Logits);
        Assert.Equal(first.Gradient, again.Gradient);
    }

    [Fact]
    public void DisposedRunRefusesUse()
    {
        var model = TinyModels.Create();
        var run = model.Forward(TinyModels.Tokens(1, 4), 1, new RunOptions { KeepForBackward = true });
        run.Dispose();
        run.Dispose();  // twice is harmless
        Assert.Empty(run.Logits);
        Assert.Throws<ObjectDisposedException>(() => run.MetricValues(new Metric(MetricKind.Logit, 1)));
    }
}
