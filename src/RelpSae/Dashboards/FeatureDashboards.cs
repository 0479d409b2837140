using RelpSae.Model;
using RelpSae.Sae;

namespace RelpSae.Dashboards;

/// <summary>
/// Feature dashboards (as SAEDashboard and Neuronpedia show them) for every feature of an SAE, collected in one
/// streaming pass over a data set's contexts: per feature a fixed-size heap of top contexts with their windows,
/// fixed-bin histograms and a count of firings, so memory does not grow with the data. Positions left out of the
/// SAE's training (the first, BOS, when <c>skipFirstPosition</c>) count nowhere and start no window.
/// </summary>
public sealed class FeatureDashboards
{
    private readonly TopContexts _top;
    private readonly ActivationHistograms _histograms;
    private readonly (OutputToken[] Top, OutputToken[] Bottom)[] _logits;

    private FeatureDashboards(int dSae, DashboardOptions options, TopContexts top, ActivationHistograms histograms,
        (OutputToken[], OutputToken[])[] logits, long tokens, long contexts, int contextLength)
    {
        (DSae, Options, _top, _histograms, _logits) = (dSae, options, top, histograms, logits);
        (Tokens, Contexts, ContextLength) = (tokens, contexts, contextLength);
    }

    public int DSae { get; }
    public DashboardOptions Options { get; }
    /// <summary>Positions the statistics cover.</summary>
    public long Tokens { get; }
    public long Contexts { get; }
    public int ContextLength { get; }

    /// <summary>The edges between the histogram's bins (log-spaced, 10 a decade from 1e-4 to 1e4); there is one bin more than edges.</summary>
    public static IReadOnlyList<double> HistogramEdges => ActivationHistograms.Edges;

    public FeatureDashboard Feature(int feature) => new(feature, (double)_histograms.NonZero(feature) / Tokens, _histograms.Counts(feature),
        _top.Top(feature), _logits[feature].Top, _logits[feature].Bottom);

    /// <summary>Features that never fired over the data.</summary>
    public int DeadFeatures => Enumerable.Range(0, DSae).Count(f => _histograms.NonZero(f) == 0);

    /// <param name="contexts">The data's contexts, all of one length, in order.</param>
    /// <param name="maxTokens">Stop after the first whole context that reaches this many positions.</param>
    /// <param name="progress">Positions covered so far.</param>
    public static FeatureDashboards Collect(ITransformer model, SparseAutoencoder sae, HookPoint hook, IEnumerable<int[]> contexts,
        long maxTokens, bool skipFirstPosition, DashboardOptions options, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        if (maxTokens <= 0) throw new SettingException(name => $"{name(Setting.TokenCount)} must be positive, got {maxTokens}");
        int s = sae.DSae, first = skipFirstPosition ? 1 : 0;
        TopContexts top = null!;
        var histograms = new ActivationHistograms(s);
        var logits = FeatureLogits.Of(model, sae, options.OutputTokens, cancellationToken);
        long tokens = 0, read = 0;
        int T = 0;
        float[] features = [];
        var batch = new List<int[]>(options.ContextsPerForward);

        void Flush()
        {
            cancellationToken.ThrowIfCancellationRequested();
            int B = batch.Count;
            var activation = model.ActivationAt(hook, batch.SelectMany(c => c).ToArray(), B);
            for (int b = 0; b < B; b++, read++)
            {
                sae.Encode(activation.AsSpan(b * T * sae.DIn, T * sae.DIn), features);
                for (int t = first; t < T; t++)
                {
                    var row = features.AsSpan(t * s, s);
                    for (int f = 0; f < s; f++)
                    {
                        float v = row[f];
                        if (v == 0) continue;
                        histograms.Add(f, v);
                        if (v > 0) top.Offer(f, v, read, t, batch[b], features, first);
                    }
                }
            }
            tokens += (long)B * (T - first);
            batch.Clear();
            progress?.Report(tokens);
        }

        foreach (var context in contexts)
        {
            if (T == 0)
            {
                T = context.Length;
                if (T <= first) throw new RelpSaeException($"a context of {T} tokens leaves no position after the skipped first one");
                if (model.Facts.Width(hook, T) != sae.DIn) throw new RelpSaeException($"the SAE's d_in is {sae.DIn} but {hook} has width {model.Facts.Width(hook, T)}");
                features = new float[(long)T * s];
                // A window wider than the context is the context: memory follows it rather than the setting.
                top = new TopContexts(s, options with { WindowBefore = Math.Min(options.WindowBefore, T - 1), WindowAfter = Math.Min(options.WindowAfter, T - 1) });
            }
            if (context.Length != T) throw new RelpSaeException($"a context of {context.Length} tokens where {T} were expected");
            batch.Add(context);
            long needed = (maxTokens - tokens + T - first - 1) / (T - first);
            if (batch.Count >= Math.Min(options.ContextsPerForward, needed)) Flush();
            if (tokens >= maxTokens) break;
        }
        if (batch.Count > 0) Flush();
        if (tokens == 0) throw new RelpSaeException("the data gives no full context to collect feature dashboards on");
        return new FeatureDashboards(s, options, top, histograms, logits, tokens, read, T);
    }
}
