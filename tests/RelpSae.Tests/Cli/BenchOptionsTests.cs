namespace RelpSae.Tests.Cli;

/// <summary>bench's options are checked before any workload is timed.</summary>
[Collection(nameof(ConsoleCollection))]
public class BenchOptionsTests
{
    [Fact]
    public void UnknownGroup() =>
        BadInputTests.AssertUserError(["bench", "--only", "model,gpu"], "--only must list groups among model, gemm, attribution, sae, families, real; got \"gpu\"");

    [Fact]
    public void FolderThatIsNotTheAnchorKit() =>
        BadInputTests.AssertUserError(["bench", "--only", "model", "--interleave-anchor", "/nonexistent/kit"], "/nonexistent/kit holds no run.sh");

    [Fact]
    public void SavedAnchorAndInterleavedAnchorTogether() =>
        BadInputTests.AssertUserError(["bench", "--anchor", "anchor.txt", "--interleave-anchor", "/nonexistent/kit"], "not both");

    [Fact]
    public void RealGroupWithoutAModel() =>
        BadInputTests.AssertUserError(["bench", "--only", "real"], "--only real needs --model (a model folder)");

    [Fact]
    public void ModelWithoutTheRealGroup() =>
        BadInputTests.AssertUserError(["bench", "--only", "gemm", "--model", CliHarness.Tarot], "--model is timed by the real group: add real to --only");

    [Fact]
    public void RealGroupOnAFamilyItCannotTime() =>
        BadInputTests.AssertUserError(["bench", "--only", "real", "--model", CliHarness.Tarot],
            "the real-shape rows time Llama, Qwen, Mistral and Gemma models (their blocks' seven maps), not GPT2LMHeadModel");
}
