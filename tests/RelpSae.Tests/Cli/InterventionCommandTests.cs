using System.Text.Json;
using RelpSae.Cli;
using RelpSae.Model;
using RelpSae.Sae;

namespace RelpSae.Tests.Cli;

/// <summary>
/// --steer, --clamp and --ablate on generate and attribute, with the embedded model and SAE (blocks.2.hook_resid_post), as the
/// docs show them: what they change, what they leave, and a one-line error for each bad value.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public class InterventionCommandTests
{
    private const string Hook = "blocks.2.hook_resid_post";

    private static JsonElement Json(params string[] args)
    {
        var (code, output, error) = CliHarness.Run([.. args, "--json", "-"]);
        Assert.True(code == 0, error);
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    private static int[] Generated(params string[] extra) =>
        [.. Json(["generate", "--prompt", "The Tower", "--tokens", "16", "--temperature", "1", "--seed", "4", .. extra])
            .GetProperty("generated_ids").EnumerateArray().Select(e => e.GetInt32())];

    [Fact]
    public void ALargeSteerChangesTheTextTheSameWayEachTime()
    {
        var plain = Generated();
        var steered = Generated("--steer", $"{Hook}:17=30");
        Assert.NotEqual(plain, steered);
        Assert.Equal(steered, Generated("--steer", $"{Hook}:17=30"));
        Assert.Equal("steer", Json("generate", "--prompt", "The Tower", "--tokens", "1", "--steer", $"{Hook}:17=30")
            .GetProperty("interventions")[0].GetProperty("kind").GetString());
    }

    [Fact]
    public void ClampingAFeatureToItsCleanValueIsPlainGeneration()
    {
        var plain = Json("generate", "--prompt", "The Tower", "--tokens", "16", "--temperature", "1", "--seed", "4");
        int[] fed = [.. plain.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32()),
            .. plain.GetProperty("generated_ids").EnumerateArray().Select(e => e.GetInt32()).SkipLast(1)];
        var sae = SaeFiles.Load(CliDefaults.EmbeddedSae);
        var f = sae.Encode(Gpt2.Load(CliDefaults.EmbeddedModel).ActivationAt(new HookPoint(HookKind.ResidPost, 2), fed, 1));
        // A feature whose clean value is the same, 0, at every position the model is run at.
        int silent = Enumerable.Range(0, sae.DSae).First(i => Enumerable.Range(0, fed.Length).All(t => f[t * sae.DSae + i] == 0));
        Assert.Equal(Generated(), Generated("--clamp", $"{Hook}:{silent}=0"));
        Assert.NotEqual(Generated(), Generated("--clamp", $"{Hook}:{silent}=30"));
    }

    [Fact]
    public void AttributeExplainsTheIntervenedModel()
    {
        string[] args = ["attribute", "--prompt", "The Tower", "--methods", "gradient,relp", "--target", "388"];
        var plain = Json(args);
        int top = plain.GetProperty("methods")[0].GetProperty("top")[0].GetProperty("feature").GetInt32();
        var ablated = Json([.. args, "--ablate", $"{Hook}:{top}"]);
        var recorded = ablated.GetProperty("interventions")[0];
        Assert.Equal(("ablate", Hook, top, 0.0), (recorded.GetProperty("kind").GetString(), recorded.GetProperty("hook").GetString(),
            recorded.GetProperty("feature").GetInt32(), recorded.GetProperty("value").GetDouble()));
        Assert.NotEqual(plain.GetProperty("metric").GetProperty("clean").GetDouble(), ablated.GetProperty("metric").GetProperty("clean").GetDouble());
        foreach (var method in ablated.GetProperty("methods").EnumerateArray())
            Assert.DoesNotContain(method.GetProperty("top").EnumerateArray(), t => t.GetProperty("feature").GetInt32() == top && t.GetProperty("score").GetDouble() != 0);
        var (code, output, _) = CliHarness.Run([.. args, "--ablate", $"{Hook}:{top}"]);
        Assert.Equal(0, code);
        Assert.Contains($"changed   ablate {Hook}:{top} (in the model attributed", output);
    }

    [Fact]
    public void ATranscodersFeaturesAreChangedAtItsMlpAndAttributionIsCompleteForTheChangedModel()
    {
        var transcoder = TranscoderCommandTests.CircuitTracerLayer(128, 1, "ln2.hook_normalized", "hook_mlp_out", skip: true);
        JsonElement Attribute(params string[] extra) => Json(["attribute", "--model", CliHarness.Tarot, "--sae", transcoder, "--prompt-ids", "1,22,31,29,8",
            "--corrupt-ids", "1,22,30,29,8", "--target", "40", "--foil", "41", "--methods", "ig", "--ig-steps", "64", .. extra]);
        double plain = Attribute().GetProperty("full_patch_delta").GetDouble();
        var clamped = Attribute("--clamp", "blocks.1.hook_mlp_out:5=3");
        double delta = clamped.GetProperty("full_patch_delta").GetDouble();
        Assert.NotEqual(plain, delta, 1e-3);
        var ig = clamped.GetProperty("methods")[0];
        Assert.Equal(delta, ig.GetProperty("total").GetDouble() + ig.GetProperty("error_node").GetDouble(), 0.02 * Math.Max(1, Math.Abs(delta)));

        string[] generate = ["generate", "--model", CliHarness.Tarot, "--prompt", "The Tower", "--sae", transcoder];
        BadInputTests.AssertUserError([.. generate, "--steer", "blocks.1.hook_resid_post:5=1"],
            "no dictionary at blocks.1.hook_resid_post; the dictionaries given are at blocks.1.hook_mlp_out (a transcoder at its output hook)");
        var (code, steered, error) = CliHarness.Run([.. generate, "--steer", "blocks.1.hook_mlp_out:5=40"]);
        Assert.True(code == 0, error);
        Assert.NotEqual(CliHarness.Run("generate", "--model", CliHarness.Tarot, "--prompt", "The Tower").Out, steered);
    }

    public static TheoryData<string[], string> BadValues => new()
    {
        { ["--steer", "blocks.1.hook_resid_post:3=1"], "--steer blocks.1.hook_resid_post:3=1: no dictionary at blocks.1.hook_resid_post; the dictionaries given are at blocks.2.hook_resid_post" },
        { ["--steer", "blocks.2.hook_nonsense:3=1"], "--steer blocks.2.hook_nonsense:3=1: the GPT2LMHeadModel model has no hook point" },
        { ["--clamp", $"{Hook}:512=1"], $"--clamp {Hook}:512=1: feature 512 is outside the dictionary's 512 features (0..511)" },
        { ["--clamp", $"{Hook}:-1=1"], $"--clamp {Hook}:-1=1: \"-1\" is not a feature index" },
        { ["--steer", $"{Hook}:3"], $"--steer {Hook}:3: no =VALUE; write HOOK:FEATURE=VALUE" },
        { ["--steer", $"{Hook}:3=four"], $"--steer {Hook}:3=four: \"four\" is not a number" },
        { ["--ablate", $"{Hook}:3=0"], $"--ablate {Hook}:3=0: ablating takes no value" },
        { ["--ablate", "3"], "--ablate 3: no HOOK:FEATURE; write HOOK:FEATURE" },
        { ["--steer", $"{Hook}:3=NaN"], $"--steer {Hook}:3=NaN: the value must be a finite number" },
        { ["--clamp", $"{Hook}:3=1e99"], $"--clamp {Hook}:3=Infinity: the value must be a finite number" },
        { ["--steer", $"{Hook}:3=1", "--ablate", $"{Hook}:3"], $"--ablate {Hook}:3: feature 3 at {Hook} is already changed by steer {Hook}:3=1" },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void BadInterventionsAreOneLineErrors(string[] option, string expected)
    {
        BadInputTests.AssertUserError(["generate", "--prompt", "The Tower", .. option], expected);
        BadInputTests.AssertUserError(["attribute", "--prompt", "The Tower", "--methods", "gradient", .. option], expected);
    }

    [Fact]
    public void DictionariesWithoutInterventionsAreRefused() =>
        BadInputTests.AssertUserError(["generate", "--prompt", "The Tower", "--sae", CliDefaults.EmbeddedSae],
            "--sae names the dictionaries whose features --steer, --clamp and --ablate change");

    [Fact]
    public void ACircuitOfAnIntervenedModelExplainsTheModelAttributeOfOneSaeSees()
    {
        string[] args = ["attribute", "--prompt", "The Tower", "--methods", "gradient,ig", "--target", "388", "--metric", "logit"];
        string[] steer = ["--steer", $"{Hook}:17=30"];
        // The same SAE alone (the set's, not the default --sae) with the same steer: the intervened model's metric, computed on its own path.
        double single = Json([.. args, "--sae", Path.Combine(SaeSetOptions.EmbeddedSaes, Hook), .. steer]).GetProperty("metric").GetProperty("clean").GetDouble();
        var plain = Json([.. args, "--saes", SaeSetOptions.EmbeddedSaes]);
        var circuit = Json([.. args, "--saes", SaeSetOptions.EmbeddedSaes, .. steer]);
        Assert.Equal(single, circuit.GetProperty("metric_clean").GetDouble(), 4);
        Assert.NotEqual(plain.GetProperty("metric_clean").GetDouble(), circuit.GetProperty("metric_clean").GetDouble(), 1e-2);
        Assert.Equal("steer", circuit.GetProperty("interventions")[0].GetProperty("kind").GetString());
        var (code, output, error) = CliHarness.Run([.. args, "--saes", SaeSetOptions.EmbeddedSaes, .. steer]);
        Assert.True(code == 0, error);
        Assert.Contains($"changed   steer {Hook}:17=30 (in the model attributed", output);

        BadInputTests.AssertUserError(["attribute", "--prompt", "The Tower", "--saes", SaeSetOptions.EmbeddedSaes, "--clamp", $"{Hook}:3=1"],
            $"--clamp {Hook}:3=1: a clamp or an ablation goes at the first spliced site; blocks.0.hook_resid_post comes before it");
    }

    [Fact]
    public void GenerateTakesTheDictionariesOfSaes()
    {
        var steered = Generated("--saes", SaeSetOptions.EmbeddedSaes, "--steer", "blocks.0.hook_resid_post:5=40", "--steer", $"{Hook}:17=30");
        Assert.NotEqual(Generated("--saes", SaeSetOptions.EmbeddedSaes, "--steer", $"{Hook}:17=30"), steered);
    }
}
