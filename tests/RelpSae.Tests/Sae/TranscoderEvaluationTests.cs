using System.Numerics.Tensors;
using RelpSae.Model;
using RelpSae.Sae;
using RelpSae.Tests.Attribution;
using RelpSae.Text;

namespace RelpSae.Tests.Sae;

/// <summary>
/// A transcoder's eval-sae metrics on the tarot model against an independent computation: the MLP's output read from a
/// clean pass, the prediction written back with activation patches (not the evaluation's rewrite), and the
/// cross-entropy summed here.
/// </summary>
public class TranscoderEvaluationTests
{
    private const int Layer = 0;
    private static readonly HookPoint Input = new(HookKind.Ln2Normalized, Layer), Output = new(HookKind.MlpOut, Layer);

    private static int[][] Contexts()
    {
        var data = TarotText.WriteFile();
        return [.. new ContextPacker(TarotText.Packing()).Pack(Documents.ReadTokens(data, "text", TarotText.Model.Tokenizer)).Take(4)];
    }

    private static SaeModelReport Evaluate(Transcoder transcoder, int[][] contexts) =>
        SaeModelEvaluation.Run(TarotText.Model.Transformer, transcoder, Input, Output, contexts, maxTokens: contexts.Length * 15,
            skipFirstPosition: true, TarotText.Model.TokenText);

    /// <summary>Mean next-token cross-entropy of one context with the MLP's output at rows 1.. replaced by <paramref name="values"/>'s rows (null: clean).</summary>
    private static double CrossEntropy(int[] tokens, float[]? values)
    {
        var model = TarotText.Model.Transformer;
        int d = model.Facts.DModel;
        var patches = values is null ? [] : Enumerable.Range(1, tokens.Length - 1)
            .Select(t => new ActivationPatch(Output, t, 0, values.AsMemory(t * d, d))).ToArray();
        using var run = model.Forward(tokens, 1, new RunOptions { Logits = LogitRows.All, Patches = patches });
        int V = run.Logits.Length / tokens.Length;
        double sum = 0;
        for (int t = 0; t < tokens.Length - 1; t++)
        {
            var row = run.Logits.AsSpan(t * V, V);
            double z = 0;
            foreach (float v in row) z += Math.Exp(v);
            sum += Math.Log(z) - row[tokens[t + 1]];
        }
        return sum / (tokens.Length - 1);
    }

    [Fact]
    public void ExplainedVarianceOfTheMlpOutputAndCeWithTheMlpReplacedMatchAnIndependentComputation()
    {
        var model = TarotText.Model.Transformer;
        int d = model.Facts.DModel;
        var transcoder = TranscoderSpliceTests.RandomTranscoder(d, SaeArchitecture.TopK, Input.Name, Output.Name, skip: false);
        var contexts = Contexts();
        var report = Evaluate(transcoder, contexts);

        double clean = 0, replaced = 0, zeroed = 0, error = 0, active = 0;
        var outputs = new List<float[]>();
        foreach (var tokens in contexts)
        {
            using var run = model.Forward(tokens, 1, new RunOptions { Cache = [Input, Output], Logits = LogitRows.None });
            var x = run.Cached(Input);
            var y = run.Cached(Output);
            var f = transcoder.Encode(x);
            var prediction = transcoder.Output(f, x);
            clean += CrossEntropy(tokens, null);
            replaced += CrossEntropy(tokens, prediction);
            zeroed += CrossEntropy(tokens, new float[y.Length]);
            for (int t = 1; t < tokens.Length; t++)
            {
                error += Math.Pow(TensorPrimitives.Distance(y.AsSpan(t * d, d), prediction.AsSpan(t * d, d)), 2);
                active += f.AsSpan(t * transcoder.DSae, transcoder.DSae).ToArray().Count(v => v != 0);
                outputs.Add(y[(t * d)..((t + 1) * d)]);
            }
        }
        var mean = new float[d];
        foreach (var y in outputs) TensorPrimitives.Add(mean, y, mean);
        TensorPrimitives.Divide(mean, outputs.Count, mean);
        double variance = outputs.Sum(y => Math.Pow(TensorPrimitives.Distance(y, mean), 2));

        Assert.Equal(outputs.Count, report.Metrics.Tokens);
        Assert.Equal(1 - error / variance, report.Metrics.ExplainedVariance, 1e-4);
        Assert.Equal(active / outputs.Count, report.Metrics.L0, 1e-9);
        Assert.Equal(clean / contexts.Length, report.CeClean, 1e-4);
        Assert.Equal(replaced / contexts.Length, report.CeSae, 1e-4);
        Assert.Equal(zeroed / contexts.Length, report.CeZero, 1e-4);
        // The random transcoder changes the loss, and zeroing the MLP changes it otherwise.
        Assert.True(Math.Abs(report.CeSae - report.CeClean) > 1e-3 && Math.Abs(report.CeZero - report.CeSae) > 1e-3);
        Assert.Equal((report.CeZero - report.CeSae) / (report.CeZero - report.CeClean), report.CeLossRecovered, 1e-12);
    }

    [Fact]
    public void ATranscoderThatPredictsNothingRecoversNothing()
    {
        // All weights zero: every prediction is b_dec = 0, the MLP zero-ablated.
        int d = TarotText.Model.Facts.DModel;
        var silent = new Transcoder(new SparseAutoencoder(new SaeConfig { Architecture = SaeArchitecture.Standard, DIn = d, DSae = 2 * d, ApplyBDecToInput = false }),
            Input.Name, Output.Name);
        var report = Evaluate(silent, Contexts());
        Assert.Equal(report.CeZero, report.CeSae);
        Assert.True(report.CeZero > report.CeClean + 0.01, $"zero-ablating block {Layer}'s MLP costs only {report.CeZero - report.CeClean}");
        Assert.Equal(0, report.CeLossRecovered);
        Assert.Equal((0.0, 1.0), (report.Metrics.L0, report.Metrics.DeadFraction));
        Assert.True(report.Metrics.ExplainedVariance < 0, "predicting 0 explains less than the mean does");
    }
}
