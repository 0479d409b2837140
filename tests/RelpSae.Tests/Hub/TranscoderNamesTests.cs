using RelpSae.Formats;
using RelpSae.Hub;
using RelpSae.Sae;

namespace RelpSae.Tests.Hub;

/// <summary>
/// Transcoders by name: Gemma Scope's transcoder release, circuit-tracer's per-layer presets (gemma, llama) and its
/// cross-layer transcoders by repository, and Gemma Scope 2's transcoders by their path; each fetched from the stand-in
/// Hub with only the files it needs, then loaded.
/// </summary>
public class TranscoderNamesTests : FakeHubTest
{
    private HubResolver Resolver() => new(new HubSettings(CacheDir, hub.Endpoint));

    [Theory]
    [InlineData("gemma-scope-2b-pt-transcoders/layer_12/width_16k/average_l0_6", "google/gemma-scope-2b-pt-transcoders", "layer_12/width_16k/average_l0_6/params.npz", false)]
    [InlineData("gemma/layer_12", "google/gemma-scope-2b-pt-transcoders", "layer_12/width_16k/average_l0_6/params.npz", true)]
    [InlineData("gemma/layer_0", "google/gemma-scope-2b-pt-transcoders", "layer_0/width_16k/average_l0_76/params.npz", true)]
    [InlineData("llama/layer_15", "mntss/transcoder-Llama-3.2-1B", "layer_15.safetensors", true)]
    [InlineData("mntss/clt-gemma-2-2b-426k", "mntss/clt-gemma-2-2b-426k", "", true)]
    [InlineData("mntss/clt-llama-3.2-1b-524k", "mntss/clt-llama-3.2-1b-524k", "", true)]
    [InlineData("mntss/clt-gemma-2-2b-2.5M@v1", "mntss/clt-gemma-2-2b-2.5M", "", true)]
    public void TranscoderNamesGiveTheirRepositoryAndPath(string name, string repo, string folder, bool circuitTracer)
    {
        var sae = SaeReference.TryParse(name)!;
        Assert.Equal((repo, folder), (sae.Repo.RepoId, sae.Folder));
        Assert.Equal(circuitTracer ? TranscoderReleases.CircuitTracer : new SaeProcessing(CenterWritingWeights: false, PrependBos: true), sae.Processing);
    }

    [Fact]
    public void APresetLayerItLacksListsItsLayers()
    {
        var e = Assert.Throws<RelpSaeException>(() => SaeReference.TryParse("llama/layer_16"));
        Assert.Equal("release llama has no SAE \"layer_16\" (it has layer_0, layer_1, layer_2, layer_3, layer_4, layer_5, layer_6, layer_7, layer_8, layer_9, … 16 in all)", e.Message);
    }

    [Fact]
    public void ACrossLayerTranscoderByItsRepositoryFetchesItsConfigAndEveryLayersPair()
    {
        const string repo = "mntss/clt-gemma-2-2b-426k";
        const int layers = 26, n = 2, d = 3;
        var source = Directory.CreateDirectory(Path.Combine(root, "source")).FullName;
        var files = new Dictionary<string, byte[]>
        {
            ["config.yaml"] = "model_kind: cross_layer_transcoder\nfeature_input_hook: hook_resid_mid\nfeature_output_hook: hook_mlp_out\n"u8.ToArray(),
            ["README.md"] = [1, 2, 3],
        };
        for (int l = 0; l < layers; l++)
        {
            string enc = Path.Combine(source, $"W_enc_{l}.safetensors"), dec = Path.Combine(source, $"W_dec_{l}.safetensors");
            SafetensorsWriter.Write(enc, [new($"W_enc_{l}", [n, d], new float[n * d]), new($"b_enc_{l}", [n], new float[n]), new($"b_dec_{l}", [d], [l, 0, 0])]);
            SafetensorsWriter.Write(dec, [new($"W_dec_{l}", [n, layers - l, d], new float[n * (layers - l) * d])]);
            files[$"W_enc_{l}.safetensors"] = File.ReadAllBytes(enc);
            files[$"W_dec_{l}.safetensors"] = File.ReadAllBytes(dec);
        }
        hub.Add(repo, files);
        var folder = Resolver().ResolveSae(SaeReference.TryParse(repo)!);
        Assert.Equal(Path.Combine(CacheDir, "models--mntss--clt-gemma-2-2b-426k", "snapshots", FakeHub.Commit(repo)), folder.TrimEnd('/'));
        Assert.Equal(0, hub.Requests("HEAD", "README.md"));
        Assert.True(CrossLayerTranscoderFiles.IsCrossLayerTranscoder(folder));
        var clt = CrossLayerTranscoderFiles.Load(folder);
        Assert.Equal((layers, d, n, "hook_resid_mid", "hook_mlp_out"), (clt.Layers, clt.DModel, clt.DSae, clt.InputHook, clt.OutputHook));
        Assert.Equal(25f, clt.Encoders[25].BDec[0]);
        // Named again, it comes from the cache with no request.
        int requests = hub.Log.Count;
        Assert.Equal(folder, Resolver().ResolveSae(SaeReference.TryParse(repo)!));
        Assert.Equal(requests, hub.Log.Count);
    }

    [Fact]
    public void TheGemmaPresetFetchesGemmaScopesTranscoderFileAlone()
    {
        var npz = Formats.FamilyLoaderTests.Npz(12, ("W_enc", Formats.FamilyLoaderTests.Npy("4, 6", 24)), ("W_dec", Formats.FamilyLoaderTests.Npy("6, 4", 24)),
            ("b_enc", Formats.FamilyLoaderTests.Npy("6,", 6)), ("b_dec", Formats.FamilyLoaderTests.Npy("4,", 4)), ("threshold", Formats.FamilyLoaderTests.Npy("6,", 6)));
        const string path = "layer_12/width_16k/average_l0_6/params.npz";
        hub.Add("google/gemma-scope-2b-pt-transcoders", new() { [path] = File.ReadAllBytes(npz), ["layer_12/width_16k/average_l0_22/params.npz"] = [1, 2, 3] });
        var file = Resolver().ResolveSae(SaeReference.TryParse("gemma/layer_12")!);
        Assert.Equal(0, hub.Requests("HEAD", "layer_12/width_16k/average_l0_22/params.npz"));
        Assert.True(TranscoderFiles.IsTranscoder(file));
        var transcoder = TranscoderFiles.Load(file);
        Assert.Equal(("blocks.12.ln2.hook_normalized", "blocks.12.hook_mlp_out", 4, 6), (transcoder.InputHook, transcoder.OutputHook, transcoder.DIn, transcoder.DSae));
        Assert.Equal(file, Resolver().ResolveSae(SaeReference.TryParse("gemma-scope-2b-pt-transcoders/layer_12/width_16k/average_l0_6")!));
    }

    [Fact]
    public void TheLlamaPresetFetchesALayerFileAndItsSetsConfig()
    {
        const string repo = "mntss/transcoder-Llama-3.2-1B";
        hub.Add(repo, new()
        {
            ["layer_3.safetensors"] = File.ReadAllBytes(TestPaths.Data("transcoders", "layer_1.safetensors")),
            ["config.yaml"] = "model_kind: transcoder_set\nfeature_input_hook: hook_resid_mid\nfeature_output_hook: mlp.hook_out\n"u8.ToArray(),
            ["layer_4.safetensors"] = [1, 2, 3],
        });
        var file = Resolver().ResolveSae(SaeReference.TryParse("llama/layer_3")!);
        Assert.Equal(0, hub.Requests("HEAD", "layer_4.safetensors"));
        var transcoder = TranscoderFiles.Load(file);
        Assert.Equal(("blocks.3.hook_resid_mid", "blocks.3.mlp.hook_out"), (transcoder.InputHook, transcoder.OutputHook));
        Assert.NotNull(transcoder.Skip);
    }

    [Fact]
    public void AnAffineGemmaScope2TranscoderByItsPathAddsItsSkipConnection()
    {
        const int d = 4, n = 6;
        var affine = new FloatTensor("affine_skip_connection", [d, d], [.. Enumerable.Range(0, d * d).Select(i => 0.1f * (i % 7) - 0.2f)]);
        var source = RelpSae.Tests.Sae.ScopeSaeFixtures.GemmaScope2(Path.Combine(root, "source", "params.safetensors"), d, n, extra: affine);
        const string path = "transcoder_all/layer_5_width_16k_l0_small_affine/params.safetensors";
        hub.Add("google/gemma-scope-2-1b-pt", new() { [path] = File.ReadAllBytes(source) });
        var file = Resolver().ResolveSae(SaeReference.TryParse("google/gemma-scope-2-1b-pt/" + path)!);
        Assert.True(TranscoderFiles.IsTranscoder(file));
        var transcoder = TranscoderFiles.Load(file);
        Assert.Equal(("blocks.5.mlp.hook_in", "blocks.5.hook_mlp_out", d, n), (transcoder.InputHook, transcoder.OutputHook, transcoder.DIn, transcoder.DSae));

        // ŷ = f·W_dec + b_dec + x·A, as Gemma Scope 2's JumpReLUSAE computes it.
        float[] x = [0.5f, -1f, 2f, 0.25f];
        var f = transcoder.Encode(x);
        var expected = transcoder.Dictionary.Decode(f);
        for (int o = 0; o < d; o++)
            for (int i = 0; i < d; i++) expected[o] += x[i] * affine.Data[i * d + o];
        Assert.Equal(expected, transcoder.Output(f, x), (a, b) => MathF.Abs(a - b) < 1e-5f);
        // Read as an SAE of one hook, it is refused as a transcoder.
        var e = Assert.Throws<RelpSaeException>(() => SaeFiles.Load(file));
        Assert.Equal($"{file}: a transcoder (it reads blocks.5.mlp.hook_in and writes blocks.5.hook_mlp_out), not an SAE of one hook", e.Message);
    }

    [Fact]
    public void AGemmaScope2TranscoderByItsSaeLensReleaseNameIsFetchedAndLoadsAsATranscoder()
    {
        const int d = 4, n = 6;
        var affine = new FloatTensor("affine_skip_connection", [d, d], [.. Enumerable.Range(0, d * d).Select(i => 0.05f * i)]);
        var source = RelpSae.Tests.Sae.ScopeSaeFixtures.GemmaScope2(Path.Combine(root, "release", "params.safetensors"), d, n, extra: affine);
        hub.Add("google/gemma-scope-2-1b-pt", new() { ["transcoder_all/layer_5_width_16k_l0_small_affine/params.safetensors"] = File.ReadAllBytes(source) });
        var file = Resolver().ResolveSae(SaeReference.TryParse("gemma-scope-2-1b-pt-transcoders-all/layer_5_width_16k_l0_small_affine")!);
        var transcoder = TranscoderFiles.Load(file);
        Assert.Equal(("blocks.5.mlp.hook_in", "blocks.5.hook_mlp_out"), (transcoder.InputHook, transcoder.OutputHook));
        Assert.Equal(affine.Data[1 * d + 2], transcoder.Skip![2 * d + 1]);   // W_skip = Aᵀ
        var e = Assert.Throws<RelpSaeException>(() => Resolver().ResolveSae(SaeReference.TryParse("gemma-scope-2-1b-pt-transcoders-all/layer_99_width_16k_l0_small")!));
        Assert.Contains("has no SAE \"layer_99_width_16k_l0_small\"", e.Message);
    }
}
