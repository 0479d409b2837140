using System.Text.Json;
using RelpSae.Sae;

namespace RelpSae.Tests.Sae;

/// <summary>
/// Gemma Scope's params.npz, Gemma Scope 2's params.safetensors, Llama Scope's folder and dictionary_learning's ae.pt
/// load into the same SparseAutoencoder and compute the features and reconstructions their own code computes
/// (scripts/sae_formats_reference.py).
/// </summary>
public class CommunitySaeFilesTests
{
    private static (float[] X, float[] F, float[] XHat) Expected(string format)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Data("community-saes", "expected.json")));
        float[] Flat(JsonElement e) => e.EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetSingle())).ToArray();
        var f = doc.RootElement.GetProperty(format);
        return (Flat(doc.RootElement.GetProperty("x")), Flat(f.GetProperty("f")), Flat(f.GetProperty("x_hat")));
    }

    private static void AssertMatches(SparseAutoencoder sae, string format)
    {
        var (x, f, xHat) = Expected(format);
        var features = sae.Encode(x);
        for (int i = 0; i < f.Length; i++) Assert.Equal(f[i], features[i], 1e-4);
        Assert.Contains(features, v => v == 0);   // some features are off: the activation is not the identity
        var reconstruction = sae.Decode(features);
        for (int i = 0; i < xHat.Length; i++) Assert.Equal(xHat[i], reconstruction[i], 1e-3);
    }

    [Fact]
    public void GemmaScopeParamsAreJumpReluWithoutTheInputShift()
    {
        var sae = CommunitySaeFiles.LoadGemmaScope(TestPaths.Data("community-saes", "layer_3", "params.npz"));
        Assert.Equal((SaeArchitecture.JumpRelu, 8, 12, false), (sae.Config.Architecture, sae.DIn, sae.DSae, sae.Config.ApplyBDecToInput));
        Assert.Equal("blocks.3.hook_resid_post", sae.Config.HookName);
        AssertMatches(sae, "gemma_scope");
    }

    [Fact]
    public void GemmaScope2ParamsAreGemmaScopesJumpReluInLowerCase()
    {
        string folder = TestPaths.Data("community-saes", "resid_post", "layer_2_width_16k_l0_small");
        var sae = CommunitySaeFiles.LoadGemmaScope2(Path.Combine(folder, CommunitySaeFiles.GemmaScope2File));
        Assert.Equal((SaeArchitecture.JumpRelu, 8, 12, false), (sae.Config.Architecture, sae.DIn, sae.DSae, sae.Config.ApplyBDecToInput));
        Assert.Equal("blocks.2.hook_resid_post", sae.Config.HookName);
        AssertMatches(sae, "gemma_scope_2");
        // The same SAE named by its folder, or by its file through SaeFiles.
        Assert.Equal(sae.WEnc, SaeFiles.Load(folder).WEnc);
        Assert.Equal(sae.Threshold, SaeFiles.Load(Path.Combine(folder, CommunitySaeFiles.GemmaScope2File)).Threshold);
    }

    [Fact]
    public void LlamaScopeFolderFoldsTheDatasetNormAsSaeLensDoes()
    {
        // The golden values are SAELens' llama_scope SAE written out unfolded (input × √d/norm_in, threshold × √d/norm_in,
        // output ÷ √d/norm_in); the file has pre-activations between the threshold and its scaled value.
        var sae = SaeFiles.Load(TestPaths.Data("community-saes", "Llama3_1-8B-Base-L1R-8x"));
        Assert.Equal((SaeArchitecture.JumpRelu, 8, 12, false), (sae.Config.Architecture, sae.DIn, sae.DSae, sae.Config.ApplyBDecToInput));
        Assert.Equal(("blocks.1.hook_resid_post", "none"), (sae.Config.HookName, sae.Config.NormalizeActivations));
        Assert.All(sae.Threshold, t => Assert.Equal(0.5 * Math.Sqrt(8) / 0.75, t, 1e-6));
        AssertMatches(sae, "llama_scope");
    }

    [Fact]
    public void DictionaryLearningAutoEncoderIsTransposedIntoSaeLensLayout()
    {
        var sae = CommunitySaeFiles.LoadDictionaryLearning(TestPaths.Data("community-saes", "ae.pt"), "blocks.2.hook_resid_post");
        Assert.Equal((SaeArchitecture.Standard, 8, 12, true), (sae.Config.Architecture, sae.DIn, sae.DSae, sae.Config.ApplyBDecToInput));
        AssertMatches(sae, "dictionary_learning");
    }

    [Fact]
    public void SaeFilesLoadsEitherFileAndReadsTheHookFromTheFolderNames()
    {
        var dir = Directory.CreateTempSubdirectory("relp-dl-").FullName;
        try
        {
            string folder = Path.Combine(dir, "attn_out_layer4", "10_32768");
            Directory.CreateDirectory(folder);
            File.Copy(TestPaths.Data("community-saes", "ae.pt"), Path.Combine(folder, "ae.pt"));
            Assert.Equal("blocks.4.hook_attn_out", SaeFiles.Load(Path.Combine(folder, "ae.pt")).Config.HookName);
            Assert.Equal(SaeArchitecture.JumpRelu, SaeFiles.Load(TestPaths.Data("community-saes", "layer_3", "params.npz")).Config.Architecture);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void AFileOfTheWrongKindIsAOneLineError()
    {
        Assert.Contains("not a readable .npz", Assert.Throws<RelpSaeException>(() => CommunitySaeFiles.LoadGemmaScope(TestPaths.Data("community-saes", "expected.json"))).Message);
        Assert.Contains("tensor 'encoder.weight' is missing",
            Assert.Throws<RelpSaeException>(() => CommunitySaeFiles.LoadDictionaryLearning(TestPaths.Data("tarot-gpt2", "pytorch_model.bin"))).Message);
    }
}
