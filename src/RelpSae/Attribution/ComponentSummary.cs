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
        Estimate Pooled(Func<double[], double[], double> stat) => Bootstrap.OverPrompts(pairs,
            sample => stat(sample.SelectMany(p => p.Scores).ToArray(), sample.SelectMany(p => p.Truth).ToArray()), resamples, seed: seed);
        return new ComponentSummary(kind, method, pairs.Sum(p => p.Truth.Length),
            Pooled((a, t) => Agreement.Pearson(a, t)),
            Pooled((a, t) => Agreement.Spearman(a, t)),
            Pooled((a, t) => Agreement.SignAgreement(a, t)));
    }
}
