using System.Text.Json;
using RelpSae.Attribution;
using RelpSae.Interventions;
using RelpSae.Model;
using RelpSae.Prompts;
using RelpSae.Reports;
using RelpSae.Sae;
using Spectre.Console;

namespace RelpSae.Cli.Commands;

/// <summary>
/// <c>relp-sae attribute --saes ...</c>: the prompt's circuit — every method's top nodes across all
/// spliced SAEs (hook, feature or error node, score, the feature's top tokens), printed, as JSON and as
/// a Graphviz DOT view of the first method's top nodes per layer; of the model with feature interventions (--steer,
/// --clamp, --ablate at the dictionaries' hooks) in force when given.
/// </summary>
internal static class AttributeCircuit
{
    public sealed record Request(ModelFolder Bundle, string Saes, bool PerPosition, PromptCase Case, string? Baseline, string? Metric,
        bool Bos, int Position, bool Truncate, IReadOnlyList<IAttributionMethod> Methods, int Top, string? Json, string? Dot,
        IReadOnlyList<FeatureIntervention> Interventions);

    public static int Run(Request r)
    {
        var bundle = r.Bundle;
        var saes = SaeSet.Load(r.Saes, bundle.Facts);
        var kind = CliParsing.Baseline(r.Baseline);
        var means = kind == BaselineKind.Mean ? saes.Select(s => CliDefaults.FeatureMeansOf(s.Folder)).ToList() : null;
        var changes = r.Interventions.Count > 0 ? new FeatureInterventions(r.Interventions, [.. saes.Select(FeatureDictionary.Of)], bundle.Facts) : null;
        var resolver = new PromptResolver(bundle.Transformer, bundle.Tokenizer, CliParsing.Metric(r.Metric), kind, means?[0], r.Bos, r.Position, r.Truncate, changes);
        var request = resolver.Resolve(r.Case);
        var splices = MultiSaeSplice.Create(bundle.Transformer, saes, request.Tokens, request.Baseline, means, changes);
        var nodes = new CircuitNodes(saes, request.Tokens.Length, r.PerPosition);
        // Each method runs once on the last token alone first, so the times shown are the methods' and not the JIT compiler's.
        var warm = MultiSaeSplice.Create(bundle.Transformer, saes, request.Tokens[^1..],
            request.Baseline with { CorruptTokens = request.Baseline.CorruptTokens?[^1..] }, means, changes);
        foreach (var m in r.Methods) NodeAttribution.Run(m, bundle.Transformer, warm, request.Metric with { Position = -1 });
        var results = r.Methods.Select(m => NodeAttribution.Run(m, bundle.Transformer, splices, request.Metric)).ToList();
        var summaries = saes.ToDictionary(s => s.Hook, s => FeatureSummaries.Load(s.Folder, s.Sae.DSae));
        var empty = CircuitAblation.Metrics(bundle.Transformer, splices, nodes, [null, new bool[nodes.Count]], request.Metric);

        Console.WriteLine($"prompt    {string.Join(" ", request.Tokens.Select(id => $"\"{bundle.TokenText(id)}\""))} ({request.Tokens.Length} tokens)");
        Console.WriteLine($"metric    {AttributeCommand.Describe(bundle, request.Metric)} = {empty[0]:F4}; every node ablated to its {request.Baseline} value: {empty[1]:F4}");
        Console.WriteLine($"SAEs      {string.Join(", ", saes.Select(s => s.Label))}: {nodes.Count} nodes ({(r.PerPosition ? "per position" : "summed over positions")})");
        if (r.Interventions.Count > 0)
            Console.WriteLine($"changed   {string.Join(", ", r.Interventions)} (in the model attributed, at every position; a corrupted prompt runs through it too)");
        var tops = results.Select(s => Top(nodes, s, r.Top)).ToList();
        for (int i = 0; i < results.Count; i++)
        {
            var table = new Table().Title(Markup.Escape($"{results[i].Method}  ({results[i].Seconds * 1000:F1} ms, rules {r.Methods[i].Rules.Describe(bundle.Facts.GatedMlp)})"))
                .AddColumns("hook", "node", "score", "top tokens");
            foreach (var (node, score) in tops[i])
                table.AddRow(node.Hook.Name, NodeName(node), $"{score:F4}", Markup.Escape(Describe(summaries, node)));
            AnsiConsole.Write(table);
        }
        if (r.Json is { } json)
            JsonOutput.Write(json, JsonSerializer.Serialize(new
            {
                prompt = request.Prompt, tokens = request.Tokens, metric = request.Metric.ToString(), baseline = request.Baseline.ToString(),
                metric_clean = empty[0], metric_all_ablated = empty[1], hooks = saes.Select(s => s.Hook.Name), per_position = r.PerPosition, nodes = nodes.Count,
                interventions = InterventionOptions.Json(r.Interventions),
                methods = results.Select((s, i) => new
                {
                    name = s.Method, rules_in_force = r.Methods[i].Rules.Describe(bundle.Facts.GatedMlp), seconds = s.Seconds,
                    top = tops[i].Select(t => new
                    {
                        hook = t.Node.Hook.Name, feature = t.Node.IsError ? (int?)null : t.Node.Feature, error_node = t.Node.IsError,
                        position = t.Node.Position >= 0 ? t.Node.Position : (int?)null, score = t.Score, top_tokens = Describe(summaries, t.Node),
                    }),
                }),
            }, new JsonSerializerOptions { WriteIndented = true }));
        if (r.Dot is { } dot)
            File.WriteAllText(dot, CircuitGraph.Dot($"{results[0].Method}: top {r.Top} nodes, {request.Metric}", saes.Select(s => s.Hook).ToList(), tops[0]));
        return 0;
    }

    private static List<(CircuitNode Node, double Score)> Top(CircuitNodes nodes, NodeScores scores, int k)
    {
        var values = nodes.Scores(scores);
        return CircuitNodes.Ranking(values).Take(k).Select(i => (nodes.Node(i), values[i])).ToList();
    }

    private static string NodeName(CircuitNode n) => (n.IsError ? "error" : $"#{n.Feature}") + (n.Position >= 0 ? $" @{n.Position}" : "");

    private static string Describe(Dictionary<HookPoint, FeatureSummaries?> summaries, CircuitNode n) =>
        n.IsError ? "(SAE error)" : summaries[n.Hook]?.Describe(n.Feature) ?? "";
}
