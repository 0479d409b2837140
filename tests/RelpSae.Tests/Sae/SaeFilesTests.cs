using System.Runtime.InteropServices;
using RelpSae.Formats;
using RelpSae.Sae;

namespace RelpSae.Tests.Sae;

public class SaeFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("relp-sae-files-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static bool SameBits(float[] a, float[] b) =>
        MemoryMarshal.AsBytes(a.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(b.AsSpan()));

    [Theory]
    [InlineData(SaeArchitecture.Standard)]
    [InlineData(SaeArchitecture.JumpRelu)]
    [InlineData(SaeArchitecture.TopK)]
    public void SaveAndLoadRoundTripBitExact(SaeArchitecture architecture)
    {
        var config = SaeTestData.Config(architecture, 5, 9, k: 2) with { HookName = "blocks.2.hook_resid_pre", ModelName = "tarot-gpt2", ContextSize = 64, PrependBos = true };
        var sae = SaeTestData.RandomSae(config, 3);
        var logSparsity = SaeTestData.Gaussian(9, 4);
        SaeFiles.Save(_dir, sae, logSparsity);

        var back = SaeFiles.Load(_dir);
        for (int a = 0; a < sae.Parameters.Length; a++) Assert.True(SameBits(sae.Parameters[a], back.Parameters[a]));
        Assert.Equal(sae.Config with { Extra = back.Config.Extra }, back.Config);
        Assert.True(SameBits(logSparsity, SaeFiles.LoadLogSparsity(_dir, 9)!));
        Assert.Equal(SaeFiles.Load(Path.Combine(_dir, SaeFiles.ConfigFile)).WEnc, back.WEnc); // a file in the folder works too
        Assert.Equal(["cfg.json", "sae_weights.safetensors", "sparsity.safetensors"],
            Directory.GetFiles(_dir).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void WeightsAreStoredUnderSaeLensNamesAndShapes()
    {
        var sae = SaeTestData.RandomSae(SaeTestData.Config(SaeArchitecture.JumpRelu, 5, 9), 5);
        SaeFiles.Save(_dir, sae);
        using var file = SafetensorsFile.Open(Path.Combine(_dir, SaeFiles.WeightsFile));
        Assert.Equal(["W_dec", "W_enc", "b_dec", "b_enc", "threshold"], file.Entries.Select(e => e.Name).Order(StringComparer.Ordinal));
        Assert.Equal([5, 9], file.Entry("W_enc").Shape);
        Assert.Equal([9, 5], file.Entry("W_dec").Shape);
        Assert.Null(SaeFiles.LoadLogSparsity(_dir, 9));
    }

    [Fact]
    public void ConfigThatDisagreesWithTheWeightsIsAClearError()
    {
        SaeFiles.Save(_dir, SaeTestData.RandomSae(SaeTestData.Config(SaeArchitecture.Standard, 5, 9), 6));
        string cfg = Path.Combine(_dir, SaeFiles.ConfigFile);
        File.WriteAllText(cfg, File.ReadAllText(cfg).Replace("\"d_in\": 5", "\"d_in\": 6"));
        var e = Assert.Throws<RelpSaeException>(() => SaeFiles.Load(_dir));
        Assert.Contains(SaeFiles.WeightsFile, e.Message);
        Assert.Contains("d_in 6", e.Message);

        File.WriteAllText(cfg, File.ReadAllText(cfg).Replace("\"d_in\": 6", "\"d_in\": 5").Replace("\"standard\"", "\"gated\""));
        Assert.Contains("'gated'", Assert.Throws<RelpSaeException>(() => SaeFiles.Load(_dir)).Message);
    }

    [Fact]
    public void LoadsAPre6SaeLensFolder()
    {
        // A cfg.json as SAELens 5.x wrote it next to weights named as SAELens names them.
        var sae = SaeTestData.RandomSae(SaeTestData.Config(SaeArchitecture.TopK, 4, 6, k: 2), 7);
        SafetensorsWriter.Write(Path.Combine(_dir, SaeFiles.WeightsFile), sae.ToTensors());
        File.WriteAllText(Path.Combine(_dir, SaeFiles.ConfigFile), """
            {"architecture": "standard", "d_in": 4, "d_sae": 6, "activation_fn_str": "topk", "apply_b_dec_to_input": true, "finetuning_scaling_factor": false, "context_size": 128, "model_name": "gpt2-small", "hook_name": "blocks.3.hook_resid_pre", "hook_layer": 3, "hook_head_index": null, "prepend_bos": true, "dataset_path": "Skylion007/openwebtext", "dataset_trust_remote_code": true, "normalize_activations": "none", "dtype": "torch.float32", "device": "cuda", "sae_lens_training_version": "3.13.0", "activation_fn_kwargs": {"k": 2}}
            """);
        var loaded = SaeFiles.Load(_dir);
        Assert.Equal(SaeArchitecture.TopK, loaded.Config.Architecture);
        Assert.Equal(2, loaded.Config.K);
        var x = SaeTestData.Gaussian(3 * 4, 8);
        Assert.Equal(sae.Encode(x), loaded.Encode(x));
    }

    [Fact]
    public void MissingFilesAndBadSparsityAreClearErrors()
    {
        Assert.Contains("no such SAE folder", Assert.Throws<RelpSaeException>(() => SaeFiles.Load(Path.Combine(_dir, "nope"))).Message);
        Assert.Contains("cfg.json", Assert.Throws<RelpSaeException>(() => SaeFiles.Load(_dir)).Message);
        SaeFiles.Save(_dir, SaeTestData.RandomSae(SaeTestData.Config(SaeArchitecture.Standard, 5, 9), 9), new float[9]);
        Assert.Contains("d_sae 10", Assert.Throws<RelpSaeException>(() => SaeFiles.LoadLogSparsity(_dir, 10)).Message);
        File.Delete(Path.Combine(_dir, SaeFiles.WeightsFile));
        Assert.Contains(SaeFiles.WeightsFile, Assert.Throws<RelpSaeException>(() => SaeFiles.Load(_dir)).Message);
    }
}
