namespace RelpSae.Reports;

/// <summary>
/// The pruning `evaluate graphs` ran with, as results.json and the report state it, and whether its dictionaries were
/// residual-stream SAEs (whose methods pass through the MLPs rather than cut them).
/// </summary>
public sealed record GraphRunSettings(double NodeThreshold, double EdgeThreshold, int MaxFeatureNodes, bool ResidualSaes = false);
