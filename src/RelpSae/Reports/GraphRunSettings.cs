namespace RelpSae.Reports;

/// <summary>The pruning `evaluate graphs` ran with, as results.json and the report state it.</summary>
public sealed record GraphRunSettings(double NodeThreshold, double EdgeThreshold, int MaxFeatureNodes);
