namespace RelpSae.Tests.Hub;

/// <summary>
/// A test against the stand-in Hub serving org/tarot: a fresh Hub, and a temporary folder whose hub/ is the
/// cache (so whatever lands beside it was written outside the cache), both gone after the test.
/// </summary>
public abstract class FakeHubTest : IDisposable
{
    private protected readonly FakeHub hub = FakeHub.WithTarot();
    protected readonly string root = Directory.CreateTempSubdirectory().FullName;
    protected string CacheDir => Path.Combine(root, "hub");
    protected string RepoFolder => Path.Combine(CacheDir, "models--org--tarot");
    protected static readonly string EmbeddedModel = Path.Combine(AppContext.BaseDirectory, "models", "default", "model");
    protected static readonly byte[] Weights = File.ReadAllBytes(Path.Combine(EmbeddedModel, "model.safetensors"));
    protected static readonly string WeightsBlob = FakeHub.Sha256(Weights);

    public void Dispose()
    {
        hub.Dispose();
        Directory.Delete(root, recursive: true);
        GC.SuppressFinalize(this);
    }
}
