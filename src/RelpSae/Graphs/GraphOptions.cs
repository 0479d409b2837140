namespace RelpSae.Graphs;

/// <summary>
/// What an attribution graph covers and how it is computed, with circuit-tracer's defaults: the logits explained
/// (max_n_logits, desired_logit_prob), the feature nodes kept (max_feature_nodes; null: every active feature), the rows
/// one backward pass carries (sequences × tokens, bounding its memory) and how often the influence ranking of features
/// is brought up to date when not every feature is kept (update_interval, in batches).
/// </summary>
public sealed record GraphOptions
{
    public int MaxLogits { get; init; } = 10;
    public double DesiredLogitProbability { get; init; } = 0.95;
    public int? MaxFeatureNodes { get; init; }
    public int BatchRows { get; init; } = 2048;
    public int UpdateInterval { get; init; } = 4;
}
