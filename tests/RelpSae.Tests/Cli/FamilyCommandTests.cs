using System.Text.Json;

namespace RelpSae.Tests.Cli;

/// <summary>
/// The commands end to end on a trained Llama-architecture checkpoint without a tokenizer (stories260K,
/// prompts and data as token ids) and on a random Gemma-2 and GPT-NeoX: attribute, evaluate at the feature and
/// component levels and --circuit, train-sae on a JSONL of token ids, eval-sae; the Half-rule reported active where
/// the MLP is gated; bad inputs as one-line errors.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public class FamilyCommandTests
{
    private static string Stories => TestPaths.Data("stories260K-llama");
    private static string Neox => TestPaths.Data("tiny-neox");

    /// <summary>Each family's end-to-end fixture (<see cref="Families"/>), whose width and gating the tests read there.</summary>
    public static TheoryData<string> Models => Families.EndToEnd;

    private static string Temp(string name, string text)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory().FullName, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string PromptFile() => Temp("prompts.jsonl", """
        {"prompt_ids": [1, 40, 46, 37, 45], "corrupt_ids": [1, 41, 46, 37, 45], "target": 45, "foil": 47}
        {"prompt_ids": [1, 22, 31, 29, 8], "corrupt_ids": [1, 22, 30, 29, 8], "target": "40", "foil": 41}
        """);

    /// <summary>verify --model alone checks the model (its backward against finite differences) and skips the SAE's checks.</summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void VerifyChecksAModelWithoutAnSae(string name)
    {
        var (code, output, error) = CliHarness.Run("verify", "--model", TestPaths.Data(name));
        Assert.True(code == 0, output + error);
        Assert.Contains("backward vs finite", output);
        Assert.Contains("skipped: no SAE given", output);
        Assert.DoesNotContain("FAIL", output);
        Assert.Contains("all checks passed", output);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void AttributeExplainsTokenIdsWithEveryMethodAndIgIsComplete(string name)
    {
        var (width, gated) = (Families.Named(name).Width, Families.Named(name).GatedMlp);
        var sae = CliHarness.RandomSae("blocks.1.hook_resid_post", width);
        var json = Path.Combine(Directory.CreateTempSubdirectory().FullName, "a.json");
        var (code, output, error) = CliHarness.Run("attribute", "--model", TestPaths.Data(name), "--sae", sae, "--prompt-ids", "1,22,31,29,8",
            "--corrupt-ids", "1,22,30,29,8", "--target", "40", "--foil", "41", "--methods", "gradient,ig,relp", "--ig-steps", "64", "--json", json);
        Assert.True(code == 0, error);
        Assert.Contains("\"#22\"", output);
        var root = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.Equal([1, 22, 31, 29, 8], root.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()));
        double delta = root.GetProperty("full_patch_delta").GetDouble();
        var methods = root.GetProperty("methods").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!);
        // IG's scores and error node add up to the full patch (completeness), up to its quadrature.
        var ig = methods["ig"];
        Assert.Equal(delta, ig.GetProperty("total").GetDouble() + ig.GetProperty("error_node").GetDouble(), 0.02 * Math.Max(1, Math.Abs(delta)));
        Assert.Equal(gated ? "ln+identity+half" : "ln+identity+half (half: no gated MLP in this model)", methods["relp"].GetProperty("rules_in_force").GetString());

        // --saes: a SAELens folder and a Gemma Scope params.npz (its layer_1 folder names the hook) spliced at once.
        var npz = Formats.FamilyLoaderTests.Npz(1, ("W_enc", Formats.FamilyLoaderTests.Npy($"{width}, 8", width * 8)), ("W_dec", Formats.FamilyLoaderTests.Npy($"8, {width}", width * 8)),
            ("b_enc", Formats.FamilyLoaderTests.Npy("8,", 8)), ("b_dec", Formats.FamilyLoaderTests.Npy($"{width},", width)), ("threshold", Formats.FamilyLoaderTests.Npy("8,", 8)));
        (code, output, error) = CliHarness.Run("attribute", "--model", TestPaths.Data(name), "--saes", CliHarness.RandomSae("blocks.0.hook_resid_post", width) + "," + npz,
            "--prompt-ids", "1,22,31,29,8", "--target", "40", "--methods", "gradient,relp");
        Assert.True(code == 0, error);
        Assert.Contains("SAEs      blocks.0.hook_resid_post, blocks.1.hook_resid_post", output);

        // eval-sae --out writes the community file as a SAELens folder, with its summaries, usable as --sae.
        var data = Path.Combine(Directory.CreateTempSubdirectory().FullName, "ids.jsonl");
        Assert.Equal(0, CliHarness.Run("sample-text", "--model", TestPaths.Data(name), "--documents", "8", "--tokens", "20", "--out", data).Code);
        var copy = Path.Combine(Directory.CreateTempSubdirectory().FullName, "sae");
        (code, _, error) = CliHarness.Run("eval-sae", "--model", TestPaths.Data(name), "--sae", npz, "--data", data, "--tokens", "32", "--out", copy);
        Assert.True(code == 0, error);
        Assert.True(File.Exists(Path.Combine(copy, "feature_summaries.json")));
        (code, output, error) = CliHarness.Run("attribute", "--model", TestPaths.Data(name), "--sae", copy, "--prompt-ids", "1,22,31", "--methods", "gradient");
        Assert.True(code == 0, error);
        Assert.Contains("SAE       blocks.1.hook_resid_post, 8 features", output);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void EvaluateRunsAtTheFeatureAndComponentLevelsFromAPromptFileOfIds(string name)
    {
        var (width, gated) = (Families.Named(name).Width, Families.Named(name).GatedMlp);
        var model = TestPaths.Data(name);
        var prompts = PromptFile();
        var features = Path.Combine(Directory.CreateTempSubdirectory().FullName, "features");
        var (code, _, error) = CliHarness.Run("evaluate", "--model", model, "--sae", CliHarness.RandomSae("blocks.0.hook_resid_post", width),
            "--prompts", prompts, "--methods", "gradient,relp", "--out", features);
        Assert.True(code == 0, error);
        var rules = JsonDocument.Parse(File.ReadAllText(Path.Combine(features, "results.json"))).RootElement.GetProperty("methods").EnumerateArray()
            .ToDictionary(m => m.GetProperty("name").GetString()!, m => m.GetProperty("rules").GetString());
        Assert.Equal(gated ? "ln+identity+half" : "ln+identity+half (half: no gated MLP in this model)", rules["relp"]);

        var components = Path.Combine(Directory.CreateTempSubdirectory().FullName, "components");
        (code, _, error) = CliHarness.Run("evaluate", "--level", "components", "--model", model, "--prompts", prompts,
            "--methods", "gradient,ig,relp", "--ig-steps", "2", "--out", components);
        Assert.True(code == 0, error);
        var root = JsonDocument.Parse(File.ReadAllText(Path.Combine(components, "results.json"))).RootElement;
        Assert.Equal(2, root.GetProperty("prompts").GetInt32());
        foreach (var type in new[] { "resid_pre", "attn_out", "mlp_out", "head" })
            Assert.True(root.GetProperty("components").GetProperty(type).GetProperty("patches").GetInt32() > 0, type);

        var circuit = Path.Combine(Directory.CreateTempSubdirectory().FullName, "circuit");
        var saes = string.Join(",", CliHarness.RandomSae("blocks.0.hook_resid_post", width), CliHarness.RandomSae("blocks.1.hook_resid_post", width));
        (code, _, error) = CliHarness.Run("evaluate", "--circuit", "--model", model, "--saes", saes, "--prompts", prompts, "--methods", "gradient,relp", "--out", circuit);
        Assert.True(code == 0, error);
        var methods = JsonDocument.Parse(File.ReadAllText(Path.Combine(circuit, "results.json"))).RootElement.GetProperty("methods");
        Assert.Contains("relp", methods.ToString());
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void TrainSaeOnTokenIdsThenEvalSae(string name)
    {
        int width = Families.Named(name).Width;
        // The model's own samples as token ids: what train-sae reads for a model without a tokenizer.
        var data = Path.Combine(Directory.CreateTempSubdirectory().FullName, "ids.jsonl");
        var (code, output, error) = CliHarness.Run("sample-text", "--model", TestPaths.Data(name), "--documents", "24", "--tokens", "20", "--out", data);
        Assert.True(code == 0, error);
        var first = JsonDocument.Parse(File.ReadLines(data).First()).RootElement.GetProperty("input_ids");
        Assert.InRange(first.GetArrayLength(), 1, 20);
        var outDir = Path.Combine(Directory.CreateTempSubdirectory().FullName, "sae");
        (code, output, error) = CliHarness.Run("train-sae", "--model", TestPaths.Data(name), "--hook", "blocks.1.hook_resid_pre", "--data", data,
            "--expansion", "2", "--tokens", "256", "--batch", "32", "--context", "8", "--eval-tokens", "64", "--out", outDir);
        Assert.True(code == 0, error);
        Assert.Contains("trained 8 steps", output);
        var cfg = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "cfg.json"))).RootElement;
        Assert.Equal(width, cfg.GetProperty("d_in").GetInt32());
        Assert.Equal(2 * width, cfg.GetProperty("d_sae").GetInt32());

        var json = Path.Combine(Directory.CreateTempSubdirectory().FullName, "eval.json");
        (code, _, error) = CliHarness.Run("eval-sae", "--model", TestPaths.Data(name), "--sae", outDir, "--data", data, "--tokens", "64", "--json", json);
        Assert.True(code == 0, error);
        var metrics = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.True(File.Exists(Path.Combine(outDir, "feature_summaries.json")));
        Assert.Contains("ce_loss_recovered", metrics.ToString());
    }

    [Fact]
    public void BadInputsOnOtherFamiliesAreOneLineErrors()
    {
        static void Refused(string expected, params string[] args)
        {
            var (code, _, error) = CliHarness.Run(args);
            Assert.Equal(2, code);
            Assert.Contains(expected, error);
            Assert.Single(error.Trim().Split('\n'));
        }
        Refused("has no tokenizer", "attribute", "--model", Stories, "--sae", CliHarness.RandomSae("blocks.1.hook_resid_post", 64), "--prompt", "Once upon");
        // The model's own problem comes first, before the SAE's width is compared with it.
        Refused("has no tokenizer", "attribute", "--model", Stories, "--sae", CliHarness.RandomSae("blocks.1.hook_resid_post", 128), "--prompt", "Once upon");
        Refused("the SAE's d_in is 128 but the model's width (hidden_size) is 64",
            "attribute", "--model", Stories, "--sae", CliHarness.RandomSae("blocks.1.hook_resid_post", 128), "--prompt-ids", "1,2");
        Refused("has no hook point \"blocks.0.hook_resid_mid\"",
            "attribute", "--model", Neox, "--sae", CliHarness.RandomSae("blocks.0.hook_resid_mid", 32), "--prompt-ids", "1,2");
        Refused("params.npz: the SAE's d_in is", "attribute", "--model", Stories, "--sae",
            TestPaths.Data(Path.Combine("community-saes", "layer_3", "params.npz")), "--prompt-ids", "1,2");
        Refused("outside the vocabulary", "attribute", "--model", Neox, "--sae", CliHarness.RandomSae("blocks.1.hook_resid_post", 32), "--prompt-ids", "1,64");
        Refused("--center-writing-weights is implemented for GPT-2 only", "attribute", "--model", Neox, "--sae", CliHarness.RandomSae("blocks.1.hook_resid_post", 32),
            "--prompt-ids", "1,2", "--center-writing-weights");
        var text = Temp("text.txt", "Once upon a time\n");
        Refused("reads token ids from a .jsonl file", "train-sae", "--model", Stories, "--hook", "blocks.1.hook_resid_pre", "--data", text,
            "--tokens", "64", "--batch", "32", "--context", "8", "--out", Path.Combine(Path.GetDirectoryName(text)!, "o"));
    }
}
