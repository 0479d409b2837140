namespace RelpSae.Dashboards;

/// <summary>
/// One feature's dashboard: how often it fires (<see cref="Density"/>: the fraction of positions where it is
/// non-zero), its positive activations counted in the log-spaced bins of <see cref="FeatureDashboards.HistogramEdges"/>,
/// its top-activating contexts and the output tokens its decoder direction raises and lowers most.
/// </summary>
public sealed record FeatureDashboard(int Feature, double Density, long[] HistogramCounts, IReadOnlyList<ContextWindow> TopContexts,
    OutputToken[] TopLogits, OutputToken[] BottomLogits);
