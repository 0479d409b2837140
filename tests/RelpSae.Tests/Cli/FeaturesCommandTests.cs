using System.Text.Json;
using RelpSae.Cli;
using RelpSae.Dashboards;
using RelpSae.Model;
using RelpSae.Sae;
using RelpSae.Tests.Sae;
using RelpSae.Text;

namespace RelpSae.Tests.Cli;

/// <summary>relp-sae features through the real command line, on the embedded model and SAE and a small tarot text.</summary>
[Collection(nameof(ConsoleCollection))]
public class FeaturesCommandTests
{
    private static string[] Features(string data, string outDir, params string[] extra) =>
        ["features", "--data", data, "--out", outDir, "--context", "16", "--top", "4", "--window", "3", .. extra];

    [Fact]
    public void WritesEachFeaturesTopContextsWithTheActivationsRecomputedOnTheirTokens()
    {
        var data = TarotText.WriteFile();
        var outDir = Directory.CreateTempSubdirectory().FullName;
        var summaryPath = Path.Combine(outDir, "summary.json");
        var (code, output, error) = CliHarness.Run(Features(data, outDir, "--json", summaryPath));
        Assert.True(code == 0, error);
        Assert.Contains($"dashboards of 512 features over 195 tokens (13 contexts of 16) written to {Path.Combine(outDir, DashboardFile.FileName)}", output);
        Assert.Equal(["features.json", "summary.json"], Directory.GetFiles(outDir).Select(Path.GetFileName).Order());
        using var summary = JsonDocument.Parse(File.ReadAllText(summaryPath));
        Assert.Equal(195, summary.RootElement.GetProperty("tokens").GetInt64());

        // The contexts as the command packs them, each through the model and the SAE on its own.
        var model = ModelFolder.Load(CliDefaults.EmbeddedModel);
        var sae = SaeFiles.Load(CliDefaults.EmbeddedSae);
        var hook = model.Facts.ParseHook(sae.Config.HookName!);
        var packing = SaeDataSettings.FromConfig(sae.Config, data, 128, model.Facts.BosTokenId).Packing with { ContextLength = 16 };
        var contexts = new ContextPacker(packing).Pack(Documents.ReadTokens(data, "text", model.Tokenizer)).ToList();
        var activations = contexts.Select(c => sae.Encode(model.Transformer.ActivationAt(hook, c, 1))).ToList();
        int s = sae.DSae;

        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, DashboardFile.FileName)));
        var features = doc.RootElement.GetProperty("features").EnumerateArray().ToList();
        Assert.Equal(s, features.Count);
        int windows = 0;
        foreach (var feature in features)
        {
            int f = feature.GetProperty("feature_index").GetInt32();
            var fired = activations.Sum(a => Enumerable.Range(1, 15).Count(t => a[t * s + f] != 0));
            Assert.Equal((double)fired / 195, feature.GetProperty("frac_nonzero").GetDouble(), 1.0 / 195);
            foreach (var window in feature.GetProperty("activations").EnumerateArray())
            {
                var context = contexts[window.GetProperty("context_index").GetInt32()];
                var features16 = activations[window.GetProperty("context_index").GetInt32()];
                int position = window.GetProperty("position").GetInt32(), peak = window.GetProperty("max_value_token_index").GetInt32(), start = position - peak;
                var ids = window.GetProperty("token_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
                var values = window.GetProperty("values").EnumerateArray().Select(e => e.GetSingle()).ToArray();
                Assert.Equal(context.AsSpan(start, ids.Length).ToArray(), ids);
                Assert.Equal(ids.Select(model.TokenText), window.GetProperty("tokens").EnumerateArray().Select(e => e.GetString()));
                for (int j = 0; j < values.Length; j++) Assert.Equal(features16[(start + j) * s + f], values[j], 1e-4);
                Assert.Equal(values[peak], window.GetProperty("max_value").GetSingle());
                windows++;
            }
        }
        Assert.True(windows > 512, $"only {windows} windows");
    }

    [Fact]
    public void ATranscodersFeaturesAreReadFromItsInputHook()
    {
        var data = TarotText.WriteFile();
        var outDir = Directory.CreateTempSubdirectory().FullName;
        string folder = Path.Combine(CliDefaults.EmbeddedTranscoders, "blocks.1.ln2.hook_normalized");
        var (code, _, error) = CliHarness.Run(Features(data, outDir, "--sae", folder));
        Assert.True(code == 0, error);

        var model = ModelFolder.Load(CliDefaults.EmbeddedModel);
        var transcoder = TranscoderFiles.Load(folder);
        var input = model.Facts.ParseHook(transcoder.InputHook);
        var packing = SaeDataSettings.FromConfig(transcoder.Dictionary.Config, data, 128, model.Facts.BosTokenId).Packing with { ContextLength = 16 };
        var contexts = new ContextPacker(packing).Pack(Documents.ReadTokens(data, "text", model.Tokenizer)).ToList();
        int s = transcoder.DSae, windows = 0;
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, DashboardFile.FileName)));
        foreach (var feature in doc.RootElement.GetProperty("features").EnumerateArray().Take(64))
        {
            int f = feature.GetProperty("feature_index").GetInt32();
            foreach (var window in feature.GetProperty("activations").EnumerateArray())
            {
                var encoded = transcoder.Encode(model.Transformer.ActivationAt(input, contexts[window.GetProperty("context_index").GetInt32()], 1));
                Assert.Equal(encoded[window.GetProperty("position").GetInt32() * s + f], window.GetProperty("max_value").GetSingle(), 1e-4);
                windows++;
            }
        }
        Assert.True(windows > 64, $"only {windows} windows");
    }

    public static TheoryData<string, string[]> BadInputs => new()
    {
        { "--data /nonexistent/tarot.txt: file not found", ["--data", "/nonexistent/tarot.txt"] },
        { "--top must be positive, got 0", ["--top", "0"] },
        { "--window must be >= 0, got -1", ["--window", "-1"] },
        { "--tokens must be positive, got 0", ["--tokens", "0"] },
        { "the SAE's d_in is 64 but the model's width (n_embd) is 128", ["--sae", "RANDOM64"] },
        { "--context 100 is longer than the model's context of 64", ["--context", "100"] },
        { "inside the tool's embedded models", ["--out", CliDefaults.EmbeddedSae] },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInputIsAOneLineErrorAndWritesNothing(string expected, string[] change)
    {
        var outDir = Path.Combine(Directory.CreateTempSubdirectory().FullName, "dashboards");
        var args = Features(TarotText.WriteFile(), outDir).ToList();
        for (int i = 0; i < change.Length; i += 2)
        {
            var value = change[i + 1] == "RANDOM64" ? CliHarness.RandomSae(dIn: 64) : change[i + 1];
            int at = args.IndexOf(change[i]);
            if (at >= 0) args[at + 1] = value; else args.AddRange([change[i], value]);
        }
        BadInputTests.AssertUserError([.. args], expected);
        Assert.False(File.Exists(Path.Combine(outDir, DashboardFile.FileName)));
    }

    [Theory]
    [InlineData("{\"features\": [", "features.json is not a valid feature dashboard file")]
    [InlineData("{\"features\": []}", "features.json describes 0 features but the SAE has 512")]
    [InlineData("PEAK 3 OF 1 TOKEN", "features.json is not a valid feature dashboard file (max_value_token_index 3 is outside its 1 tokens)")]
    public void AttributeRefusesABrokenDashboardFileInOneLine(string content, string expected)
    {
        var saeDir = Directory.CreateTempSubdirectory().FullName;
        foreach (var file in new[] { SaeFiles.ConfigFile, SaeFiles.WeightsFile })
            File.Copy(Path.Combine(CliDefaults.EmbeddedSae, file), Path.Combine(saeDir, file));
        if (content == "PEAK 3 OF 1 TOKEN")
            content = "{\"features\": [" + string.Join(",", Enumerable.Repeat("{\"activations\": [{\"tokens\": [\"a\"], \"max_value_token_index\": 3, \"max_value\": 1}]}", 512)) + "]}";
        File.WriteAllText(Path.Combine(saeDir, DashboardFile.FileName), content);
        BadInputTests.AssertUserError(["attribute", "--sae", saeDir, "--prompt", "The Tower", "--methods", "gradient"], expected);
    }

    /// <summary>attribute's table shows a feature's best context, its peak marked, once the SAE's folder has dashboards.</summary>
    [Fact]
    public void AttributeShowsTheBestContextWhenTheSaeFolderHasDashboards()
    {
        var saeDir = Directory.CreateTempSubdirectory().FullName;
        foreach (var file in new[] { SaeFiles.ConfigFile, SaeFiles.WeightsFile })
            File.Copy(Path.Combine(CliDefaults.EmbeddedSae, file), Path.Combine(saeDir, file));
        string[] attribute = ["attribute", "--sae", saeDir, "--prompt", "The Tower", "--methods", "gradient"];
        var (code, before, error) = CliHarness.Run(attribute);
        Assert.True(code == 0, error);
        Assert.DoesNotContain("best context", before);

        (code, _, error) = CliHarness.Run(Features(TarotText.WriteFile(), saeDir, "--sae", saeDir));
        Assert.True(code == 0, error);
        var (_, after, _) = CliHarness.Run(attribute);
        Assert.Contains("best context", after);
        Assert.Contains("«", after);
    }
}
