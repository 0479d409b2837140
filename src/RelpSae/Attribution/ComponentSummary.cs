namespace RelpSae.Attribution;

/// <summary>
/// How faithful one method was on one component type over a prompt set: statistics over the components
/// of all prompts pooled, with bootstrap intervals from resampling prompts, and the number of patches.
/// </summary>
public sealed record ComponentSummary(ComponentKind Kind, string Method, int Patches, Estimate Pearson, Estimate Spearman, Estimate SignAgreement)
{
    public static ComponentSummary Summarize(ComponentKind kind, string method, IReadOnlyList<ComponentEvaluation> prompts, int resamples = 1000, int seed = 0)
    {
        // Each prompt's (estimate, truth) pairs of this type, picked out once rather than in every resample.
        var pairs = prompts.Select(p =>
        {
            var chosen = Enumerable.Range(0, p.Components.Length).Where(i => p.Components[i].Kind == kind).ToArray();
            return (Scores: chosen.Select(i => p.Scores[method][i]).ToArray(), Truth: chosen.Select(i => p.Truth[i]).ToArray());
        }).Where(p => p.Truth.Length > 0).ToList();
        var scores = pairs.SelectMany(p => p.Scores).ToArray();
        var truth = pairs.SelectMany(p => p.Truth).ToArray();
        var bootstrap = new Bootstrap(pairs.Count, resamples, seed);
        var resampled = new ResampledAgreement(pairs);
        return new ComponentSummary(kind, method, truth.Length,
            bootstrap.Interval(Agreement.Pearson(scores, truth), resampled.Pearson),
            bootstrap.Interval(Agreement.Spearman(scores, truth), resampled.Spearman),
            bootstrap.Interval(Agreement.SignAgreement(scores, truth), resampled.SignAgreement));
    }
}
