using System.Globalization;
using System.Text;
using System.Text.Json;
using RelpSae.Attribution;

namespace RelpSae.Reports;

/// <summary>
/// What `evaluate features` writes: evaluations.jsonl (<see cref="Raw"/>), results.json with each method's agreement with
/// the true effects, overall and per prompt, one CSV per method (every feature's score and true effect) and report.html.
/// </summary>
public static class EvaluationFiles
{
    public static readonly RawRecords<PromptEvaluation> Raw = new("evaluations.jsonl", "evaluation record", "feature evaluation", p => p.Index, ToJsonLine, FromJson);

    /// <summary>The rules in force for a method, as the outputs list them (the Half-rule only where the model has a gated MLP).</summary>
    public static string RulesOf(string method, bool gatedMlp) => AttributionMethods.DescribeRules(method, gatedMlp);

    /// <summary>Every output file of the feature protocol; the summaries, computed once, are returned for the caller to print.</summary>
    public static IReadOnlyList<MethodSummary> WriteAll(string dir, IReadOnlyList<PromptEvaluation> prompts, IReadOnlyList<string> methods, ReportHeader header) =>
        ProtocolOutput.WriteAll(dir, Raw, prompts, methods, header, (ordered, rules) =>
        {
            var summaries = MethodSummary.SummarizeAll(methods, ordered);
            return (summaries, ResultsJson(summaries, ordered, rules), methods.Select(m => (m, Csv(m, ordered))), HtmlReport.Render(header, summaries, ordered));
        });

    public static string ResultsJson(IReadOnlyList<MethodSummary> summaries, IReadOnlyList<PromptEvaluation> prompts, IReadOnlyDictionary<string, string> rules) =>
        ProtocolOutput.Json(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("methods");
            foreach (var s in summaries)
            {
                w.WriteStartObject();
                w.WriteString("name", s.Name);
                w.WriteString("rules", rules[s.Name]);
                WriteEstimate(w, "pearson", s.Pearson);
                WriteEstimate(w, "spearman", s.Spearman);
                WriteEstimate(w, "top5", s.Top5);
                WriteEstimate(w, "top10", s.Top10);
                WriteEstimate(w, "sign_agreement", s.SignAgreement);
                WriteEstimate(w, "relative_error", s.RelativeError);
                w.WriteNumberOrNull("mean_prompt_pearson", s.MeanPromptPearson);
                w.WriteNumberOrNull("seconds_per_prompt", s.SecondsPerPrompt);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            ProtocolOutput.PerPrompt(w, prompts, p => (p.Index, p.Prompt, null), p =>
            {
                w.WriteNumber("features", p.Features.Length);
                w.WriteNumberOrNull("truth_seconds", p.TruthSeconds);
                w.WriteStartObject("methods");
                foreach (var s in summaries)
                {
                    var a = p.Scores[s.Name];
                    w.WriteStartObject(s.Name);
                    w.WriteNumberOrNull("pearson", Agreement.Pearson(a, p.Truth));
                    w.WriteNumberOrNull("spearman", Agreement.Spearman(a, p.Truth));
                    w.WriteNumberOrNull("top5", Agreement.TopK(a, p.Truth, 5));
                    w.WriteNumberOrNull("top10", Agreement.TopK(a, p.Truth, 10));
                    w.WriteNumberOrNull("sign_agreement", Agreement.SignAgreement(a, p.Truth));
                    w.WriteNumberOrNull("relative_error", Agreement.RelativeError(a, p.Truth));
                    w.WriteNumberOrNull("seconds", p.Seconds[s.Name]);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            });
            w.WriteNumberOrNull("ground_truth_seconds_per_prompt", prompts.Count == 0 ? double.NaN : prompts.Average(p => p.TruthSeconds));
            w.WriteNumber("prompts", prompts.Count);
            w.WriteNumber("features", prompts.Sum(p => p.Features.Length));
            w.WriteEndObject();
        });

    internal static void WriteEstimate(Utf8JsonWriter w, string name, Estimate e)
    {
        w.WriteNumberOrNull(name, e.Value);
        w.WriteStartArray(name + "_ci95");
        foreach (var v in new[] { e.Low, e.High })
            if (double.IsFinite(v)) w.WriteNumberValue(v); else w.WriteNullValue();
        w.WriteEndArray();
    }

    private static string Csv(string method, IReadOnlyList<PromptEvaluation> prompts)
    {
        var sb = new StringBuilder("prompt,feature,score,true_effect\n");
        foreach (var p in prompts)
            for (int i = 0; i < p.Features.Length; i++)
                sb.Append(CultureInfo.InvariantCulture, $"{p.Index},{p.Features[i]},{p.Scores[method][i]:R},{p.Truth[i]:R}\n");
        return sb.ToString();
    }

    public static string ToJsonLine(PromptEvaluation p) => JsonSerializer.Serialize(new
    {
        index = p.Index, prompt = p.Prompt, metric = p.Metric,
        metric_clean = p.MetricClean, metric_baseline = p.MetricBaseline,
        features = p.Features, truth = p.Truth, scores = p.Scores, seconds = p.Seconds, truth_seconds = p.TruthSeconds,
    });

    private static PromptEvaluation FromJson(JsonElement e) => new(
        e.GetProperty("index").GetInt32(), e.GetProperty("prompt").GetString()!, e.GetProperty("metric").GetString()!,
        e.GetProperty("metric_clean").GetDouble(), e.GetProperty("metric_baseline").GetDouble(),
        e.GetProperty("features").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
        e.GetProperty("truth").ReadDoubles(),
        e.GetProperty("scores").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ReadDoubles()),
        e.GetProperty("seconds").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble()),
        e.GetProperty("truth_seconds").GetDouble());

    /// <summary>Write to a temporary file and rename, so a crash never leaves a half-written result.</summary>
    public static void WriteAtomically(string path, string text) => Formats.AtomicFile.WriteText(path, text);
}
