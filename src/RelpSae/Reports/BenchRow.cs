namespace RelpSae.Reports;

/// <summary>One timed workload: "forward", "backward_exact", "backward_relp", "gemm", ... with its median time.</summary>
public sealed record BenchRow(string Workload, int Batch, int Tokens, int Threads, double Ms);
