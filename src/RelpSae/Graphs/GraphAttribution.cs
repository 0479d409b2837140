using System.Numerics.Tensors;
using RelpSae.Lrp;
using RelpSae.Model;
using RelpSae.Numerics;

namespace RelpSae.Graphs;

/// <summary>
/// The edges of an attribution graph: for each target (a logit, a feature) one backward pass seeded at its input (the
/// logit's demeaned direction at the final norm's output; the feature's encoder column at its transcoder's input hook),
/// with the MLPs cut, down to every hook_mlp_out and the embeddings; edge = source value · gradient there (a_s·W_dec[s]·g,
/// ε·g, embedding·g). Over residual-stream SAEs the pass runs through the MLPs and stops at each spliced hook_resid_post
/// below the target (<see cref="ResidualCut"/>), whose nodes are its sources; embeddings reach block 0's hook alone. Many targets share a pass: the prompt repeated in the batch, each sequence seeded by one target.
/// With fewer feature nodes kept than are active, features are visited as circuit-tracer does, most influential on the
/// logits first, the ranking renewed from the rows so far every few batches.
/// </summary>
public static class GraphAttribution
{
    /// <param name="sameFeaturesAs">A graph of the same setup whose feature nodes this one keeps (for comparing methods edge by edge); null: chosen by influence.</param>
    public static AttributionGraph Build(GraphSetup setup, PropagationRules rules, string method, Action<int>? progress = null, CancellationToken cancel = default,
        AttributionGraph? sameFeaturesAs = null)
    {
        if (rules.CutMlp == setup.ResidualSaes)
            throw new ArgumentException($"a graph over {(setup.ResidualSaes ? "residual-stream SAEs passes through" : "transcoders cuts")} the MLPs: parse its method with {nameof(GraphMethod)}.{nameof(GraphMethod.Parse)}", nameof(rules));
        int batch = Math.Min(SequencesPerPass(setup), Math.Max(1, setup.Targets));
        using var run = setup.Model.Forward(Repeated(setup.Tokens, batch), batch, new RunOptions { KeepForBackward = true, Logits = LogitRows.None });
        var record = new ComponentGradients(setup.Layers);
        var skips = Skips(setup);
        // Over residual-stream SAEs each spliced hook's nodes stand in for all below it: the pass stops there.
        var cut = setup.ResidualSaes ? new ResidualCut([.. setup.Set.Select(t => t.Layer)]) : null;
        var buffer = new float[(long)batch * Columns(setup)];
        return Visit(setup, method, batch, chunk =>
        {
            run.SeededBackward([.. chunk.Select((t, b) => Seed(setup, t, b))], rules, record, skips, cut);
            Contract(setup, record, chunk, buffer);
            return buffer;
        }, progress, cancel, sameFeaturesAs);
    }

    /// <summary>Sequences of the prompt one backward pass carries: <see cref="GraphOptions.BatchRows"/> rows, fewer where memory is short.</summary>
    internal static int SequencesPerPass(GraphSetup setup)
    {
        int T = setup.Tokens.Length;
        return Math.Max(1, Math.Min(setup.Options.BatchRows / T, SequencesThatFit(setup.Model.Facts, T, AvailableMemory.Bytes())));
    }

    /// <summary>The prompt <paramref name="copies"/> times over, one copy a sequence.</summary>
    internal static int[] Repeated(int[] tokens, int copies)
    {
        var repeated = new int[copies * tokens.Length];
        for (int b = 0; b < copies; b++) tokens.CopyTo(repeated, b * tokens.Length);
        return repeated;
    }

    internal static List<MlpSkip> Skips(GraphSetup setup) =>
        [.. setup.Set.Where(t => t.Transcoder.Skip is not null).Select(t => new MlpSkip(t.Layer, t.Input, t.Transcoder.Skip!))];

    /// <summary>Nodes in the full layout, every active feature a column: features, errors, embeddings, logits.</summary>
    internal static int Columns(GraphSetup setup) => LogitStart(setup) + setup.Logits.Tokens.Length;

    private static int LogitStart(GraphSetup setup) => setup.ActiveFeatures + (setup.Layers + 1) * setup.Tokens.Length;

    /// <summary>
    /// Every target's row of edges, the logits first, then the features in circuit-tracer's order; <paramref name="rowsOf"/>
    /// gives up to <paramref name="targetsPerPass"/> targets' rows at once, [targets × <see cref="Columns"/>] (read before
    /// its next call). <paramref name="progress"/> hears the targets done. With <paramref name="sameFeaturesAs"/>, its
    /// feature nodes are the ones visited.
    /// </summary>
    internal static AttributionGraph Visit(GraphSetup setup, string method, int targetsPerPass, Func<int[], float[]> rowsOf, Action<int>? progress,
        CancellationToken cancel, AttributionGraph? sameFeaturesAs)
    {
        int nFeat = setup.ActiveFeatures, nAll = Columns(setup), logitStart = LogitStart(setup);
        // Targets are numbered as nodes: features 0..nFeat-1, logits logitStart...
        var rows = new Dictionary<int, float[]>();
        int done = 0;
        void Attribute(IReadOnlyList<int> targets)
        {
            for (int i = 0; i < targets.Count; i += targetsPerPass)
            {
                cancel.ThrowIfCancellationRequested();
                var chunk = targets.Skip(i).Take(targetsPerPass).ToArray();
                var buffer = rowsOf(chunk);
                for (int b = 0; b < chunk.Length; b++) rows[chunk[b]] = buffer.AsSpan(b * nAll, nAll).ToArray();
                done += chunk.Length;
                progress?.Invoke(done);
            }
        }

        Attribute([.. Enumerable.Range(logitStart, setup.Logits.Tokens.Length)]);
        int kept = setup.KeptFeatures;
        if (sameFeaturesAs is not null) Attribute(FeaturesOf(setup, sameFeaturesAs));
        else if (kept == nFeat) Attribute([.. Enumerable.Range(0, nFeat)]);
        else
        {
            var visited = new bool[nFeat];
            int nVisited = 0;
            while (nVisited < kept)
            {
                var order = rows.Keys.ToArray();
                var influence = GraphInfluence.Partial([.. order.Select(k => rows[k])], order, setup.Logits.Probabilities, nAll, logitStart);
                int queue = Math.Min(setup.Options.UpdateInterval * targetsPerPass, kept - nVisited);
                var pending = Enumerable.Range(0, nFeat).Where(f => !visited[f]).OrderByDescending(f => influence[f]).ThenBy(f => f).Take(queue).ToArray();
                foreach (var f in pending) visited[f] = true;
                nVisited += pending.Length;
                Attribute(pending);
            }
        }
        return Assemble(setup, rows, method, nAll, logitStart);
    }

    /// <summary>The seed of target <paramref name="target"/> (numbered as in <see cref="Visit"/>) in sequence <paramref name="sequence"/> of a pass.</summary>
    internal static GradientSeed Seed(GraphSetup setup, int target, int sequence)
    {
        int T = setup.Tokens.Length, logitStart = LogitStart(setup);
        if (target >= logitStart)
            return new GradientSeed(sequence, new HookPoint(HookKind.LnFinal, setup.Layers), T - 1, setup.Logits.Directions[target - logitStart]);
        var transcoder = setup.Set[setup.FeatureLayer[target]];
        var dictionary = transcoder.Transcoder.Dictionary;
        int n = dictionary.DSae, i = setup.FeatureIndex[target];
        var column = new float[dictionary.DIn];
        for (int j = 0; j < column.Length; j++) column[j] = dictionary.WEnc[j * n + i];
        return new GradientSeed(sequence, transcoder.Input, setup.FeaturePosition[target], column);
    }

    /// <summary>
    /// Row b of <paramref name="buffer"/> [chunk × nAll] = the edges into target chunk[b], from the gradients the pass recorded:
    /// each (layer, position)'s features in one product, errors and embeddings by dot products. Sources at or above a feature
    /// target's layer are left at zero (the record holds an earlier pass's values there).
    /// </summary>
    internal static void Contract(GraphSetup setup, ComponentGradients record, int[] chunk, float[] buffer)
    {
        int L = setup.Layers, T = setup.Tokens.Length, d = setup.Model.Facts.DModel, c = chunk.Length, nAll = Columns(setup);
        int errStart = setup.ActiveFeatures, tokStart = errStart + L * T;
        Array.Clear(buffer, 0, c * nAll);
        int top = chunk.Max(t => t < errStart ? setup.FeatureLayer[t] : L);
        for (int l = 0; l < top; l++)
        {
            var g = record.MlpOut[l]!;
            for (int p = 0; p < T; p++)
            {
                int start = setup.BlockStart[l * T + p], k = setup.BlockStart[l * T + p + 1] - start;
                if (k > 0)
                    Gemm.Multiply(Matrix.Of(g.AsSpan(p * d), c, d, T * d), Matrix.Of(setup.ScaledDecoders.AsSpan(start * d, k * d), k, d).T,
                        Matrix.Into(buffer.AsSpan(start), c, k, nAll));
                var error = setup.Errors.AsSpan((l * T + p) * d, d);
                for (int b = 0; b < c; b++) buffer[b * nAll + errStart + l * T + p] = TensorPrimitives.Dot(error, g.AsSpan((b * T + p) * d, d));
            }
        }
        var g0 = record.ResidPre[0]!;
        for (int b = 0; b < c; b++)
        {
            for (int p = 0; p < T; p++)
                buffer[b * nAll + tokStart + p] = TensorPrimitives.Dot(setup.Embeddings.AsSpan(p * d, d), g0.AsSpan((b * T + p) * d, d));
            if (chunk[b] >= errStart) continue;
            int lt = setup.FeatureLayer[chunk[b]];
            buffer.AsSpan(b * nAll + setup.BlockStart[lt * T], errStart - setup.BlockStart[lt * T]).Clear();
            buffer.AsSpan(b * nAll + errStart + lt * T, (L - lt) * T).Clear();
        }
    }

    /// <summary>
    /// How many copies of a T-token prompt a pass kept for the backward can hold in a quarter of <paramref name="available"/>
    /// (the rest is for the graph's rows and the pruning's n × n matrices that follow):
    /// per row and block, about eight residual-wide and three MLP-wide vectors and a row of attention weights a head
    /// (a bound on what the families keep). Without it a 2048-row pass of Gemma-2 2B's shape keeps about 10 GB.
    /// </summary>
    internal static int SequencesThatFit(ModelFacts f, int T, long available)
    {
        long perRow = sizeof(float) * (long)f.NLayers * (8L * f.DModel + 3L * f.DMlp + (long)f.NHeads * T);
        return (int)Math.Clamp(available / 4 / (perRow * T), 1, int.MaxValue);
    }

    /// <summary>The setup's numbers of <paramref name="graph"/>'s feature nodes.</summary>
    private static int[] FeaturesOf(GraphSetup setup, AttributionGraph graph)
    {
        var wanted = graph.Nodes.Where(n => n.Kind == GraphNodeKind.Feature).Select(n => (n.Layer, n.Position, n.Index)).ToHashSet();
        var features = Enumerable.Range(0, setup.ActiveFeatures).Where(f => wanted.Contains((setup.FeatureLayer[f], setup.FeaturePosition[f], setup.FeatureIndex[f]))).ToArray();
        if (features.Length != wanted.Count) throw new ArgumentException($"the {graph.Method} graph has feature nodes this prompt's setup does not: it is not of the same setup");
        return features;
    }

    /// <summary>The graph of the kept features (circuit-tracer's column selection) with every row's bias from all its sources.</summary>
    private static AttributionGraph Assemble(GraphSetup setup, Dictionary<int, float[]> rows, string method, int nAll, int logitStart)
    {
        int L = setup.Layers, T = setup.Tokens.Length, nFeat = setup.ActiveFeatures, nLogits = setup.Logits.Tokens.Length;
        var selected = Enumerable.Range(0, nFeat).Where(rows.ContainsKey).ToArray();
        var nodes = new List<GraphNode>();
        foreach (var f in selected) nodes.Add(new GraphNode(GraphNodeKind.Feature, setup.FeatureLayer[f], setup.FeaturePosition[f], setup.FeatureIndex[f], setup.FeatureActivation[f]));
        for (int l = 0; l < L; l++)
            for (int p = 0; p < T; p++) nodes.Add(new GraphNode(GraphNodeKind.Error, l, p, -1));
        for (int p = 0; p < T; p++) nodes.Add(new GraphNode(GraphNodeKind.Embedding, -1, p, setup.Tokens[p]));
        for (int k = 0; k < nLogits; k++) nodes.Add(new GraphNode(GraphNodeKind.Logit, L, T - 1, setup.Logits.Tokens[k]));

        int n = nodes.Count;
        // Column of the full layout → column of the graph (−1: a feature not kept).
        var column = new int[nAll];
        Array.Fill(column, -1);
        for (int j = 0; j < selected.Length; j++) column[selected[j]] = j;
        for (int j = nFeat; j < nAll; j++) column[j] = j - nFeat + selected.Length;
        var adjacency = new float[(long)n * n];
        var bias = new double[n];
        var input = new double[n];
        foreach (var (target, row) in rows)
        {
            int t = column[target];
            input[t] = target >= logitStart ? setup.LogitInputs[target - logitStart] : setup.FeatureActivation[target];
            double sum = 0;
            for (int j = 0; j < nAll; j++)
            {
                sum += row[j];
                if (column[j] >= 0) adjacency[(long)t * n + column[j]] = row[j];
            }
            bias[t] = input[t] - sum;
        }
        return new AttributionGraph
        {
            Tokens = setup.Tokens, Layers = L, Nodes = nodes, Adjacency = adjacency, Bias = bias, Input = input,
            LogitProbabilities = setup.Logits.Probabilities, ActiveFeatures = nFeat, Method = method, ResidualSaes = setup.ResidualSaes,
        };
    }
}
