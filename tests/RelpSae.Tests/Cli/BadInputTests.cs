namespace RelpSae.Tests.Cli;

/// <summary>
/// Every bad input in the README's table: a one-line error naming what is at fault, exit code 2, and
/// never a stack trace.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public class BadInputTests
{
    private static readonly Lazy<string> Sae = new(() => CliHarness.RandomSae());

    internal static void AssertUserError(string[] args, string expected)
    {
        var (code, _, error) = CliHarness.Run(args);
        Assert.Equal(2, code);
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(expected, lines[0]);
        Assert.DoesNotContain(" at RelpSae", error);
    }

    private static string[] Attribute(params string[] extra) =>
        ["attribute", "--model", CliHarness.Tarot, "--sae", Sae.Value, .. extra];

    [Fact] public void EmptyPrompt() => AssertUserError(Attribute("--prompt", ""), "the prompt is empty");

    [Fact]
    public void PromptLongerThanTheContext()
    {
        var longPrompt = string.Join(' ', Enumerable.Repeat("love", 70));
        AssertUserError(Attribute("--prompt", longPrompt), "longer than the model's context of 64");
        Assert.Equal(0, CliHarness.Run(Attribute("--prompt", longPrompt, "--truncate", "--methods", "gradient")).Code);
    }

    [Fact] public void TargetThatIsNotOneToken() => AssertUserError(Attribute("--prompt", "Love", "--target", " Towering"), "target \" Towering\" is");
    [Fact] public void FoilThatIsNotOneToken() => AssertUserError(Attribute("--prompt", "Love", "--target", " the", "--foil", " Towering"), "foil \" Towering\" is");
    [Fact] public void TargetIdOutsideTheVocabulary() => AssertUserError(Attribute("--prompt", "Love", "--target", "5000"), "target id 5000 is outside the vocabulary");
    [Fact] public void TargetIdBeyondAnInt() => AssertUserError(Attribute("--prompt", "Love", "--target", "99999999999999999999"), "target id 99999999999999999999 is outside the vocabulary");

    [Fact]
    public void CorruptedPromptOfAnotherLengthShowsBothTokenizations() =>
        AssertUserError(Attribute("--prompt", "The Tower", "--corrupt", "The Sun"),
            "the corrupted prompt is 4 tokens long but the prompt is 5: they must have the same length (prompt \"The\" \" \" \"T\" \"ow\" \"er\"; corrupted \"The\"");

    [Fact]
    public void EnglishSplitIntoCharactersIsNoted()
    {
        var (code, _, error) = CliHarness.Run("attribute", "--prompt", "When Mary and John went to the store, John gave a drink to", "--methods", "gradient");
        Assert.Equal(0, code);
        Assert.Contains("note: the prompt's 58 characters became 32 tokens (1.8 characters each) with the tokenizer of the embedded model", error);
        Assert.DoesNotContain("note:", CliHarness.Run("attribute", "--prompt", "The Tower", "--methods", "gradient").Error);
        // The tarot text its tokenizer was trained on comes out as words (45 characters, 14 tokens).
        Assert.DoesNotContain("note:", CliHarness.Run("attribute", "--prompt", "Love the moment but there is no need to panic", "--methods", "gradient").Error);
    }

    [Theory]
    [InlineData(new[] { "attribute", "--promt", "Love" }, "Unrecognized command or argument '--promt'; did you mean --prompt? (see relp-sae attribute --help)")]
    [InlineData(new[] { "atribute" }, "Unrecognized command or argument 'atribute'; did you mean attribute? (see relp-sae --help)")]
    [InlineData(new[] { "attribute", "--zzzzzz" }, "Unrecognized command or argument '--zzzzzz' (see relp-sae attribute --help)")]
    public void MisspeltOptionSuggestsTheNearestName(string[] args, string expected) => AssertUserError(args, expected);

    [Fact] public void HookTheModelLacks() =>
        AssertUserError(["attribute", "--model", CliHarness.Tarot, "--sae", CliHarness.RandomSae("blocks.9.hook_resid_post"), "--prompt", "Love"], "no hook point \"blocks.9.hook_resid_post\"");

    [Fact] public void SaeWidthDiffersFromTheModel() =>
        AssertUserError(["attribute", "--model", CliHarness.Tarot, "--sae", CliHarness.RandomSae(dIn: 64), "--prompt", "Love"], "d_in is 64 but the model's width (n_embd) is 128");

    [Fact] public void NonPositiveIgSteps() => AssertUserError(Attribute("--prompt", "Love", "--ig-steps", "0"), "--ig-steps must be positive");
    [Fact] public void NonPositiveTop() => AssertUserError(Attribute("--prompt", "Love", "--top", "0"), "--top must be positive");
    [Fact] public void UnknownMethod() => AssertUserError(Attribute("--prompt", "Love", "--methods", "gradient,magic"), "unknown method \"magic\"");
    [Fact] public void UnknownMetric() => AssertUserError(Attribute("--prompt", "Love", "--metric", "accuracy"), "--metric must be logit, logit-diff or logprob");
    [Fact] public void CorruptBaselineWithoutACorruptedPrompt() => AssertUserError(Attribute("--prompt", "Love", "--baseline", "corrupt"), "needs a corrupted prompt");
    [Fact] public void MissingModelFolder() => AssertUserError(["attribute", "--model", "/nonexistent/model", "--prompt", "Love"], "--model: folder not found: /nonexistent/model");
    [Fact] public void OptionOfTheWrongType() => AssertUserError(Attribute("--prompt", "Love", "--top", "many"), "'many'");
    [Fact] public void UnknownCommand() => AssertUserError(["attirbute"], "Unrecognized command or argument 'attirbute'");

    [Fact]
    public void BadShardAndBatchForEvaluate()
    {
        var outDir = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString());
        AssertUserError(["evaluate", "--model", CliHarness.Tarot, "--sae", Sae.Value, "--out", outDir, "--shard", "2/2"], "--shard must be i/n with 0 ≤ i < n");
        AssertUserError(["evaluate", "--model", CliHarness.Tarot, "--sae", Sae.Value, "--out", outDir, "--batch", "0"], "--batch must be positive");
        AssertUserError(["evaluate", "--model", CliHarness.Tarot, "--sae", Sae.Value, "--out", outDir, "--task", "ioi", "--n", "3"], "single-token names");
    }

    [Fact]
    public void UnwritableOutputFoldersAreReportedBeforeAnyWork()
    {
        // A path under a regular file cannot be created, whoever runs the test (root ignores permissions).
        var file = Path.GetTempFileName();
        var data = Path.Combine(Directory.CreateTempSubdirectory().FullName, "d.txt");
        File.WriteAllText(data, "Love the moment.\n\nTrust your feelings.");
        AssertUserError(["train-sae", "--model", CliHarness.Tarot, "--hook", "blocks.2.hook_resid_post", "--tokens", "10000", "--batch", "1000",
            "--data", data, "--out", Path.Combine(file, "sae")], "cannot write there");
        AssertUserError(["evaluate", "--model", CliHarness.Tarot, "--sae", Sae.Value, "--out", Path.Combine(file, "eval")], "cannot write to --out");
        AssertUserError(["train-sae", "--model", CliHarness.Tarot, "--hook", "blocks.2.hook_resid_post", "--tokens", "10000", "--batch", "1000",
            "--data", data, "--out", Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString()), "--l1", "-1"], "--l1 must be >= 0");
    }

    [Fact]
    public void TruncatedCheckpoint()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        File.Copy(Path.Combine(CliHarness.Tarot, "config.json"), Path.Combine(dir, "config.json"));
        File.Copy(Path.Combine(CliHarness.Tarot, "tokenizer.json"), Path.Combine(dir, "tokenizer.json"));
        var bytes = File.ReadAllBytes(Path.Combine(CliHarness.Tarot, "pytorch_model.bin"));
        File.WriteAllBytes(Path.Combine(dir, "pytorch_model.bin"), bytes[..(bytes.Length / 2)]);
        AssertUserError(["generate", "--model", dir, "--prompt", "Love"], "pytorch_model.bin");
    }

    [Fact]
    public void UnexpectedErrorsSayItIsABugAndPointToVerbose()
    {
        var error = new StringWriter();
        var old = Console.Error;
        Console.SetError(error);
        try { Assert.Equal(70, RelpSae.Cli.CliRunner.Report(new NullReferenceException("boom"), verbose: false)); }
        finally { Console.SetError(old); }
        Assert.Equal("internal error: NullReferenceException: boom (this is a bug; rerun with --verbose for details)", error.ToString().Trim());
    }
}
