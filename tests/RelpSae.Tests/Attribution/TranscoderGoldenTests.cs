using System.Text.Json;
using RelpSae.Attribution;
using RelpSae.Model;
using RelpSae.Sae;

namespace RelpSae.Tests.Attribution;

/// <summary>
/// Attribution to a single-layer transcoder's features, spliced at an MLP, matches the independent PyTorch pass
/// (scripts/transcoder_attribution_reference.py) on GPT-2 and two gated families, with and without a skip connection:
/// the features, every feature's score and the error node's under gradient, RelP and RelP-AH, against the zero baseline;
/// and so does attribution to a cross-layer transcoder's features on GPT-2.
/// </summary>
public class TranscoderGoldenTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var model in new[] { "tarot-gpt2", "stories260K-llama", "tiny-gemma2" })
            foreach (var suffix in new[] { "", "-skip" })
                data.Add(model, model + suffix);
        return data;
    }

    private static float[] Floats(JsonElement e) => [.. e.EnumerateArray().Select(v => v.GetSingle())];

    [Theory]
    [MemberData(nameof(Cases))]
    public void ScoresMatchThePyTorchReference(string fixture, string golden)
    {
        string folder = TestPaths.Data("transcoder-goldens", golden);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "golden.json")));
        var root = doc.RootElement;
        var tokens = root.GetProperty("tokens").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        var metric = new Metric(MetricKind.LogitDiff, root.GetProperty("target").GetInt32(), root.GetProperty("foil").GetInt32());
        string file = Path.Combine(folder, $"layer_{root.GetProperty("layer").GetInt32()}.safetensors");
        var transcoder = TranscoderFiles.Load(file);
        Assert.Equal(golden.EndsWith("-skip"), transcoder.Skip is not null);

        var model = Families.Named(fixture).Load();
        var splice = SaeSplice.CreateTranscoder(model, transcoder, file, tokens, Baseline.Zero);
        var features = Floats(root.GetProperty("features"));
        for (int k = 0; k < features.Length; k++) Assert.Equal(features[k], splice.Features[k], 2e-5f * (1 + MathF.Abs(features[k])));

        foreach (var method in root.GetProperty("scores").EnumerateObject())
        {
            var expected = Floats(method.Value);
            var result = Attributor.Run(AttributionMethods.Parse(method.Name)[0], splice, metric);
            float scale = expected.Max(MathF.Abs);
            for (int k = 0; k < expected.Length; k++)
                Assert.True(MathF.Abs(expected[k] - result.Scores[k]) <= 1e-5f * scale,
                    $"{method.Name} score {k}: {result.Scores[k]} vs PyTorch's {expected[k]} (largest {scale})");
            // The error node sums ε·∂m/∂ε over ε = y − reconstruction, which cancels: e^x moved by under an ulp in the
            // attention rows shorter than a vector moved the skip transcoder's by 1.7·10⁻⁵ of itself, its scores by less
            // than 10⁻⁵ of the largest. Both sides are float32.
            double error = root.GetProperty("error_node").GetProperty(method.Name).GetDouble();
            Assert.Equal(error, result.ErrorNode, 5e-5 * Math.Max(1, Math.Abs(error)));
        }
    }

    [Fact]
    public void CrossLayerScoresMatchThePyTorchReference()
    {
        string folder = TestPaths.Data("transcoder-goldens", "clt-tarot-gpt2");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "golden.json")));
        var root = doc.RootElement;
        var tokens = root.GetProperty("tokens").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        var metric = new Metric(MetricKind.LogitDiff, root.GetProperty("target").GetInt32(), root.GetProperty("foil").GetInt32());
        var clt = CrossLayerTranscoderFiles.Load(folder);
        var model = Families.Named("tarot-gpt2").Load();
        var splice = CrossLayerSplice.Create(model, clt, folder, tokens, Baseline.Zero);
        for (int l = 0; l < clt.Layers; l++)
        {
            var features = Floats(root.GetProperty("features")[l]);
            for (int k = 0; k < features.Length; k++) Assert.Equal(features[k], splice.Features[l][k], 2e-5f * (1 + MathF.Abs(features[k])));
        }
        int n = clt.DSae, T = tokens.Length;
        foreach (var method in root.GetProperty("scores").EnumerateObject())
        {
            var result = CrossLayerAttribution.Run(AttributionMethods.Parse(method.Name)[0], model, splice, metric, tokens);
            var expected = Enumerable.Range(0, clt.Layers).Select(l => Floats(method.Value[l])).ToArray();
            float scale = expected.SelectMany(e => e).Max(MathF.Abs);
            for (int l = 0; l < clt.Layers; l++)
                for (int k = 0; k < T * n; k++)
                {
                    float got = result.Scores[k / n * (clt.Layers * n) + l * n + k % n];
                    Assert.True(MathF.Abs(expected[l][k] - got) <= 1e-5f * scale, $"{method.Name} layer {l} score {k}: {got} vs PyTorch's {expected[l][k]} (largest {scale})");
                }
            double error = root.GetProperty("error_node").GetProperty(method.Name).GetDouble();
            Assert.Equal(error, result.ErrorNode, 1e-5 * Math.Max(1, Math.Abs(error)));
        }
    }
}
