using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace RelpSae.Reports;

/// <summary>
/// What every evaluation protocol's writer shares: its records put in prompt order with the rules of each method, and
/// the files it writes into its folder, each atomically: the raw per-prompt records (what `merge` and a resumed run read
/// back), results.json, one CSV per method and report.html.
/// </summary>
internal static class ProtocolOutput
{
    /// <summary>
    /// Puts the records in prompt order, has <paramref name="render"/> summarise them (given each method's rules as the
    /// outputs list them, <paramref name="rulesOf"/> or an attribution method's) into results.json, the CSVs and
    /// report.html, writes every file and returns the summaries.
    /// </summary>
    public static IReadOnlyList<TSummary> WriteAll<T, TSummary>(string dir, RawRecords<T> raw, IEnumerable<T> records, IEnumerable<string> methods,
        ReportHeader header, Func<List<T>, Dictionary<string, string>, (IReadOnlyList<TSummary> Summaries, string ResultsJson,
            IEnumerable<(string Method, string Csv)> Csvs, string Report)> render, Func<string, bool, string>? rulesOf = null)
    {
        var ordered = raw.Ordered(records);
        rulesOf ??= EvaluationFiles.RulesOf;
        var (summaries, resultsJson, csvs, report) = render(ordered, methods.Distinct().ToDictionary(m => m, m => rulesOf(m, header.GatedMlp)));
        Directory.CreateDirectory(dir);
        raw.Write(dir, ordered);
        EvaluationFiles.WriteAtomically(Path.Combine(dir, "results.json"), resultsJson);
        foreach (var (method, csv) in csvs) EvaluationFiles.WriteAtomically(Path.Combine(dir, $"{method}.csv"), csv);
        EvaluationFiles.WriteAtomically(Path.Combine(dir, "report.html"), report);
        return summaries;
    }

    /// <summary>results.json's text: indented, non-ASCII prompts written as themselves, a final newline.</summary>
    public static string Json(Action<Utf8JsonWriter> write) => Write(write, indented: true) + "\n";

    /// <summary>A raw record's line: as <see cref="Json"/>, on one line and without its newline.</summary>
    public static string JsonLine(Action<Utf8JsonWriter> write) => Write(write, indented: false);

    private static string Write(Action<Utf8JsonWriter> write, bool indented)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            write(w);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>The per_prompt array: each prompt's index, text and metric (where the protocol records one), then what <paramref name="writeRest"/> adds.</summary>
    public static void PerPrompt<T>(Utf8JsonWriter w, IEnumerable<T> records, Func<T, (int Index, string Prompt, string? Metric)> identity, Action<T> writeRest)
    {
        w.WriteStartArray("per_prompt");
        foreach (var record in records)
        {
            w.WriteStartObject();
            var (index, prompt, metric) = identity(record);
            w.WriteNumber("index", index);
            w.WriteString("prompt", prompt);
            if (metric is not null) w.WriteString("metric", metric);
            writeRest(record);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }
}
