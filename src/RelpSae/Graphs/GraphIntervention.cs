using System.Numerics.Tensors;
using System.Text.Json.Nodes;
using RelpSae.Formats;
using RelpSae.Interventions;
using RelpSae.Model;
using RelpSae.Numerics;
using RelpSae.Sae;

namespace RelpSae.Graphs;

/// <summary>One logit clean and under an intervention; the changes are of its demeaned value (logit − mean logit), what the graph's logit nodes read.</summary>
public sealed record InterventionLogit(int Token, bool InGraph, float CleanLogit, float IntervenedLogit, float CleanProbability, float IntervenedProbability,
    double MeasuredChange, double? PredictedChange);

/// <summary>
/// Feature interventions recorded beside the graph of the clean prompt: the model run with them in force (the transcoders'
/// features changed at their output hooks, every error node held there, as generate and attribute run it), each graph
/// feature's activation under them (its transcoder's encoding of its input in that pass, then the intervention's own edit),
/// the graph's logits and the intervened run's most probable ones, clean and intervened, and for ablations and clamps the
/// linear graph's prediction of each graph logit's change (<see cref="GraphPrediction"/>). Steering adds a decoder direction
/// where no node may be active: it is measured only. A change the graph has no node for (a feature active at a position
/// where it is not a node, the BOS position, one past the feature-node limit, or clamped where it is inactive) is listed in
/// <see cref="OutsideGraph"/>, and the prediction leaves it out.
/// </summary>
public sealed class GraphIntervention
{
    /// <summary>How many of the intervened run's most probable tokens are recorded besides the graph's logits.</summary>
    public const int TopIntervened = 5;

    private GraphIntervention() { }

    public required IReadOnlyList<FeatureIntervention> Edits { get; init; }
    /// <summary>Each graph node's activation under the intervention (features; NaN for the other kinds).</summary>
    public required float[] IntervenedActivation { get; init; }
    public required IReadOnlyList<InterventionLogit> Logits { get; init; }
    /// <summary>Whether a prediction was made: every edit an ablation or a clamp.</summary>
    public bool Predicted => Edits.All(e => e.Target is not null);
    public required IReadOnlyList<string> OutsideGraph { get; init; }

    /// <summary>The interventions checked against the graph's dictionaries (each named by its output hook, as generate and attribute name it).</summary>
    public static FeatureInterventions Check(IReadOnlyList<FeatureIntervention> edits, IReadOnlyList<HookedTranscoder> set, ModelFacts facts) =>
        new(edits, [.. set.Select(FeatureDictionary.Of)], facts);

    public static GraphIntervention Measure(GraphSetup setup, AttributionGraph graph, FeatureInterventions interventions)
    {
        int n = graph.Count, T = setup.Tokens.Length;
        var nodeOf = new Dictionary<(int Layer, int Position, int Index), int>();
        for (int i = 0; i < graph.FeatureCount; i++) nodeOf[(graph.Nodes[i].Layer, graph.Nodes[i].Position, graph.Nodes[i].Index)] = i;
        var edited = interventions.InForce.ToLookup(e => setup.Model.Facts.ParseHook(e.Hook));

        // The clean pass: each edited feature's value at every position, to tell the changes the graph holds from those it does not.
        var outside = new List<string>();
        var changed = new Dictionary<int, double>();
        var cleanLogits = Pass(setup, null, (layer, features) =>
        {
            var t = setup.Set.First(s => s.Layer == layer);
            foreach (var e in edited[t.Output])
                for (int p = 0; p < T; p++)
                {
                    float clean = features[p * t.Transcoder.DSae + e.Feature];
                    if (e.Target is not { } target || target == clean) continue;
                    if (nodeOf.TryGetValue((layer, p, e.Feature), out int node)) changed[node] = target;
                    else outside.Add($"{e} at position {p}: {clean:G4} → {target:G4}, no node of the graph");
                }
        });
        var intervened = new float[n];
        Array.Fill(intervened, float.NaN);
        var intervenedLogits = Pass(setup, interventions, (layer, features) =>
        {
            int dSae = setup.Set.First(s => s.Layer == layer).Transcoder.DSae;
            for (int i = 0; i < graph.FeatureCount; i++)
                if (graph.Nodes[i].Layer == layer) intervened[i] = features[graph.Nodes[i].Position * dSae + graph.Nodes[i].Index];
        });

        bool predicted = interventions.InForce.All(e => e.Target is not null);
        var prediction = predicted ? GraphPrediction.LogitChanges(graph, changed) : null;
        var graphTokens = graph.Nodes.Skip(graph.LogitStart).Select(node => node.Index).ToArray();
        var (pClean, pIntervened) = (Probabilities(cleanLogits), Probabilities(intervenedLogits));
        var top = Enumerable.Range(0, pIntervened.Length).OrderByDescending(v => pIntervened[v]).ThenBy(v => v).Take(TopIntervened);
        double meanClean = TensorPrimitives.Sum(cleanLogits) / (double)cleanLogits.Length, meanIntervened = TensorPrimitives.Sum(intervenedLogits) / (double)intervenedLogits.Length;
        var logits = graphTokens.Concat(top.Except(graphTokens)).Select(v =>
        {
            int k = Array.IndexOf(graphTokens, v);
            return new InterventionLogit(v, k >= 0, cleanLogits[v], intervenedLogits[v], pClean[v], pIntervened[v],
                (intervenedLogits[v] - meanIntervened) - (cleanLogits[v] - meanClean), k >= 0 ? prediction?[k] : null);
        }).ToList();
        return new GraphIntervention { Edits = interventions.InForce, IntervenedActivation = intervened, Logits = logits, OutsideGraph = outside };
    }

    /// <summary>
    /// One pass of the prompt (under <paramref name="interventions"/> when given): each transcoder's features [tokens × d_sae]
    /// encoded from its input and changed by the interventions at its output, handed to <paramref name="use"/> a layer at a
    /// time; the last position's logits returned.
    /// </summary>
    private static float[] Pass(GraphSetup setup, FeatureInterventions? interventions, Action<int, float[]> use)
    {
        var inputs = setup.Set.Select(t => t.Input).Distinct().ToArray();
        using var run = setup.Model.Forward(setup.Tokens, 1, new RunOptions { Rewrite = interventions, Cache = inputs, Logits = LogitRows.Last });
        foreach (var t in setup.Set)
        {
            var features = t.Transcoder.Dictionary.Encode(run.Cached(t.Input));
            interventions?.At(t.Output)?.Invoke(new float[setup.Tokens.Length * t.Transcoder.Dictionary.DIn], features);
            use(t.Layer, features);
        }
        return run.Logits.AsSpan(0, setup.Model.Facts.VocabSize).ToArray();
    }

    private static float[] Probabilities(float[] logits)
    {
        var p = new float[logits.Length];
        Softmax.Apply(logits, p);
        return p;
    }

    /// <summary>
    /// Adds the record to the graph file written in <paramref name="folder"/> (<see cref="GraphJson"/>): a top-level
    /// "intervention" and each feature node's "intervened_activation".
    /// </summary>
    public void Write(string folder, AttributionGraph graph, Func<int, string> tokenText)
    {
        string path = Path.Combine(folder, GraphJson.FileName);
        var file = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var byId = new Dictionary<string, float>();
        for (int i = 0; i < graph.FeatureCount; i++) byId[GraphJson.NodeId(graph.Nodes[i])] = IntervenedActivation[i];
        foreach (var node in file["nodes"]!.AsArray())
            if (byId.TryGetValue((string)node!["node_id"]!, out var value)) node["intervened_activation"] = float.IsFinite(value) ? value : null;
        file["intervention"] = ToJson(tokenText);
        AtomicFile.WriteText(path, file.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>The record as graph.json's `intervention` (and the --json summary) hold it: the edits, the prediction made, the logits.</summary>
    public JsonObject ToJson(Func<int, string> tokenText) =>
        new JsonObject
        {
            ["edits"] = new JsonArray([.. Edits.Select(e => (JsonNode)new JsonObject
            {
                ["kind"] = e.Kind.ToString().ToLowerInvariant(), ["hook"] = e.Hook, ["feature"] = e.Feature, ["value"] = e.Target ?? e.Value,
            })]),
            ["predicted"] = Predicted,
            ["prediction"] = Predicted
                ? "the linear graph's change of each graph logit's demeaned value: Σ over the changed nodes of (new − activation)/activation × the node's path sum onto the logit"
                : "none: steering adds a decoder direction, not a node's change; the changes are measured only",
            ["outside_graph"] = new JsonArray([.. OutsideGraph.Select(s => (JsonNode)s)]),
            ["logits"] = new JsonArray([.. Logits.Select(l => (JsonNode)new JsonObject
            {
                ["token"] = l.Token, ["token_str"] = GraphJson.ProcessToken(tokenText(l.Token)), ["in_graph"] = l.InGraph,
                ["clean_logit"] = l.CleanLogit, ["intervened_logit"] = l.IntervenedLogit,
                ["clean_prob"] = l.CleanProbability, ["intervened_prob"] = l.IntervenedProbability,
                ["measured_delta"] = Finite(l.MeasuredChange), ["predicted_delta"] = l.PredictedChange is { } p ? Finite(p) : null,
            })]),
        };

    /// <summary>What a report says of the record: the edits, then each logit clean → intervened with its changes.</summary>
    public IEnumerable<string> Lines(Func<int, string> tokenText)
    {
        yield return $"intervention {string.Join(", ", Edits)}: the graph is of the clean prompt; logits clean → intervened (Δ of logit − mean logit"
            + (Predicted ? ", measured and as the graph predicts):" : ", measured; steering is no node change, so nothing is predicted):");
        foreach (var l in Logits)
            yield return $"  {$"\"{GraphJson.ProcessToken(tokenText(l.Token))}\"",-14} p {l.CleanProbability:F3} → {l.IntervenedProbability:F3}  "
                + $"logit {l.CleanLogit:F3} → {l.IntervenedLogit:F3}  Δ {l.MeasuredChange:+0.000;-0.000}"
                + (l.PredictedChange is { } p ? $" (predicted {p:+0.000;-0.000})" : "");
        if (OutsideGraph.Count > 0)
            yield return $"  {OutsideGraph.Count} change(s) have no node in the graph, left out of the prediction: {string.Join("; ", OutsideGraph.Take(3))}"
                + (OutsideGraph.Count > 3 ? "; …" : "");
    }

    private static JsonNode? Finite(double x) => double.IsFinite(x) ? x : null;
}
