using System.Diagnostics;
using RelpSae.Model;

namespace RelpSae.Attribution;

/// <summary>
/// Measures one prompt: every method's per-feature scores beside the ground-truth effect of patching
/// each feature active in the clean or baseline run, with the time each took.
/// </summary>
public sealed class FaithfulnessRunner(IReadOnlyList<IAttributionMethod> methods, GroundTruth groundTruth, int? position = null)
{
    private bool warmedUp;

    public IReadOnlyList<IAttributionMethod> Methods { get; } = methods;

    public PromptEvaluation Evaluate(int index, string prompt, SaeSplice splice, Metric metric)
    {
        CheckPosition(splice.Tokens);
        var features = GroundTruth.ActiveFeatures(splice);
        if (!warmedUp)
        {
            // One untimed run of each method first, so the first prompt's times don't include JIT compilation.
            foreach (var method in Methods) Attributor.Run(method, splice, metric);
            warmedUp = true;
        }
        var scores = new Dictionary<string, double[]>();
        var seconds = new Dictionary<string, double>();
        foreach (var method in Methods)
        {
            // Each timing starts from a collected heap, so no method pays for another's garbage.
            GC.Collect();
            var result = Attributor.Run(method, splice, metric);
            scores[method.Name] = features.Select(i => position is { } p ? result.Score(p, i) : result.FeatureTotals[i]).ToArray();
            seconds[method.Name] = result.Seconds;
        }
        GC.Collect();
        var clock = Stopwatch.StartNew();
        var truth = groundTruth.Effects(splice, metric, features, position);
        double truthSeconds = clock.Elapsed.TotalSeconds;
        return new PromptEvaluation(index, prompt, metric.ToString(),
            splice.MetricAt(splice.Clean, metric), splice.MetricAt(splice.BaselineActivation, metric),
            features, truth, scores, seconds, truthSeconds);
    }

    /// <summary>The patch position must fall inside a prompt of <paramref name="tokens"/> tokens (checked before any work).</summary>
    public void CheckPosition(int tokens)
    {
        if (position is { } p && (p < 0 || p >= tokens))
            throw new SettingException(name => $"{name(Setting.PatchPosition)} {p} is outside a prompt of {tokens} tokens (0..{tokens - 1})");
    }
}
