using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
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
        var prompt = new Option<string>("--prompt") { Description = "The prompt whose next-token logits the graph explains.", Required = true };
        var model = CliDefaults.ModelOption();
        var saes = new Option<string?>("--saes")
        {
            Description = "Transcoders, one per MLP: a folder of them (circuit-tracer's config.yaml beside layer_N.safetensors, or one SAELens transcoder folder per block) or a comma list. [default: the embedded transcoders]",
        };
        var method = new Option<string>("--method")
        {
            Description = "replacement (attention patterns and norm scales frozen: circuit-tracer's local replacement model), gradient (the exact gradient of the spliced model) or a RelP preset or rule list; the MLPs are cut in every one.",
            DefaultValueFactory = _ => GraphMethod.Replacement,
        };
        var nodeThreshold = new Option<double>("--node-threshold") { Description = "Keep the nodes that carry this share of the influence on the logits, in (0, 1].", DefaultValueFactory = _ => 0.8 };
        var edgeThreshold = new Option<double>("--edge-threshold") { Description = "Keep the edges that carry this share of the influence, in (0, 1].", DefaultValueFactory = _ => 0.98 };
        var maxFeatures = new Option<int>("--max-feature-nodes") { Description = "At most this many feature nodes, the most influential (circuit-tracer's default).", DefaultValueFactory = _ => 7500 };
        var slug = new Option<string>("--slug") { Description = "The graph's name in its metadata.", DefaultValueFactory = _ => "graph" };
        var bos = CliDefaults.PrependBosOption();
        var output = new Option<string>("--out") { Description = $"Folder for {GraphJson.FileName}.", Required = true };
        var json = JsonOutput.Option("a summary");
        var command = new Command("graph", "Attribution graph of a prompt over transcoder features, error nodes, token embeddings and the top logits, pruned, in circuit-tracer's graph.json.")
        {
            prompt, model, saes, method, nodeThreshold, edgeThreshold, maxFeatures, slug, bos, output, json,
        };
        command.SetAction((parse, cancel) =>
        {
            // Everything the user can get wrong is checked before the model runs.
            string methodName = parse.GetValue(method)!.Trim().ToLowerInvariant();
            var rules = GraphMethod.Parse(methodName);
            double nodes = parse.GetValue(nodeThreshold), edges = parse.GetValue(edgeThreshold);
            foreach (var (name, value) in new[] { ("--node-threshold", nodes), ("--edge-threshold", edges) })
                if (!(value > 0 && value <= 1)) throw new RelpSaeException($"{name} must lie in (0, 1], got {value}");
            int maxNodes = parse.GetValue(maxFeatures);
            if (maxNodes <= 0) throw new RelpSaeException($"--max-feature-nodes must be positive, got {maxNodes}");
            var outDir = parse.GetValue(output)!;
            if (CliDefaults.IsEmbedded(outDir)) throw new RelpSaeException($"--out: {outDir} is inside the tool's embedded models; choose another folder");
            string spec = parse.GetValue(saes) ?? (Directory.Exists(CliDefaults.EmbeddedTranscoders) ? CliDefaults.EmbeddedTranscoders
                : throw new RelpSaeException($"no transcoders: pass --saes DIR (the embedded default {CliDefaults.EmbeddedTranscoders} is missing)"));

            var clock = Stopwatch.StartNew();
            var bundle = ModelFolder.Load(CliDefaults.ExistingFolder(CliDefaults.ModelPath(parse.GetValue(model)), "--model"), holding: CliDefaults.Holding);
            var set = TranscoderSet.Load(spec, bundle.Facts);
            string text = parse.GetValue(prompt)!;
            var tokens = bundle.Encode(text, parse.GetValue(bos));
            var setup = GraphSetup.Create(bundle.Transformer, set, tokens, new GraphOptions { MaxFeatureNodes = maxNodes });
            var graph = ProgressDisplay.Run("graph", setup.Targets, "rows",
                update => GraphAttribution.Build(setup, rules, methodName, done => update(done, ""), cancel));
            var pruning = GraphPruning.Prune(graph, nodes, edges);
            var scores = GraphScores.Of(graph);
            var prunedScores = GraphScores.Of(graph, pruning.EdgeMask);
            Directory.CreateDirectory(outDir);
            var info = new GraphFileInfo(parse.GetValue(slug)!, Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(spec.Split(',')[0]))),
                [.. set.Select(t => Path.GetFullPath(t.Source))], text, Path.GetFullPath(bundle.Dir), nodes, edges, scores, prunedScores);
            GraphJson.Write(outDir, graph, pruning, info, bundle.TokenText);
            // VIEWER CALL SITE: GraphViewer.Write(outDir, …) writes index.html beside graph.json here (added with the viewer).
            Finish(graph, pruning, scores, prunedScores, Path.Combine(outDir, GraphJson.FileName), clock.Elapsed.TotalSeconds, JsonOutput.Target(parse, json),
                parse.InvocationConfiguration.Output);
            return Task.FromResult(0);
        });
        return command;
    }

    private static void Finish(AttributionGraph g, GraphPruning p, GraphScores scores, GraphScores pruned, string file, double seconds, string? jsonPath, TextWriter output)
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
        JsonOutput.Write(jsonPath, summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static JsonNode? Finite(double x) => double.IsFinite(x) ? x : null;
}
