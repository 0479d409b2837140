using RelpSae.Attribution;
using RelpSae.Formats;
using RelpSae.Model;
using RelpSae.Sae;
using RelpSae.Tests.Attribution;

namespace RelpSae.Tests.Sae;

/// <summary>
/// A set of transcoders, one per MLP, loads from circuit-tracer's folder layout in layer order and splices all at once
/// from one forward pass with the model's output unchanged; two for one MLP, or a folder of none, are refused in one line.
/// </summary>
public class TranscoderSetTests
{
    /// <summary>circuit-tracer's layout: config.yaml beside layer_N.safetensors, one random JumpReLU transcoder per block of tiny-gemma2.</summary>
    private static (string Folder, ITransformer Model) CircuitTracerSet()
    {
        var model = Families.Named("tiny-gemma2").Load();
        var dir = Directory.CreateTempSubdirectory("relp-tcset-").FullName;
        File.WriteAllText(Path.Combine(dir, TranscoderFiles.CircuitTracerConfig), "feature_input_hook: \"mlp.hook_in\"\nfeature_output_hook: \"mlp.hook_out\"\n");
        for (int l = model.Facts.NLayers - 1; l >= 0; l--)
        {
            var t = TranscoderSpliceTests.RandomTranscoder(model.Facts.DModel, SaeArchitecture.JumpRelu, $"blocks.{l}.mlp.hook_in", $"blocks.{l}.mlp.hook_out", skip: false, seed: 10 + l);
            var s = t.Dictionary;
            int d = s.DIn, n = s.DSae;
            SafetensorsWriter.Write(Path.Combine(dir, $"layer_{l}.safetensors"),
            [
                new FloatTensor("W_enc", [n, d], CommunitySaeFiles.Transpose(s.WEnc, d, n)), new FloatTensor("W_dec", [n, d], s.WDec),
                new FloatTensor("b_enc", [n], s.BEnc), new FloatTensor("b_dec", [d], s.BDec), new FloatTensor(TranscoderFiles.ThresholdTensor, [n], s.Threshold),
            ]);
        }
        return (dir, model);
    }

    [Fact]
    public void ACircuitTracerFolderLoadsInLayerOrderAndSplicesWithTheOutputUnchanged()
    {
        var (folder, model) = CircuitTracerSet();
        var set = TranscoderSet.Load(folder, model.Facts);
        Assert.Equal([0, 1], set.Select(t => t.Layer));
        Assert.Equal(new HookPoint(HookKind.MlpHookIn, 1), set[1].Input);

        int[] prompt = TranscoderSpliceTests.Prompt;
        var splices = TranscoderSplice.All(model, set, prompt);
        for (int i = 0; i < set.Count; i++)
            Assert.Equal(TranscoderSplice.Create(model, set[i].Transcoder, set[i].Source, prompt).Features, splices[i].Features);
        Assert.All(splices, s => Assert.Contains(s.Features, f => f != 0));

        using var clean = model.Forward(prompt, 1, new RunOptions { Logits = LogitRows.All });
        using var spliced = model.Forward(prompt, 1, new RunOptions { Logits = LogitRows.All, Rewrite = new Both(splices.Select(s => s.Replacement()).ToArray()) });
        for (int i = 0; i < clean.Logits.Length; i++) Assert.Equal(clean.Logits[i], spliced.Logits[i], 1e-4f * (1 + MathF.Abs(clean.Logits[i])));
    }

    private sealed class Both(IActivationRewrite[] rewrites) : IActivationRewrite
    {
        public void Apply(HookPoint hook, float[] activation, int batch, int tokens)
        {
            foreach (var r in rewrites) r.Apply(hook, activation, batch, tokens);
        }
    }

    [Fact]
    public void TwoTranscodersForOneMlpAreRefusedNamingBoth()
    {
        var (folder, model) = CircuitTracerSet();
        string layer = Path.Combine(folder, "layer_0.safetensors");
        var e = Assert.Throws<RelpSaeException>(() => TranscoderSet.Load($"{layer},{layer}", model.Facts));
        Assert.Equal($"two transcoders stand in for block 0's MLP: {layer} and {layer}; give at most one per MLP", e.Message);
    }

    [Fact]
    public void AFolderWithoutTranscodersIsRefused()
    {
        var model = Families.Named("tiny-gemma2").Load();
        var dir = Directory.CreateTempSubdirectory("relp-tcset-").FullName;
        var e = Assert.Throws<RelpSaeException>(() => TranscoderSet.Load(dir, model.Facts));
        Assert.StartsWith($"{dir}: holds no transcoders", e.Message);
    }
}
