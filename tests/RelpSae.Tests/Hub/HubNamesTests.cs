using RelpSae.Hub;

namespace RelpSae.Tests.Hub;

/// <summary>How names on the command line read: models, SAELens releases, repository folders, and what stays a path.</summary>
public class HubNamesTests
{
    [Theory]
    [InlineData("gpt2", "gpt2", "main", "openai-community/gpt2")]
    [InlineData("openai-community/gpt2", "openai-community/gpt2", "main", "openai-community/gpt2")]
    [InlineData("org/name@v1.0", "org/name", "v1.0", "org/name")]
    [InlineData("distilgpt2", "distilgpt2", "main", "distilbert/distilgpt2")]
    public void ModelNames(string text, string repo, string revision, string canonical)
    {
        var reference = ModelReference.TryParse(text)!;
        Assert.Equal((repo, revision, canonical), (reference.RepoId, reference.Revision, reference.CanonicalRepoId));
    }

    [Theory]
    [InlineData("/nonexistent/model")]
    [InlineData("./gpt2")]
    [InlineData("some-folder")]
    [InlineData("a/b/c")]
    [InlineData("org/name@")]
    [InlineData("../models")]
    public void PathsThatCannotBeModelNames(string text) => Assert.Null(ModelReference.TryParse(text));

    [Theory]
    [InlineData("refs/pr/1")]
    [InlineData("v1.0")]
    [InlineData("release-2024_01")]
    [InlineData("0123456789abcdef0123456789abcdef01234567")]
    public void RevisionsAreBranchesTagsAndCommits(string revision) =>
        Assert.Equal(revision, ModelReference.TryParse($"org/tarot@{revision}")!.Revision);

    [Theory]
    [InlineData("/any/folder/x")]
    [InlineData("/dev/zero")]
    [InlineData("../../../../x")]
    [InlineData("..")]
    [InlineData("a/../b")]
    [InlineData("a..b")]
    [InlineData("a\\b")]
    [InlineData("a//b")]
    [InlineData("a/")]
    [InlineData(".hidden")]
    [InlineData("a/.b")]
    [InlineData("x.lock")]
    [InlineData("x.")]
    [InlineData("a\tb")]
    [InlineData("a b")]
    [InlineData("a~1")]
    [InlineData("a^")]
    [InlineData("a:b")]
    [InlineData("a?")]
    [InlineData("a*")]
    [InlineData("a[b")]
    [InlineData("a@{1}")]
    [InlineData("@")]
    public void RevisionsThatAreNoRefNamesAreRefused(string revision)
    {
        var e = Assert.Throws<RelpSaeException>(() => ModelReference.TryParse($"org/tarot@{revision}"));
        Assert.Equal($"org/tarot@{revision}: revision \"{revision}\" is not a branch, tag or commit name", e.Message);
    }

    [Fact]
    public void AnSaeRevisionThatClimbsIsRefused()
    {
        var e = Assert.Throws<RelpSaeException>(() => SaeReference.TryParse("org/tarot-saes@../blocks.2.hook_resid_post"));
        Assert.Equal("org/tarot-saes@..: revision \"..\" is not a branch, tag or commit name", e.Message);
    }

    [Fact]
    public void ReleaseNameGivesRepositoryFolderAndProcessing()
    {
        var sae = SaeReference.TryParse("gpt2-small-res-jb/blocks.6.hook_resid_pre")!;
        Assert.Equal("jbloom/GPT2-Small-SAEs-Reformatted", sae.Repo.RepoId);
        Assert.Equal("blocks.6.hook_resid_pre", sae.Folder);
        Assert.Equal(new SaeProcessing(CenterWritingWeights: true, PrependBos: true), sae.Processing);
    }

    [Fact]
    public void OpenAiReleaseMapsIdsToLayerFolders()
    {
        var sae = SaeReference.TryParse("gpt2-small-mlp-out-v5-32k/blocks.3.hook_mlp_out")!;
        Assert.Equal(("jbloom/GPT2-Small-OAI-v5-32k-mlp-out-SAEs", "v5_32k_layer_3"), (sae.Repo.RepoId, sae.Folder));
    }

    [Fact]
    public void UnknownIdOfAReleaseListsTheKnownOnes()
    {
        var e = Assert.Throws<RelpSaeException>(() => SaeReference.TryParse("gpt2-small-res-jb/blocks.6.hook_resid_post"));
        Assert.StartsWith("release gpt2-small-res-jb has no SAE \"blocks.6.hook_resid_post\" (it has blocks.0.hook_resid_pre, ", e.Message);
    }

    [Fact]
    public void GemmaScopeReleasesMapIdsToTheirParamsFiles()
    {
        // SAELens' table: the canonical 16k SAE of Gemma-2 2B's block 20 is the one of average L0 71.
        var sae = SaeReference.TryParse("gemma-scope-2b-pt-res-canonical/layer_20/width_16k/canonical")!;
        Assert.Equal(("google/gemma-scope-2b-pt-res", "layer_20/width_16k/average_l0_71/params.npz"), (sae.Repo.RepoId, sae.Folder));
        Assert.Equal(new SaeProcessing(CenterWritingWeights: false, PrependBos: true), sae.Processing);
        var all = SaeReference.TryParse("gemma-scope-9b-pt-res/layer_9/width_16k/average_l0_100")!;
        Assert.Equal(("google/gemma-scope-9b-pt-res", "layer_9/width_16k/average_l0_100/params.npz"), (all.Repo.RepoId, all.Folder));
        var e = Assert.Throws<RelpSaeException>(() => SaeReference.TryParse("gemma-scope-2b-pt-res-canonical/layer_99/width_16k/canonical"));
        Assert.Matches(@"^release gemma-scope-2b-pt-res-canonical has no SAE ""layer_99/width_16k/canonical"" \(it has layer_0/width_16k/canonical, .*, … 58 in all\)$", e.Message);
    }

    [Fact]
    public void LlamaScopeAndGemmaScope2ReleasesMapIdsToWhatTheirConvertersRead()
    {
        // SAELens' table: Llama Scope's ids name a folder per SAE, Gemma Scope 2's a folder holding params.safetensors.
        var llama = SaeReference.TryParse("llama_scope_lxr_8x/l15r_8x")!;
        Assert.Equal(("fnlp/Llama3_1-8B-Base-LXR-8x", "Llama3_1-8B-Base-L15R-8x"), (llama.Repo.RepoId, llama.Folder));
        Assert.Equal(new SaeProcessing(CenterWritingWeights: false, PrependBos: true), llama.Processing);
        Assert.Equal(("fnlp/Llama3_1-8B-Base-LXM-32x", "Llama3_1-8B-Base-L31M-32x"),
            SaeReference.TryParse("llama_scope_lxm_32x/l31m_32x") is { } m ? (m.Repo.RepoId, m.Folder) : default);
        var gemma = SaeReference.TryParse("gemma-scope-2-1b-pt-res/layer_22_width_65k_l0_medium")!;
        Assert.Equal(("google/gemma-scope-2-1b-pt", "resid_post/layer_22_width_65k_l0_medium/params.safetensors"), (gemma.Repo.RepoId, gemma.Folder));
        Assert.Equal(new SaeProcessing(CenterWritingWeights: false, PrependBos: true), gemma.Processing);
        Assert.Equal("resid_post_all/layer_0_width_16k_l0_big/params.safetensors", SaeReference.TryParse("gemma-scope-2-270m-it-res-all/layer_0_width_16k_l0_big")!.Folder);
    }

    [Theory]
    [InlineData("llama_scope_lxr_8x/l32r_8x", @"^release llama_scope_lxr_8x has no SAE ""l32r_8x"" \(it has l0r_8x, l1r_8x, .*, … 32 in all\)$")]
    [InlineData("gemma-scope-2-1b-pt-res/layer_5_width_16k_l0_small", @"^release gemma-scope-2-1b-pt-res has no SAE ""layer_5_width_16k_l0_small"" \(it has layer_13_width_16k_l0_big, .*, … 52 in all\)$")]
    public void UnknownIdOfALlamaScopeOrGemmaScope2ReleaseListsTheKnownOnes(string name, string expected) =>
        Assert.Matches(expected, Assert.Throws<RelpSaeException>(() => SaeReference.TryParse(name)).Message);

    [Fact]
    public void RepositoryFolderNeedsNoProcessing()
    {
        var sae = SaeReference.TryParse("org/tarot-saes@abc/blocks.2.hook_resid_post")!;
        Assert.Equal(("org/tarot-saes", "abc", "blocks.2.hook_resid_post"), (sae.Repo.RepoId, sae.Repo.Revision, sae.Folder));
        Assert.Equal(SaeProcessing.None, sae.Processing);
    }

    [Theory]
    [InlineData("/tmp/sae")]
    [InlineData("org/repo")]
    [InlineData("org/repo/../x")]
    public void PathsThatCannotBeSaeNames(string text) => Assert.Null(SaeReference.TryParse(text));

    [Fact]
    public void SettingsFollowHuggingFaceHubsEnvironment()
    {
        var env = new Dictionary<string, string> { ["HF_HOME"] = "/data/hf", ["HF_ENDPOINT"] = "http://mirror/", ["HF_HUB_OFFLINE"] = "1" };
        var settings = HubSettings.FromEnvironment(env.GetValueOrDefault);
        Assert.Equal(new HubSettings("/data/hf/hub", "http://mirror", null, Offline: true), settings);
        env["HF_HUB_CACHE"] = "/cache";
        env["HF_TOKEN"] = "hf_x";
        Assert.Equal(("/cache", "hf_x"), (HubSettings.FromEnvironment(env.GetValueOrDefault).CacheDir, HubSettings.FromEnvironment(env.GetValueOrDefault).Token));
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        Assert.Equal(Path.Combine(home, ".cache", "huggingface", "hub"), HubSettings.FromEnvironment(_ => null).CacheDir);
        Assert.Equal("https://huggingface.co", HubSettings.FromEnvironment(_ => null).Endpoint);
    }

    [Fact]
    public void GitBlobEtagIsGitsOwnHash()
    {
        // `printf 'hello\n' | git hash-object --stdin` prints ce013625030ba8dba906f756967f9e9ca394464a.
        using var hash = new ContentHash("ce013625030ba8dba906f756967f9e9ca394464a", 6);
        hash.Append("hello\n"u8);
        Assert.True(hash.Matches(out _));
    }
}
