namespace RelpSae.Benchmarks;

/// <summary>One timed workload: "forward", "backward_exact", "backward_relp", "gemm", ... with its median time.</summary>
public sealed record BenchRow(string Workload, int Batch, int Tokens, int Threads, double Ms)
{
    /// <summary>Nominal floating-point work of one run in GFLOP (2 per multiply-add of its products), or 0 where none is counted.</summary>
    public double Gflop { get; init; }

    /// <summary>The FMA peak of the same thread count, measured in the same sitting (0: not measured).</summary>
    public double PeakGflops { get; init; }

    /// <summary>Bytes of weights one run must read from memory (0: not counted).</summary>
    public long StreamBytes { get; init; }

    /// <summary>The memory read rate of the same thread count, measured in the same sitting, GB/s (0: not measured).</summary>
    public double ReadGBps { get; init; }

    public double Gflops => Gflop / (Ms / 1000);

    /// <summary>Achieved GFLOP/s over the FMA peak; NaN where either is unknown.</summary>
    public double FractionOfPeak => Gflop > 0 && PeakGflops > 0 ? Gflops / PeakGflops : double.NaN;

    /// <summary>The time its FLOPs take at the FMA peak, the least any fp32 implementation of this work could take; NaN where unknown.</summary>
    public double MsAtPeak => Gflop > 0 && PeakGflops > 0 ? Gflop / PeakGflops * 1000 : double.NaN;

    /// <summary>The time its weights take to stream at the read rate, the least any implementation holding them so could take; NaN where unknown.</summary>
    public double StreamFloorMs => StreamBytes > 0 && ReadGBps > 0 ? StreamBytes / (ReadGBps * 1e9) * 1000 : double.NaN;

    /// <summary>The larger of the two floors: neither the arithmetic nor the stream can go faster.</summary>
    public double FloorMs => double.IsNaN(MsAtPeak) ? StreamFloorMs : double.IsNaN(StreamFloorMs) ? MsAtPeak : Math.Max(MsAtPeak, StreamFloorMs);
}
