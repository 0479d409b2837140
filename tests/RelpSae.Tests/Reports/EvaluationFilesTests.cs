using System.Text.Json;
using RelpSae.Attribution;
using RelpSae.Reports;

namespace RelpSae.Tests.Reports;

public class EvaluationFilesTests
{
    private static readonly string[] Methods = ["gradient", "relp"];

    private static List<PromptEvaluation> Synthetic(int n)
    {
        var rng = new Random(5);
        return Enumerable.Range(0, n).Select(i =>
        {
            int f = 6 + i % 4;
            var truth = Enumerable.Range(0, f).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
            var scores = new Dictionary<string, double[]>
            {
                ["gradient"] = truth.Select(t => t + 0.5 * (rng.NextDouble() - 0.5)).ToArray(),
                ["relp"] = truth.Select(t => t * 1.01).ToArray(),
            };
            return new PromptEvaluation(i, $"prompt {i}", "logit", 3, 1, Enumerable.Range(10 * i, f).ToArray(), truth,
                scores, new Dictionary<string, double> { ["gradient"] = 0.01, ["relp"] = 0.012 }, 0.3);
        }).ToList();
    }

    [Fact]
    public void ResultsJsonHasTheDocumentedKeysAndExactStatistics()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        var prompts = Synthetic(8);
        EvaluationFiles.WriteAll(dir, prompts, Methods, new ReportHeader("test", []));
        var root = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "results.json"))).RootElement;
        Assert.Equal(8, root.GetProperty("prompts").GetInt32());
        Assert.Equal(0.3, root.GetProperty("ground_truth_seconds_per_prompt").GetDouble(), 12);
        var relp = root.GetProperty("methods").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "relp");
        // relp's scores are the truth scaled by 1.01: a perfect correlation and ranking, 1% relative error.
        Assert.Equal(1.0, relp.GetProperty("pearson").GetDouble(), 9);
        Assert.Equal(1.0, relp.GetProperty("spearman").GetDouble(), 9);
        Assert.Equal(1.0, relp.GetProperty("top5").GetDouble(), 9);
        Assert.Equal(1.0, relp.GetProperty("sign_agreement").GetDouble(), 9);
        Assert.Equal(0.01, relp.GetProperty("relative_error").GetDouble(), 9);
        Assert.Equal(0.012, relp.GetProperty("seconds_per_prompt").GetDouble(), 12);
        var pooled = Agreement.Pearson(prompts.SelectMany(p => p.Scores["gradient"]).ToArray(), prompts.SelectMany(p => p.Truth).ToArray());
        var gradient = root.GetProperty("methods").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "gradient");
        Assert.Equal(pooled, gradient.GetProperty("pearson").GetDouble(), 12);
        Assert.True(pooled < 0.99);
        Assert.Equal(1 + prompts.Sum(p => p.Features.Length), File.ReadAllLines(Path.Combine(dir, "gradient.csv")).Length);
        // Per prompt as well as pooled: prompt 3's gradient correlation is computed on its own features.
        var third = root.GetProperty("per_prompt")[3].GetProperty("methods").GetProperty("gradient");
        Assert.Equal(Agreement.Pearson(prompts[3].Scores["gradient"], prompts[3].Truth), third.GetProperty("pearson").GetDouble(), 12);
        Assert.Equal(prompts[3].Features.Length, root.GetProperty("per_prompt")[3].GetProperty("features").GetInt32());
        var report = File.ReadAllText(Path.Combine(dir, "report.html"));
        Assert.Equal(Methods.Length + prompts.Count + 1, report.Split("<svg ").Length - 1); // a scatter per method, a bar chart per prompt, timings
        Assert.DoesNotContain("<img", report);
    }

    [Fact]
    public void ShardsMergeIntoExactlyTheUnshardedResults()
    {
        var prompts = Synthetic(9);
        var whole = Directory.CreateTempSubdirectory().FullName;
        EvaluationFiles.WriteAll(whole, prompts, Methods, new ReportHeader("t", []));
        var shards = Enumerable.Range(0, 3).Select(s =>
        {
            var d = Directory.CreateTempSubdirectory().FullName;
            EvaluationFiles.WriteAll(d, prompts.Where(p => p.Index % 3 == s).ToList(), Methods, new ReportHeader("t", []));
            return d;
        }).ToList();
        var merged = Directory.CreateTempSubdirectory().FullName;
        EvaluationFiles.WriteAll(merged, shards.SelectMany(d => EvaluationFiles.Raw.Read(d)).ToList(), Methods, new ReportHeader("t", []));
        foreach (var file in new[] { "results.json", "gradient.csv", "relp.csv", EvaluationFiles.Raw.FileName })
            Assert.Equal(File.ReadAllText(Path.Combine(whole, file)), File.ReadAllText(Path.Combine(merged, file)));
    }

    [Fact]
    public void ReadingAFolderWithoutRecordsIsAClearError()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        Assert.Contains("evaluations.jsonl", Assert.Throws<RelpSaeException>(() => EvaluationFiles.Raw.Read(dir)).Message);
        File.WriteAllText(Path.Combine(dir, EvaluationFiles.Raw.FileName), "{\"index\":1}\n");
        Assert.Contains(":1: not a valid evaluation record", Assert.Throws<RelpSaeException>(() => EvaluationFiles.Raw.Read(dir)).Message);
    }

    [Fact]
    public void AppendedRecordsReadBackAndACutLastLineIsDroppedWhole()
    {
        var prompts = Synthetic(4);
        var raw = EvaluationFiles.Raw;
        var dir = Directory.CreateTempSubdirectory().FullName;
        var path = Path.Combine(dir, raw.FileName);
        foreach (var p in new[] { prompts[2], prompts[0], prompts[1] }) raw.Append(dir, p);
        // Appended as they finish: the earlier lines stay as they were written, not re-sorted.
        Assert.Equal(new[] { 2, 0, 1 }, File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("index").GetInt32()));
        Assert.False(raw.DropUnfinishedLine(dir));
        var whole = File.ReadAllBytes(path);

        // An interruption in the middle of the fourth record's write: its first half is on the disk, without a newline.
        var fourth = System.Text.Encoding.UTF8.GetBytes(raw.ToLine(prompts[3]));
        File.WriteAllBytes(path, [.. whole, .. fourth[..(fourth.Length / 2)]]);
        // Read as it is (by merge), the cut record is named for what it is.
        Assert.Contains(":4: the last record is cut short: its run was interrupted; continue it with --resume first",
            Assert.Throws<RelpSaeException>(() => raw.Read(dir)).Message);
        Assert.True(raw.DropUnfinishedLine(dir));
        Assert.Equal(whole, File.ReadAllBytes(path));
        Assert.Equal(new[] { 2, 0, 1 }, raw.Read(dir).Select(raw.Index));

        // A record longer than the reader's 4 KB steps, cut, after the first line.
        var first = File.ReadLines(path).First() + "\n";
        File.WriteAllText(path, first + new string(' ', 10_000) + "{\"index\":");
        Assert.True(raw.DropUnfinishedLine(dir));
        Assert.Equal(first, File.ReadAllText(path));
        // Nothing but a cut record: the file is left empty.
        File.WriteAllText(path, new string('x', 9000));
        Assert.True(raw.DropUnfinishedLine(dir));
        Assert.Equal(0, new FileInfo(path).Length);
    }
}
