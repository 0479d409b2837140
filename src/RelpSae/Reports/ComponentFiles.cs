using System.Globalization;
using System.Text;
using System.Text.Json;
using RelpSae.Attribution;

namespace RelpSae.Reports;

/// <summary>
/// What `evaluate components` writes: components.jsonl (<see cref="Raw"/>), results.json with a `components` block of
/// each type's agreement per method, one CSV per method (every patch's estimate and true effect) and report.html laid
/// out like the RelP paper's Table 1.
/// </summary>
public static class ComponentFiles
{
    public static readonly RawRecords<ComponentEvaluation> Raw = new("components.jsonl", "component record", "component evaluation", p => p.Index, ToJsonLine, FromJson);

    /// <summary>Writes the component protocol's files; returns the summaries by component type and method for the caller to print.</summary>
    public static IReadOnlyList<ComponentSummary> WriteAll(string dir, IReadOnlyList<ComponentEvaluation> prompts, IReadOnlyList<string> methods, ReportHeader header) =>
        ProtocolOutput.WriteAll(dir, Raw, prompts, methods, header, (ordered, rules) =>
        {
            // Only the component types that were patched get a row.
            var kinds = Component.Kinds.Where(k => ordered.Any(p => p.Components.Any(c => c.Kind == k)));
            var byKind = kinds.SelectMany(k => methods.Select(m => ComponentSummary.Summarize(k, m, ordered))).ToList();
            return (byKind, ResultsJson(byKind, ordered, methods, rules), methods.Select(m => (m, Csv(m, ordered))),
                ComponentReport.Render(header, byKind, ordered, methods, rules));
        });

    /// <summary>Mean seconds per prompt of the shared forward passes, of each method's coefficients, and of the ground truth.</summary>
    public static (double Forward, IReadOnlyDictionary<string, double> Methods, double Truth) Seconds(IReadOnlyList<ComponentEvaluation> prompts, IReadOnlyList<string> methods) =>
        prompts.Count == 0
            ? (double.NaN, methods.ToDictionary(m => m, _ => double.NaN), double.NaN)
            : (prompts.Average(p => p.ForwardSeconds), methods.ToDictionary(m => m, m => prompts.Average(p => p.Seconds[m])), prompts.Average(p => p.TruthSeconds));

    public static string ResultsJson(IReadOnlyList<ComponentSummary> summaries, IReadOnlyList<ComponentEvaluation> prompts,
        IReadOnlyList<string> methods, IReadOnlyDictionary<string, string> rules)
    {
        var (forward, methodSeconds, truth) = Seconds(prompts, methods);
        return ProtocolOutput.Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("level", "components");
            w.WriteStartArray("methods");
            foreach (var m in methods)
            {
                w.WriteStartObject();
                w.WriteString("name", m);
                w.WriteString("rules", rules[m]);
                // The estimates of every component: the two shared forward passes plus this method's coefficients.
                w.WriteNumberOrNull("estimate_seconds_per_prompt", forward + methodSeconds[m]);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("components");
            foreach (var group in summaries.GroupBy(s => s.Kind))
            {
                w.WriteStartObject(Component.TypeName(group.Key));
                w.WriteNumber("patches", group.First().Patches);
                w.WriteStartObject("methods");
                foreach (var s in group)
                {
                    w.WriteStartObject(s.Method);
                    EvaluationFiles.WriteEstimate(w, "pearson", s.Pearson);
                    EvaluationFiles.WriteEstimate(w, "spearman", s.Spearman);
                    EvaluationFiles.WriteEstimate(w, "sign_agreement", s.SignAgreement);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndObject();
            ProtocolOutput.PerPrompt(w, prompts, p => (p.Index, p.Prompt, p.Metric), p =>
            {
                w.WriteNumber("metric_clean", p.MetricClean);
                w.WriteNumber("metric_corrupt", p.MetricCorrupt);
                w.WriteNumber("patches", p.Components.Length);
                w.WriteNumber("truth_seconds", p.TruthSeconds);
            });
            w.WriteNumberOrNull("forward_seconds_per_prompt", forward);
            w.WriteNumberOrNull("ground_truth_seconds_per_prompt", truth);
            w.WriteNumber("prompts", prompts.Count);
            w.WriteNumber("patches", prompts.Sum(p => p.Components.Length));
            w.WriteEndObject();
        });
    }

    private static string Csv(string method, IReadOnlyList<ComponentEvaluation> prompts)
    {
        var sb = new StringBuilder("prompt,component,type,layer,position,head,estimate,true_effect\n");
        foreach (var p in prompts)
            for (int i = 0; i < p.Components.Length; i++)
            {
                var k = p.Components[i];
                sb.Append(CultureInfo.InvariantCulture,
                    $"{p.Index},{k},{Component.TypeName(k.Kind)},{k.Layer},{k.Position},{(k.Head >= 0 ? k.Head.ToString(CultureInfo.InvariantCulture) : "")},{p.Scores[method][i]:R},{p.Truth[i]:R}\n");
            }
        return sb.ToString();
    }

    public static string ToJsonLine(ComponentEvaluation p) => JsonSerializer.Serialize(new
    {
        index = p.Index, prompt = p.Prompt, metric = p.Metric, metric_clean = p.MetricClean, metric_corrupt = p.MetricCorrupt,
        components = p.Components.Select(c => c.ToString()), truth = p.Truth, scores = p.Scores, seconds = p.Seconds,
        forward_seconds = p.ForwardSeconds, truth_seconds = p.TruthSeconds,
    });

    private static ComponentEvaluation FromJson(JsonElement e) => new(
        e.GetProperty("index").GetInt32(), e.GetProperty("prompt").GetString()!, e.GetProperty("metric").GetString()!,
        e.GetProperty("metric_clean").GetDouble(), e.GetProperty("metric_corrupt").GetDouble(),
        e.GetProperty("components").EnumerateArray().Select(x => Component.Parse(x.GetString()!)).ToArray(),
        e.GetProperty("truth").ReadDoubles(),
        e.GetProperty("scores").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ReadDoubles()),
        e.GetProperty("seconds").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble()),
        e.GetProperty("forward_seconds").GetDouble(), e.GetProperty("truth_seconds").GetDouble());
}
