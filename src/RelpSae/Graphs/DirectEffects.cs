using RelpSae.Attribution;
using RelpSae.Model;

namespace RelpSae.Graphs;

/// <summary>
/// The ground truth for an attribution graph's edges: the true direct effect of a source on a target is the target's
/// value in the clean run minus its value in the real model (attention and norms live) with the source's vector removed
/// and every feature and error node's output held at its clean value — every layer's MLP output patched to what it was
/// (with a skip connection, its linear path kept live) — so that no path runs through another node. For a linear model
/// this is the edge a_s·∂t/∂a_s; removing a small fraction (<c>scale</c>) of the source measures that slope. Sources go
/// one to a sequence, many sequences to a forward pass.
/// </summary>
public static class DirectEffects
{
    /// <summary>Rows (sequences × tokens) per pass: wide enough for the products to run near the FMA peak, few enough to keep a pass's activations small.</summary>
    public const int RowsPerPass = 1024;

    /// <summary>The most vocabulary-wide logit values a pass may hold (256 MB): a large vocabulary gets fewer sequences a pass.</summary>
    public const long LogitValuesPerPass = 1L << 26;

    /// <summary>
    /// The true direct effects [sources × targets] of <paramref name="sources"/> on <paramref name="targets"/> in the prompt
    /// <paramref name="tokens"/>, with <paramref name="splices"/> (one per layer, in layer order, from that prompt: see
    /// <see cref="TranscoderSplice.All"/>) defining the nodes; <paramref name="scale"/> of each source is removed;
    /// <paramref name="sequencesPerPass"/> (0: as <see cref="RowsPerPass"/> and <see cref="LogitValuesPerPass"/> allow)
    /// bounds a pass.
    /// </summary>
    public static DirectEffectMatrix Measure(ITransformer model, int[] tokens, IReadOnlyList<TranscoderSplice> splices,
        IReadOnlyList<EdgeSource> sources, IReadOnlyList<EdgeTarget> targets, float scale = 1, int sequencesPerPass = 0)
    {
        var facts = model.Facts;
        int T = tokens.Length, d = facts.DModel, L = facts.NLayers;
        if (!float.IsFinite(scale)) throw new ArgumentOutOfRangeException(nameof(scale), "the fraction of a source removed must be finite");
        if (sequencesPerPass < 0) throw new ArgumentOutOfRangeException(nameof(sequencesPerPass), "sequences per pass must not be negative");
        CheckSplices(facts, splices, T);
        var readout = new TargetReadout(facts, splices, targets, T);
        var (hooks, rows, vectors) = SourceVectors(model, tokens, splices, sources);
        var rewrite = new HeldNodes(splices, readout, hooks, rows, vectors, scale, d);

        // The clean run with every node held at its own value: each target's clean value, and each block's input, where
        // a pass whose sources all sit at or after that block starts (every sequence is the clean prompt up to there).
        var blockInputs = Enumerable.Range(0, L).Select(l => new HookPoint(HookKind.ResidPre, l)).ToArray();
        double[] clean;
        float[][] cleanInputs;
        rewrite.Begin([-1], null);
        using (var run = model.Forward(tokens, 1, new RunOptions { Logits = readout.Rows, Rewrite = rewrite, Cache = blockInputs }))
        {
            readout.ReadLogits(run, rewrite.Values);
            clean = rewrite.Values;
            cleanInputs = [.. blockInputs.Select(run.Cached)];
        }

        var effects = new double[(long)sources.Count * targets.Count];
        var order = Enumerable.Range(0, sources.Count).OrderBy(s => sources[s].FirstBlock).ToArray();
        int perPass = SequencesPerPass(sources.Count, T, readout, sequencesPerPass);
        for (int first = 0; first < order.Length; first += perPass)
        {
            var chunk = order[first..Math.Min(order.Length, first + perPass)];
            int batch = chunk.Length, start = sources[chunk[0]].FirstBlock;
            rewrite.Begin(chunk, clean);
            using var run = start == 0
                ? model.Forward(Repeat(tokens, batch), batch, new RunOptions { Logits = readout.Rows, Rewrite = rewrite })
                : model.ForwardFrom(blockInputs[start], Repeat(cleanInputs[start], batch), batch, T, new RunOptions { Logits = readout.Rows, Rewrite = rewrite });
            readout.ReadLogits(run, rewrite.Values);
            for (int b = 0; b < batch; b++)
                for (int t = 0; t < targets.Count; t++)
                    effects[(long)chunk[b] * targets.Count + t] = clean[t] - rewrite.Values[b * targets.Count + t];
        }
        return new DirectEffectMatrix(sources, targets, scale, clean, effects);
    }

    private static void CheckSplices(ModelFacts facts, IReadOnlyList<TranscoderSplice> splices, int tokens)
    {
        if (splices.Count != facts.NLayers)
            throw new RelpSaeException($"direct effects need a transcoder at every layer: {splices.Count} given for a model of {facts.NLayers} layers");
        for (int l = 0; l < splices.Count; l++)
        {
            if (splices[l].OutputHook.Layer != l)
                throw new RelpSaeException($"the transcoder given for layer {l} writes {splices[l].OutputHook}: give one per layer, in layer order");
            if (splices[l].Tokens != tokens)
                throw new RelpSaeException($"layer {l}'s transcoder was spliced for {splices[l].Tokens} tokens, not this prompt's {tokens}");
        }
    }

    /// <summary>Each source's hook, position and vector [sources × d] (scaled by nothing: the rewrite scales it).</summary>
    private static (HookPoint[] Hooks, int[] Rows, float[] Vectors) SourceVectors(ITransformer model, int[] tokens, IReadOnlyList<TranscoderSplice> splices,
        IReadOnlyList<EdgeSource> sources)
    {
        int T = tokens.Length, d = model.Facts.DModel;
        var embed = new HookPoint(HookKind.Embed, -1);
        float[] embedding = sources.Any(s => s.Kind == SourceKind.Token) ? model.ActivationAt(embed, tokens, 1) : [];
        var hooks = new HookPoint[sources.Count];
        var rows = new int[sources.Count];
        var vectors = new float[(long)sources.Count * d];
        for (int s = 0; s < sources.Count; s++)
        {
            var source = sources[s];
            if (source.Position < 0 || source.Position >= T)
                throw new RelpSaeException($"source {source} is at position {source.Position}, outside the prompt's {T} tokens");
            if (source.Kind != SourceKind.Token && (source.Layer < 0 || source.Layer >= splices.Count))
                throw new RelpSaeException($"source {source} is at layer {source.Layer}; the model has layers 0..{splices.Count - 1}");
            rows[s] = source.Position;
            var into = vectors.AsSpan(s * d, d);
            int at = source.Position * d;
            switch (source.Kind)
            {
                case SourceKind.Token:
                    hooks[s] = embed;
                    embedding.AsSpan(at, d).CopyTo(into);
                    break;
                case SourceKind.Error:
                    hooks[s] = splices[source.Layer].OutputHook;
                    splices[source.Layer].Error.AsSpan(at, d).CopyTo(into);
                    break;
                default:
                    var splice = splices[source.Layer];
                    var sae = splice.Transcoder.Dictionary;
                    if (source.Feature < 0 || source.Feature >= sae.DSae)
                        throw new RelpSaeException($"source {source} names feature {source.Feature}; layer {source.Layer}'s transcoder has features 0..{sae.DSae - 1}");
                    hooks[s] = splice.OutputHook;
                    sae.AddFeatureContribution(source.Feature, splice.Features[(long)source.Position * sae.DSae + source.Feature], into);
                    break;
            }
        }
        return (hooks, rows, vectors);
    }

    /// <summary>As many sequences a pass as the row and logit budgets allow, split evenly so every pass has one shape.</summary>
    private static int SequencesPerPass(int sources, int tokens, TargetReadout readout, int asked)
    {
        long logits = readout.LogitValuesPerSequence(tokens);
        int most = asked > 0 ? asked : (int)Math.Max(1, Math.Min(RowsPerPass / tokens, logits == 0 ? long.MaxValue : LogitValuesPerPass / logits));
        int passes = Math.Max(1, (sources + most - 1) / most);
        return Math.Max(1, (sources + passes - 1) / passes);
    }

    private static T[] Repeat<T>(T[] one, int times)
    {
        var all = new T[(long)one.Length * times];
        for (int i = 0; i < times; i++) one.CopyTo(all, (long)i * one.Length);
        return all;
    }
}
