using RelpSae.Benchmarks;

namespace RelpSae.Tests.Benchmarks;

public class AnchorResultsTests
{
    [Fact]
    public void ReadsTheAnchorsTables()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, """
            TorchSharp 0.107.0.0, default torch.get_num_threads()=2, Environment.ProcessorCount=2
            | threads | B x T | forward->logits ms | fwd+bwd (full logits) ms | fwd+bwd (slim head) ms |
            |---|---|---|---|---|
            | 1 | 1x32 |      95.1 (94.0-99.3) |     120.5 (119.0-121.0) |     101.2 (100.0-103.0) |
            | 2 | 8x128 |    2150.0 (2100.0-2200.0) |    2500.0 (2400.0-2600.0) |    2300.5 (2290.0-2310.0) |

            | threads | 1024^3 fp32 matmul ms (median) | GFLOPS (median) | GFLOPS (best) |
            |---|---|---|---|
            | 2 | 12.27 | 175.0 | 180.2 |
            """);
        var rows = AnchorResults.Parse(path);
        Assert.Equal(
        [
            new BenchRow("forward", 1, 32, 1, 95.1), new BenchRow("backward_exact", 1, 32, 1, 101.2),
            new BenchRow("forward", 8, 128, 2, 2150.0), new BenchRow("backward_exact", 8, 128, 2, 2300.5),
            new BenchRow("gemm_1024", 1024, 1024, 2, 12.27),
        ], rows);
        File.WriteAllText(path, "nothing here\n");
        Assert.Contains("holds no anchor timing tables", Assert.Throws<RelpSaeException>(() => AnchorResults.Parse(path)).Message);
    }
}
