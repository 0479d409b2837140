using RelpSae.Hub;
using RelpSae.Model;

namespace RelpSae.Tests.Hub;

/// <summary>
/// Offline resolution from a cache built by hand exactly as huggingface_hub lays it out (blobs named by ETag,
/// relative snapshot symlinks, refs/main): the snapshot is used where it is, with no copy and no request.
/// </summary>
public class HubCacheTests : IDisposable
{
    private readonly string cache = Directory.CreateTempSubdirectory().FullName;
    private static readonly string EmbeddedModel = Path.Combine(AppContext.BaseDirectory, "models", "default", "model");
    private const string Commit = "0123456789abcdef0123456789abcdef01234567";

    /// <summary>What hf_hub_download leaves behind for these files of <paramref name="repo"/> at <see cref="Commit"/>.</summary>
    private string BuildAsHuggingFaceHub(string repo, params string[] files)
    {
        var folder = Path.Combine(cache, "models--" + repo.Replace("/", "--"));
        Directory.CreateDirectory(Path.Combine(folder, "blobs"));
        Directory.CreateDirectory(Path.Combine(folder, "refs"));
        var snapshot = Path.Combine(folder, "snapshots", Commit);
        Directory.CreateDirectory(snapshot);
        foreach (var name in files)
        {
            var bytes = File.ReadAllBytes(Path.Combine(EmbeddedModel, name));
            File.WriteAllBytes(Path.Combine(folder, "blobs", FakeHub.Etag(bytes)), bytes);
            File.CreateSymbolicLink(Path.Combine(snapshot, name), $"../../blobs/{FakeHub.Etag(bytes)}");
        }
        File.WriteAllText(Path.Combine(folder, "refs", "main"), Commit);
        return snapshot;
    }

    private HubResolver Offline() => new(new HubSettings(cache, "http://127.0.0.1:9", Offline: true));

    private string[] Listing() => Directory.GetFileSystemEntries(cache, "*", SearchOption.AllDirectories).Order().ToArray();

    [Fact]
    public void OfflineResolutionUsesTheSnapshotAsItIs()
    {
        var snapshot = BuildAsHuggingFaceHub("org/tarot", "config.json", "model.safetensors", "tokenizer.json");
        var before = Listing();

        var folder = Offline().ResolveModel(ModelReference.TryParse("org/tarot")!);

        Assert.Equal(snapshot, folder);
        Assert.Equal(before, Listing());
        var (model, embedded) = (ModelFolder.Load(folder), ModelFolder.Load(EmbeddedModel));
        Assert.Equal(embedded.Encode("The Tower"), model.Encode("The Tower"));
        Assert.Equal(((Gpt2)embedded.Transformer).Weights.Embedding.OutIn(), ((Gpt2)model.Transformer).Weights.Embedding.OutIn());
    }

    [Fact]
    public void ACommitHashNeedsNoRef()
    {
        var snapshot = BuildAsHuggingFaceHub("org/tarot", "config.json", "model.safetensors", "tokenizer.json");
        File.Delete(Path.Combine(cache, "models--org--tarot", "refs", "main"));
        Assert.Equal(snapshot, Offline().ResolveModel(ModelReference.TryParse($"org/tarot@{Commit}")!));
    }

    [Theory]
    [InlineData("openai-community/gpt2")]
    [InlineData("gpt2")]
    public void BareGpt2FindsTheCacheOfEitherName(string cachedAs)
    {
        var snapshot = BuildAsHuggingFaceHub(cachedAs, "config.json", "model.safetensors", "tokenizer.json");
        Assert.Equal(snapshot, Offline().ResolveModel(ModelReference.TryParse("gpt2")!));
    }

    [Fact]
    public void ASnapshotWithoutWeightsIsNotEnough()
    {
        BuildAsHuggingFaceHub("org/tarot", "config.json", "tokenizer.json");
        var e = Assert.Throws<RelpSaeException>(() => Offline().ResolveModel(ModelReference.TryParse("org/tarot")!));
        Assert.Contains("HF_HUB_OFFLINE", e.Message);
    }

    [Fact]
    public void ARefThatHoldsAPathIsRefused()
    {
        // refs/main naming a complete model elsewhere must not make the run load it.
        var elsewhere = BuildAsHuggingFaceHub("other/model", "config.json", "model.safetensors", "tokenizer.json");
        BuildAsHuggingFaceHub("org/tarot", "config.json");
        var reference = Path.Combine(cache, "models--org--tarot", "refs", "main");
        File.WriteAllText(reference, elsewhere);
        var e = Assert.Throws<RelpSaeException>(() => Offline().ResolveModel(ModelReference.TryParse("org/tarot")!));
        Assert.Equal($"{reference}: holds \"{elsewhere}\", not a commit hash (40 lowercase hex digits)", e.Message);
    }

    [Fact]
    public void ARefThatIsNoRegularFileIsRefused()
    {
        BuildAsHuggingFaceHub("org/tarot", "config.json");
        var reference = Path.Combine(cache, "models--org--tarot", "refs", "main");
        File.Delete(reference);
        File.CreateSymbolicLink(reference, "/dev/zero");
        var e = Assert.Throws<RelpSaeException>(() => Offline().ResolveModel(ModelReference.TryParse("org/tarot")!));
        Assert.Equal($"{reference}: empty, or not a regular file", e.Message);
    }

    [Fact]
    public void NoCachePathLeavesTheCache()
    {
        // What the parsers and the client let through is checked again where paths are made.
        var hub = new HubCache(Path.Combine(cache, "hub"));
        var outside = Path.Combine(cache, "outside");
        Assert.Equal($"{hub.Root}/models--org--tarot/refs/../../../outside: outside the Hugging Face cache at {hub.Root}; refused",
            Assert.Throws<RelpSaeException>(() => hub.WriteRef("org/tarot", "../../../outside", Commit)).Message);
        Assert.Throws<RelpSaeException>(() => hub.LinkIntoSnapshot("org/tarot", outside, "config.json", Commit));
        Assert.Throws<RelpSaeException>(() => hub.LinkIntoSnapshot("org/tarot", Commit, "../../../../outside", Commit));
        Assert.Throws<RelpSaeException>(() => hub.BlobPath("org/tarot", "/etc/passwd"));
        Assert.False(Path.Exists(outside));
        Assert.Equal(Path.Combine(hub.Root, "models--org--tarot", "snapshots", Commit, "config.json"),
            hub.LinkIntoSnapshot("org/tarot", Commit, "config.json", Commit));
    }

    /// <summary>A shard index is read bounded and parsed as JSON: a link to /dev/zero or text that is not JSON is one line naming it.</summary>
    [Fact]
    public void AShardIndexThatIsNoJsonFileIsRefused()
    {
        var index = Path.Combine(cache, "model.safetensors.index.json");
        File.CreateSymbolicLink(index, "/dev/zero");
        Assert.Contains("not a regular file", Assert.Throws<RelpSaeException>(() => RepoFiles.Shards(index, "model.safetensors.index.json")).Message);
        File.Delete(index);
        File.WriteAllText(index, "{\"weight_map\": ");
        Assert.StartsWith($"{index}: not valid JSON", Assert.Throws<RelpSaeException>(() => RepoFiles.Shards(index, "model.safetensors.index.json")).Message);
    }

    public void Dispose() => Directory.Delete(cache, recursive: true);
}
