using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using RelpSae.Attribution;
using RelpSae.Graphs;
using RelpSae.Model;
using RelpSae.Sae;

namespace RelpSae.Cli.Commands;

/// <summary>
/// <c>relp-sae graph</c>: the prompt's attribution graph over transcoder features (circuit-tracer's local replacement
/// model by default), pruned as circuit-tracer prunes, written to <c>--out</c>/graph.json in circuit-tracer's schema.
/// </summary>
public static class GraphCommand
{
    public static Command Create()
    {
        var prompt = new Option<string?>("--prompt") { Description = "The prompt whose next-token logits the graph explains." };
        var promptIds = new Option<string?>("--prompt-ids") { Description = "The prompt as comma-separated token ids (for a model whose tokenizer is not at hand)." };
        var model = CliDefaults.ModelOption();
        var saes = GraphCliOptions.Transcoders();
        var method = new Option<string>("--method")
        {
            Description = "replacement (attention patterns and norm scales frozen: circuit-tracer's local replacement model; over residual-stream SAEs the MLPs' gates too), gradient (the exact gradient of the spliced model), ig (integrated gradients: the exact gradient averaged along the path that moves every MLP output's nodes from zero to their values; transcoders only) or a RelP preset or rule list; over transcoders the MLPs are cut in every one.",
            DefaultValueFactory = _ => GraphMethod.Replacement,
        };
        var nodeThreshold = GraphCliOptions.NodeThreshold();
        var edgeThreshold = GraphCliOptions.EdgeThreshold();
        var maxFeatures = GraphCliOptions.MaxFeatureNodes();
        var methods = GraphCliOptions.Methods("Methods whose edge weights are measured against patching: each kept edge's true direct effect (attention and norms live, every other node held) beside its weight under each, "
            + "and whose graphs' faithfulness curves are measured, in results.json; none to skip.");
        var igSteps = new Option<int>("--ig-steps")
        {
            Description = $"Integrated-gradients steps of ig (midpoint rule, at most {IntegratedGradients.MaxSteps}); each costs a gradient graph's backward passes.",
            DefaultValueFactory = _ => 16,
        };
        var slug = new Option<string>("--slug") { Description = "The graph's name in its metadata.", DefaultValueFactory = _ => "graph" };
        var bos = CliDefaults.PrependBosOption();
        var output = new Option<string>("--out") { Description = $"Folder for {GraphJson.FileName}.", Required = true };
        var json = JsonOutput.Option("a summary");
        var command = new Command("graph", "Attribution graph of a prompt over transcoder (or residual-stream SAE) features, error nodes, token embeddings and the top logits, pruned, in circuit-tracer's graph.json.")
        {
            prompt, promptIds, model, saes, method, nodeThreshold, edgeThreshold, maxFeatures, methods, igSteps, slug, bos, output, json,
        };
        var changes = new InterventionOptions();
        foreach (var option in changes.All) command.Options.Add(option);
        command.SetAction((parse, cancel) =>
        {
            // Everything the user can get wrong is checked before the model runs.
            string? text = parse.GetValue(prompt), ids = parse.GetValue(promptIds);
            if ((text is null) == (ids is null)) throw new RelpSaeException("give the prompt as --prompt TEXT or --prompt-ids IDS (one of them)");
            var edits = changes.Parse(parse);
            string methodName = parse.GetValue(method)!.Trim().ToLowerInvariant();
            GraphMethod.Parse(methodName);
            var compared = GraphCliOptions.MeasuredMethods(parse.GetValue(methods)!, methodName);
            int steps = IntegratedGradients.CheckedSteps(parse.GetValue(igSteps));
            double nodes = parse.GetValue(nodeThreshold), edges = parse.GetValue(edgeThreshold);
            int maxNodes = parse.GetValue(maxFeatures);
            GraphCliOptions.Check(nodes, edges, maxNodes);
            var outDir = parse.GetValue(output)!;
            if (CliDefaults.IsEmbedded(outDir)) throw new RelpSaeException($"--out: {outDir} is inside the tool's embedded models; choose another folder");
            string spec = GraphCliOptions.TranscoderSpec(parse.GetValue(saes));

            var clock = Stopwatch.StartNew();
            var bundle = ModelFolder.Load(CliDefaults.ExistingFolder(CliDefaults.ModelPath(parse.GetValue(model)), "--model"), holding: CliDefaults.Holding);
            var set = GraphDictionaries.Load(spec, bundle.Facts);
            var interventions = edits.Count > 0 ? GraphIntervention.Check(edits, set, bundle.Facts) : null;
            var tokens = text is not null ? bundle.Encode(text, parse.GetValue(bos)) : CliParsing.TokenIds(ids!, bundle.Facts.VocabSize);
            text ??= string.Concat(tokens.Select(bundle.TokenText));
            var setup = GraphSetup.Create(bundle.Transformer, set, tokens, new GraphOptions { MaxFeatureNodes = maxNodes });
            var evaluation = GraphEvaluation.Run(setup, methodName, compared, nodes, edges, GraphFaithfulness.DefaultThresholds,
                (m, sameFeaturesAs) => Build(setup, m, steps, m == methodName ? "graph" : $"graph ({m})", cancel, sameFeaturesAs));
            var (graph, pruning, scores, prunedScores, measured) = (evaluation.Graph, evaluation.Pruning, evaluation.Scores, evaluation.PrunedScores, evaluation.Measured);
            Directory.CreateDirectory(outDir);
            var info = new GraphFileInfo(parse.GetValue(slug)!, Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(spec.Split(',')[0]))),
                [.. set.Select(t => Path.GetFullPath(t.Source))], text, Path.GetFullPath(bundle.Dir), nodes, edges, scores, prunedScores);
            GraphJson.Write(outDir, graph, pruning, info, bundle.TokenText, measured is null ? null : measured.Truth, FeatureDashboards(set));
            var recorded = interventions is null ? null : GraphIntervention.Measure(setup, graph, interventions);
            recorded?.Write(outDir, graph, bundle.TokenText);
            GraphViewer.Write(outDir, File.ReadAllText(Path.Combine(outDir, GraphJson.FileName)));
            string? results = measured?.Write(Path.Combine(outDir, MeasuredEdges.FileName), text, methodName, evaluation.Faithfulness);
            Finish(graph, pruning, scores, prunedScores, Path.Combine(outDir, GraphJson.FileName), clock.Elapsed.TotalSeconds, JsonOutput.Target(parse, json),
                parse.InvocationConfiguration.Output, recorded?.ToJson(bundle.TokenText));
            foreach (var line in recorded?.Lines(bundle.TokenText) ?? []) parse.InvocationConfiguration.Output.WriteLine(line);
            if (measured is not null) Report(results!, measured.Agreement, evaluation.Faithfulness, parse.InvocationConfiguration.Output);
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>The graph under one method, its progress in backward rows (ig's steps a target, named in the title).</summary>
    private static AttributionGraph Build(GraphSetup setup, string method, int igSteps, string title, CancellationToken cancel, AttributionGraph? sameFeaturesAs = null)
    {
        int rows = GraphMethod.RowsPerTarget(method, igSteps);
        return ProgressDisplay.Run(rows > 1 ? $"{title} ({rows} steps a target)" : title, (double)setup.Targets * rows, "rows",
            update => GraphMethod.Build(setup, method, igSteps, done => update(done, ""), cancel, sameFeaturesAs));
    }

    /// <summary>Each transcoder folder's feature dashboards (features.json beside it), for the viewer; none where a folder has none.</summary>
    private static Func<GraphNode, string?> FeatureDashboards(IReadOnlyList<HookedTranscoder> set)
    {
        var byLayer = set.ToDictionary(t => t.Layer, t => Directory.Exists(t.Source) ? RelpSae.Dashboards.DashboardFile.Entries(t.Source, t.Transcoder.DSae) : null);
        return node => node.Kind == GraphNodeKind.Feature && byLayer.GetValueOrDefault(node.Layer) is { } entries ? entries[node.Index] : null;
    }

    /// <summary>A line per method: its edges' agreement with their true direct effects; then one per method: its faithfulness curve.</summary>
    private static void Report(string path, EdgeAgreement agreement, IReadOnlyList<GraphFaithfulness> curves, TextWriter output)
    {
        output.WriteLine($"{agreement.Edges} kept edges measured against patching (attention and norms live, every other node held):");
        foreach (var m in agreement.Methods)
        {
            var all = m.ByType[0].Statistics;
            output.WriteLine($"  {m.Method,-12} pearson {all.Pearson.Value:F3} [{all.Pearson.Low:F3}, {all.Pearson.High:F3}]  spearman {all.Spearman.Value:F3}  "
                + $"sign {all.SignAgreement.Value:F3}  relative error {all.RelativeError.Value:F3}");
        }
        GraphFaithfulnessLine.Write(output, "faithfulness", curves);
        output.WriteLine($"written to {path}");
    }

    private static void Finish(AttributionGraph g, GraphPruning p, GraphScores scores, GraphScores pruned, string file, double seconds, string? jsonPath, TextWriter output,
        JsonObject? intervention)
    {
        output.WriteLine($"graph of {g.Count} nodes ({g.FeatureCount} features of {g.ActiveFeatures} active, {g.Layers * g.Tokens.Length} error nodes, "
            + $"{g.Tokens.Length} embeddings, {g.LogitCount} logits); pruned to {p.Nodes} nodes and {p.Edges} edges");
        output.WriteLine($"replacement score {scores.Replacement:F3}, completeness {scores.Completeness:F3} (pruned: {pruned.Replacement:F3}, {pruned.Completeness:F3}); "
            + $"{seconds:F1} s; written to {file}");
        if (jsonPath is null) return;
        var summary = new JsonObject
        {
            ["file"] = Path.GetFullPath(file), ["method"] = g.Method, ["tokens"] = g.Tokens.Length, ["nodes"] = g.Count, ["features"] = g.FeatureCount,
            ["active_features"] = g.ActiveFeatures, ["logits"] = new JsonArray([.. g.Nodes.Skip(g.LogitStart).Select(n => (JsonNode)n.Index)]),
            ["nodes_kept"] = p.Nodes, ["edges_kept"] = p.Edges,
            ["replacement_score"] = Finite(scores.Replacement), ["completeness_score"] = Finite(scores.Completeness),
            ["pruned_replacement_score"] = Finite(pruned.Replacement), ["pruned_completeness_score"] = Finite(pruned.Completeness), ["seconds"] = seconds,
        };
        if (intervention is not null) summary["intervention"] = intervention;
        JsonOutput.Write(jsonPath, summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static JsonNode? Finite(double x) => double.IsFinite(x) ? x : null;
}
