using System.Diagnostics;
using System.Text.RegularExpressions;

namespace RelpSae.Tests.Hub;

/// <summary>
/// The issue's acceptance check, as a user runs it: relp-sae (a separate process, so the Hub settings are its
/// environment, not this one's) attributes with the model and SAE named on the Hub, downloads and caches them,
/// prints the embedded default's table, and does it again with the server gone.
/// </summary>
public partial class HubCliTests
{
    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "relp-sae.dll");

    private static (int Code, string Out, string Error) Run(IReadOnlyDictionary<string, string>? env, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Cli);
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var name in new[] { "HF_ENDPOINT", "HF_HUB_CACHE", "HF_HOME", "HF_TOKEN", "HF_HUB_OFFLINE", "HF_HUB_ETAG_TIMEOUT", "HF_HUB_DOWNLOAD_TIMEOUT" }) info.Environment.Remove(name);
        foreach (var (name, value) in env ?? new Dictionary<string, string>()) info.Environment[name] = value;
        using var p = Process.Start(info)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, output.Result, error.Result);
    }

    [GeneratedRegex(@"^ *(.*?)\(\d+(\.\d+)? ms(.*?) *$", RegexOptions.Multiline)]
    private static partial Regex Timing();

    /// <summary>The printed report without the methods' timings (and the centring of their titles), which differ from run to run.</summary>
    private static string Report(string output) => Timing().Replace(output, "$1(… ms$3");

    [Fact]
    public void AGemmaScopeFileByItsHubPathRunsOnGemma2()
    {
        // Gemma Scope publishes params.npz files in layer_N folders: one such file, named by its path in the repository.
        var npz = Formats.FamilyLoaderTests.Npz(1, ("W_enc", Formats.FamilyLoaderTests.Npy("32, 8", 256)), ("W_dec", Formats.FamilyLoaderTests.Npy("8, 32", 256)),
            ("b_enc", Formats.FamilyLoaderTests.Npy("8,", 8)), ("b_dec", Formats.FamilyLoaderTests.Npy("32,", 32)), ("threshold", Formats.FamilyLoaderTests.Npy("8,", 8)));
        var output = AttributeOnHub("google/gemma-scope-2b-pt-res", "layer_1/width_16k/average_l0_71/params.npz", npz,
            TestPaths.Data("tiny-gemma2"), "google/gemma-scope-2b-pt-res/layer_1/width_16k/average_l0_71/params.npz");
        Assert.Contains("SAE       blocks.1.hook_resid_post, 8 features", output);
        Assert.Contains("rules ln+identity+half", output);
    }

    [Fact]
    public void AGemmaScopeTranscoderByItsHubPathIsSplicedAtItsMlp()
    {
        // The transcoders repository holds the same params.npz files: fetched into its cache folder, one reads as a transcoder.
        var npz = Formats.FamilyLoaderTests.Npz(1, ("W_enc", Formats.FamilyLoaderTests.Npy("32, 8", 256)), ("W_dec", Formats.FamilyLoaderTests.Npy("8, 32", 256)),
            ("b_enc", Formats.FamilyLoaderTests.Npy("8,", 8)), ("b_dec", Formats.FamilyLoaderTests.Npy("32,", 32)), ("threshold", Formats.FamilyLoaderTests.Npy("8,", 8)));
        var output = AttributeOnHub("google/gemma-scope-2b-pt-transcoders", "layer_1/width_16k/average_l0_65/params.npz", npz,
            TestPaths.Data("tiny-gemma2"), "google/gemma-scope-2b-pt-transcoders/layer_1/width_16k/average_l0_65/params.npz");
        Assert.Contains("SAE       blocks.1.ln2.hook_normalized → blocks.1.hook_mlp_out (transcoder), 8 features", output);
    }

    [Fact]
    public void ACircuitTracerTranscoderByItsHubPathComesWithItsSetsConfig()
    {
        var layer = RelpSae.Tests.Cli.TranscoderCommandTests.CircuitTracerLayer(64, 1, "hook_resid_mid", "mlp.hook_out", skip: true);
        using var hub = new FakeHub();
        hub.Add("mntss/tiny-transcoders", new()
        {
            ["layer_1.safetensors"] = File.ReadAllBytes(layer),
            ["config.yaml"] = File.ReadAllBytes(Path.Combine(Path.GetDirectoryName(layer)!, "config.yaml")),
            ["layer_2.safetensors"] = [1, 2, 3],
        });
        var env = new Dictionary<string, string> { ["HF_ENDPOINT"] = hub.Endpoint, ["HF_HUB_CACHE"] = Directory.CreateTempSubdirectory().FullName };
        var (code, output, error) = Run(env, "attribute", "--model", TestPaths.Data("stories260K-llama"), "--sae", "mntss/tiny-transcoders/layer_1.safetensors",
            "--prompt-ids", "2,22,31,29,8", "--methods", "gradient");
        Assert.True(code == 0, error);
        Assert.Contains("SAE       blocks.1.hook_resid_mid → blocks.1.mlp.hook_out (transcoder), 192 features", output);
        Assert.Equal(0, hub.Requests("GET", "layer_2.safetensors"));
    }

    [Fact]
    public void AGemmaScope2SaeByItsReleaseNameRunsOnGemma3()
    {
        // Gemma Scope 2's every-layer residual release, layer 1's SAE, fetched by its SAELens name onto a Gemma 3 model.
        var file = Sae.ScopeSaeFixtures.GemmaScope2(Path.Combine(Directory.CreateTempSubdirectory().FullName, "params.safetensors"), 32, 64);
        var output = AttributeOnHub("google/gemma-scope-2-270m-pt", "resid_post_all/layer_1_width_16k_l0_small/params.safetensors", file,
            TestPaths.Data("tiny-gemma3"), "gemma-scope-2-270m-pt-res-all/layer_1_width_16k_l0_small");
        Assert.Contains("SAE       blocks.1.hook_resid_post, 64 features", output);
    }

    /// <summary>What attribute prints for the model and the SAE named <paramref name="sae"/>, with a stand-in Hub serving one file (<paramref name="source"/> as <paramref name="path"/>) and an empty cache.</summary>
    private static string AttributeOnHub(string repo, string path, string source, string model, string sae)
    {
        using var hub = new FakeHub();
        hub.Add(repo, new() { [path] = File.ReadAllBytes(source) });
        var env = new Dictionary<string, string> { ["HF_ENDPOINT"] = hub.Endpoint, ["HF_HUB_CACHE"] = Directory.CreateTempSubdirectory().FullName };
        var (code, output, error) = Run(env, "attribute", "--model", model, "--sae", sae, "--prompt-ids", "2,22,31,29,8", "--methods", "gradient,relp");
        Assert.True(code == 0, error);
        return output;
    }

    [Fact]
    public void AttributeByHubNamesDownloadsCachesAndThenRunsWithTheServerStopped()
    {
        var cache = Directory.CreateTempSubdirectory().FullName;
        string[] attribute = ["attribute", "--model", "org/tarot", "--sae", "org/tarot-saes/blocks.2.hook_resid_post", "--prompt", "The Tower"];
        var embedded = Run(null, "attribute", "--prompt", "The Tower");
        Assert.True(embedded.Code == 0, embedded.Error);

        Dictionary<string, string> env;
        using (var hub = FakeHub.WithTarot())
        {
            env = new() { ["HF_ENDPOINT"] = hub.Endpoint, ["HF_HUB_CACHE"] = cache };
            var first = Run(env, attribute);
            Assert.True(first.Code == 0, first.Error);
            Assert.Equal(Report(embedded.Out), Report(first.Out));
            Assert.Contains("downloading model.safetensors", first.Error);
            Assert.Equal(["models--org--tarot", "models--org--tarot-saes"], Directory.GetDirectories(cache).Select(Path.GetFileName).Order());
        }

        var second = Run(env, attribute);
        Assert.True(second.Code == 0, second.Error);
        Assert.Equal(Report(embedded.Out), Report(second.Out));
        Assert.Equal("", second.Error);

        // download asks the Hub for the current commit, so with the server gone it says so, in one line.
        var refresh = Run(env, "download", "org/tarot");
        Assert.Equal(2, refresh.Code);
        Assert.Matches(@"^error: cannot reach http://127\.0\.0\.1:\d+ \(.*\); set HF_HUB_OFFLINE=1 to use only the local cache\n$", refresh.Error);
        Directory.Delete(cache, recursive: true);
    }

    [Fact]
    public void ANameNeitherCachedNorReachableSaysWhereToGetIt()
    {
        var cache = Directory.CreateTempSubdirectory().FullName;
        var stopped = new FakeHub();
        var endpoint = stopped.Endpoint;
        stopped.Dispose();
        var r = Run(new Dictionary<string, string> { ["HF_ENDPOINT"] = endpoint, ["HF_HUB_CACHE"] = cache }, "attribute", "--model", "org/tarot", "--prompt", "The Tower");
        Assert.Equal(2, r.Code);
        Assert.Matches(@"^error: --model org/tarot: not a folder, so read as a Hub name: cannot reach http://127\.0\.0\.1:\d+ \(.*\), and org/tarot is not in the Hugging Face cache at .*: download it where there is a network and copy the cache here, or give a local folder \(relp-sae download org/tarot\)\n$", r.Error);
        Directory.Delete(cache, recursive: true);
    }

    [Fact]
    public void DownloadRefusesACommitHeaderThatIsAPath()
    {
        var cache = Directory.CreateTempSubdirectory().FullName;
        var victim = Directory.CreateTempSubdirectory().FullName;
        File.WriteAllText(Path.Combine(victim, "config.json"), "{}");
        using var hub = FakeHub.WithTarot();
        hub.CommitHeader = victim;
        var env = new Dictionary<string, string> { ["HF_ENDPOINT"] = hub.Endpoint, ["HF_HUB_CACHE"] = cache };
        var (code, _, error) = Run(env, "download", "org/tarot");
        Assert.Equal(2, code);
        Assert.Equal($"error: org/tarot@main: config.json: the X-Repo-Commit header \"{victim}\" is not a commit hash (40 lowercase hex digits)\n", error);
        Assert.Equal("{}", File.ReadAllText(Path.Combine(victim, "config.json")));
        Assert.Single(Directory.GetFileSystemEntries(victim));
        Directory.Delete(cache, recursive: true);
        Directory.Delete(victim, recursive: true);
    }

    [Fact]
    public void DownloadRefusesARevisionThatIsAPath()
    {
        var cache = Directory.CreateTempSubdirectory().FullName;
        var victim = Path.Combine(Directory.CreateTempSubdirectory().FullName, "x");
        File.WriteAllText(victim, "mine");
        using var hub = FakeHub.WithTarot();
        var env = new Dictionary<string, string> { ["HF_ENDPOINT"] = hub.Endpoint, ["HF_HUB_CACHE"] = cache };
        var (code, _, error) = Run(env, "download", $"org/tarot@{victim}");
        Assert.Equal(2, code);
        Assert.Equal($"error: org/tarot@{victim}: revision \"{victim}\" is not a branch, tag or commit name\n", error);
        Assert.Equal("mine", File.ReadAllText(victim));
        Assert.Empty(hub.Log);
        Directory.Delete(cache, recursive: true);
        Directory.Delete(Path.GetDirectoryName(victim)!, recursive: true);
    }

    [Fact]
    public void DownloadPrintsTheSnapshotFolders()
    {
        var cache = Directory.CreateTempSubdirectory().FullName;
        using var hub = FakeHub.WithTarot();
        var env = new Dictionary<string, string> { ["HF_ENDPOINT"] = hub.Endpoint, ["HF_HUB_CACHE"] = cache };
        var (code, output, error) = Run(env, "download", "org/tarot", "org/tarot-saes/blocks.2.hook_resid_post");
        Assert.True(code == 0, error);
        Assert.Equal(
            $"org/tarot  {cache}/models--org--tarot/snapshots/{FakeHub.Commit("org/tarot")}\n" +
            $"org/tarot-saes/blocks.2.hook_resid_post  {cache}/models--org--tarot-saes/snapshots/{FakeHub.Commit("org/tarot-saes")}/blocks.2.hook_resid_post\n",
            output);
        Directory.Delete(cache, recursive: true);
    }
}
