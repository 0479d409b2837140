using System.Text.Json;
using RelpSae.Formats;
using RelpSae.Sae;

namespace RelpSae.Tests.Sae;

/// <summary>
/// Cross-layer transcoders in circuit-tracer's layout load into <see cref="CrossLayerTranscoder"/> and compute what its
/// CrossLayerTranscoder computes (scripts/clt_reference.py); a missing layer file, a tensor of the wrong shape and a
/// transcoder too big for the memory are refused in one line before anything is read.
/// </summary>
public class CrossLayerTranscoderFilesTests
{
    internal static string Data(string name) => TestPaths.Data("clt", name);

    [Theory]
    [InlineData("jumprelu", SaeArchitecture.JumpRelu, "ln2.hook_normalized")]
    [InlineData("relu", SaeArchitecture.Standard, "hook_resid_mid")]   // no config.yaml: load_clt's default hooks
    public void ACircuitTracerFolderComputesWhatCircuitTracerComputes(string folder, SaeArchitecture architecture, string input)
    {
        Assert.True(CrossLayerTranscoderFiles.IsCrossLayerTranscoder(Data(folder)));
        var clt = CrossLayerTranscoderFiles.Load(Data(folder));
        Assert.Equal((3, 8, 6, input, "hook_mlp_out"), (clt.Layers, clt.DModel, clt.DSae, clt.InputHook, clt.OutputHook));
        Assert.All(clt.Encoders, e => Assert.Equal(architecture, e.Config.Architecture));

        using var doc = JsonDocument.Parse(File.ReadAllBytes(Data("expected.json")));
        float[] Layer(JsonElement e, int l) => e[l].EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetSingle())).ToArray();
        var x = doc.RootElement.GetProperty("x");
        var expected = doc.RootElement.GetProperty(folder);
        var features = Enumerable.Range(0, clt.Layers).Select(l => clt.Encoders[l].Encode(Layer(x, l))).ToArray();
        Assert.Contains(features.SelectMany(f => f), v => v == 0);
        Assert.Contains(features.SelectMany(f => f), v => v != 0);
        for (int l = 0; l < clt.Layers; l++)
        {
            foreach (var (want, got) in Layer(expected.GetProperty("f"), l).Zip(features[l])) Assert.Equal(want, got, 1e-5);
            foreach (var (want, got) in Layer(expected.GetProperty("y"), l).Zip(clt.Output(l, features))) Assert.Equal(want, got, 1e-4);
        }
    }

    /// <summary>A copy of the JumpReLU test folder to spoil.</summary>
    private static string Copy()
    {
        var dir = Directory.CreateTempSubdirectory("relp-clt-").FullName;
        foreach (var f in Directory.EnumerateFiles(Data("jumprelu"))) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        return dir;
    }

    [Fact]
    public void AMissingLayerFileIsNamed()
    {
        var dir = Copy();
        File.Delete(Path.Combine(dir, "W_dec_1.safetensors"));
        var e = Assert.Throws<RelpSaeException>(() => CrossLayerTranscoderFiles.Load(dir));
        Assert.StartsWith(Path.Combine(dir, "W_dec_1.safetensors") + ": no such file", e.Message);
        Assert.Contains("3 layers", e.Message);
    }

    [Fact]
    public void ADecoderOfTheWrongShapeIsRefusedBeforeAnythingIsRead()
    {
        var dir = Copy();
        string path = Path.Combine(dir, "W_dec_1.safetensors");
        SafetensorsWriter.Write(path, [new FloatTensor("W_dec_1", [6, 3, 8], new float[6 * 3 * 8])]);
        var e = Assert.Throws<RelpSaeException>(() => CrossLayerTranscoderFiles.Load(dir));
        Assert.Equal($"{path}: tensor 'W_dec_1' has shape [6, 3, 8]; 3 layers of 6 features and d_model 8 imply [6, 2, 8]", e.Message);
    }

    [Fact]
    public void ALayerWithoutTheThresholdsLayer0HasOrWithAnUnknownTensorIsRefused()
    {
        var dir = Copy();
        string path = Path.Combine(dir, "W_enc_1.safetensors");
        using (var file = SafetensorsFile.Open(path))
            SafetensorsWriter.Write(path + ".new", file.Entries.Where(e => e.Name != "threshold_1").Select(e => file.ReadFloat(e.Name)).ToList());
        File.Move(path + ".new", path, overwrite: true);
        var e = Assert.Throws<RelpSaeException>(() => CrossLayerTranscoderFiles.Load(dir));
        Assert.Equal($"{path}: tensor 'threshold_1' is missing; layer 0's b_enc [6] and b_dec [8] imply [6]", e.Message);

        SafetensorsWriter.Write(Path.Combine(dir, "W_dec_2.safetensors"), [new("W_dec_2", [6, 1, 8], new float[48]), new("W_skip_2", [8, 8], new float[64])]);
        File.Copy(Data("jumprelu/W_enc_1.safetensors"), path, overwrite: true);
        e = Assert.Throws<RelpSaeException>(() => CrossLayerTranscoderFiles.Load(dir));
        Assert.Equal($"{Path.Combine(dir, "W_dec_2.safetensors")}: unexpected tensor 'W_skip_2' for a cross-layer transcoder (it holds W_dec_2)", e.Message);
    }

    [Fact]
    public void ATranscoderTooBigForTheMemoryIsRefusedInOneLine()
    {
        var e = Assert.Throws<RelpSaeException>(() => CrossLayerTranscoderFiles.Load(Data("jumprelu"), availableBytes: 1000));
        Assert.StartsWith($"{Data("jumprelu")}: the cross-layer transcoder needs ", e.Message);
        Assert.Contains("3 layers of 6 features, 6 decoders of 6×8), more than the 0 MiB of memory available", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void AConfigOfAnotherKindIsRefused()
    {
        var dir = Copy();
        File.WriteAllText(Path.Combine(dir, "config.yaml"), "model_kind: transcoder_set\nfeature_input_hook: hook_resid_mid\nfeature_output_hook: hook_mlp_out\n");
        var e = Assert.Throws<RelpSaeException>(() => CrossLayerTranscoderFiles.Load(dir));
        Assert.Equal($"{Path.Combine(dir, "config.yaml")}: model_kind is transcoder_set, not cross_layer_transcoder", e.Message);
    }
}
