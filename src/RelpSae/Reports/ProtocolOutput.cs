namespace RelpSae.Reports;

/// <summary>
/// The files every evaluation protocol writes into its folder, each atomically: the raw per-prompt records
/// (what `merge` and a resumed run read back), results.json, one CSV per method and report.html.
/// </summary>
internal static class ProtocolOutput
{
    public static void Write(string dir, string rawFile, IEnumerable<string> rawLines, string resultsJson, IEnumerable<(string Method, string Csv)> csvs,
        string report)
    {
        Directory.CreateDirectory(dir);
        EvaluationFiles.WriteAtomically(Path.Combine(dir, rawFile), string.Concat(rawLines.Select(line => line + "\n")));
        EvaluationFiles.WriteAtomically(Path.Combine(dir, "results.json"), resultsJson);
        foreach (var (method, csv) in csvs) EvaluationFiles.WriteAtomically(Path.Combine(dir, $"{method}.csv"), csv);
        EvaluationFiles.WriteAtomically(Path.Combine(dir, "report.html"), report);
    }
}
