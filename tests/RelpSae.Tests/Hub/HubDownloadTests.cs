using RelpSae.Hub;
using RelpSae.Model;

namespace RelpSae.Tests.Hub;

/// <summary>Downloads from a local stand-in for the Hub into a temporary cache: cold, cut and resumed, corrupted, refused.</summary>
public class HubDownloadTests : FakeHubTest
{
    private HubResolver Resolver(bool offline = false, string? endpoint = null) =>
        new(new HubSettings(CacheDir, endpoint ?? hub.Endpoint, Offline: offline));

    [Fact]
    public void ColdDownloadLaysTheCacheOutAsHuggingFaceHubDoes()
    {
        var folder = Resolver().ResolveModel(new ModelReference("org/tarot"));

        var commit = FakeHub.Commit("org/tarot");
        Assert.Equal(Path.Combine(RepoFolder, "snapshots", commit), folder);
        Assert.Equal(commit, File.ReadAllText(Path.Combine(RepoFolder, "refs", "main")));
        var config = File.ReadAllBytes(Path.Combine(EmbeddedModel, "config.json"));
        Assert.Equal(Path.Combine("..", "..", "blobs", FakeHub.GitBlobSha1(config)), new FileInfo(Path.Combine(folder, "config.json")).LinkTarget);
        Assert.Equal(Path.Combine("..", "..", "blobs", WeightsBlob), new FileInfo(Path.Combine(folder, "model.safetensors")).LinkTarget);
        Assert.Equal(Weights, File.ReadAllBytes(Path.Combine(RepoFolder, "blobs", WeightsBlob)));
        Assert.Empty(Directory.GetFiles(RepoFolder, "*.incomplete", SearchOption.AllDirectories));
        // Only what the tool reads: no LICENSE, no PROVENANCE.md; the weights once (safetensors, not also a .bin).
        Assert.Equal(["config.json", "model.safetensors", "tokenizer.json"], Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).Order());
        Assert.Equal(0, hub.Requests("HEAD", "LICENSE") + hub.Requests("HEAD", "pytorch_model.bin"));
        // Nothing outside the cache folder.
        Assert.Equal([CacheDir], Directory.GetFileSystemEntries(root));

        var fromCache = ModelFolder.Load(folder);
        var embedded = ModelFolder.Load(EmbeddedModel);
        var ids = embedded.Encode("The Tower");
        using var expected = embedded.Transformer.Forward(ids, batch: 1);
        using var actual = fromCache.Transformer.Forward(ids, batch: 1);
        Assert.Equal(expected.Logits, actual.Logits);
    }

    [Fact]
    public void ConnectionCutHalfwayIsResumedWithARangeRequest()
    {
        hub.CutOnce["model.safetensors"] = true;
        var folder = Resolver().ResolveModel(new ModelReference("org/tarot"));

        Assert.Equal(Weights, File.ReadAllBytes(Path.Combine(folder, "model.safetensors")));
        var gets = hub.Log.Where(l => l.StartsWith($"GET /cdn/{WeightsBlob}")).ToList();
        Assert.Equal(2, gets.Count);
        Assert.Equal($"GET /cdn/{WeightsBlob} bytes={Weights.Length / 2}-", gets[1]);
    }

    [Fact]
    public void PartialFileOfAKilledRunIsResumed()
    {
        var partial = Path.Combine(RepoFolder, "blobs", WeightsBlob + ".incomplete");
        Directory.CreateDirectory(Path.GetDirectoryName(partial)!);
        File.WriteAllBytes(partial, Weights[..1000]);

        var folder = Resolver().ResolveModel(new ModelReference("org/tarot"));

        Assert.Equal(Weights, File.ReadAllBytes(Path.Combine(folder, "model.safetensors")));
        Assert.Equal([$"GET /cdn/{WeightsBlob} bytes=1000-"], hub.Log.Where(l => l.StartsWith("GET /cdn/")));
        Assert.False(File.Exists(partial));
    }

    [Fact]
    public void CorruptedDownloadIsRefusedByItsHash()
    {
        hub.Corrupt.Add("model.safetensors");
        var e = Assert.Throws<RelpSaeException>(() => Resolver().ResolveModel(new ModelReference("org/tarot")));
        Assert.Contains($"model.safetensors: the download hashes to ", e.Message);
        Assert.Contains($"but the Hub reported {WeightsBlob}", e.Message);
        Assert.Empty(Directory.GetFiles(Path.Combine(RepoFolder, "blobs"), WeightsBlob + "*"));
        Assert.False(Path.Exists(Path.Combine(RepoFolder, "snapshots", FakeHub.Commit("org/tarot"), "model.safetensors")));
    }

    [Fact]
    public void CorruptedSmallFileIsRefusedByItsGitBlobHash()
    {
        hub.Corrupt.Add("config.json");
        var e = Assert.Throws<RelpSaeException>(() => Resolver().ResolveModel(new ModelReference("org/tarot")));
        Assert.Contains("config.json: the download hashes to ", e.Message);
    }

    [Fact]
    public void SaeFolderInsideARepositoryIsFetchedWithItsExtras()
    {
        var folder = Resolver().ResolveSae(SaeReference.TryParse("org/tarot-saes/blocks.2.hook_resid_post")!);
        var snapshot = Path.Combine(CacheDir, "models--org--tarot-saes", "snapshots", FakeHub.Commit("org/tarot-saes"));
        Assert.Equal(Path.Combine(snapshot, "blocks.2.hook_resid_post"), folder);
        foreach (var name in new[] { "cfg.json", "sae_weights.safetensors", "sparsity.safetensors", "feature_means.safetensors", "feature_summaries.json" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "models", "default", "sae", name)), File.ReadAllBytes(Path.Combine(folder, name)));
        Assert.False(File.Exists(Path.Combine(folder, "README.md")));
    }

    [Fact]
    public void AGemmaScopeFileInsideARepositoryIsFetchedAloneAndReadsItsLayersHook()
    {
        var npz = Formats.FamilyLoaderTests.Npz(5, ("W_enc", Formats.FamilyLoaderTests.Npy("4, 6", 24)), ("W_dec", Formats.FamilyLoaderTests.Npy("6, 4", 24)),
            ("b_enc", Formats.FamilyLoaderTests.Npy("6,", 6)), ("b_dec", Formats.FamilyLoaderTests.Npy("4,", 4)), ("threshold", Formats.FamilyLoaderTests.Npy("6,", 6)));
        const string path = "layer_5/width_16k/average_l0_68/params.npz";
        hub.Add("google/gemma-scope-2b-pt-res", new() { [path] = File.ReadAllBytes(npz), ["layer_5/width_16k/average_l0_9/params.npz"] = [1, 2, 3] });
        var file = Resolver().ResolveSae(SaeReference.TryParse("google/gemma-scope-2b-pt-res/" + path)!);
        Assert.Equal(Path.Combine(CacheDir, "models--google--gemma-scope-2b-pt-res", "snapshots", FakeHub.Commit("google/gemma-scope-2b-pt-res"), path), file);
        Assert.Equal(File.ReadAllBytes(npz), File.ReadAllBytes(file));
        Assert.Equal(0, hub.Requests("HEAD", "layer_5/width_16k/average_l0_9/params.npz"));
        var sae = RelpSae.Sae.SaeFiles.Load(file);
        Assert.Equal(("blocks.5.hook_resid_post", 4, 6), (sae.Config.HookName, sae.Config.DIn, sae.Config.DSae));
        // The same file by its SAELens release name (layer_5's canonical 16k SAE is this one).
        Assert.Equal(file, Resolver().ResolveSae(SaeReference.TryParse("gemma-scope-2b-pt-res-canonical/layer_5/width_16k/canonical")!));
    }

    [Fact]
    public void ALlamaScopeSaeByNameFetchesItsHyperparamsAndFinalCheckpointOnly()
    {
        var source = RelpSae.Tests.Sae.ScopeSaeFixtures.LlamaScope(Path.Combine(root, "source"), 8, 12, "blocks.15.hook_resid_post");
        var files = new Dictionary<string, byte[]>
        {
            ["Llama3_1-8B-Base-L15R-8x/hyperparams.json"] = File.ReadAllBytes(Path.Combine(source, "hyperparams.json")),
            ["Llama3_1-8B-Base-L15R-8x/checkpoints/final.safetensors"] = File.ReadAllBytes(Path.Combine(source, "checkpoints", "final.safetensors")),
            ["Llama3_1-8B-Base-L15R-8x/checkpoints/step_1000.safetensors"] = [1, 2, 3],
            ["Llama3_1-8B-Base-L14R-8x/hyperparams.json"] = [1, 2, 3],
        };
        hub.Add("fnlp/Llama3_1-8B-Base-LXR-8x", files);
        var folder = Resolver().ResolveSae(SaeReference.TryParse("llama_scope_lxr_8x/l15r_8x")!);
        Assert.Equal(Path.Combine(CacheDir, "models--fnlp--Llama3_1-8B-Base-LXR-8x", "snapshots", FakeHub.Commit("fnlp/Llama3_1-8B-Base-LXR-8x"), "Llama3_1-8B-Base-L15R-8x"), folder);
        Assert.Equal(["checkpoints/final.safetensors", "hyperparams.json"],
            Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(folder, f).Replace('\\', '/')).Order());
        var sae = RelpSae.Sae.SaeFiles.Load(folder);
        Assert.Equal(("blocks.15.hook_resid_post", 8, 12), (sae.Config.HookName, sae.DIn, sae.DSae));
        Assert.Equal(RelpSae.Sae.SaeFiles.Load(source).WEnc, sae.WEnc);
        // Named again, it comes from the cache with no request.
        int requests = hub.Log.Count;
        Assert.Equal(folder, Resolver().ResolveSae(SaeReference.TryParse("llama_scope_lxr_8x/l15r_8x")!));
        Assert.Equal(requests, hub.Log.Count);
    }

    [Fact]
    public void AGemmaScope2SaeByNameFetchesItsParamsFileAlone()
    {
        var source = RelpSae.Tests.Sae.ScopeSaeFixtures.GemmaScope2(Path.Combine(root, "source", "params.safetensors"), 8, 12);
        const string path = "resid_post/layer_22_width_65k_l0_medium/params.safetensors";
        hub.Add("google/gemma-scope-2-1b-pt", new() { [path] = File.ReadAllBytes(source), ["resid_post/layer_22_width_65k_l0_medium/config.json"] = [1, 2, 3] });
        var file = Resolver().ResolveSae(SaeReference.TryParse("gemma-scope-2-1b-pt-res/layer_22_width_65k_l0_medium")!);
        Assert.Equal(Path.Combine(CacheDir, "models--google--gemma-scope-2-1b-pt", "snapshots", FakeHub.Commit("google/gemma-scope-2-1b-pt"), path), file);
        Assert.Equal(0, hub.Requests("HEAD", "config.json"));
        var sae = RelpSae.Sae.SaeFiles.Load(file);
        Assert.Equal(("blocks.22.hook_resid_post", 8, 12), (sae.Config.HookName, sae.DIn, sae.DSae));
        // The same file by its path in the repository.
        Assert.Equal(file, Resolver().ResolveSae(SaeReference.TryParse("google/gemma-scope-2-1b-pt/" + path)!));
    }

    [Theory]
    [InlineData("org/tarot-saes/blocks.9.hook_resid_post", "org/tarot-saes@main: has none of blocks.9.hook_resid_post/cfg.json, blocks.9.hook_resid_post/hyperparams.json")]
    [InlineData("org/unknown/blocks.2.hook_resid_post", "org/unknown: repository not found, or private (set HF_TOKEN if it is yours) (HTTP 401)")]
    public void MissingFileAndRepositoryAreOneLineErrors(string name, string expected) =>
        Assert.Equal(expected, Assert.Throws<RelpSaeException>(() => Resolver().ResolveSae(SaeReference.TryParse(name)!)).Message);

    private static Dictionary<string, byte[]> Sharded(string shard2) => new()
    {
        ["config.json"] = File.ReadAllBytes(Path.Combine(EmbeddedModel, "config.json")),
        ["model.safetensors.index.json"] = System.Text.Encoding.UTF8.GetBytes(
            $"{{\"metadata\": {{}}, \"weight_map\": {{\"wte.weight\": \"model-00001-of-00002.safetensors\", \"h.0.ln_1.weight\": \"{shard2}\", \"wpe.weight\": \"model-00001-of-00002.safetensors\"}}}}"),
        ["model-00001-of-00002.safetensors"] = Weights[..200_000],
        ["model-00002-of-00002.safetensors"] = Weights[200_000..],
        ["pytorch_model.bin"] = [1, 2, 3],
    };

    [Fact]
    public void ShardsAreFetchedByTheirIndex()
    {
        hub.Add("org/sharded", Sharded("model-00002-of-00002.safetensors"));
        var folder = Resolver().ResolveModel(new ModelReference("org/sharded"));
        Assert.Equal(["config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json"],
            Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).Order());
        Assert.Equal(Weights[200_000..], File.ReadAllBytes(Path.Combine(folder, "model-00002-of-00002.safetensors")));
    }

    [Fact]
    public void AShardNameThatClimbsOutOfTheSnapshotIsRefused()
    {
        hub.Add("org/sharded", Sharded("../../../evil.safetensors"));
        var e = Assert.Throws<RelpSaeException>(() => Resolver().ResolveModel(new ModelReference("org/sharded")));
        Assert.EndsWith("model.safetensors.index.json: h.0.ln_1.weight names no shard file beside the index", e.Message);
    }

    [Fact]
    public void PrivateRepositoryOpensWithItsToken()
    {
        hub.Private["org/tarot"] = "hf_secret";
        var refused = Assert.Throws<RelpSaeException>(() => Resolver().ResolveModel(new ModelReference("org/tarot")));
        Assert.Equal("org/tarot: repository not found, or private (set HF_TOKEN if it is yours) (HTTP 401)", refused.Message);
        var withToken = new HubResolver(new HubSettings(CacheDir, hub.Endpoint, Token: "hf_secret"));
        Assert.True(File.Exists(Path.Combine(withToken.ResolveModel(new ModelReference("org/tarot")), "model.safetensors")));
    }

    [Fact]
    public void RenamedRepositoryIsFollowedAndCachedUnderTheNameAsked()
    {
        // As huggingface_hub does: the metadata request follows the Hub's relative redirect, the cache keeps the name asked for.
        hub.Renamed["old/tarot"] = "org/tarot";
        var folder = Resolver().ResolveModel(new ModelReference("old/tarot"));
        Assert.Equal(Path.Combine(CacheDir, "models--old--tarot", "snapshots", FakeHub.Commit("org/tarot")), folder);
        Assert.Equal(Weights, File.ReadAllBytes(Path.Combine(folder, "model.safetensors")));
    }

    [Fact]
    public void GatedModelSaysHowToGetAccess()
    {
        hub.Gated.Add("org/tarot");
        var e = Assert.Throws<RelpSaeException>(() => Resolver().ResolveModel(new ModelReference("org/tarot")));
        Assert.StartsWith("org/tarot is a gated model: accept its conditions", e.Message);
        Assert.Contains("HF_TOKEN", e.Message);
    }

    [Fact]
    public void DiskFullIsAOneLineError()
    {
        // Linux's /dev/full fails every write with ENOSPC, as a full disk does.
        var partial = Path.Combine(RepoFolder, "blobs", WeightsBlob + ".incomplete");
        Directory.CreateDirectory(Path.GetDirectoryName(partial)!);
        File.CreateSymbolicLink(partial, "/dev/full");
        var e = Assert.Throws<RelpSaeException>(() => Resolver().ResolveModel(new ModelReference("org/tarot")));
        Assert.Equal($"disk full while writing {partial}: free space under {CacheDir} and run again " +
            "(the bytes already there are kept and the download resumes)", e.Message);
    }

    [Fact]
    public void NoNetworkIsAOneLineError()
    {
        using var stopped = new FakeHub();
        var endpoint = stopped.Endpoint;
        stopped.Dispose();
        var resolver = Resolver(endpoint: endpoint);
        var e = Assert.Throws<RelpSaeException>(() => resolver.ResolveModel(new ModelReference("org/tarot")));
        // Nothing cached: going offline would not help, so the error says where the files must come from.
        Assert.StartsWith($"cannot reach {endpoint} (", e.Message);
        Assert.EndsWith($"and org/tarot is not in the Hugging Face cache at {resolver.Cache.Root}: download it where there is a network and copy the cache here, or give a local folder", e.Message);
        Assert.DoesNotContain("HF_HUB_OFFLINE", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void OfflineWithoutTheFilesSaysSo()
    {
        var e = Assert.Throws<RelpSaeException>(() => Resolver(offline: true).ResolveModel(new ModelReference("org/tarot")));
        Assert.Equal($"org/tarot: not in the Hugging Face cache at {CacheDir} (or incomplete), and HF_HUB_OFFLINE forbids downloading it", e.Message);
        Assert.Empty(hub.Log);
    }

    [Fact]
    public void ASecondResolutionUsesTheCacheWithoutTheNetwork()
    {
        var first = Resolver().ResolveModel(new ModelReference("org/tarot"));
        int requests = hub.Log.Count;
        Assert.Equal(first, Resolver().ResolveModel(new ModelReference("org/tarot")));
        Assert.Equal(requests, hub.Log.Count);
        // download refreshes: it asks the Hub again, and finds every blob already there.
        Assert.Equal(first, Resolver().ResolveModel(new ModelReference("org/tarot"), refresh: true));
        Assert.Equal(0, hub.Log.Skip(requests).Count(l => l.StartsWith("GET")));
    }
}
