using System.Numerics.Tensors;
using System.Text.Json.Nodes;
using RelpSae.Model;
using RelpSae.Text;

namespace RelpSae.Sae;

/// <summary>What <see cref="SaeModelEvaluation.Run"/> measured: the SAE's metrics on the model's activations, the
/// model's next-token cross-entropy clean, with the reconstruction spliced in and with the hook zeroed (NaN when the
/// hook is neither a residual one the model can restart from nor an attention or MLP output, patched in the pass from the
/// tokens), each feature's mean activation and a summary of it.</summary>
public sealed record SaeModelReport(SaeMetrics Metrics, double CeClean, double CeSae, double CeZero,
    float[] FeatureMeans, FeatureSummaries Summaries)
{
    public double CeLossRecovered => SaeEvaluation.CeLossRecovered(CeClean, CeSae, CeZero);

    /// <summary>The metrics under the keys the commands write (null where undefined).</summary>
    public JsonObject ToJson()
    {
        static JsonNode? N(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;
        return new JsonObject
        {
            ["l0"] = N(Metrics.L0), ["mse"] = N(Metrics.Mse), ["explained_variance"] = N(Metrics.ExplainedVariance),
            ["ce_loss_recovered"] = N(CeLossRecovered), ["dead_fraction"] = N(Metrics.DeadFraction),
            ["dense_fraction"] = N(Metrics.DenseFraction), ["ce_clean"] = N(CeClean), ["ce_sae"] = N(CeSae),
            ["ce_zero"] = N(CeZero), ["tokens"] = Metrics.Tokens,
        };
    }
}

/// <summary>
/// Evaluates an SAE inside its model over token contexts (docs/methods.md §7). Positions left out of training (the
/// first, BOS, when <c>skipFirstPosition</c>) keep their clean activation in the spliced and zeroed runs and
/// count in no SAE statistic; the cross-entropy covers every next-token prediction of every context.
/// A transcoder is measured on what it predicts: its MLP's output (the output hook) against the prediction from the
/// input hook's features, and the cross-entropy with the MLP's output replaced by the prediction, and zeroed.
/// </summary>
public static class SaeModelEvaluation
{
    /// <summary>What is measured: the dictionary, the hook it reads and the one whose values it must reproduce (the same
    /// for an SAE; a transcoder's output hook).</summary>
    private sealed record Site(SparseAutoencoder Dictionary, HookPoint Read, HookPoint Written, Transcoder? Transcoder)
    {
        public float[] Predict(float[] x, float[] features) => Transcoder?.Output(features, x) ?? Dictionary.Decode(features);
    }

    /// <param name="maxTokens">Stop at the first whole context that reaches this many evaluated positions.</param>
    /// <param name="tokenText">A token id as display text, for the feature summaries.</param>
    /// <param name="progress">Positions evaluated so far.</param>
    public static SaeModelReport Run(ITransformer model, SparseAutoencoder sae, HookPoint hook, IEnumerable<int[]> contexts,
        long maxTokens, bool skipFirstPosition, Func<int, string> tokenText, int topTokens = 8, int contextsPerForward = 4,
        IProgress<long>? progress = null, CancellationToken cancellationToken = default) =>
        Run(model, new Site(sae, hook, hook, null), contexts, maxTokens, skipFirstPosition, tokenText, topTokens, contextsPerForward, progress, cancellationToken);

    /// <summary><see cref="Run(ITransformer, SparseAutoencoder, HookPoint, IEnumerable{int[]}, long, bool, Func{int, string}, int, int, IProgress{long}?, CancellationToken)"/>
    /// for a transcoder reading <paramref name="input"/> and writing <paramref name="output"/> (<see cref="Transcoder.Hooks(ModelFacts, string)"/>):
    /// CE with the transcoder is the model's with the MLP's output replaced by the prediction, CE zero-ablated with it zeroed.</summary>
    public static SaeModelReport Run(ITransformer model, Transcoder transcoder, HookPoint input, HookPoint output, IEnumerable<int[]> contexts,
        long maxTokens, bool skipFirstPosition, Func<int, string> tokenText, int topTokens = 8, int contextsPerForward = 4,
        IProgress<long>? progress = null, CancellationToken cancellationToken = default) =>
        Run(model, new Site(transcoder.Dictionary, input, output, transcoder), contexts, maxTokens, skipFirstPosition, tokenText, topTokens, contextsPerForward, progress, cancellationToken);

    private static SaeModelReport Run(ITransformer model, Site site, IEnumerable<int[]> contexts,
        long maxTokens, bool skipFirstPosition, Func<int, string> tokenText, int topTokens, int contextsPerForward,
        IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var (sae, hook) = (site.Dictionary, site.Read);
        int d = sae.DIn, s = sae.DSae, first = skipFirstPosition ? 1 : 0;
        var stats = new SaeEvaluation(d, s);
        var featureSums = new double[s];
        var top = new TopTokenTracker(s, topTokens);
        double ceClean = 0, ceSae = 0, ceZero = 0;
        long predictions = 0;
        // A residual SAE's reconstruction restarts the pass from its hook; an attention or MLP output's, or a transcoder's prediction, replaces that output.
        bool restart = site.Transcoder is null && model.Facts.IsResidual(hook);
        bool splice = restart || site.Transcoder is not null || hook.Kind is HookKind.AttnOut or HookKind.MlpOut;
        var batch = new List<int[]>();
        foreach (var context in contexts.Append(null))
        {
            if (context is not null) batch.Add(context);
            // Whole contexts until maxTokens positions are reached, contextsPerForward at a time.
            long needed = context is null ? 0 : (maxTokens - stats.Tokens + context.Length - first - 1) / Math.Max(1, context.Length - first);
            bool full = batch.Count == Math.Min(contextsPerForward, needed) || (context is null && batch.Count > 0);
            if (!full) continue;
            cancellationToken.ThrowIfCancellationRequested();
            int B = batch.Count, T = batch[0].Length;
            if (T <= first || batch.Any(c => c.Length != T)) throw new RelpSaeException("contexts must all have the same length, longer than the skipped first position");
            foreach (var at in new[] { hook, site.Written })
                if (model.Facts.Width(at, T) != d) throw new RelpSaeException($"the SAE's d_in is {d} but {at} has width {model.Facts.Width(at, T)}");
            var tokens = batch.SelectMany(c => c).ToArray();
            batch.Clear();

            using var clean = model.Forward(tokens, B, new RunOptions { Cache = [.. new[] { hook, site.Written }.Distinct()], Logits = splice ? LogitRows.All : LogitRows.None });
            var x = clean.Cached(hook);
            var features = sae.Encode(x);
            var reconstruction = site.Predict(x, features);
            var target = clean.Cached(site.Written);
            for (int b = 0; b < B; b++)
            {
                int row = b * T + first, n = T - first;
                stats.Add(target.AsSpan(row * d, n * d), reconstruction.AsSpan(row * d, n * d), features.AsSpan(row * s, n * s));
                for (int r = row; r < row + n; r++)
                {
                    var f = features.AsSpan(r * s, s);
                    for (int i = 0; i < s; i++)
                    {
                        if (f[i] == 0) continue;
                        featureSums[i] += f[i];
                        if (f[i] > 0) top.Add(i, tokens[r], f[i]);
                    }
                }
            }
            if (splice)
            {
                var zero = new float[x.Length];
                for (int b = 0; b < B && first > 0; b++)
                {
                    target.AsSpan(b * T * d, d).CopyTo(reconstruction.AsSpan(b * T * d));
                    target.AsSpan(b * T * d, d).CopyTo(zero.AsSpan(b * T * d));
                }
                var options = new RunOptions { Logits = LogitRows.All };
                ceClean += CrossEntropySum(clean.Logits, tokens, B, T);
                if (restart)
                {
                    using var spliced = model.ForwardFrom(hook, reconstruction, B, T, options);
                    ceSae += CrossEntropySum(spliced.Logits, tokens, B, T);
                    ceZero += CrossEntropySum(spliced.Rerun(zero).Logits, tokens, B, T);
                }
                else
                {
                    ceSae += Replaced(reconstruction);
                    ceZero += Replaced(zero);
                }
                // The model run with the written hook (a transcoder's output, an attention or MLP output) replaced by values.
                double Replaced(float[] values)
                {
                    using var replaced = model.Forward(tokens, B, options with { Rewrite = new HookReplacement(site.Written, values) });
                    return CrossEntropySum(replaced.Logits, tokens, B, T);
                }
                predictions += B * (T - 1);
            }
            progress?.Report(stats.Tokens);
            if (stats.Tokens >= maxTokens) break;
        }
        if (stats.Tokens == 0) throw new RelpSaeException("the data gives no full context to evaluate the SAE on");

        var metrics = stats.Result();
        double Mean(double sum) => predictions > 0 ? sum / predictions : double.NaN;
        var summaries = new FeatureSummaries(metrics.FeatureDensity,
            [.. Enumerable.Range(0, s).Select(i => (IReadOnlyList<TopToken>)[.. top.Top(i).Select(t => new TopToken(tokenText(t.Id), t.Value))])]);
        return new SaeModelReport(metrics, Mean(ceClean), Mean(ceSae), Mean(ceZero),
            [.. featureSums.Select(v => (float)(v / stats.Tokens))], summaries);
    }

    /// <summary>
    /// <see cref="Run"/> over a data set's contexts, packed as <paramref name="data"/> says, then the feature
    /// summaries and means the attribution reads written into <paramref name="saeDir"/>.
    /// </summary>
    public static SaeModelReport RunAndSave(ModelFolder model, SparseAutoencoder sae, HookPoint hook, SaeDataSettings data, long maxTokens,
        string saeDir, IProgress<long>? progress = null, CancellationToken cancellationToken = default) =>
        RunAndSave(model, new Site(sae, hook, hook, null), data, maxTokens, saeDir, progress, cancellationToken);

    /// <summary><see cref="RunAndSave(ModelFolder, SparseAutoencoder, HookPoint, SaeDataSettings, long, string, IProgress{long}?, CancellationToken)"/> for a transcoder.</summary>
    public static SaeModelReport RunAndSave(ModelFolder model, Transcoder transcoder, HookPoint input, HookPoint output, SaeDataSettings data, long maxTokens,
        string saeDir, IProgress<long>? progress = null, CancellationToken cancellationToken = default) =>
        RunAndSave(model, new Site(transcoder.Dictionary, input, output, transcoder), data, maxTokens, saeDir, progress, cancellationToken);

    private static SaeModelReport RunAndSave(ModelFolder model, Site site, SaeDataSettings data, long maxTokens,
        string saeDir, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var contexts = new ContextPacker(data.Packing).Pack(Documents.ReadTokens(data.DataPath, data.TextField, model.Tokenizer));
        var report = Run(model.Transformer, site, contexts, maxTokens, data.SkipBos, model.TokenText, 8, 4, progress, cancellationToken);
        report.Summaries.Save(saeDir);
        FeatureMeans.Save(saeDir, report.FeatureMeans);
        return report;
    }

    /// <summary>Σ over positions t &lt; T − 1 of −log softmax(logits[t])[token t + 1], logits [B × T × V].</summary>
    public static double CrossEntropySum(float[] logits, int[] tokens, int batch, int T)
    {
        int V = logits.Length / (batch * T);
        double sum = 0;
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < T - 1; t++)
            {
                var row = logits.AsSpan((b * T + t) * V, V);
                float max = TensorPrimitives.Max(row);
                double z = 0;
                foreach (float v in row) z += Math.Exp(v - max);
                sum += max + Math.Log(z) - row[tokens[b * T + t + 1]];
            }
        return sum;
    }
}
