using System.Text.Json;
using RelpSae.Formats;

namespace RelpSae.Reports;

/// <summary>
/// What a reader of report.html needs months later to know what was measured: the title and labelled
/// facts (model, SAE, hook, baseline, metric, IG steps, command line, tool version, date). evaluate
/// stores it as run.json beside its results, so merge can carry it into the merged report. <see cref="GatedMlp"/>:
/// whether the model has a gated MLP, where the Half-rule acts (the rules in force are listed accordingly).
/// </summary>
public sealed record ReportHeader(string Title, IReadOnlyList<KeyValuePair<string, string>> Entries, bool GatedMlp = false)
{
    public const string File = "run.json";

    public ReportHeader With(string label, string value) => this with { Entries = [.. Entries, new(label, value)] };

    public void Save(string dir) =>
        EvaluationFiles.WriteAtomically(Path.Combine(dir, File), JsonSerializer.Serialize(new { title = Title, entries = Entries.ToDictionary(), gated_mlp = GatedMlp },
            new JsonSerializerOptions { WriteIndented = true }) + "\n");

    /// <summary>The header stored in <paramref name="dir"/>, or null when it holds none (an older output).</summary>
    public static ReportHeader? Load(string dir)
    {
        var path = Path.Combine(dir, File);
        if (!System.IO.File.Exists(path)) return null;
        try
        {
            var root = JsonDocument.Parse(SideFile.ReadText(path)).RootElement;
            return new ReportHeader(root.GetProperty("title").GetString()!,
                root.GetProperty("entries").EnumerateObject().Select(p => new KeyValuePair<string, string>(p.Name, p.Value.GetString()!)).ToList(),
                root.TryGetProperty("gated_mlp", out var gated) && gated.GetBoolean());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new RelpSaeException($"{path}: not a valid run header ({e.Message.Split('\n')[0]})");
        }
    }
}
