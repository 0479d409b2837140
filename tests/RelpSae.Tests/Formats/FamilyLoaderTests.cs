using System.IO.Compression;
using System.Text;
using RelpSae.Formats;
using RelpSae.Model;
using RelpSae.Sae;

namespace RelpSae.Tests.Formats;

/// <summary>
/// The Llama / GPT-NeoX loaders and the community SAE files at issue 16's bar: a config that disagrees
/// with the weights (layer count, an extra tensor, an integer weight), an absurd .npy shape and a Gemma
/// Scope file whose arrays disagree are one-line errors naming the file and the key, found from the
/// headers before the data is converted.
/// </summary>
public class FamilyLoaderTests
{
    private static string CopyOf(string folder)
    {
        var dir = Directory.CreateTempSubdirectory("relp-loader-").FullName;
        foreach (var f in Directory.GetFiles(TestPaths.Data(folder))) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        return dir;
    }

    private static RelpSaeException Refused(Action load, params string[] parts)
    {
        var e = Assert.Throws<RelpSaeException>(load);
        foreach (var p in parts) Assert.Contains(p, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    [Fact]
    public void AConfigThatOverstatesTheLayersIsRefusedBeforeReading()
    {
        var dir = CopyOf("tiny-neox");
        var config = Path.Combine(dir, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3"));
        Refused(() => LanguageModels.Load(dir), "config.json: num_hidden_layers is 3 but the checkpoint holds 2 layers (gpt_neox.layers.N)");
    }

    [Fact]
    public void APickledCheckpointLoadsTheSameModelAndIsCheckedBeforeReading()
    {
        var fromSafetensors = LanguageModels.Load(TestPaths.Data("tiny-neox"));
        var fromPickle = LanguageModels.Load(TestPaths.Data("tiny-neox-bin"));
        int[] ids = [3, 14, 15, 9, 26];
        using var a = fromSafetensors.Forward(ids, 1, new RunOptions { Logits = LogitRows.All });
        using var b = fromPickle.Forward(ids, 1, new RunOptions { Logits = LogitRows.All });
        Assert.Equal(a.Logits, b.Logits);

        var dir = CopyOf("tiny-neox-bin");
        var config = Path.Combine(dir, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"intermediate_size\": 64", "\"intermediate_size\": 48"));
        Refused(() => LanguageModels.Load(dir), "pytorch_model.bin: tensor 'gpt_neox.layers.0.mlp.dense_h_to_4h.weight' has shape [64, 32], ", "config.json implies [48, 32]");
    }

    [Fact]
    public void AnIntegerWeightOrATensorTheConfigLacksIsRefused()
    {
        var dir = CopyOf("tiny-neox");
        var weights = Path.Combine(dir, "model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        // Same length: the header's offsets stay valid, only the dtype changes.
        var header = Encoding.UTF8.GetString(bytes, 8, (int)BitConverter.ToUInt64(bytes, 0));
        var changed = header.Replace("\"gpt_neox.final_layer_norm.weight\": {\"dtype\": \"F32\"", "\"gpt_neox.final_layer_norm.weight\": {\"dtype\": \"I32\"");
        Assert.NotEqual(header, changed);
        Encoding.UTF8.GetBytes(changed).CopyTo(bytes, 8);
        File.WriteAllBytes(weights, bytes);
        Refused(() => LanguageModels.Load(dir), "model.safetensors: tensor 'gpt_neox.final_layer_norm.weight' is I32; weights must be floating point");

        File.Copy(TestPaths.Data(Path.Combine("tiny-neox", "model.safetensors")), weights, overwrite: true);
        Dictionary<string, FloatTensor> all;
        using (var file = SafetensorsFile.Open(weights)) all = file.ReadAll();
        SafetensorsWriter.Write(weights, [.. all.Values, new FloatTensor("gpt_neox.layers.0.mlp.gate.weight", [2], [1, 2])]);
        Refused(() => LanguageModels.Load(dir), "model.safetensors: tensor 'gpt_neox.layers.0.mlp.gate.weight' is not part of the model", "config.json");
    }

    /// <summary>A .npy of float32 zeros with the given shape in its header and the given number of values after it.</summary>
    internal static byte[] Npy(string shape, int values) =>
        Npy($"{{'descr': '<f4', 'fortran_order': False, 'shape': ({shape}), }}", new byte[values * 4]);

    /// <summary>A version 1.0 .npy: the header dict literal as given (padded as numpy pads it), then the data bytes.</summary>
    internal static byte[] Npy(string header, byte[] data)
    {
        header = header.PadRight(118) + "\n";
        var bytes = new List<byte> { 0x93 };
        bytes.AddRange("NUMPY"u8.ToArray());
        bytes.AddRange([1, 0]);
        bytes.AddRange(BitConverter.GetBytes((ushort)header.Length));
        bytes.AddRange(Encoding.Latin1.GetBytes(header));
        bytes.AddRange(data);
        return [.. bytes];
    }

    private static string Npz(params (string Name, byte[] Npy)[] arrays) => Npz(3, arrays);

    /// <summary>A params.npz in a Gemma Scope layer_N folder (which names its hook).</summary>
    internal static string Npz(int layer, params (string Name, byte[] Npy)[] arrays)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("relp-npz-").FullName, $"layer_{layer}", "params.npz");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (name, npy) in arrays)
        {
            using var s = zip.CreateEntry(name + ".npy").Open();
            s.Write(npy);
        }
        return path;
    }

    [Fact]
    public void AnAbsurdNpyShapeOrACommunitySaeWhoseTensorsDisagreeIsRefused()
    {
        var huge = Npz(("W_enc", Npy("100000, 100000", 4)));
        Refused(() => NpzFile.Read(huge), "params.npz: array 'W_enc': shape (100000, 100000) is more elements than one array can hold");

        var mismatched = Npz(("W_enc", Npy("4, 6", 24)), ("W_dec", Npy("4, 6", 24)), ("b_enc", Npy("6,", 6)), ("b_dec", Npy("4,", 4)), ("threshold", Npy("6,", 6)));
        Refused(() => SaeFiles.Load(mismatched), "params.npz: array 'W_dec' has shape [4, 6]; W_enc [4, 6] implies [6, 4]");

        var extra = Npz(("W_enc", Npy("4, 6", 24)), ("W_dec", Npy("6, 4", 24)), ("b_enc", Npy("6,", 6)), ("b_dec", Npy("4,", 4)), ("threshold", Npy("6,", 6)), ("k", Npy("1,", 1)));
        Refused(() => SaeFiles.Load(extra), "params.npz: array 'k' is not part of a Gemma Scope SAE");

        Refused(() => SaeFiles.Load(TestPaths.Data(Path.Combine("community-saes", "ae-mismatched.pt"))),
            "ae-mismatched.pt: tensor 'decoder.weight' has shape [8, 12]; the encoder's d_in 8, d_sae 16 imply [8, 16]");

        var good = Npz(("W_enc", Npy("4, 6", 24)), ("W_dec", Npy("6, 4", 24)), ("b_enc", Npy("6,", 6)), ("b_dec", Npy("4,", 4)), ("threshold", Npy("6,", 6)));
        var sae = SaeFiles.Load(good);
        Assert.Equal((4, 6, "blocks.3.hook_resid_post"), (sae.DIn, sae.DSae, sae.Config.HookName));
    }
}
