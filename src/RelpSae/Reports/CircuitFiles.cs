using System.Globalization;
using System.Text;
using System.Text.Json;
using RelpSae.Attribution;

namespace RelpSae.Reports;

/// <summary>
/// What `evaluate circuit` writes: circuit.jsonl (<see cref="Raw"/>, each prompt's curves), results.json with a `circuit`
/// block, one CSV per method (its mean curves and every prompt's metric values) and report.html with the curves.
/// </summary>
public static class CircuitFiles
{
    /// <summary>Checks that the records can be summarised together, writes the circuit files and returns each method's curves.</summary>
    public static IReadOnlyList<CircuitSummary> WriteAll(string dir, IReadOnlyList<CircuitEvaluation> prompts, IReadOnlyList<string> methods, ReportHeader header)
    {
        CheckAlike(prompts, methods);
        return ProtocolOutput.WriteAll(dir, Raw, prompts, methods, header, (ordered, rules) =>
        {
            var curves = methods.Select(m => CircuitSummary.Summarize(m, ordered)).ToList();
            return (curves, ResultsJson(curves, ordered, rules), curves.Select(s => (s.Method, Csv(s, ordered))), CircuitReport.Render(header, curves, ordered, rules));
        });
    }

    /// <summary>Records from shards or a resumed run must share their SAEs, baseline, node kind and methods to be summarised together.</summary>
    private static void CheckAlike(IReadOnlyList<CircuitEvaluation> prompts, IReadOnlyList<string> methods)
    {
        if (prompts.Count == 0) return;
        var first = prompts[0];
        foreach (var p in prompts)
        {
            Func<Func<Setting, string>, string>? differs = !p.Hooks.SequenceEqual(first.Hooks) ? _ => $"SAEs at {string.Join(",", p.Hooks)}, not {string.Join(",", first.Hooks)}"
                : p.Baseline != first.Baseline ? _ => $"the {p.Baseline} baseline, not {first.Baseline}"
                : p.PerPosition != first.PerPosition ? name => $"another node kind ({name(Setting.PerPosition)})"
                : methods.FirstOrDefault(m => !p.Curves.ContainsKey(m)) is { } missing ? _ => $"no curves of method {missing}"
                : null;
            if (differs is not null)
                throw new SettingException(name => $"prompt {p.Index}'s circuit record has {differs(name)}: " +
                    $"shards and resumed runs must use the same {name(Setting.Saes)}, {name(Setting.Baseline)}, {name(Setting.PerPosition)} and {name(Setting.Methods)}");
        }
    }

    public static string ResultsJson(IReadOnlyList<CircuitSummary> summaries, IReadOnlyList<CircuitEvaluation> prompts, IReadOnlyDictionary<string, string> rules)
        => ProtocolOutput.Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("level", "circuit");
            w.WriteStartArray("methods");
            foreach (var s in summaries)
            {
                w.WriteStartObject();
                w.WriteString("name", s.Method);
                w.WriteString("rules", rules[s.Method]);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("circuit");
            var first = prompts.FirstOrDefault();
            w.WriteStartArray("hooks");
            foreach (var h in first?.Hooks ?? []) w.WriteStringValue(h);
            w.WriteEndArray();
            w.WriteString("baseline", first?.Baseline);
            w.WriteBoolean("per_position", first?.PerPosition ?? false);
            w.WriteNumber("nodes", prompts.Count == 0 ? 0 : prompts.Max(p => p.Nodes));
            w.WriteNumber("threshold", CircuitSummary.Threshold);
            w.WriteStartObject("methods");
            foreach (var s in summaries)
            {
                w.WriteStartObject(s.Method);
                Array("n", s.Grid.Select(n => (double)n));
                Array("faithfulness", s.Faithfulness);
                Array("completeness", s.Completeness);
                EvaluationFiles.WriteEstimate(w, "faithfulness_area", s.FaithfulnessArea);
                EvaluationFiles.WriteEstimate(w, "completeness_area", s.CompletenessArea);
                EvaluationFiles.WriteEstimate(w, "n_at_threshold", s.NAt80);
                w.WriteNumberOrNull("score_seconds_per_prompt", s.ScoreSeconds);
                w.WriteNumberOrNull("ablation_seconds_per_prompt", s.AblationSeconds);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
            ProtocolOutput.PerPrompt(w, prompts, p => (p.Index, p.Prompt, p.Metric), p =>
            {
                w.WriteNumber("nodes", p.Nodes);
                w.WriteNumber("metric_model", p.Curves.Values.First().Model);
                w.WriteNumber("metric_empty", p.Curves.Values.First().Empty);
                w.WriteNumber("splice_seconds", p.SpliceSeconds);
            });
            w.WriteNumber("prompts", prompts.Count);
            w.WriteEndObject();

            void Array(string name, IEnumerable<double> values)
            {
                w.WriteStartArray(name);
                foreach (var v in values)
                    if (double.IsFinite(v)) w.WriteNumberValue(v); else w.WriteNullValue();
                w.WriteEndArray();
            }
        });

    /// <summary>The mean curves (prompt "all"), then each prompt's metric with the top-n kept and removed.</summary>
    private static string Csv(CircuitSummary s, IReadOnlyList<CircuitEvaluation> prompts)
    {
        var sb = new StringBuilder("prompt,n,faithfulness,completeness,metric_kept,metric_removed,metric_model,metric_empty\n");
        for (int i = 0; i < s.Grid.Length; i++)
            sb.Append(CultureInfo.InvariantCulture, $"all,{s.Grid[i]},{s.Faithfulness[i]:R},{s.Completeness[i]:R},,,,\n");
        foreach (var p in prompts)
        {
            var c = p.Curves[s.Method];
            for (int i = 0; i < p.Grid.Length; i++)
                sb.Append(CultureInfo.InvariantCulture, $"{p.Index},{p.Grid[i]},,,{c.Kept[i]:R},{c.Removed[i]:R},{c.Model:R},{c.Empty:R}\n");
        }
        return sb.ToString();
    }

    /// <summary>The raw records: each prompt's curves, one JSON line.</summary>
    public static readonly RawRecords<CircuitEvaluation> Raw = new("circuit.jsonl", "circuit record", "circuit evaluation", p => p.Index, ToJsonLine, FromJson);

    public static string ToJsonLine(CircuitEvaluation p) => JsonSerializer.Serialize(new
    {
        index = p.Index, prompt = p.Prompt, metric = p.Metric, baseline = p.Baseline, hooks = p.Hooks, per_position = p.PerPosition,
        nodes = p.Nodes, grid = p.Grid, splice_seconds = p.SpliceSeconds,
        curves = p.Curves.ToDictionary(c => c.Key, c => new
        {
            model = c.Value.Model, empty = c.Value.Empty, kept = c.Value.Kept, removed = c.Value.Removed,
            score_seconds = c.Value.ScoreSeconds, ablation_seconds = c.Value.AblationSeconds,
        }),
    });

    private static CircuitEvaluation FromJson(JsonElement e) => new(
        e.GetProperty("index").GetInt32(), e.GetProperty("prompt").GetString()!, e.GetProperty("metric").GetString()!,
        e.GetProperty("baseline").GetString()!, e.GetProperty("hooks").EnumerateArray().Select(x => x.GetString()!).ToArray(),
        e.GetProperty("per_position").GetBoolean(), e.GetProperty("nodes").GetInt32(),
        e.GetProperty("grid").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
        e.GetProperty("curves").EnumerateObject().ToDictionary(c => c.Name, c => new CircuitCurve(
            c.Value.GetProperty("model").GetDouble(), c.Value.GetProperty("empty").GetDouble(),
            c.Value.GetProperty("kept").ReadDoubles(), c.Value.GetProperty("removed").ReadDoubles(),
            c.Value.GetProperty("score_seconds").GetDouble(), c.Value.GetProperty("ablation_seconds").GetDouble())),
        e.GetProperty("splice_seconds").GetDouble());
}
