namespace RelpSae.Tests.Cli;

/// <summary>bench's options are checked before any workload is timed.</summary>
[Collection(nameof(ConsoleCollection))]
public class BenchOptionsTests
{
    [Fact]
    public void UnknownGroup() =>
        BadInputTests.AssertUserError(["bench", "--only", "model,gpu"], "--only must list groups among model, gemm, attribution, sae; got \"gpu\"");

    [Fact]
    public void FolderThatIsNotTheAnchorKit() =>
        BadInputTests.AssertUserError(["bench", "--only", "model", "--interleave-anchor", "/nonexistent/kit"], "/nonexistent/kit holds no run.sh");

    [Fact]
    public void SavedAnchorAndInterleavedAnchorTogether() =>
        BadInputTests.AssertUserError(["bench", "--anchor", "anchor.txt", "--interleave-anchor", "/nonexistent/kit"], "not both");
}
