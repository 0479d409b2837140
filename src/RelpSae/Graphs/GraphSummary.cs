namespace RelpSae.Graphs;

/// <summary>
/// `evaluate graphs` over its prompts: every prompt's measured edges pooled into one <see cref="EdgeAgreement"/> — each
/// prompt's source nodes distinct units, so the bootstrap resamples source nodes across prompts — and each method's
/// mean faithfulness curve (<see cref="GraphFaithfulness.Mean"/>).
/// </summary>
public sealed record GraphSummary(EdgeAgreement Edges, IReadOnlyList<GraphFaithfulness> Faithfulness)
{
    public static GraphSummary Summarize(IReadOnlyList<GraphPromptEvaluation> prompts, IReadOnlyList<string> methods, int resamples = 1000)
    {
        var sources = new List<int>();
        int offset = 0;
        foreach (var p in prompts)
        {
            sources.AddRange(p.Edges.Sources.Select(s => offset + s));
            offset += p.Edges.Sources.DefaultIfEmpty(-1).Max() + 1;
        }
        var pooled = new EdgeSet([.. prompts.SelectMany(p => p.Edges.Types)], [.. sources], [.. prompts.SelectMany(p => p.Edges.Truth)],
            methods.ToDictionary(m => m, m => prompts.SelectMany(p => p.Edges.Weights[m]).ToArray()));
        var curves = methods.Select(m => GraphFaithfulness.Mean(m, [.. prompts.Select(p => p.Faithfulness.Single(c => c.Method == m))])).ToList();
        return new GraphSummary(EdgeAgreement.Measure(pooled, resamples), curves);
    }
}
