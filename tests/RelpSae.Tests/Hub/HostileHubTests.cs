using System.Text.RegularExpressions;
using RelpSae.Hub;

namespace RelpSae.Tests.Hub;

/// <summary>
/// A Hub that lies: headers that are paths rather than hashes, bodies that run past their size or stall,
/// redirects to other schemes, a 416 answer. Each is one line naming the file or header, in bounded time,
/// with nothing written outside the cache.
/// </summary>
public class HostileHubTests : FakeHubTest
{
    private string Resolve(params (string Name, string Value)[] env) => ResolveWithin(20, env);

    /// <summary>Resolves org/tarot with the given environment on top of the stand-in Hub's, failing the test if it takes longer.</summary>
    private string ResolveWithin(double seconds, params (string Name, string Value)[] env)
    {
        var vars = env.ToDictionary(v => v.Name, v => v.Value);
        vars["HF_HUB_CACHE"] = CacheDir;
        vars["HF_ENDPOINT"] = hub.Endpoint;
        var settings = HubSettings.FromEnvironment(vars.GetValueOrDefault);
        var run = Task.Run(() => new HubResolver(settings).ResolveModel(new ModelReference("org/tarot")));
        Assert.True(run.Wait(TimeSpan.FromSeconds(seconds)), $"the download did not end within {seconds} s");
        return run.Result;
    }

    private RelpSaeException Refused(params (string Name, string Value)[] env) => RefusedWithin(20, env);

    private RelpSaeException RefusedWithin(double seconds, params (string Name, string Value)[] env)
    {
        var e = Assert.Throws<AggregateException>(() => ResolveWithin(seconds, env)).InnerException;
        var refusal = Assert.IsType<RelpSaeException>(e);
        Assert.DoesNotContain('\n', refusal.Message);
        return refusal;
    }

    [Theory]
    [InlineData("victim")]
    [InlineData("../../../escaped")]
    [InlineData("0123456789ABCDEF0123456789ABCDEF01234567")]
    public void ACommitHeaderThatIsNoHashIsRefused(string commit)
    {
        // The attack: a folder of the user's, named by an absolute path, whose config.json the link would replace.
        var victim = Path.Combine(root, "victim");
        Directory.CreateDirectory(victim);
        File.WriteAllText(Path.Combine(victim, "config.json"), "{}");
        hub.CommitHeader = commit == "victim" ? victim : commit;

        var e = Refused();

        Assert.Equal($"org/tarot@main: config.json: the X-Repo-Commit header \"{hub.CommitHeader}\" is not a commit hash (40 lowercase hex digits)", e.Message);
        Assert.Equal(["config.json"], Directory.GetFileSystemEntries(victim).Select(Path.GetFileName));
        Assert.Equal("{}", File.ReadAllText(Path.Combine(victim, "config.json")));
        Assert.Equal([victim], Directory.GetFileSystemEntries(root).Where(entry => entry != CacheDir));
        Assert.False(Path.Exists(Path.Combine(RepoFolder, "refs", "main")));
    }

    [Fact]
    public void AnEtagThatIsNoHashIsRefused()
    {
        // Given "abc" for every file, three files were linked to one blob, unchecked.
        hub.EtagHeader = "\"abc\"";
        var e = Refused();
        Assert.Equal("org/tarot@main: config.json: the ETag \"abc\" is neither a git sha1 (40 hex digits) nor a sha256 (64 hex digits)", e.Message);
        Assert.False(Path.Exists(Path.Combine(RepoFolder, "blobs", "abc")));
    }

    [Fact]
    public void ABodyLongerThanItsAnnouncedSizeIsStoppedAndRefused()
    {
        hub.Overrun.Add("model.safetensors");
        var e = Refused();
        Assert.Equal($"org/tarot: model.safetensors: the server sent more than the {Weights.Length:N0} bytes it announced; the download was discarded", e.Message);
        Assert.Empty(Directory.GetFiles(Path.Combine(RepoFolder, "blobs"), WeightsBlob + "*"));
    }

    [Fact]
    public void ABodyOfNoAnnouncedSizeIsStoppedAtTheCap()
    {
        hub.Unannounced.Add("config.json");
        hub.Overrun.Add("config.json");
        var e = Refused();
        Assert.Equal($"org/tarot: config.json: the server announced no size and sent more than {64L << 20:N0} bytes; the download was discarded", e.Message);
        Assert.Empty(Directory.GetFiles(Path.Combine(RepoFolder, "blobs")));
    }

    [Fact]
    public void AFileOfNoAnnouncedSizeIsStillFetchedAndChecked()
    {
        hub.Unannounced.Add("config.json");
        hub.Unannounced.Add("model.safetensors");
        var folder = Resolve();
        Assert.Equal(Weights, File.ReadAllBytes(Path.Combine(folder, "model.safetensors")));
    }

    [Fact]
    public void ABodyThatStallsIsAOneLineErrorAfterTheDownloadTimeout()
    {
        hub.StallBody.Add("model.safetensors");
        var e = RefusedWithin(8, ("HF_HUB_DOWNLOAD_TIMEOUT", "1"));
        // The server sends half the bytes; on a loaded machine a second without a byte can come before all of them have.
        var said = Regex.Match(e.Message, $@"^org/tarot: model\.safetensors: the server sent nothing for 1 s \(HF_HUB_DOWNLOAD_TIMEOUT\) after (\d+) of {Weights.Length} bytes; run again to resume$");
        Assert.True(said.Success, e.Message);
        long came = long.Parse(said.Groups[1].Value);
        Assert.InRange(came, 1, Weights.Length / 2);
        // The bytes that came are kept for the next run.
        Assert.Equal(came, new FileInfo(Path.Combine(RepoFolder, "blobs", WeightsBlob + ".incomplete")).Length);
    }

    [Fact]
    public void AHeadThatIsNeverAnsweredIsAOneLineErrorAfterTheEtagTimeout()
    {
        hub.StallHead.Add("config.json");
        var e = RefusedWithin(8, ("HF_HUB_ETAG_TIMEOUT", "1"));
        Assert.Equal("org/tarot@main: config.json: the Hub sent no answer within 1 s (HF_HUB_ETAG_TIMEOUT)", e.Message);
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("ftp://127.0.0.1/config.json")]
    public void ARedirectToAnotherSchemeIsRefused(string location)
    {
        hub.RedirectGet["config.json"] = location;
        var e = Refused();
        Assert.Equal($"org/tarot@main: config.json: the server redirected to {location}; only http and https are followed", e.Message);
    }

    [Fact]
    public void A416ToTheWholeFileIsTheServersError()
    {
        hub.RangeNotSatisfiable.Add("config.json");
        var e = Refused();
        Assert.Equal("org/tarot@main: config.json: the Hub answered HTTP 416 Requested Range Not Satisfiable", e.Message);
    }

    [Fact]
    public void APartialFileLargerThanTheAnnouncedSizeIsDownloadedAgain()
    {
        var partial = Path.Combine(RepoFolder, "blobs", WeightsBlob + ".incomplete");
        Directory.CreateDirectory(Path.GetDirectoryName(partial)!);
        File.WriteAllBytes(partial, [.. Weights, 1, 2, 3]);
        var folder = Resolve();
        Assert.Equal(Weights, File.ReadAllBytes(Path.Combine(folder, "model.safetensors")));
        Assert.Contains($"GET /cdn/{WeightsBlob}", hub.Log);
    }

    [Theory]
    [InlineData("HF_HUB_DOWNLOAD_TIMEOUT", "ten")]
    [InlineData("HF_HUB_ETAG_TIMEOUT", "0")]
    [InlineData("HF_HUB_ETAG_TIMEOUT", "-1")]
    public void ATimeoutThatIsNoPositiveNumberIsRefused(string name, string value)
    {
        var e = Assert.Throws<RelpSaeException>(() => HubSettings.FromEnvironment(n => n == name ? value : null));
        Assert.Equal($"{name}=\"{value}\" is not a positive number of seconds (at most 1000000)", e.Message);
    }
}
